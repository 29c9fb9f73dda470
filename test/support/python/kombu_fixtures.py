#!/usr/bin/env python3
"""Writes the SQS message bodies a Celery 5 app really sends, for the intake's unit tests.

Run once with Debian's Celery (python3-celery 5.2.6, kombu 5.2.4) and commit the output:

    /usr/bin/python3 test/support/python/kombu_fixtures.py > test/support/celery/kombu-bodies.json

Nothing leaves the machine: kombu's SQS channel is given a client that keeps what it is asked to
send. Each case is {"case", "queue", "body"} where body is the SQS MessageBody, byte for byte.
"""

import datetime as dt
import json
import sys

import celery
import kombu
from celery import Celery, chain, chord, group
from kombu.transport import SQS

QUEUES = {
    "default": "http://127.0.0.1:4566/000000000000/celerity-default",
    "notifications": "http://127.0.0.1:4566/000000000000/celerity-notifications",
}
SENT = []


class KeepingClient:
    """Stands in for boto3's SQS client: keeps each send, answers the few calls kombu makes."""

    def __init__(self, queue):
        self.queue = queue

    def send_message(self, QueueUrl, MessageBody, **_):
        name = next(n for n, url in QUEUES.items() if url == QueueUrl)
        SENT.append({"queue": name, "body": MessageBody})
        return {"MessageId": "fixture"}

    def get_queue_attributes(self, **_):
        return {"Attributes": {"ApproximateNumberOfMessages": "0"}}


SQS.Channel.sqs = lambda self, queue=None: KeepingClient(queue)


def make_app(**transport):
    app = Celery("labcontrol", set_as_current=False)
    app.conf.update(
        broker_url="sqs://local:local@127.0.0.1:4566",
        broker_transport_options={
            "region": "us-east-1",
            "is_secure": False,
            "predefined_queues": {name: {"url": url} for name, url in QUEUES.items()},
            **transport,
        },
        task_default_queue="default",
        task_routes={"apps.notifications.tasks.*": {"queue": "notifications"}},
        accept_content=["json", "pickle", "yaml"],
        # Chords need a result backend; Celery's dynamodb backend sends `celery.chord_unlock`.
        result_backend="cache+memory://",
        enable_utc=True,
        timezone="UTC",
    )
    return app


def sent(app, case, send):
    before = len(SENT)
    with app.connection_for_write() as connection, app.producer_pool.acquire(block=True) as _:
        send()
    for number, message in enumerate(SENT[before:]):
        message["case"] = case if len(SENT) - before == 1 else f"{case}#{number}"


def main():
    app = make_app()
    add = app.signature("apps.demo.tasks.add")
    email = "apps.notifications.tasks.send_email_notification"
    fixed = "7d1c3e43-6a52-4c1b-9f0e-5b0d9c1c2a11"

    sent(app, "delay", lambda: app.send_task("apps.demo.tasks.add", (2, 3), task_id=fixed))
    sent(
        app,
        "notification",
        lambda: app.send_task(email, ("user-1", "Grüße", "Ihr Termin ✓"), task_id="b1f0a4b2-0c1e-4a55-8d2c-1e9f3a7b6c01"),
    )
    sent(
        app,
        "options",
        lambda: app.send_task(
            "apps.demo.tasks.add",
            (1,),
            {"y": 2},
            task_id="0b5e2a77-3f0e-4d3a-9d43-2f6a6d0b9e10",
            eta=dt.datetime(2030, 1, 31, 9, 0, 0, 123456, tzinfo=dt.timezone.utc),
            expires=dt.datetime(2030, 1, 31, 10, 0, 0, tzinfo=dt.timezone.utc),
            retries=2,
            time_limit=30,
            soft_time_limit=20,
            parent_id="11111111-2222-3333-4444-555555555555",
            root_id="99999999-8888-7777-6666-555555555555",
            shadow="add (shadowed)",
        ),
    )
    sent(app, "countdown", lambda: app.send_task("apps.demo.tasks.add", (4, 5), countdown=5, expires=60))
    sent(
        app,
        "links",
        lambda: app.send_task(
            "apps.demo.tasks.add",
            (2, 2),
            task_id="c2b7e3a0-5d1c-4f9e-8a6b-7e5d4c3b2a10",
            link=[app.signature("apps.demo.tasks.add", (10,)), app.signature("apps.demo.tasks.noop").set(immutable=True, queue="default")],
            link_error=app.signature("apps.demo.tasks.noop", task_id="d3c8f4b1-6e2d-4a0f-9b7c-8f6e5d4c3b21"),
        ),
    )
    sent(
        app,
        "chain",
        lambda: chain(
            app.signature("apps.demo.tasks.add", (1, 2)),
            app.signature("apps.demo.tasks.add", (3,)),
            app.signature("apps.demo.tasks.noop", immutable=True),
        ).apply_async(),
    )
    sent(
        app,
        "group",
        lambda: group(app.signature("apps.demo.tasks.add", (1, 1)), app.signature("apps.demo.tasks.add", (2, 2))).apply_async(),
    )
    sent(
        app,
        "chord",
        lambda: chord(
            [app.signature("apps.demo.tasks.add", (1, 1)), app.signature("apps.demo.tasks.add", (2, 2))],
            app.signature("apps.demo.tasks.noop"),
        ).apply_async(),
    )
    sent(app, "pickle", lambda: app.send_task("apps.demo.tasks.add", (2, 3), serializer="pickle", task_id="e4d9a5c2-7f3e-4b1a-8c8d-9a7f6e5d4c32"))
    sent(app, "yaml", lambda: app.send_task("apps.demo.tasks.add", (2, 3), serializer="yaml", task_id="f5eab6d3-8a4f-4c2b-9d9e-0b8a7f6e5d43"))
    sent(app, "zlib", lambda: app.send_task("apps.demo.tasks.add", (2, 3), compression="zlib", task_id="a6fbc7e4-9b5a-4d3c-8eaf-1c9b8a7f6e54"))
    sent(app, "unknown-task", lambda: app.send_task("apps.demo.tasks.nope", (), task_id="b70cd8f5-0c6b-4e4d-9fb0-2dac9b8a7f65"))

    app_v1 = make_app()
    app_v1.conf.task_protocol = 1
    sent(app_v1, "protocol-1", lambda: app_v1.send_task("apps.demo.tasks.add", (2, 3), task_id="c81de9a6-1d7c-4f5e-8ac1-3ebdac9b8a76"))

    app_raw = make_app(sqs_base64_encoding=False)
    sent(app_raw, "plain-sqs-body", lambda: app_raw.send_task("apps.demo.tasks.add", (6, 7), task_id="d92efab7-2e8d-4a6f-9bd2-4fcebdac9b87"))

    app_unencoded = make_app(body_encoding=None)
    sent(app_unencoded, "no-body-encoding", lambda: app_unencoded.send_task("apps.demo.tasks.add", (8, 9), task_id="ea3f0bc8-3f9e-4b7a-8ce3-50dfcebdac98"))

    json.dump(
        {
            "generatedBy": "test/support/python/kombu_fixtures.py",
            "celery": celery.__version__,
            "kombu": kombu.__version__,
            "cases": SENT,
        },
        sys.stdout,
        indent=2,
        ensure_ascii=False,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
