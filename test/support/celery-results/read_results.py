"""Reads task outcomes through Celery's own DynamoDB result backend, as a Django app would.

Run with Debian's python3-celery (5.2.6) and python3-boto3: /usr/bin/python3 read_results.py CONFIG
where CONFIG is JSON: {"endpoint", "region", "table", "key", "secret", "cases": [{"id", "timeout"}]}.
Prints one JSON line per case: status, info, traceback, date_done, and what get() returned or raised.
"""

import json
import sys

from celery import Celery


def described(value):
    if isinstance(value, BaseException):
        return {"exception": type(value).__name__, "module": type(value).__module__, "args": list(value.args)}
    return value


def main():
    config = json.loads(sys.argv[1])
    app = Celery("celery_results_reader")
    app.conf.update(
        result_backend="dynamodb://{key}:{secret}@{region}/{table}".format(**config),
        # A URL's host names the region; an emulator's address comes from this setting (5.2.6 reads it).
        dynamodb_endpoint_url=config["endpoint"],
        result_serializer="json",
        accept_content=["json"],
    )
    for case in config["cases"]:
        result = app.AsyncResult(case["id"])
        row = {
            "id": case["id"],
            "status": result.status,
            "info": described(result.info),
            "result": described(result.result),
            "traceback": result.traceback,
            "date_done": None if result.date_done is None else result.date_done.isoformat(),
            "ready": result.ready(),
        }
        try:
            row["get"] = result.get(timeout=case.get("timeout", 5), interval=0.1)
        except Exception as error:  # what get() raised is what the test checks
            row["raised"] = described(error)
        print(json.dumps(row, default=repr), flush=True)


if __name__ == "__main__":
    main()
