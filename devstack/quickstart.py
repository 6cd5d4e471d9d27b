"""What `make run` prints after its ready line: a development token and three lines that work when pasted."""

import json
import shlex

from devstack.stack import REGION, Settings
from devstack.token import mint

TOKEN_HOURS = 12
COMPANY, USER = "company-1", "user-1"
RECEIVER = "http://127.0.0.1:8000/blue"


def put_event_body(bus: str) -> str:
    """A PutEvents request (EventBridge's JSON 1.1 protocol) with one TODO_CREATED event of company-1."""
    detail = {
        "company": {"id": COMPANY},
        "project": {"id": "p1"},
        "user": {"id": USER},
        "currentValue": {"id": "1234", "title": "New record"},
        "previousValue": None,
    }
    entry = {"Source": "blue", "DetailType": "TODO_CREATED", "EventBusName": bus, "Detail": json.dumps(detail)}
    return json.dumps({"Entries": [entry]})


def quickstart(settings: Settings, bus: str) -> str:
    token = mint(COMPANY, USER, "ADMIN", settings.jwt_secret, ttl=TOKEN_HOURS * 3600)
    curl, auth = "curl -s -w '\\n'", '-H "Authorization: Bearer $TOKEN"'  # a newline after each answer
    webhook = json.dumps({"name": "quickstart", "url": RECEIVER, "events": ["TODO_CREATED"]})
    take_id = "python3 -c 'import json, sys; print(json.load(sys.stdin)[\"id\"])'"
    # A fanned-out delivery enters the log at its first attempt: step 3 waits for it (10 s at most).
    first = 'python3 -c \'import json, sys; print(json.load(sys.stdin)["items"][0]["deliveryId"])\' 2>/dev/null'
    listed = f"curl -s $API/webhooks/$ID/deliveries {auth}"
    wait = f"for i in $(seq 50); do D=$({listed} | {first}) && break; sleep 0.2; done"
    # curl signs it with SigV4 (any key: the emulator checks none), which tells the emulator the service.
    sign = f"--aws-sigv4 aws:amz:{REGION}:events --user x:x"
    target = "-H 'X-Amz-Target: AWSEvents.PutEvents' -H 'Content-Type: application/x-amz-json-1.1'"
    return "\n".join(
        [
            "Quickstart: paste into another shell. Local state lives in the emulator's memory: "
            "stopping `make run` forgets every webhook and delivery.",
            f"  export API={settings.api_url} TOKEN={token}",
            f"  # TOKEN: an ADMIN of {COMPANY}, valid {TOKEN_HOURS} h (`make token` mints others)",
            f"  # 1. a webhook for TODO_CREATED to a receiver on {RECEIVER} (its answer holds the secret, this once)",
            f"  export ID=$({curl} $API/webhooks {auth} -H 'Content-Type: application/json' -d {shlex.quote(webhook)}"
            f" | tee /dev/stderr | {take_id})",
            "  # 2. a TODO_CREATED event on the bus, as the host app puts it (EventBridge PutEvents)",
            f"  {curl} {settings.aws_url} {sign} {target} -d {shlex.quote(put_event_body(bus))}",
            "  # 3. its delivery, once attempted: each attempt, its error if any and the next retry"
            " (nothing on :8000? the attempt was refused, and the retry is due at nextRetryAt)",
            f"  {wait}; {curl} $API/webhooks/$ID/deliveries/$D {auth}",
            "  # `make listen`: a receiver that registers its own webhook and prints each signed delivery;"
            " `make demo`: a checked tour",
        ]
    )
