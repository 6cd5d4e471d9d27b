"""Fan-out: one domain event in, one queue message per matching webhook out.

An event is first accepted (or rejected, with the reason, to FanoutDLQ; nothing remembers it, so
a corrected event sent again with the same id is fanned out). Then the subscription index gives the
webhooks of the event's company and type, each one's project list and filter decide, and the
delivery messages are sent in batches. Any message that cannot be queued fails the invocation, so
that Lambda retries it; the retry sends the same delivery ids, on which receivers deduplicate.
"""

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from bluehooks.models import BusEvent, DeliveryMessage, EventDetail, Subscription
from bluehooks.models.catalog import EVENT_TYPES, PLATFORM_ONLY_EVENTS
from bluehooks.ports import (
    MAX_MESSAGE_BYTES,
    DeadLetters,
    DeliveryQueue,
    NotQueued,
    Outgoing,
    PayloadStore,
    SubscriptionIndex,
)
from bluehooks.rules import jsonlimits
from bluehooks.rules.claimcheck import INLINE_BYTES, payload_key
from bluehooks.rules.matching import sift
from bluehooks.rules.payload import event_payload

logger = Logger(child=True)

# The payload as ASCII-escaped JSON. EventBridge events are at most 1 MB (since January 2026), and
# escaping at most triples them: on AWS this never bites. Over INLINE_BYTES it travels as a claim check.
MAX_PAYLOAD_BYTES = 3 * 1024 * 1024 + 64 * 1024
# A FanoutDLQ body, leaving room in the 1 MiB message for the `reason` attribute; a larger one is claim-checked.
MAX_DEAD_LETTER_BYTES = MAX_MESSAGE_BYTES - 8 * 1024
# Lambda's OnFailure record holds the event and the error (its stack trace, the request's context): the
# record of a larger event may not fit an SQS message, and then Lambda drops it ("delivery errors can also
# occur due to ... size limits": a DestinationDeliveryFailures metric, no record), so the fan-out keeps it:
# https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
MAX_FAILURE_RECORD_EVENT_BYTES = MAX_MESSAGE_BYTES - 64 * 1024
MAX_REASON_CHARS = 1000


class Rejected(ValueError):
    """An event that cannot be fanned out; the message says why, without repeating the event."""


class EnqueueFailed(Exception):
    """Some delivery messages could not be queued; raising makes Lambda retry the whole event."""


@dataclass(frozen=True)
class AcceptedEvent:
    """An event that can be fanned out, with its payload built and serialized once for every delivery."""

    id: str
    type: str
    company: str
    project: str | None
    payload: dict[str, Any]
    payload_json: str

    @property
    def payload_key(self) -> str | None:
        """Where the payload is kept when too large to travel in each message, else None."""
        return payload_key(self.company, self.type, self.id) if len(self.payload_json) > INLINE_BYTES else None


def accepted(raw_event: dict[str, Any]) -> AcceptedEvent:
    """The producer's event as the bus delivers it, validated; Rejected with the reason otherwise."""
    try:
        event = BusEvent.model_validate(raw_event)
    except ValidationError as exc:
        raise Rejected(f"invalid event: {exc.errors(include_url=False, include_input=False)}") from None
    return accept(event.detail.id or event.id, event.detail_type, event.detail)


def accept(event_id: str, event: str, detail: EventDetail) -> AcceptedEvent:
    """The event, ready to fan out; Rejected if no webhook could ever receive it."""
    if event not in EVENT_TYPES or event in PLATFORM_ONLY_EVENTS:
        raise Rejected(f"unknown event type {event!r} (see GET /event-types)")
    if not detail.company.key:
        raise Rejected("company.id is empty")
    payload = event_payload(event, detail)
    # Checked as it is queued, one level down in the delivery message, which delivery reads
    # under the same limits: what is accepted here can always be queued and delivered.
    if reason := jsonlimits.refusal({"payload": payload}):
        raise Rejected(reason)
    payload_json = jsonlimits.dumps_ascii(payload)
    if len(payload_json) > MAX_PAYLOAD_BYTES:
        raise Rejected(f"payload of {len(payload_json)} bytes (as escaped JSON) exceeds {MAX_PAYLOAD_BYTES}")
    project = detail.project.key if detail.project else None
    return AcceptedEvent(event_id, event, detail.company.key, project, payload, payload_json)


