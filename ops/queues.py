"""Draining a dead-letter queue once: each message there when the run began is handed over, then deleted or kept."""

import time
from collections.abc import Callable
from typing import Any

VISIBILITY_SECONDS = 120  # a message being handled is not received twice in one run (see `drain` for longer runs)

Message = dict[str, Any]


def drain(sqs, queue_url: str, handle: Callable[[Message], bool], wait_seconds: int = 1) -> list[Message]:
    """Hand every message that was in the queue when the run began to `handle`, once; delete those it
    returns True for. Returns the kept ones, visible again when the run ends, however it ends. An empty
    long poll ends the run: a long poll asks every SQS server, so, unlike a short one, it is empty only
    if the queue is.

    No loop: a message sent during the run (one that failed again, say) is kept unhandled; a kept one
    that is visible again (a run longer than VISIBILITY_SECONDS) is not handed over twice, and a receive
    that brings only such messages ends the run, as every other message was seen by then."""
    started_ms = int(time.time() * 1000)
    kept: dict[str, Message] = {}  # by MessageId, with its latest receipt handle
    seen: set[str] = set()
    try:
        while messages := _receive(sqs, queue_url, wait_seconds):
            fresh = [message for message in messages if message["MessageId"] not in seen]
            kept.update((message["MessageId"], message) for message in messages if message["MessageId"] in seen)
            if not fresh:
                break
            seen.update(message["MessageId"] for message in fresh)
            done = []
            for message in fresh:
                if int(message["Attributes"]["SentTimestamp"]) < started_ms and handle(message):
                    done.append(message)
                else:
                    kept[message["MessageId"]] = message
            _delete(sqs, queue_url, done)
    finally:  # Ctrl-C or a crash included: what was kept is not left hidden for VISIBILITY_SECONDS
        _release(sqs, queue_url, list(kept.values()))
    return list(kept.values())


def _receive(sqs, queue_url: str, wait_seconds: int) -> list[Message]:
    return sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=10,
        WaitTimeSeconds=wait_seconds,
        VisibilityTimeout=VISIBILITY_SECONDS,
        AttributeNames=["SentTimestamp"],
        MessageAttributeNames=["All"],
    ).get("Messages", [])


def _delete(sqs, queue_url: str, done: list[Message]) -> None:
    if not done:
        return
    failed = sqs.delete_message_batch(QueueUrl=queue_url, Entries=_handles(done)).get("Failed", [])
    for failure in failed:  # handled, yet back later: the next run finds it done or superseded
        print(f"not deleted {done[int(failure['Id'])]['MessageId']}: {failure.get('Code')}", flush=True)


def _release(sqs, queue_url: str, kept: list[Message]) -> None:
    for group in range(0, len(kept), 10):
        sqs.change_message_visibility_batch(
            QueueUrl=queue_url,
            Entries=[{**entry, "VisibilityTimeout": 0} for entry in _handles(kept[group : group + 10])],
        )


def attribute(message: Message, name: str) -> str | None:
    value = (message.get("MessageAttributes") or {}).get(name) or {}
    return value.get("StringValue") if isinstance(value, dict) else None


def _handles(messages: list[Message]) -> list[dict[str, str]]:
    return [{"Id": str(i), "ReceiptHandle": message["ReceiptHandle"]} for i, message in enumerate(messages)]
