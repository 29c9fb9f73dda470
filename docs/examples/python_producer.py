#!/usr/bin/env python3
"""Send Celerity tasks from Python with boto3 alone: the code a Django app copies.

The wire contract is docs/envelope.md; its JSON Schema is shared/envelope/envelope.schema.json.

    celerity = Celerity.from_stack("Celerity")            # on AWS: the stack's outputs
    task_id = celerity.apply_async("apps.demo.tasks.add", (2, 3), countdown=30)
    celerity.wait(task_id)                                 # the result row, once ready

Run as a script against the local cloud (`npm run dev`), it sends a plain task, a delayed one, one
with a naive eta and a bad envelope, and prints each result row as a JSON line:

    python3 docs/examples/python_producer.py .celerity/local.json
"""

import datetime as dt
import json
import re
import sys
import time
import uuid

import boto3

# Celery's task_routes, as in the app's config (functions/tasks/celery.ts): exact names first, then
# globs (* and ?) in order, else the default queue. `celerity inspect registered --json` lists the
# queue of every task, including those whose own `queue` option routes them.
ROUTES = {
    "apps.studies.tasks.process_large_file": "heavy",
    "apps.notifications.tasks.*": "notifications",
}
DEFAULT_QUEUE = "default"
ID_RULE = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
MAX_BODY_BYTES = 262_144  # the queue's MaximumMessageSize (SQS's 256 KiB)
READY = {"SUCCESS", "FAILURE", "REVOKED"}


def route(task, routes=ROUTES, default=DEFAULT_QUEUE):
    """The route queue of a task name, as Celerity's producer chooses it."""
    if task in routes:
        return routes[task]
    for pattern, queue in routes.items():
        if re.fullmatch(re.escape(pattern).replace(r"\*", ".*").replace(r"\?", "."), task):
            return queue
    return default


class Celerity:
    def __init__(self, queue_urls, results_table, routes=ROUTES, origin="python", **aws):
        self.queue_urls = queue_urls
        self.routes = routes
        self.origin = origin
        self.sqs = boto3.client("sqs", **aws)
        self.results = boto3.resource("dynamodb", **aws).Table(results_table)

    @classmethod
    def from_stack(cls, stack_name="Celerity", **aws):
        """Queue URLs and the results table from the CloudFormation outputs of the deployed stack."""
        stack = boto3.client("cloudformation", **aws).describe_stacks(StackName=stack_name)["Stacks"][0]
        outputs = {o["OutputKey"]: o for o in stack["Outputs"]}
        queues = {}  # each route queue's output reads "URL of the <route> task queue"
        for output in outputs.values():
            named = re.fullmatch(r"URL of the (.+) task queue", output.get("Description", ""))
            if named:
                queues[named.group(1)] = output["OutputValue"]
        return cls(queues, outputs["ResultsTableName"]["OutputValue"], **aws)

    @classmethod
    def from_local_state(cls, path=".celerity/local.json"):
        """The running local cloud, from the state file `npm run dev` writes."""
        with open(path, encoding="utf-8") as file:
            state = json.load(file)
        return cls(
            {name: queue["url"] for name, queue in state["queues"].items()},
            state["environment"]["CELERITY_RESULTS_TABLE"],
            endpoint_url=state["endpoint"],
            region_name=state["region"],
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def apply_async(self, task, args=(), kwargs=None, countdown=None, eta=None, expires=None, task_id=None):
        """Celery's apply_async: returns the task id. A naive eta or expires is UTC, as in Celery."""
        if countdown is not None:
            if eta is not None:
                raise ValueError("countdown: give countdown or eta, not both")
            eta = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=countdown)
        envelope = {
            "v": 1,
            "id": task_id or str(uuid.uuid4()),
            "task": task,
            "args": list(args),
            "kwargs": kwargs or {},
            "origin": self.origin,
            "sentAt": dt.datetime.now(dt.timezone.utc).isoformat(),
        }
        if eta is not None:
            envelope["eta"] = eta.isoformat()
        if expires is not None:
            envelope["expires"] = expires.isoformat()
        if not ID_RULE.fullmatch(envelope["id"]):
            raise ValueError(f"task_id: {envelope['id']!r} may hold only letters, digits and _ . : - (1 to 128)")
        return self.send_envelope(envelope)

    def send_envelope(self, envelope):
        """Sends an envelope as it is (no checks): to its `queue`, else to the queue its name routes to."""
        body = json.dumps(envelope, separators=(",", ":"))
        if len(body.encode("utf-8")) > MAX_BODY_BYTES:
            raise ValueError(f"the message is over {MAX_BODY_BYTES} bytes: pass ids, not large objects")
        queue = envelope.get("queue") or route(envelope["task"], self.routes)
        self.sqs.send_message(QueueUrl=self.queue_urls[queue], MessageBody=body)
        return envelope["id"]

    def result(self, task_id):
        """The task's result row (django-celery-results' TaskResult), or None before a worker saw it."""
        item = self.results.get_item(Key={"taskId": task_id}, ConsistentRead=True).get("Item")
        if item and "result" in item:
            item["result"] = json.loads(item["result"])  # stored as JSON text
        return item

    def wait(self, task_id, timeout=60.0):
        """Polls until the task is SUCCESS, FAILURE or REVOKED (AsyncResult.get without raising)."""
        deadline = time.monotonic() + timeout
        while True:
            row = self.result(task_id)
            if row and row["status"] in READY:
                return row
            if time.monotonic() > deadline:
                raise TimeoutError(f"task {task_id} not ready after {timeout} s: {row and row['status']}")
            time.sleep(0.5)


def show(case, row):
    fields = ("taskId", "status", "result", "errorType", "traceback", "eta", "dateStarted", "dateDone")
    print(json.dumps({"case": case, **{k: row[k] for k in fields if k in row}}, default=str), flush=True)


def main(state_file):
    celerity = Celerity.from_local_state(state_file)
    add = "apps.demo.tasks.add"
    show("plain", celerity.wait(celerity.apply_async(add, (2, 3))))
    show("countdown", celerity.wait(celerity.apply_async(add, (4, 5), countdown=3)))
    # A naive datetime, as Celery code writes with datetime.utcnow(): read as UTC.
    naive = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) + dt.timedelta(seconds=2)
    show("naive-eta", celerity.wait(celerity.apply_async(add, (6, 7), eta=naive)))
    # A bad envelope, sent as another producer might: the worker records why under its id.
    bad = celerity.send_envelope({"v": 1, "id": "python bad id", "task": add, "args": [1, 2], "countdown": 5})
    show("bad-envelope", celerity.wait(bad))
    try:
        celerity.apply_async(add, (1, 2), task_id="order 42")
    except ValueError as error:
        print(json.dumps({"case": "refused", "error": str(error)}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".celerity/local.json")
