"""Producer side: `add` (send and wait for the result), `hang MARKER` (send, print the id), `wait ID`."""
import json
import sys

from celery.result import AsyncResult

from celery_app import add, app, hang

cmd = sys.argv[1]
if cmd == "add":
    print(json.dumps({"result": add.delay(2, 3).get(timeout=20)}))
elif cmd == "hang":
    print(json.dumps({"id": hang.delay(sys.argv[2]).id}))
elif cmd == "wait":
    print(json.dumps({"result": AsyncResult(sys.argv[2], app=app).get(timeout=30)}))
else:
    sys.exit(f"unknown command {cmd}")
