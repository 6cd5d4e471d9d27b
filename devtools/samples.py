"""Sample events for `sam local invoke` (events/): generated from the catalog and the routes, rendered for a stack.

The committed samples hold placeholders where a value must not be frozen in git or cannot be known
in advance: `${TOKEN}` (a bearer token: tokens expire), `${WEBHOOK_ID}` and `${DELIVERY_ID}` (a
webhook of the running local stack and one of its deliveries). `make samples` (`python -m
devtools.samples`) renders every sample into events/local/ (git-ignored) for the running local
stack: a token minted for its key, valid an hour, and the ids of a webhook named "sam samples",
found or created (it posts to a closed loopback port unless SAMPLES_WEBHOOK_URL says otherwise).

`python -m devtools.samples --generate` rewrites the committed samples after a change to the
catalog or the routes; tests/unit/test_samples.py fails while they are out of date. Shapes are those
of `sam local generate-event` (apigateway aws-proxy, sqs receive-message) and of an EventBridge
rule's target event.
"""

import argparse
import hashlib
import json
import os
import re
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from bluehooks.models.catalog import EVENT_TYPES, PLATFORM_ONLY_EVENTS
from devstack.stack import DEFAULT_JWT_SECRET
from devstack.template import ACCOUNT_ID, ROOT
from devstack.token import mint

EVENTS = ROOT / "events"
RENDERED = EVENTS / "local"
REGION = "us-east-1"
STAGE = "dev"
COMPANY, PROJECT, USER = "company-1", "project-1", "user-1"
AT = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
LATER = "2026-11-28T01:05:00Z"
NAMESPACE = uuid.UUID("0b3c1f5e-6d0a-4b52-9a56-4c3e1f0d2a77")  # stable sample ids
PLACEHOLDER = re.compile(r"\$\{([A-Z_]+)\}")
SAMPLES_WEBHOOK = "sam samples"
DEFAULT_SAMPLES_URL = "http://127.0.0.1:9/sam-samples"  # the discard port: nothing answers, nothing leaves the host


def bus_events() -> list[str]:
    """The catalog's events a producer puts on the bus (platform-only ones are never fanned out)."""
    return [name for name in EVENT_TYPES if name not in PLATFORM_ONLY_EVENTS]


# -- EventBridge: one producer event per event type --------------------------------------------------

_STAMPS = {"createdAt": "2026-11-28T01:00:00Z", "updatedAt": "2026-11-28T01:00:00Z", "createdById": USER}
RECORD = {
    "id": "todo-1234",
    "uid": "3f1c0a9e",
    "title": "New record",
    "text": "",
    "position": 65535,
    "archived": False,
    "done": False,
    "startedAt": None,
    "duedAt": "2026-12-01T09:00:00Z",
    "timezone": "Europe/Paris",
    **_STAMPS,
    "todoListId": "list-1",
    "todoCustomFields": [],
    "todoUsers": [],
    "todoTags": [],
}
CHECKLIST = {"id": "checklist-1", "title": "Launch checklist", "position": 65535, "todoId": "todo-1234", **_STAMPS}
CHECKLIST_ITEM = {
    "id": "checklist-item-1",
    "title": "Write release notes",
    "done": False,
    "position": 65535,
    "todoChecklistId": "checklist-1",
    "todoId": "todo-1234",
    **_STAMPS,
}
TODO_LIST = {"id": "list-1", "title": "Backlog", "position": 65535, "projectId": PROJECT, **_STAMPS}
COMMENT = {
    "id": "comment-1",
    "html": "<p>Looks good to me.</p>",
    "text": "Looks good to me.",
    "category": "TODO",
    "categoryId": "todo-1234",
    **_STAMPS,
}
# Longest prefix first: the family an event name belongs to, and the object its values hold.
FAMILIES = (
    ("TODO_CHECKLIST_ITEM_", CHECKLIST_ITEM),
    ("TODO_CHECKLIST_", CHECKLIST),
    ("TODO_LIST_", TODO_LIST),
    ("COMMENT_", COMMENT),
    ("TODO_", RECORD),
)
ASSIGNEE = {"id": "user-2", "fullName": "Ada Lovelace", "email": "ada@example.com"}
TAG = {"id": "tag-1", "title": "Urgent", "color": "#e53935"}
BUDGET = {"id": "cf-1", "name": "Budget", "type": "CURRENCY", "value": 1200}
# What each change event changes; for *_ADDED / *_REMOVED, what the object holds while added.
CHANGES: dict[str, dict[str, Any]] = {
    "TODO_UPDATED": {"text": "Agenda: scope, budget, dates."},
    "TODO_MOVED": {"todoListId": "list-2"},
    "TODO_NAME_CHANGED": {"title": "Kick-off meeting"},
    "TODO_DONE_STATUS_CHANGED": {"done": True},
    "TODO_DUE_DATE_CHANGED": {"startedAt": "2026-12-07T09:00:00Z", "duedAt": "2026-12-08T17:00:00Z"},
    "TODO_ASSIGNEE_ADDED": {"todoUsers": [ASSIGNEE]},
    "TODO_ASSIGNEE_REMOVED": {"todoUsers": [ASSIGNEE]},
    "TODO_TAG_ADDED": {"todoTags": [TAG]},
    "TODO_TAG_REMOVED": {"todoTags": [TAG]},
    "TODO_CUSTOM_FIELD_VALUE_CHANGED": {"todoCustomFields": [BUDGET]},
    "TODO_CHECKLIST_NAME_CHANGED": {"title": "Release checklist"},
    "TODO_CHECKLIST_ITEM_DONE_STATUS_CHANGED": {"done": True},
    "TODO_LIST_NAME_CHANGED": {"title": "This week"},
    "COMMENT_UPDATED": {"html": "<p>Looks good to me, ship it.</p>", "text": "Looks good to me, ship it."},
}
# Where the object held something before the change other than its plain shape.
CHANGED_BEFORE = {"TODO_CUSTOM_FIELD_VALUE_CHANGED": {"todoCustomFields": [{**BUDGET, "value": 1000}]}}


