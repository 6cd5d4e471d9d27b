"""Fan-out: one domain event in, one queue message per matching webhook out."""

import base64
import hashlib
import json
from typing import Any

from aws_lambda_powertools import Logger

from bluehooks.catalog import EVENT_TYPES, PLATFORM_ONLY_EVENTS
from bluehooks.matching import wants
from bluehooks.models import DeliveryMessage, EventDetail
from bluehooks.payload import event_payload
from bluehooks.store import WebhookStore

logger = Logger(child=True)

MAX_BATCH_ENTRIES = 10
MAX_BATCH_BYTES = 1024 * 1024  # SQS limit for one message and for a whole batch (1 MiB since 2025)
SEND_TRIES = 3


class EnqueueFailed(Exception):
    """Some messages could not be queued; raising makes EventBridge retry the whole event."""


def delivery_id(event_id: str, webhook_id: str) -> str:
    """Stable per (event, webhook): a re-run of the fan-out yields the same webhook-id."""
    digest = hashlib.sha256(f"{event_id}\0{webhook_id}".encode()).digest()
    return "msg_" + base64.b32encode(digest[:15]).decode().lower()


def plan(event_id: str, event: str, detail: EventDetail, entries: list[dict[str, Any]]) -> list[DeliveryMessage]:
    project_key = detail.project.key if detail.project else None
    payload = event_payload(event, detail)
    return [
        DeliveryMessage(
            deliveryId=delivery_id(event_id, entry["webhookId"]),
            webhookId=entry["webhookId"],
            companyId=detail.company.key,
            eventId=event_id,
            event=event,
            payload=payload,
        )
        for entry in entries
        if wants(entry, project_key)
    ]


def batches(bodies: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """Group (id, body) pairs into SendMessageBatch calls within the count and size limits."""
    groups: list[list[tuple[str, str]]] = []
    size = 0
    for entry in bodies:
        entry_size = len(entry[1].encode())
        if not groups or len(groups[-1]) == MAX_BATCH_ENTRIES or size + entry_size > MAX_BATCH_BYTES:
            groups.append([])
            size = 0
        groups[-1].append(entry)
        size += entry_size
    return groups


class Fanout:
    def __init__(self, store: WebhookStore, sqs, queue_url: str, dead_letter_url: str):
        self.store = store
        self.sqs = sqs
        self.queue_url = queue_url
        self.dead_letter_url = dead_letter_url

    def fan_out(self, event_id: str, event: str, detail: EventDetail, raw_event: dict[str, Any]) -> dict[str, Any]:
        if event not in EVENT_TYPES or event in PLATFORM_ONLY_EVENTS:
            return self.reject(raw_event, f"unknown event type {event!r} (see GET /event-types)")
        entries = self.store.subscriptions(detail.company.key, event)
        messages = plan(event_id, event, detail, entries)
        bodies = [(m.deliveryId, m.model_dump_json()) for m in messages]
        too_large = [delivery for delivery, body in bodies if len(body.encode()) > MAX_BATCH_BYTES]
        if too_large:
            self.reject(raw_event, f"payload exceeds {MAX_BATCH_BYTES} bytes for deliveries {too_large}")
        self.enqueue([entry for entry in bodies if entry[0] not in too_large])
        logger.info("fanned out", extra={"eventId": event_id, "event": event, "matched": len(messages)})
        queued = len(messages) - len(too_large)
        return {"eventId": event_id, "event": event, "subscribed": len(entries), "queued": queued}

    def enqueue(self, bodies: list[tuple[str, str]]) -> None:
        for group in batches(bodies):
            pending = [{"Id": str(i), "MessageBody": body} for i, (_, body) in enumerate(group)]
            for _ in range(SEND_TRIES):
                response = self.sqs.send_message_batch(QueueUrl=self.queue_url, Entries=pending)
                failed = {failure["Id"] for failure in response.get("Failed", [])}
                pending = [entry for entry in pending if entry["Id"] in failed]
                if not pending:
                    break
            if pending:
                raise EnqueueFailed(f"{len(pending)} messages could not be queued")

    def reject(self, raw_event: Any, reason: str) -> dict[str, Any]:
        """Dead-letter an event that cannot be fanned out, with the reason, so it can be replayed."""
        logger.error("event dead-lettered", extra={"reason": reason})
        self.sqs.send_message(
            QueueUrl=self.dead_letter_url,
            MessageBody=json.dumps(raw_event, default=str),
            MessageAttributes={"reason": {"DataType": "String", "StringValue": reason[:1000]}},
        )
        return {"rejected": reason}
