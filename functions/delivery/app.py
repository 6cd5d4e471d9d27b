"""DeliveryFunction: DeliveryQueue batches → one signed POST per message, retried via SQS.

A failed attempt sets its message's visibility to the next delay of the retry schedule and
is reported as a batch item failure, so SQS hands it back then; after the last attempt the
message is made visible at once and the queue's redrive policy moves it to DeliveryDLQ.
"""

import asyncio
from datetime import timedelta
from typing import Any, NoReturn

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import AsyncBatchProcessor, EventType, async_process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ValidationError

from bluehooks.config import settings
from bluehooks.delivery import Deliverer, disabled_event
from bluehooks.deliverylog import DeliveryLog
from bluehooks.models import DeliveryMessage
from bluehooks.outbound import TargetPolicy, pinned_session
from bluehooks.store import WebhookStore
from bluehooks.vault import SecretVault

logger = Logger()
tracer = Tracer()
metrics = Metrics()
config = settings()
sqs = boto3.client("sqs")
events = boto3.client("events")
dynamodb = boto3.resource("dynamodb")
deliverer = Deliverer(
    store=WebhookStore(dynamodb.Table(config.webhooks_table)),
    log=DeliveryLog(dynamodb.Table(config.deliveries_table), config.delivery_log_retention_days),
    vault=SecretVault(boto3.client("kms"), config.secrets_key_id),
    session=pinned_session(TargetPolicy(allow_http=config.allow_http, allow_loopback=config.allow_private_targets)),
    timeout=config.delivery_timeout_seconds,
    schedule=config.retry_schedule,
    disable_after=timedelta(seconds=config.disable_after_failing_seconds),
    announce=lambda webhook, reason: events.put_events(
        Entries=[disabled_event(webhook, reason, config.event_bus_name)]
    ),
)
# Records of one batch are delivered concurrently: a slow receiver never holds up the others.
processor = AsyncBatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


class RedeliverLater(Exception):
    """Marks the record as a batch item failure; its visibility was set to the retry delay."""


def deliver(record: SQSRecord) -> None:
    attempt = int(record.attributes.approximate_receive_count)
    try:
        message = DeliveryMessage.model_validate_json(record.body)
    except ValidationError as exc:
        problems = exc.errors(include_url=False, include_input=False)  # the body itself stays out of the logs
        logger.error("poison message: dead-lettering it", extra={"messageId": record.message_id, "errors": problems})
        _redeliver(record, 0, "poison message")
    outcome = deliverer.attempt(message, attempt)
    metrics.add_metric(name=f"Deliveries{outcome.kind.capitalize()}", unit=MetricUnit.Count, value=1)
    if outcome.kind == "retry":
        _redeliver(record, outcome.delay or 0, "retry scheduled")
    elif outcome.kind == "exhausted":
        _redeliver(record, 0, "attempts exhausted: to the DLQ")


def _redeliver(record: SQSRecord, delay: int, reason: str) -> NoReturn:
    sqs.change_message_visibility(
        QueueUrl=config.delivery_queue_url, ReceiptHandle=record.receipt_handle, VisibilityTimeout=delay
    )
    raise RedeliverLater(reason)


async def deliver_async(record: SQSRecord) -> None:
    try:
        await asyncio.to_thread(deliver, record)
    except RedeliverLater:
        raise
    except Exception:
        # The batch processor reports the record as failed (it comes back); say why, here.
        logger.exception("delivery crashed", extra={"messageId": record.message_id})
        raise


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return async_process_partial_response(
        event=event, record_handler=deliver_async, processor=processor, context=context
    )
