"""Draining a dead-letter queue once: each message there when the run began is handed over, then deleted or kept."""

import time
from collections.abc import Callable
from typing import Any

VISIBILITY_SECONDS = 120  # a message being handled is not received twice in one run

Message = dict[str, Any]


def drain(sqs, queue_url: str, handle: Callable[[Message], bool], wait_seconds: int = 1) -> list[Message]:
    """Hand every message that was in the queue when the run began to `handle`; delete those it returns
    True for. Returns the kept ones, visible again for the next run. An empty long poll ends the run: a
    long poll asks every SQS server, so, unlike a short one, it is empty only if the queue is.

    A message sent during the run (one that failed again, say) is kept unhandled: no loop."""
    started_ms = int(time.time() * 1000)
    kept: list[Message] = []
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
            if int(message["Attributes"]["SentTimestamp"]) < started_ms and handle(message):
                done.append(message)
            else:
                kept.append(message)
        if done:
            failed = sqs.delete_message_batch(QueueUrl=queue_url, Entries=_handles(done)).get("Failed", [])
            for failure in failed:  # handled, yet back later: the next run finds it done or superseded
                print(f"not deleted {done[int(failure['Id'])]['MessageId']}: {failure.get('Code')}", flush=True)
    for group in range(0, len(kept), 10):
        sqs.change_message_visibility_batch(
            QueueUrl=queue_url,
            Entries=[{**entry, "VisibilityTimeout": 0} for entry in _handles(kept[group : group + 10])],
        )
    return kept


def attribute(message: Message, name: str) -> str | None:
    return message.get("MessageAttributes", {}).get(name, {}).get("StringValue")


def _handles(messages: list[Message]) -> list[dict[str, str]]:
    return [{"Id": str(i), "ReceiptHandle": message["ReceiptHandle"]} for i, message in enumerate(messages)]
