"""moto_server, with fixes to the emulator's speed (transactions, deep queues) and atomicity.

moto's TransactWriteItems deep-copies every table it touches, for rollback, once for every item
of the transaction: a 100-item claim against a table of ten thousand results copies that table 100
times (seconds, and gigabytes that Python keeps). This launcher keeps an undo log instead: before
the transaction, a copy of each item it names (and the length of the table's stream); if moto
cancels it, those items are put back and the stream records it added are dropped. The outcome is
the same as moto's rollback; the cost is that of the items, not of the tables. If moto's internals
ever move, the server starts unpatched and says so.

moto_server answers requests on several threads, and its DynamoDB reads an item, checks the
condition and writes it back with no lock: two conditional writes to one item can both pass (a
rate-limit counter admits 6 of 5, two claims of one task both win), and a transaction's rollback
puts back a table copy taken before another request's write. DynamoDB makes each conditional
write and each transaction atomic; so does this launcher, by running DynamoDB requests one at a time.

moto's SQS costs every call time in proportion to the queue's depth: each message sent and each
received reads the queue's attributes, which count its messages three times over; a receive lists
every visible message before taking ten; a delete or visibility change looks for its receipt handle
in every message, and a delete rebuilds the list. With 10,000 queued, a batch of ten cost seconds. This
launcher keeps moto's model and its rules (order, visibility, delays, receive counts, redrive to the
DLQ, receipt handles old and new) but finds things directly: the messages in an insertion-ordered
dict, receipt handles in an index, the visible ones found lazily, the counts made only when asked for.
Its SQS requests also run one at a time (a long poll waits without holding the lock), so two
receives never take the same message and the dict is never changed while another request reads it.
"""

import copy
import functools
import logging
import sys
import threading
import weakref

from moto.server import main


def _patch_transactions() -> None:
    from moto.dynamodb import models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    current = threading.local()

    class NoTableCopies:
        """Inside a transaction, moto's whole-table backup is the table itself: the undo log below restores it."""

        @staticmethod
        def deepcopy(value, memo=None):
            if getattr(current, "undo", None) is not None and isinstance(value, Table):
                return value
            return copy.deepcopy(value, memo)

    def key_of(table, op):
        attrs = op.get("Key") or op.get("Item") or {}
        hash_value = DynamoType(attrs[table.hash_key_attr])
        range_value = DynamoType(attrs[table.range_key_attr]) if table.has_range_key else None
        return hash_value, range_value

    def undo_log(backend, transact_items):
        items, streams = [], {}
        for entry in transact_items:
            try:
                _, op = next(iter(entry.items()))
                table = backend.tables.get(op.get("TableName"))
                if table is None:
                    continue
                hash_value, range_value = key_of(table, op)
                previous = table.get_item(hash_value, range_value)
            except Exception:  # noqa: BLE001 - moto refuses this entry before writing anything
                continue
            items.append((table, hash_value, range_value, copy.deepcopy(previous)))
            if table.stream_shard is not None:
                streams.setdefault(id(table), (table.stream_shard, len(table.stream_shard.items)))
        return items, streams

    def roll_back(items, streams):
        for table, hash_value, range_value, previous in reversed(items):
            if range_value is None:
                if previous is None:
                    table.items.pop(hash_value, None)
                else:
                    table.items[hash_value] = previous
            elif previous is None:
                table.items.get(hash_value, {}).pop(range_value, None)
            else:
                table.items[hash_value][range_value] = previous
        for shard, length in streams.values():
            del shard.items[length:]

    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        items, streams = undo_log(self, transact_items)
        current.undo = items
        try:
            return original(self, transact_items)
        except Exception:
            roll_back(items, streams)
            raise
        finally:
            current.undo = None

    models.copy = NoTableCopies()
    models.DynamoDBBackend.transact_write_items = transact_write_items


def _serialize_dynamodb() -> None:
    from moto.dynamodb.responses import DynamoHandler

    lock = threading.RLock()
    original = DynamoHandler.call_action

    def call_action(self):
        with lock:
            return original(self)

    DynamoHandler.call_action = call_action


class _QueueMessages:
    """A queue's messages in the order they were sent, as moto's list kept them, removed in O(1)."""

    __slots__ = ("_order",)

    def __init__(self):
        self._order = {}

    def append(self, message):
        self._order[message] = None

    def remove(self, message):
        try:
            del self._order[message]
        except KeyError:
            raise ValueError("message not in queue") from None

    def __contains__(self, message):
        return message in self._order

    def __iter__(self):
        return iter(self._order)

    def __len__(self):
        return len(self._order)


class _VisibleMessages:
    """`queue.messages`: those a receive may take now, found as the receive walks, not listed whole."""

    __slots__ = ("_messages",)

    def __init__(self, messages):
        self._messages = messages

    def __iter__(self):
        from moto.core.utils import unix_time_millis

        now = unix_time_millis()
        # moto's Message.visible and not Message.delayed, with one clock reading per walk.
        return (m for m in self._messages if now > m.visible_at and not now < m.delayed_until)

    def __bool__(self):
        return next(iter(self), None) is not None

    def __len__(self):
        return sum(1 for _ in self)


