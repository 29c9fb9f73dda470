"""moto_server, with one fix to the emulator's speed and one to its atomicity.

moto's TransactWriteItems deep-copies a whole table, for rollback, once for every item of the
transaction that targets it: a 100-item claim against a table of a few thousand results copies
that table 100 times and takes seconds. The copies are all taken before the first write, so they
are identical; this launcher hands back the first copy for the rest. Rollback is unchanged. If
moto's internals ever move, the server starts unpatched and says so.

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
    from moto.dynamodb.models.table import Table

    current = threading.local()

    class TableCopies:
        @staticmethod
        def deepcopy(value, memo=None):
            tables = getattr(current, "tables", None)
            if tables is not None and isinstance(value, Table):
                key = id(value)
                if key not in tables:
                    tables[key] = copy.deepcopy(value, memo)
                return tables[key]
            return copy.deepcopy(value, memo)

    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        current.tables = {}
        try:
            return original(self, transact_items)
        finally:
            current.tables = None

    models.copy = TableCopies()
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
