"""The one producer of delivery messages: the fan-out, the retry scheduler, the API and the ops redrive
all queue through it.

SendMessageBatch takes at most ten entries and 1 MiB in all, and one message may hold 1 MiB
(SQS's limits since 2025: a message, and the sum of a batch's messages, 1,048,576 bytes). A batch
can half succeed: it answers 200 with some entries under `Failed` (throttled, or refused), so
only those are sent again, with a short backoff. What still did not go is handed back to the
caller in NotQueued, after every batch was tried: the fan-out fails its invocation (Lambda
retries it), the API puts the deliveries back as they were, the delivery function's record
comes back.
"""

import time
from collections.abc import Callable

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from bluehooks.ports import MAX_MESSAGE_BYTES, NotQueued, Outgoing

logger = Logger(child=True)

MAX_BATCH_ENTRIES = 10
MAX_BATCH_BYTES = MAX_MESSAGE_BYTES  # SQS: the sum of a batch's messages too (bluehooks.ports)
SEND_TRIES = 3
SEND_BACKOFF_SECONDS = 0.05  # doubled on each try: throttled entries get a moment to clear


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
    """The DeliveryQueue port over SQS: one queue's SendMessageBatch."""

    def __init__(self, sqs, queue_url: str, sleep: Callable[[float], None] = time.sleep):
        self.sqs = sqs
        self.queue_url = queue_url
        self.sleep = sleep

    def send(self, messages: list[Outgoing]) -> None:
        """Queue every message, every batch tried; NotQueued names those that could not be (none, normally)."""
        why: set[str] = set()
        unsent = [message for message in messages if message.size > MAX_MESSAGE_BYTES]
        if unsent:  # our bug if it happens: a payload over the inline limit travels as a claim check
            why.add(f"over {MAX_MESSAGE_BYTES} bytes")
        fitting = [message for message in messages if message.size <= MAX_MESSAGE_BYTES]
        for group in batches(fitting):
            unsent += self._send(group, why)
        if unsent:
            logger.error("delivery messages not queued", extra={"keys": [m.key for m in unsent], "why": sorted(why)})
            raise NotQueued(unsent, len(messages), why)

    def _send(self, group: list[Outgoing], why: set[str]) -> list[Outgoing]:
        """One batch, its failed entries (only those) sent again with backoff; returns those that never went."""
        pending = dict(enumerate(group))
        for attempt in range(SEND_TRIES):
            if attempt:
                self.sleep(SEND_BACKOFF_SECONDS * 2 ** (attempt - 1))
            entries = [
                {"Id": str(i), "MessageBody": message.body, "DelaySeconds": message.delay}
                for i, message in pending.items()
            ]
            try:
                failed = self.sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries).get("Failed", [])
            except (BotoCoreError, ClientError) as exc:  # the whole call failed (botocore's own retries spent)
                failed = [{"Id": entry["Id"], "Code": type(exc).__name__, "Message": str(exc)} for entry in entries]
            pending = {int(failure["Id"]): pending[int(failure["Id"])] for failure in failed}
            if not pending:
                return []
            why.update(f"{failure.get('Code', '?')}: {failure.get('Message', '')}" for failure in failed)
        return list(pending.values())
