#!/usr/bin/env python3
"""A Celery 5 app, unchanged but for its broker settings, sending LabControl's tasks to Celerity.

Used by test/e2e/celery-interop.test.ts with Debian's python3-celery (5.2.6), python3-kombu,
python3-boto3 and python3-pycurl:

    /usr/bin/python3 test/support/python/celery_interop.py STATE_FILE [--results-table NAME --get CASE,...]

STATE_FILE is the local cloud's state file (.celerity/local.json). The settings below are the ones
docs/celery-interop.md gives a Django project. It sends a `.delay()`, an `.apply_async(countdown=5)`,
a pickle-serialized call, one with a shorter soft time limit and two chains (one whose first task
fails), and prints one JSON line per call: {"case", "id", "sentAt"}; with
--get it then waits for the named cases' results with `AsyncResult.get()` (Celery's DynamoDB result
backend, which Celerity's worker writes) and prints {"case", "id", "status", "result"|"error"}.
"""

import argparse
import json
import sys
import time
from urllib.parse import urlsplit

from celery import Celery


def make_app(state, results_table=None):
    endpoint = urlsplit(state["endpoint"])
    app = Celery("labcontrol")
    app.conf.update(
        # kombu builds the SQS endpoint from the broker URL's host and port (boto3 1.26 ignores
        # AWS_ENDPOINT_URL); on AWS this is just "sqs://" and the queue URLs are the stack's.
        broker_url=f"sqs://local:local@{endpoint.hostname}:{endpoint.port}",
        broker_transport_options={
            "region": state["region"],
            "is_secure": endpoint.scheme == "https",
            "predefined_queues": {name: {"url": q["url"]} for name, q in state["queues"].items()},
        },
        task_default_queue="default",
        task_routes={
            "apps.studies.tasks.process_large_file": {"queue": "heavy"},
            "apps.notifications.tasks.*": {"queue": "notifications"},
        },
        task_serializer="json",
        accept_content=["json"],
        enable_utc=True,
        timezone="UTC",
    )
    if results_table:
        app.conf.update(
            result_backend=f"dynamodb://local:local@{state['region']}/{results_table}",
            dynamodb_endpoint_url=state["endpoint"],
        )
    return app


def define_tasks(app):
    """LabControl's task signatures; their bodies run in Celerity's TypeScript worker."""

    @app.task(name="apps.notifications.tasks.send_bulk_notification")
    def send_bulk_notification(user_ids, title, message, type):
        raise NotImplementedError("runs in Celerity")

    @app.task(name="apps.appointments.tasks.send_appointment_reminders")
    def send_appointment_reminders():
        raise NotImplementedError("runs in Celerity")

    @app.task(name="apps.demo.tasks.slow")
    def slow(seconds):
        raise NotImplementedError("runs in Celerity")

    return send_bulk_notification, send_appointment_reminders, slow


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("state_file")
    parser.add_argument("--get", default="", help="cases whose results to wait for, comma-separated")
    parser.add_argument("--results-table")
    parser.add_argument("--timeout", type=float, default=60)
    options = parser.parse_args()
    with open(options.state_file, encoding="utf-8") as file:
        state = json.load(file)
    app = make_app(state, options.results_table)
    send_bulk_notification, send_appointment_reminders, slow = define_tasks(app)

    sent = {
        "delay": send_bulk_notification.delay(["celery-user-1", "celery-user-2"], "Maintenance", "Closed on Friday", "info"),
        "countdown": send_appointment_reminders.apply_async(countdown=5),
        "pickle": send_bulk_notification.apply_async(
            (["celery-user-3"], "Pickled", "never runs", "info"), serializer="pickle"
        ),
        # The call's soft limit (1 s) is shorter than the task's own (2 s): the shorter one holds.
        "time-limit": slow.apply_async((3,), soft_time_limit=1),
        # A chain's AsyncResult is its last task's; `.parent` is the first, which the message names.
        "chain": (
            send_appointment_reminders.si()
            | send_bulk_notification.si(["celery-user-4"], "Chained", "after the reminders", "info")
        ).apply_async(),
        # A chain whose first task fails (stopped at the call's 1 s soft limit): the second never
        # runs, and .get() on the chain re-raises the first one's error, as Celery's does.
        "chain-fail": (
            slow.si(3).set(soft_time_limit=1)
            | send_bulk_notification.si(["celery-user-5"], "Never", "the chain stopped", "info")
        ).apply_async(),
    }
    for case, result in sent.items():
        first = result.parent.id if result.parent is not None else None
        print(json.dumps({"case": case, "id": result.id, "first": first, "sentAt": time.time()}), flush=True)
    for case in filter(None, options.get.split(",")):
        result = sent[case]
        try:
            value = result.get(timeout=options.timeout)
            print(json.dumps({"case": case, "id": result.id, "status": result.status, "result": value}), flush=True)
        except Exception as error:  # a FAILURE re-raised by .get(), or a timeout
            print(
                json.dumps(
                    {
                        "case": case,
                        "id": result.id,
                        "status": result.status,
                        "error": f"{type(error).__name__}: {error}",
                    }
                ),
                flush=True,
            )


if __name__ == "__main__":
    sys.exit(main())
