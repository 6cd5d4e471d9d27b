"""`python -m ops redrive-fanout`: put FanoutDLQ's events back on the bus.

FanoutDLQ holds the events the fan-out did not turn into deliveries, in two shapes:
- Lambda's OnFailure records (the fan-out failed on every try): the event is `requestPayload`;
- the event itself: rejected by the fan-out (a `reason` attribute says why), or not handed to
  Lambda by the rule (EventBridge's ERROR_CODE / ERROR_MESSAGE attributes);
- `{"claimCheck": key}`: an event too large for the message (or for Lambda's OnFailure record),
  rejected or dead-lettered by the fan-out, kept whole in PayloadBucket (bluehooks.rules.claimcheck).
Each message is deleted only once PutEvents accepted its event. The event keeps its id (with
its company and type, what names each of its deliveries), so a delivery already made is not made
twice. An event rejected again comes back to FanoutDLQ with its reason, and is left for a later run.
"""

import argparse
import json
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bluehooks.ports import PayloadStore
from ops.queues import Message, attribute, drain
from ops.target import Target


@dataclass
class Tally:
    replayed: int = 0
    failed: int = 0
    unreplayable: int = 0
    held: list[Message] = field(default_factory=list)  # released when the run ends


def held_event(message: Message, payloads: PayloadStore | None = None) -> tuple[dict[str, Any] | None, str]:
    """The EventBridge event a FanoutDLQ message holds (None if none whole), and what kind of message it is."""
    try:
        body = json.loads(message["Body"])
        if isinstance(body, dict) and set(body) == {"claimCheck"} and payloads:  # kept in S3: too large
            body = payloads.get(str(body["claimCheck"]))
    except (ValueError, RecursionError):  # RecursionError: nested deeper than Python's stack
        return None, "not JSON"
    except (LookupError, BotoCoreError, ClientError) as exc:  # PayloadGone is a LookupError
        return None, f"kept in S3, not readable: {exc}"
    if isinstance(body, dict) and "requestPayload" in body and "requestContext" in body:
        response = body.get("responsePayload")
        error = response.get("errorType", "error") if isinstance(response, dict) else "error"
        return body["requestPayload"], f"OnFailure record ({error})"
    if not isinstance(body, dict) or "truncatedEvent" in body:
        return None, "cut to fit the queue" if isinstance(body, dict) else "not an event"
    if reason := attribute(message, "reason"):
        return body, f"rejected: {reason}"
    if code := attribute(message, "ERROR_CODE"):
        return body, f"not handed to Lambda: {code}"
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


def replay_message(
    events, message: Message, bus: str, tally: Tally, dry_run: bool, payloads: PayloadStore | None = None
) -> bool:
    """Put one message's event back on the bus; True when it may be deleted."""
    event, kind = held_event(message, payloads)
    label = f"{message['MessageId']} {kind}"
    if not isinstance(event, dict):
        tally.unreplayable += 1
        print(f"kept     {label}: holds no whole event", flush=True)
        return False
    label = f"{event.get('detail-type')!s:.100} {event.get('id')!s:.100} ({kind:.300})"
    if dry_run:
        print(f"would replay {label}", flush=True)
        return False
    try:
        (result,) = events.put_events(Entries=[put_entry(event, bus)])["Entries"]
    except ClientError as exc:  # one message's refusal must not stop the others'
        result = {"ErrorCode": exc.response["Error"].get("Code"), "ErrorMessage": str(exc)}
    except (BotoCoreError, ValueError, TypeError) as exc:  # a field of the wrong type: refused before sending
        result = {"ErrorCode": type(exc).__name__, "ErrorMessage": str(exc)[:500]}
    if "ErrorCode" in result:
        tally.failed += 1
        print(f"failed   {label}: {result['ErrorCode']}: {result.get('ErrorMessage')}", flush=True)
        return False
    tally.replayed += 1
    print(f"replayed {label}", flush=True)
    return True


def replay(
    sqs,
    events,
    queue_url: str,
    bus: str,
    dry_run: bool = False,
    wait_seconds: int = 1,
    payloads: PayloadStore | None = None,
) -> Tally:
    """Replay every message that was in the queue when the run started (one kept in S3 read from `payloads`)."""
    tally = Tally()
    tally.held = drain(sqs, queue_url, lambda m: replay_message(events, m, bus, tally, dry_run, payloads), wait_seconds)
    return tally


def add_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser("redrive-fanout", help="put FanoutDLQ's events back on the bus", description=__doc__)
    parser.add_argument("--queue-url", help="FanoutDLQ's URL (default: the stack's)")
    parser.add_argument("--bus", help="the event bus (default: the stack's)")
    parser.add_argument("--dry-run", action="store_true", help="list what would be replayed; change nothing")
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace, target: Target) -> int:
    queue_url = args.queue_url or target.names.fanout_dlq_url
    bus = args.bus or target.names.event_bus
    print(f"{'dry run: ' if args.dry_run else ''}replaying {queue_url} onto bus {bus}", flush=True)
    tally = replay(
        target.client("sqs"), target.client("events"), queue_url, bus, args.dry_run, payloads=target.payloads()
    )
    print(
        f"replayed {tally.replayed}, failed {tally.failed}, not replayable {tally.unreplayable}, "
        f"left in the queue {len(tally.held)}",
        flush=True,
    )
    return 1 if tally.failed else 0