def values(event: str) -> tuple[Any, Any]:
    """(currentValue, previousValue) of an event: created (x, null), deleted (null, x), otherwise after and before."""
    base = next(shape for prefix, shape in FAMILIES if event.startswith(prefix))
    if event.endswith("_CREATED"):
        return base, None
    if event.endswith("_DELETED"):
        return None, base
    changed = {**base, **CHANGES.get(event, {}), "updatedAt": LATER}
    if event.endswith("_REMOVED"):
        return {**base, "updatedAt": LATER}, {**changed, "updatedAt": base["updatedAt"]}
    return changed, {**base, **CHANGED_BEFORE.get(event, {})}


def fanout_event(event: str, number: int) -> dict[str, Any]:
    """The event as the rule hands it to FanoutFunction: the producer's PutEvents entry, in EventBridge's envelope."""
    current, previous = values(event)
    return {
        "version": "0",
        "id": str(uuid.uuid5(NAMESPACE, event)),
        "detail-type": event,
        "source": "blue",
        "account": ACCOUNT_ID,
        "time": AT.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [],
        "detail": {
            "id": f"evt-{number:04d}",
            "company": {"id": COMPANY},
            "project": {"id": PROJECT},
            "user": {"id": USER},
            "currentValue": current,
            "previousValue": previous,
        },
    }


# -- SQS: a batch of one good and one poison record per queue-driven function -------------------------


def sqs_record(body: str, queue: str, number: int) -> dict[str, Any]:
    sent = int(AT.timestamp() * 1000)
    return {
        "messageId": str(uuid.uuid5(NAMESPACE, f"{queue}-{number}")),
        "receiptHandle": f"MessageReceiptHandle-{queue}-{number}",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": str(sent),
            "SenderId": ACCOUNT_ID,
            "ApproximateFirstReceiveTimestamp": str(sent + 10),
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode()).hexdigest(),  # noqa: S324 - SQS's checksum, not security
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:blue-webhooks-local-{queue}",
        "awsRegion": REGION,
    }


def delivery_message(**fields: Any) -> str:
    """A DeliveryMessage as queued: compact, ASCII-escaped JSON."""
    event = fanout_event("TODO_CREATED", 1)
    detail = event["detail"]
    message = {
        "deliveryId": "msg_tgsqauv3fwnfvi7lwxs43xgm",
        "webhookId": "${WEBHOOK_ID}",
        "companyId": COMPANY,
        "eventId": detail["id"],
        "event": event["detail-type"],
        "payload": {"event": event["detail-type"], **{k: v for k, v in detail.items() if k != "id"}},
        **fields,
    }
    return json.dumps(message, separators=(",", ":"), ensure_ascii=True)


def poison(queue: str) -> str:
    """A message no handler can read: required fields missing, and an attempt 0."""
    message = {"deliveryId": f"msg_poison_{queue.lower()}", "webhookId": "${WEBHOOK_ID}", "attempt": 0}
    return json.dumps(message, separators=(",", ":"))


def sqs_batch(queue: str, good: str) -> dict[str, Any]:
    return {"Records": [sqs_record(good, queue, 1), sqs_record(poison(queue), queue, 2)]}


# -- API Gateway: one REST proxy request per route -------------------------------------------------------

ONE = "/webhooks/${WEBHOOK_ID}"
# name → (method, path, query, body, authorized)
ROUTES: dict[str, tuple[str, str, dict[str, str] | None, Any, bool]] = {
    "health": ("GET", "/health", None, None, False),
    "openapi": ("GET", "/openapi.json", None, None, False),
    "docs": ("GET", "/docs", None, None, False),
    "console": ("GET", "/console", None, None, False),
    "event-types": ("GET", "/event-types", None, None, True),
    "list-webhooks": ("GET", "/webhooks", {"limit": "10"}, None, True),
    "create-webhook": (
        "POST",
        "/webhooks",
        None,
        # A loopback URL (the local stack allows it): nothing a sample fans out ever leaves the host.
        {
            "name": "CRM sync",
            "url": "http://127.0.0.1:9/blue",
            "events": ["TODO_CREATED", "COMMENT_CREATED"],
            "projectIds": [PROJECT],
            "headers": {"X-Api-Key": "sample-key-not-a-secret"},
        },
        True,
    ),
    "get-webhook": ("GET", ONE, None, None, True),
    "update-webhook": (
        "PATCH",
        ONE,
        None,
        {
            "name": "CRM sync (records)",
            "events": ["TODO_CREATED", "TODO_UPDATED"],
            "filter": {"currentValue": {"done": [False]}},
            "headers": {"X-Api-Key": "sample-key-rotated", "X-Route": "records"},
        },
        True,
    ),
    "rotate-secret": ("POST", f"{ONE}/rotate-secret", None, {"keepPreviousSecret": True}, True),
    "send-test": ("POST", f"{ONE}/test", None, None, True),
    "list-deliveries": ("GET", f"{ONE}/deliveries", {"limit": "10"}, None, True),
    "get-delivery": ("GET", f"{ONE}/deliveries/${{DELIVERY_ID}}", None, None, True),
    "retry-delivery": ("POST", f"{ONE}/deliveries/${{DELIVERY_ID}}/retry", None, None, True),
    "recover": ("POST", f"{ONE}/recover", None, {"since": "2026-11-01T00:00:00Z"}, True),
    "delete-webhook": ("DELETE", ONE, None, None, True),
    "test-filter": (
        "POST",
        "/filters/test",
        None,
        {
            "filter": {"currentValue": {"done": [False]}, "project": {"id": [PROJECT]}},
            "event": {
                "event": "TODO_CREATED",
                "company": {"id": COMPANY},
                "project": {"id": PROJECT},
                "user": {"id": USER},
                "currentValue": {"id": "todo-1", "title": "New record", "done": False},
                "previousValue": None,
            },
        },
        True,
    ),
}


def api_request(
    name: str, method: str, path: str, query: dict[str, str] | None, body: Any, authorized: bool
) -> dict[str, Any]:
    headers = {"Host": "127.0.0.1:3000", "Accept": "application/json", "User-Agent": "curl/8.0"}
    if authorized:
        headers["Authorization"] = "Bearer ${TOKEN}"
    if body is not None:
        headers["Content-Type"] = "application/json"
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {header: [value] for header, value in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {key: [value] for key, value in query.items()} if query else None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "1234567890",
            "resourceId": "123456",
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/{STAGE}{path}",
            "stage": STAGE,
            "protocol": "HTTP/1.1",
            "requestId": str(uuid.uuid5(NAMESPACE, f"api-{name}")),
            "requestTime": AT.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(AT.timestamp() * 1000),
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "curl/8.0"},
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }


# -- the whole set ---------------------------------------------------------------------------------------


def generate() -> dict[str, dict[str, Any]]:
    """File name → sample, every one of them."""
    samples = {f"api-{name}.json": api_request(name, *route) for name, route in ROUTES.items()}
    for number, event in enumerate(bus_events(), start=1):
        samples[f"fanout-{event.lower().replace('_', '-')}.json"] = fanout_event(event, number)
    samples["delivery-sqs-batch.json"] = sqs_batch("DeliveryQueue", delivery_message())
    # A retry's message (RetryQueue → DeliveryQueue): attempt 2 of another delivery, due by now.
    due = delivery_message(deliveryId="msg_3fq7xkcm2vnb5hw6rjpd4tza", attempt=2, dueAt="2026-11-28T01:00:05Z")
    samples["retry-sqs-batch.json"] = sqs_batch("RetryQueue", due)
    return samples


