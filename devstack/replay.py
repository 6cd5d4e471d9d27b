"""`python -m devstack.replay`: put FanoutDLQ's events back on the bus, on the local stack or on AWS.

FanoutDLQ holds the events the fan-out did not turn into deliveries, in two shapes:
- Lambda's OnFailure records (the fan-out failed on every try): the event is `requestPayload`;
- the event itself: rejected by the fan-out (a `reason` attribute says why), or not handed to
  Lambda by the rule (EventBridge's ERROR_CODE / ERROR_MESSAGE attributes).
Each message is deleted only once PutEvents accepted its event. The event keeps its id (the
fan-out's idempotency key), so deliveries already made are not made twice. An event rejected
again comes back to FanoutDLQ with its reason, and is left for a later run.

  python -m devstack.replay --endpoint-url http://127.0.0.1:4566        # the local stack
  python -m devstack.replay --profile prod --stack blue-webhooks-prod   # AWS: queue and bus from the stack
"""

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import ClientError

from devstack.template import LocalStack

VISIBILITY_SECONDS = 120  # a message being replayed is not received twice in one run
LOCAL_QUEUE = f"{LocalStack.name}-FanoutDLQ"


@dataclass
class Tally:
    replayed: int = 0
    failed: int = 0
    unreplayable: int = 0
    held: list[dict[str, Any]] = field(default_factory=list)  # released when the run ends


def held_event(message: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """The EventBridge event a FanoutDLQ message holds (None if none whole), and what kind of message it is."""
    try:
        body = json.loads(message["Body"])
    except ValueError:
        return None, "not JSON"
    attributes = message.get("MessageAttributes", {})
    if isinstance(body, dict) and "requestPayload" in body and "requestContext" in body:
        error = (body.get("responsePayload") or {}).get("errorType", "error")
        return body["requestPayload"], f"OnFailure record ({error})"
    if not isinstance(body, dict) or "truncatedEvent" in body:
        return None, "cut to fit the queue" if isinstance(body, dict) else "not an event"
    if "reason" in attributes:
        return body, f"rejected: {attributes['reason']['StringValue']}"
    if "ERROR_CODE" in attributes:
        return body, f"not handed to Lambda: {attributes['ERROR_CODE']['StringValue']}"
    return body, "event"


def put_entry(event: dict[str, Any], bus: str) -> dict[str, Any]:
    """The PutEvents entry of the event as its producer put it, keeping its event id."""
    detail = event.get("detail")
    if isinstance(detail, dict) and not detail.get("id") and event.get("id"):
        # A replayed event gets a new EventBridge id; the fan-out keys on the producer's id, else the first one.
        detail = {**detail, "id": event["id"]}
    entry = {
        "EventBusName": bus,
        "Source": event.get("source"),
        "DetailType": event.get("detail-type"),
        "Detail": json.dumps(detail),
        "Resources": event.get("resources") or None,
        "Time": event.get("time"),
    }
    return {name: value for name, value in entry.items() if value is not None}


def replay_message(events, message: dict[str, Any], bus: str, tally: Tally, dry_run: bool) -> bool:
    """Put one message's event back on the bus; True when it may be deleted."""
    event, kind = held_event(message)
    label = f"{message['MessageId']} {kind}"
    if not isinstance(event, dict):
        tally.unreplayable += 1
        print(f"kept     {label}: holds no whole event", flush=True)
        return False
    label = f"{event.get('detail-type')} {event.get('id')} ({kind})"
    if dry_run:
        print(f"would replay {label}", flush=True)
        return False
    try:
        (result,) = events.put_events(Entries=[put_entry(event, bus)])["Entries"]
    except ClientError as exc:  # one message's refusal must not stop the others'
        result = {"ErrorCode": exc.response["Error"].get("Code"), "ErrorMessage": str(exc)}
    if "ErrorCode" in result:
        tally.failed += 1
        print(f"failed   {label}: {result['ErrorCode']}: {result.get('ErrorMessage')}", flush=True)
        return False
    tally.replayed += 1
    print(f"replayed {label}", flush=True)
    return True


def replay(sqs, events, queue_url: str, bus: str, dry_run: bool = False, wait_seconds: int = 2) -> Tally:
    """Replay every message that was in the queue when the run started (an empty long poll ends the run)."""
    started_ms = int(time.time() * 1000)
    tally = Tally()
    while messages := sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=10,
        WaitTimeSeconds=wait_seconds,
        VisibilityTimeout=VISIBILITY_SECONDS,
        AttributeNames=["SentTimestamp"],
        MessageAttributeNames=["All"],
    ).get("Messages", []):
        done = []
        for message in messages:
            if int(message["Attributes"]["SentTimestamp"]) >= started_ms:  # came back during this run
                tally.held.append(message)
            elif replay_message(events, message, bus, tally, dry_run):
                done.append(message)
            else:
                tally.held.append(message)
        if done:
            sqs.delete_message_batch(QueueUrl=queue_url, Entries=_handles(done))
    for group in range(0, len(tally.held), 10):  # visible again for the next consumer
        sqs.change_message_visibility_batch(
            QueueUrl=queue_url,
            Entries=[{**entry, "VisibilityTimeout": 0} for entry in _handles(tally.held[group : group + 10])],
        )
    return tally


