"""`make smoke STAGE=dev RECEIVER=https://...`: a deployed stage, end to end, with a token signed with its own key.

/health, /event-types, a webhook to RECEIVER (a public https URL you can watch: a deployed stage refuses http and
private addresses), one TODO_CREATED event put on the stage's bus, then that delivery as its log shows it; the
webhook is deleted at the end. Exit 0 only when the delivery succeeded.
"""

import argparse
import json
import os
import sys
import time
import uuid
from typing import Any

import requests
from botocore.exceptions import BotoCoreError, ClientError

from devstack.token import mint
from devtools.deploy import Stage, add_arguments, outputs, target
from ops.target import NoTarget, Target

TOKEN_SECONDS = 600
WAIT_SECONDS = 60  # the first attempt's deadline, plus a cold start or two


class SmokeFailed(Exception):
    """A step answered what it must not; the message says which."""


class Api:
    def __init__(self, url: str, token: str):
        self.url, self.headers = url.rstrip("/"), {"Authorization": f"Bearer {token}"}

    def call(self, method: str, path: str, body: dict | None = None) -> Any:
        response = requests.request(method, self.url + path, json=body, headers=self.headers, timeout=30)
        if not response.ok:
            raise SmokeFailed(f"{method} {path} answered {response.status_code}: {response.text[:500]}")
        return response.json() if response.content else {}


def token(where: Target, stage: Stage, company: str) -> str:
    """An ADMIN of the smoke test's own company, for 10 minutes, signed with the stage's key (and its issuer and
    audience, when the stack sets them)."""
    key = where.client("ssm").get_parameter(Name=stage.jwt_parameter, WithDecryption=True)["Parameter"]["Value"]
    (stack,) = where.client("cloudformation").describe_stacks(StackName=stage.stack)["Stacks"]
    parameters = {p["ParameterKey"]: p.get("ParameterValue") for p in stack.get("Parameters", [])}
    claims = {"iss": parameters.get("JwtIssuer"), "aud": parameters.get("JwtAudience")}
    return mint(company, "make-smoke", "ADMIN", key, ttl=TOKEN_SECONDS, claims={k: v for k, v in claims.items() if v})


def put_event(where: Target, bus: str, company: str) -> str:
    detail = {
        "company": {"id": company},
        "project": {"id": "smoke"},
        "user": {"id": "make-smoke"},
        "currentValue": {"id": "smoke-1", "title": "make smoke"},
        "previousValue": None,
    }
    entry = {"Source": "blue", "DetailType": "TODO_CREATED", "EventBusName": bus, "Detail": json.dumps(detail)}
    answer = where.client("events").put_events(Entries=[entry])
    if answer["FailedEntryCount"]:
        raise SmokeFailed(f"PutEvents refused the event: {answer['Entries']}")
    return answer["Entries"][0]["EventId"]


def first_attempt(api: Api, webhook_id: str) -> dict:
    """The delivery once its first attempt is logged (a fanned-out delivery enters the log then)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not (items := api.call("GET", f"/webhooks/{webhook_id}/deliveries")["items"]):
        if time.monotonic() > deadline:
            raise SmokeFailed(f"no delivery logged within {WAIT_SECONDS} s")
        time.sleep(1)
    return api.call("GET", f"/webhooks/{webhook_id}/deliveries/{items[0]['deliveryId']}")


def smoke(where: Target, stage: Stage, receiver: str) -> dict:
    """Every step, printed as it goes; the delivery at the end."""
    found = outputs(where)
    company = f"smoke-{uuid.uuid4().hex[:8]}"  # a company of its own: no real webhook receives its event
    api = Api(found["ApiUrl"], token(where, stage, company))
    print(f"API {api.url}: GET /health → {api.call('GET', '/health')}")
    print(f"GET /event-types → {len(api.call('GET', '/event-types'))} event types")
    webhook = api.call("POST", "/webhooks", {"name": "make smoke", "url": receiver, "events": ["TODO_CREATED"]})
    print(f"POST /webhooks → {webhook['id']} to {receiver}, company {company}")
    try:
        event_id = put_event(where, found["EventBusName"], company)
        print(f"PutEvents to {found['EventBusName']} → event {event_id}; waiting for its delivery…", flush=True)
        delivery = first_attempt(api, webhook["id"])
        print(f"GET /webhooks/{webhook['id']}/deliveries/{delivery['deliveryId']} →")
        print(json.dumps(delivery, indent=2))
        return delivery
    finally:
        api.call("DELETE", f"/webhooks/{webhook['id']}")
        print(f"deleted webhook {webhook['id']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make smoke", description=__doc__.splitlines()[0])
    add_arguments(parser)
    parser.add_argument("--receiver", default=os.environ.get("RECEIVER"), help="a public https URL (RECEIVER)")
    args = parser.parse_args(argv)
    if not args.receiver:
        parser.error("name a receiver: make smoke STAGE=dev RECEIVER=https://… (a public https URL you can watch)")
    try:
        stage = Stage.read(args.stage)
        delivery = smoke(target(args, stage), stage, args.receiver)
    except (NoTarget, SmokeFailed, BotoCoreError, ClientError, requests.RequestException) as error:
        print(f"make smoke: {error}", file=sys.stderr)
        return 1
    if delivery["state"] != "succeeded":
        last = delivery["attempts"][-1] if delivery["attempts"] else {}
        print(f"make smoke: the delivery is {delivery['state']}: {last.get('error') or last.get('statusCode')}")
        return 1
    print(f"Smoke test passed: stage {stage.name} delivered to {args.receiver}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
