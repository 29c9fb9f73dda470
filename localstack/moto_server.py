"""moto_server, with one fix to the emulator's speed and one to its atomicity.

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
"""

import copy
import sys
import threading

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


if __name__ == "__main__":
    for patch, what in ((_patch_transactions, "transaction speed-up"), (_serialize_dynamodb, "transaction isolation")):
        try:
            patch()
        except Exception as error:  # noqa: BLE001 - any failure means: run moto as it is
            print(f"celerity: moto {what} not applied ({error})", file=sys.stderr)
    sys.exit(main())