def dumps(sample: Any) -> str:
    return json.dumps(sample, indent=2, ensure_ascii=False) + "\n"


def write_generated(folder: Path = EVENTS) -> list[str]:
    """Rewrite the committed samples; a sample no longer generated is removed. Returns the names written."""
    samples = generate()
    for stale in set(path.name for path in folder.glob("*.json")) - set(samples):
        (folder / stale).unlink()
    for name, sample in samples.items():
        (folder / name).write_text(dumps(sample))
    return sorted(samples)


def placeholders(sample: Any) -> set[str]:
    return set(PLACEHOLDER.findall(json.dumps(sample)))


def render(sample: Any, values: Mapping[str, str]) -> Any:
    """The sample with its placeholders replaced (SQS records keep a true checksum of their new body)."""

    def fill(value: Any) -> Any:
        if isinstance(value, str):
            return PLACEHOLDER.sub(lambda match: values[match[1]], value)
        if isinstance(value, list):
            return [fill(item) for item in value]
        if isinstance(value, dict):
            return {key: fill(item) for key, item in value.items()}
        return value

    rendered = fill(sample)
    for record in rendered.get("Records", []) if isinstance(rendered, dict) else []:
        record["md5OfBody"] = hashlib.md5(record["body"].encode()).hexdigest()  # noqa: S324 - SQS's checksum
    return rendered


def committed(folder: Path = EVENTS) -> dict[str, Any]:
    return {path.name: json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))}


# -- rendering for the running local stack (make samples) -------------------------------------------------


def stack_values(api: str, token: str, webhook_url: str) -> dict[str, str]:
    """TOKEN, and the ids of the "sam samples" webhook (found, else created) and of one of its deliveries."""
    call = _caller(api, token)
    webhook = next((hook for hook in _all_webhooks(call) if hook["name"] == SAMPLES_WEBHOOK), None)
    if webhook is None:
        webhook = call("POST", "/webhooks", {"name": SAMPLES_WEBHOOK, "url": webhook_url, "projectIds": [PROJECT]})
    deliveries = call("GET", f"/webhooks/{webhook['id']}/deliveries?limit=1")["items"]
    delivery = deliveries[0] if deliveries else call("POST", f"/webhooks/{webhook['id']}/test")
    return {"TOKEN": token, "WEBHOOK_ID": webhook["id"], "DELIVERY_ID": delivery["deliveryId"]}


def _caller(api: str, token: str) -> Callable[..., Any]:
    def call(method: str, path: str, body: Any = None) -> Any:
        response = requests.request(
            method, api + path, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        if response.status_code >= 400:
            sys.exit(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return response.json()

    return call


def _all_webhooks(call: Callable[..., Any]) -> list[dict[str, Any]]:
    hooks, cursor = [], None
    while True:
        page = call("GET", "/webhooks?limit=100" + (f"&cursor={cursor}" if cursor else ""))
        hooks += page["items"]
        if not (cursor := page["nextCursor"]):
            return hooks


def main() -> None:
    parser = argparse.ArgumentParser(description="Render events/ for the running local stack into events/local/.")
    parser.add_argument("--generate", action="store_true", help="rewrite the committed samples instead")
    parser.add_argument("--ttl", type=int, default=3600, help="seconds the minted token is valid (default 3600)")
    parser.add_argument("--out", type=Path, default=RENDERED, help="where the rendered samples go (events/local/)")
    args = parser.parse_args()
    if args.generate:
        print(f"events/: {len(write_generated())} samples generated")
        return
    secret = os.environ.get("WEBHOOKS_JWT_SECRET", DEFAULT_JWT_SECRET)
    api = f"http://127.0.0.1:{os.environ.get('API_PORT', 3000)}"
    try:
        requests.get(f"{api}/health", timeout=3).raise_for_status()
    except requests.RequestException as exc:
        sys.exit(f"no local stack answers on {api} ({exc}); start it with `make run`")
    token = mint(COMPANY, USER, "ADMIN", secret, ttl=args.ttl)
    values = stack_values(api, token, os.environ.get("SAMPLES_WEBHOOK_URL", DEFAULT_SAMPLES_URL))
    args.out.mkdir(parents=True, exist_ok=True)
    for name, sample in committed().items():
        (args.out / name).write_text(dumps(render(sample, values)))
    until = time.strftime("%H:%M", time.localtime(time.time() + args.ttl))
    print(
        f"{args.out}: rendered for {api}; token valid until {until}; webhook {values['WEBHOOK_ID']}, "
        f"delivery {values['DELIVERY_ID']}"
    )


if __name__ == "__main__":
    main()
