"""Event sources as Lambda drives them: SQS polling with partial batch failures, and rule taps."""

import logging
import threading
from typing import Any

import boto3

from devstack.asynchronous import AsyncInvoker
from devstack.lambdas import FunctionPool
from devstack.template import EventSource

log = logging.getLogger("devstack")


def sqs_record(message: dict[str, Any], source: EventSource, region: str) -> dict[str, Any]:
    """A ReceiveMessage result in the shape of a Lambda SQS event record."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value["DataType"],
            }
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": source.queue_arn,
        "awsRegion": region,
    }


def credentials(access_key: str | None) -> dict[str, str]:
    """A client's keyword arguments for signing as the role with this access key (none: the stack's own)."""
    if access_key is None:
        return {}
    return {"aws_access_key_id": access_key, "aws_secret_access_key": "testing", "aws_session_token": "testing"}


class Poller(threading.Thread):
    """Long-polls one queue and invokes the function as Lambda's event source mapping does.

    sqs: the whole batch is one invocation; reported item failures stay on the queue (with
    whatever visibility the function set), the rest are deleted; a crash leaves all of them.
    rule: each tap message is one EventBridge event, invoked asynchronously (retries, then the
    OnFailure destination); it leaves the tap once settled.
    As on AWS, the SQS source's calls and the OnFailure record act as the function's role (the
    pool's access key); the tap is Lambda's own queue of asynchronous invocations.
    """

    def __init__(
        self, source: EventSource, pool: FunctionPool, region: str, stop: threading.Event, async_retry_delay: float = 1
    ):
        super().__init__(name=f"poll-{source.function}", daemon=True)
        self.source, self.pool, self.region, self.stop_event = source, pool, region, stop
        as_role = boto3.client("sqs", region_name=region, **credentials(pool.access_key))
        self.sqs = as_role if source.kind == "sqs" else boto3.client("sqs", region_name=region)
        self.asynchronous = AsyncInvoker(pool, source, as_role, region, stop, async_retry_delay)

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                self.poll_once(wait_seconds=1)
            except Exception:  # the emulator going away on shutdown, or a bug: keep polling
                if not self.stop_event.is_set():
                    log.exception("poller %s failed", self.name)
                    self.stop_event.wait(1)

    def poll_once(self, wait_seconds: int = 0) -> int:
        messages = self.sqs.receive_message(
            QueueUrl=self.source.queue_url,
            MaxNumberOfMessages=self.source.batch_size,
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if messages:
            self.delete(self.invoke(messages))
        return len(messages)

    def invoke(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Invoke the function; returns the messages done with (succeeded, or for a rule settled)."""
        if self.source.kind == "rule":
            return [message for message in messages if self.asynchronous.settle(message["Body"])]
        try:
            response = self.pool.invoke({"Records": [sqs_record(m, self.source, self.region) for m in messages]})
        except Exception:
            log.exception("%s failed: its batch will be retried", self.source.function)
            return []
        failed = set()
        if self.source.report_item_failures and isinstance(response, dict):
            failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
        return [m for m in messages if m["MessageId"] not in failed]

    def delete(self, messages: list[dict[str, Any]]) -> None:
        if messages:
            self.sqs.delete_message_batch(
                QueueUrl=self.source.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )
