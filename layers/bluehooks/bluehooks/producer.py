"""The one producer of delivery messages: the fan-out, the retry scheduler, the API and the ops redrive
all queue through it.

SendMessageBatch takes at most ten entries and 1 MiB in all, and one message may hold 1 MiB
(SQS's limits since 2025: a message, and the sum of a batch's messages, 1,048,576 bytes). A batch
can half succeed: it answers 200 with some entries under `Failed` (throttled, or refused), so
only those are sent again, with a short backoff. What still did not go is handed back to the
caller, who decides: the fan-out fails its invocation (Lambda retries it), the API puts the
deliveries back as they were, the scheduler raises (the record comes back).
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from bluehooks.jsonlimits import dumps_ascii
from bluehooks.models import DeliveryMessage

logger = Logger(child=True)

MAX_BATCH_ENTRIES = 10
MAX_BATCH_BYTES = 1024 * 1024  # SQS: one message, and a whole SendMessageBatch, at most 1 MiB
MAX_MESSAGE_BYTES = MAX_BATCH_BYTES
SEND_TRIES = 3
SEND_BACKOFF_SECONDS = 0.05  # doubled on each try: throttled entries get a moment to clear


@dataclass(frozen=True)
class Outgoing:
    """One message to queue: `key` names it to the caller (a delivery id), `delay` in seconds (≤ 900)."""

    key: str
    body: str
    delay: int = 0

    @property
    def size(self) -> int:
        return len(self.body.encode())


def outgoing(message: DeliveryMessage, delay: int = 0) -> Outgoing:
    """A delivery message as ASCII-escaped JSON (SQS refuses some characters a payload may hold)."""
    return Outgoing(message.deliveryId, dumps_ascii(message.model_dump(mode="json")), delay)


def batches(messages: list[Outgoing]) -> list[list[Outgoing]]:
    """Group messages into SendMessageBatch calls within the count and size limits, in order."""
    groups: list[list[Outgoing]] = []
    size = 0
    for message in messages:
        if not groups or len(groups[-1]) == MAX_BATCH_ENTRIES or size + message.size > MAX_BATCH_BYTES:
            groups.append([])
            size = 0
        groups[-1].append(message)
        size += message.size
    return groups


class Producer:
    def __init__(self, sqs, queue_url: str, sleep: Callable[[float], None] = time.sleep):
        self.sqs = sqs
        self.queue_url = queue_url
        self.sleep = sleep

    def send(self, messages: list[Outgoing]) -> list[Outgoing]:
        """Queue every message; returns those that could not be queued (none, normally)."""
        oversized = [message for message in messages if message.size > MAX_MESSAGE_BYTES]
        if oversized:  # our bug if it happens: payloads over the inline limit travel as a claim check
            logger.error("delivery messages too large to queue", extra={"keys": [m.key for m in oversized]})
        fitting = [message for message in messages if message.size <= MAX_MESSAGE_BYTES]
        return oversized + [message for group in batches(fitting) for message in self._send(group)]

    def _send(self, group: list[Outgoing]) -> list[Outgoing]:
        """One batch, its failed entries (only those) sent again with backoff; returns those that never went."""
        pending = dict(enumerate(group))
        codes: set[str] = set()
        for attempt in range(SEND_TRIES):
            if attempt:
                self.sleep(SEND_BACKOFF_SECONDS * 2 ** (attempt - 1))
            entries = [
                {"Id": str(i), "MessageBody": message.body, "DelaySeconds": message.delay}
                for i, message in pending.items()
            ]
            try:
                failed = self.sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries).get("Failed", [])
            except (BotoCoreError, ClientError) as exc:  # the whole call failed (its own retries spent)
                failed = [{"Id": entry["Id"], "Code": type(exc).__name__} for entry in entries]
            codes = {failure.get("Code", "?") for failure in failed}
            pending = {int(failure["Id"]): pending[int(failure["Id"])] for failure in failed}
            if not pending:
                return []
        logger.error("delivery messages not queued", extra={"count": len(pending), "codes": sorted(codes)})
        return list(pending.values())