def _handles(messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{"Id": str(i), "ReceiptHandle": message["ReceiptHandle"]} for i, message in enumerate(messages)]


def session(args: argparse.Namespace) -> boto3.Session:
    if args.endpoint_url and not args.profile:  # the emulator takes any credentials; never send real ones
        dummy = "local"
        return boto3.Session(region_name=args.region, aws_access_key_id=dummy, aws_secret_access_key=dummy)
    return boto3.Session(profile_name=args.profile, region_name=args.region)


def targets(args: argparse.Namespace, aws: boto3.Session) -> tuple[str, str]:
    """The queue and the bus: as given, else the local stack's, else the deployed stack's outputs."""
    queue_url, bus = args.queue_url, args.bus
    if args.endpoint_url:
        sqs = aws.client("sqs", endpoint_url=args.endpoint_url)
        queue_url = queue_url or sqs.get_queue_url(QueueName=LOCAL_QUEUE)["QueueUrl"]
        return queue_url, bus or os.environ.get("EVENT_BUS_NAME", "blue-events")
    if not (queue_url and bus):
        (stack,) = aws.client("cloudformation").describe_stacks(StackName=args.stack)["Stacks"]
        outputs = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
        queue_url, bus = queue_url or outputs["FanoutDLQUrl"], bus or outputs["EventBusName"]
    return queue_url, bus


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devstack.replay", description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint-url", help="the local stack's AWS endpoint, e.g. http://127.0.0.1:4566")
    parser.add_argument("--region", default=os.environ.get("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION")))
    parser.add_argument("--profile", help="AWS profile (AWS only)")
    parser.add_argument("--stack", default="blue-webhooks-dev", help="deployed stack whose outputs name the queue")
    parser.add_argument("--queue-url", help="FanoutDLQ's URL (default: the stack's FanoutDLQUrl output)")
    parser.add_argument("--bus", help="the event bus (default: the stack's EventBusName output)")
    parser.add_argument("--dry-run", action="store_true", help="list what would be replayed; change nothing")
    args = parser.parse_args(argv)
    args.region = args.region or "us-east-1"
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    aws = session(args)
    queue_url, bus = targets(args, aws)
    sqs = aws.client("sqs", endpoint_url=args.endpoint_url)
    events = aws.client("events", endpoint_url=args.endpoint_url)
    print(f"{'dry run: ' if args.dry_run else ''}replaying {queue_url} onto bus {bus}", flush=True)
    tally = replay(sqs, events, queue_url, bus, args.dry_run)
    print(
        f"replayed {tally.replayed}, failed {tally.failed}, not replayable {tally.unreplayable}, "
        f"left in the queue {len(tally.held)}",
        flush=True,
    )
    return 1 if tally.failed else 0


if __name__ == "__main__":
    sys.exit(main())