def delivery_id(event: AcceptedEvent, webhook_id: str) -> str:
    """Stable per (event, webhook): a re-run of the fan-out yields the same webhook-id."""
    fields = (event.company, event.type, event.id, webhook_id)
    digest = hashlib.sha256("\0".join(fields).encode()).digest()
    return "msg_" + base64.b32encode(digest[:15]).decode().lower()


def plan(event: AcceptedEvent, entries: list[Subscription]) -> list[DeliveryMessage]:
    """One delivery per index entry that wants the event."""
    return deliveries(event, sift(entries, event.project, event.payload).wanted)


def deliveries(event: AcceptedEvent, wanted: list[Subscription]) -> list[DeliveryMessage]:
    return [
        DeliveryMessage(
            deliveryId=delivery_id(event, entry.webhookId),
            webhookId=entry.webhookId,
            companyId=event.company,
            eventId=event.id,
            event=event.type,
            payload=None if event.payload_key else event.payload,
            payloadKey=event.payload_key,
        )
        for entry in wanted
    ]


def message_body(message: DeliveryMessage, payload_json: str) -> str:
    """The message as ASCII-escaped JSON, the payload spliced in as already serialized once per event
    (or, too large, left out: the message holds its payloadKey)."""
    head = jsonlimits.dumps_ascii(message.model_dump(exclude={"payload"}))
    return head if message.payloadKey else f'{head[:-1]},"payload":{payload_json}}}'


def event_text(raw_event: Any) -> str:
    """The event as ASCII-escaped JSON, as FanoutDLQ keeps it."""
    try:
        return jsonlimits.dumps_ascii(raw_event)
    except ValueError:  # NaN or infinity: written as Python writes them, so nothing is lost
        return json.dumps(raw_event, separators=(",", ":"), ensure_ascii=True)


def too_large_for_failure_record(raw_event: Any) -> bool:
    """Whether Lambda's OnFailure record of this event could exceed an SQS message (and be dropped)."""
    return len(event_text(raw_event)) > MAX_FAILURE_RECORD_EVENT_BYTES


def attribute_text(reason: str) -> str:
    """A reason as an SQS attribute value: ASCII (it may quote an unrepresentable character), bounded."""
    return reason.encode("ascii", "backslashreplace").decode()[:MAX_REASON_CHARS]


class Fanout:
    def __init__(
        self, index: SubscriptionIndex, queue: DeliveryQueue, dead_letters: DeadLetters, payloads: PayloadStore
    ):
        self.index = index
        self.queue = queue
        self.dead_letters = dead_letters
        self.payloads = payloads

    def fan_out(self, event: AcceptedEvent) -> dict[str, Any]:
        entries = self.index.subscriptions(event.company, event.type)
        sifted = sift(entries, event.project, event.payload)
        messages = deliveries(event, sifted.wanted)
        if messages and event.payload_key:  # kept before any message refers to it
            self.payloads.put(event.payload_key, event.payload_json)
        self.enqueue([Outgoing(m.deliveryId, message_body(m, event.payload_json)) for m in messages])
        counts = {"subscribed": len(entries), "queued": len(messages), "undecided": len(sifted.undecided)}
        logger.info("fanned out", extra={"eventId": event.id, "event": event.type, **counts, "steps": sifted.steps})
        if sifted.undecided:
            logger.warning(
                "filters not decided within their share: delivered unfiltered",
                extra={"eventId": event.id, "count": len(sifted.undecided), "webhookIds": sifted.undecided[:20]},
            )
        return {"eventId": event.id, "event": event.type, **counts}

    def enqueue(self, messages: list[Outgoing]) -> None:
        """Send every message; EnqueueFailed after all were tried if any was not queued."""
        try:
            self.queue.send(messages)
        except NotQueued as exc:
            raise EnqueueFailed(str(exc)) from exc

    def reject(self, raw_event: Any, reason: str) -> dict[str, Any]:
        """Dead-letter an event that cannot be fanned out, with the reason, so it can be replayed.

        One too large for a FanoutDLQ message is kept in S3, and the message holds its key."""
        body = event_text(raw_event)
        if len(body) > MAX_DEAD_LETTER_BYTES:
            key = payload_key("fanout-dlq", body)
            self.payloads.put(key, body)
            body = jsonlimits.dumps_ascii({"claimCheck": key})
        reason = attribute_text(reason)
        logger.error("event dead-lettered", extra={"reason": reason})
        self.dead_letters.keep(body, reason)
        return {"rejected": reason}