def _patch_sqs_depth() -> None:
    import moto
    from moto.core.utils import unix_time, unix_time_millis
    from moto.sqs.exceptions import InvalidParameterValue, ReceiptHandleIsInvalid
    from moto.sqs.models import Message, Queue, SQSBackend
    from moto.sqs.responses import SQSResponse

    lock = threading.RLock()
    # One condition for every queue: moto's long poll waits on it (releasing the lock) and a send
    # notifies it, so a waiting receive wakes as before.
    changed = threading.Condition(lock)
    # Every receipt handle moto has issued, to the message it names (weak: a reset frees them).
    handles = weakref.WeakValueDictionary()
    # Set while moto reads a queue's attributes for a setting: its message counts go unread then.
    counts_unread = threading.local()

    def owned(queue, receipt_handle):
        message = handles.get(receipt_handle)
        return message if message is not None and message in queue._messages else None

    original_init = Queue.__init__

    def queue_init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        self._messages = _QueueMessages()
        self._messages_lock = changed

    def messages(self):
        return _VisibleMessages(self._messages)

    def count(included):
        def fget(self):
            if getattr(counts_unread, "on", False):
                return 0
            with lock:
                now = unix_time_millis()
                return sum(1 for m in self._messages if included(m, now))

        return property(fget)

    def without_counts(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            before = getattr(counts_unread, "on", False)
            counts_unread.on = True
            try:
                return function(*args, **kwargs)
            finally:
                counts_unread.on = before

        return wrapper

    original_mark_received = Message.mark_received

    def mark_received(self, visibility_timeout=None):
        original_mark_received(self, visibility_timeout)
        handles[self.receipt_handle] = self

    def delete_message(self, receipt_handle):
        if receipt_handle in self.deleted_messages:
            return  # moto: deleting again is no error
        message = owned(self, receipt_handle)
        if message is None:
            raise ReceiptHandleIsInvalid()
        self.pending_messages.discard(message)
        self.deleted_messages.update(message.all_receipt_handles)
        self._messages.remove(message)

    def change_message_visibility(self, queue_name, receipt_handle, visibility_timeout):
        queue = self.get_queue(queue_name)
        message = owned(queue, receipt_handle)
        if message is None:
            raise ReceiptHandleIsInvalid
        # From here as moto 5.2.1's SQSBackend.change_message_visibility.
        visibility_timeout_msec = int(visibility_timeout) * 1000
        given_visibility_timeout = unix_time_millis() + visibility_timeout_msec
        if given_visibility_timeout - message.sent_timestamp > 43200 * 1000:
            raise InvalidParameterValue(
                f"Value {visibility_timeout} for parameter VisibilityTimeout is invalid. Reason: Total "
                "VisibilityTimeout for the message is beyond the limit [43200 seconds]"
            )
        message.change_visibility(visibility_timeout)
        if message.visible and message in queue.pending_messages:
            queue.pending_messages.remove(message)

    def is_message_valid_based_on_retention_period(self, queue_name, message):
        # moto read MessageRetentionPeriod through get_queue_attributes, counting the queue thrice.
        retention_period = self.get_queue(queue_name).message_retention_period
        return retention_period + message.sent_timestamp / 1000 > unix_time()

    original_purge = SQSBackend.purge_queue

    def purge_queue(self, queue_name):
        original_purge(self, queue_name)
        self.get_queue(queue_name)._messages = _QueueMessages()

    original_get_attributes = SQSBackend.get_queue_attributes
    counted = ("All", "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed", "ApproximateNumberOfMessagesNotVisible")

    def get_queue_attributes(self, queue_name, attribute_names):
        if any(name in counted for name in attribute_names or ()):
            return original_get_attributes(self, queue_name, attribute_names)
        return without_counts(original_get_attributes)(self, queue_name, attribute_names)

    original_call_action = SQSResponse.call_action

    def call_action(self):
        with lock:
            return original_call_action(self)

    if moto.__version__ != "5.2.1":
        # The methods below restate moto 5.2.1's: another release may have changed what they say.
        raise RuntimeError(f"written for moto 5.2.1, found {moto.__version__}")
    Queue.__init__ = queue_init
    Queue.messages = property(messages)
    Queue.approximate_number_of_messages = count(lambda m, now: now > m.visible_at and not now < m.delayed_until)
    Queue.approximate_number_of_messages_not_visible = count(lambda m, now: not now > m.visible_at)
    Queue.approximate_number_of_messages_delayed = count(lambda m, now: now < m.delayed_until)
    Queue.delete_message = delete_message
    Queue.add_message = without_counts(Queue.add_message)
    Message.mark_received = mark_received
    SQSBackend.send_message = without_counts(SQSBackend.send_message)
    SQSBackend._validate_message = without_counts(SQSBackend._validate_message)
    SQSBackend.change_message_visibility = change_message_visibility
    SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period
    SQSBackend.purge_queue = purge_queue
    SQSBackend.get_queue_attributes = get_queue_attributes
    SQSResponse.call_action = call_action


if __name__ == "__main__":
    # werkzeug logs a line to stderr per request: at thousands of requests a second that is CPU on
    # both sides of the pipe, for lines nobody reads. Warnings and errors still come through.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    for patch, what in (
        (_patch_transactions, "transaction speed-up"),
        (_serialize_dynamodb, "transaction isolation"),
        (_patch_sqs_depth, "SQS deep-queue speed-up"),
    ):
        try:
            patch()
        except Exception as error:  # noqa: BLE001 - any failure means: run moto as it is
            print(f"celerity: moto {what} not applied ({error})", file=sys.stderr)
    sys.exit(main())
