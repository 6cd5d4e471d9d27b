"""DeliveryFunction: DeliveryQueue batches → one signed POST per message, every record at once.

What a record means is decided by `bluehooks.rules.outcome.decide`; this handler carries it
out. An attempt's message is always deleted; what follows is a new message (`Outcome.next`:
the next attempt, or the same one later, delayed by `RetryScheduler`), or the message itself
in DeliveryDLQ with its reason. A record that fails for our own reasons (a throttle, a crash,
too little time left) comes back the same way, its attempt unused, until INFRA_RETRIES; only
when even that cannot be queued is it a batch item failure, backed off in flight.
"""

import asyncio
import contextvars
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import AsyncBatchProcessor, EventType, async_process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from botocore.config import Config
from pydantic import ValidationError

from bluehooks.claimcheck import PayloadStore
from bluehooks.config import settings
from bluehooks.deadline import bounded, within
from bluehooks.delivery import Deliverer, disabled_event
from bluehooks.deliverylog import DeliveryLog
from bluehooks.models import DeliveryMessage
from bluehooks.observability import invocation_logging
from bluehooks.outbound import pinned_session
from bluehooks.rules.outcome import Known, Outcome, decide
from bluehooks.scheduling import RetryScheduler
from bluehooks.store import WebhookStore
from bluehooks.targets import TargetPolicy
from bluehooks.timestamps import now
from bluehooks.vault import SecretVault

logger = Logger()
tracer = Tracer(patch_modules=["boto3", "botocore"])  # never requests: no trace headers to subscribers
metrics = Metrics()
config = settings()
# Short socket timeouts and few retries; and no attempt that would end after the invocation's deadline
# (bluehooks.deadline): in a brownout the record fails, not the whole batch after its POSTs.
AWS_CALLS = Config(connect_timeout=2, read_timeout=3, retries={"mode": "standard", "max_attempts": 3})
RETURN_SECONDS = 1  # what the handler needs after its records' calls: answering the batch
sqs = bounded(boto3.client("sqs", config=AWS_CALLS))
events = bounded(boto3.client("events", config=AWS_CALLS))
dynamodb = boto3.resource("dynamodb", config=AWS_CALLS)
bounded(dynamodb.meta.client)
deliverer = Deliverer(
    store=WebhookStore(dynamodb.Table(config.webhooks_table)),
    log=DeliveryLog(dynamodb.Table(config.deliveries_table), config.delivery_log_retention_days),
    vault=SecretVault(bounded(boto3.client("kms", config=AWS_CALLS)), config.secrets_key_id),
    session=pinned_session(
        TargetPolicy(allow_http=config.allow_http, allow_loopback=config.allow_private_targets), config.batch_size
    ),
    timeout=config.delivery_timeout_seconds,
    schedule=config.retry_schedule,
    disable_after=timedelta(seconds=config.disable_after_failing_seconds),
    probe_interval=config.probe_interval_seconds,
    announce=lambda webhook, why: announce_disabled(webhook, why),
    payloads=PayloadStore(bounded(boto3.client("s3", config=AWS_CALLS)), config.payload_bucket),
)
scheduler = RetryScheduler(sqs, config.delivery_queue_url, config.retry_queue_url, config.delivery_dlq_url)
processor = AsyncBatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
# A thread per record of the largest batch: one slow receiver never holds up the others.
records_pool = ThreadPoolExecutor(max_workers=config.batch_size, thread_name_prefix="record")
# Time a record needs beyond the POST's own deadline: reads, the log write, the next message.
OVERHEAD_SECONDS = 5
METRICS = {"poison": "PoisonMessages", "requeued": "RecordsNotAttempted", "dead": "RecordsNotAttempted"}


class NotAttempted(Exception):
    """The record goes back to the queue with its attempt unused; the message says why."""


def announce_disabled(webhook, why: str) -> None:
    """WEBHOOK_DISABLED on the bus, so the host app can tell the owner; PutEvents fails per entry too."""
    for backoff in (0.2, 0.4, 0.8):
        if not events.put_events(Entries=[disabled_event(webhook, why, config.event_bus_name)])["FailedEntryCount"]:
            return
        time.sleep(backoff)
    logger.error("WEBHOOK_DISABLED could not be put on the bus", extra={"webhookId": webhook.id, "reason": why})


def deliver(record: SQSRecord, remaining_ms: int) -> str:
    """Carry one record through; returns the name of the metric that counts what happened."""
    if remaining_ms < (config.delivery_timeout_seconds + OVERHEAD_SECONDS) * 1000:
        raise NotAttempted("too little time left in this invocation")
    known = _read(record)
    return carry_out(record, deliverer.attempt(known.message) if known.message else decide(known, deliverer.policy))


def _read(record: SQSRecord, **facts: Any) -> Known:
    """What is known from the record alone: its message, or why it is none (poison)."""
    try:
        return Known(now(), DeliveryMessage.model_validate_json(record.body), **facts)
    except ValidationError as exc:
        problems = exc.errors(include_url=False, include_input=False)  # the body itself stays out of the logs
        logger.error("poison message: dead-lettered", extra={"messageId": record.message_id, "errors": problems})
        return Known(now(), poison=str(problems))


def carry_out(record: SQSRecord, outcome: Outcome) -> str:
    """Queue what comes next, or keep the record in DeliveryDLQ; the name of the metric that counts it."""
    if outcome.next:
        scheduler.wait(outcome.next)
    if outcome.dead_letter:
        scheduler.dead_letter(record.body, outcome.reason or outcome.kind)
    return METRICS.get(outcome.kind, f"Deliveries{outcome.kind.capitalize()}")


def deliver_within(record: SQSRecord, remaining_ms: int) -> str:
    with within(remaining_ms / 1000 - RETURN_SECONDS):
        return deliver(record, remaining_ms)


async def deliver_async(record: SQSRecord, lambda_context: Any) -> None:
    remaining_ms = lambda_context.get_remaining_time_in_millis()
    try:
        # In a copy of this invocation's context: the record's log lines carry the invocation's keys.
        in_context = contextvars.copy_context().run
        counted = await asyncio.get_running_loop().run_in_executor(
            records_pool, in_context, deliver_within, record, remaining_ms
        )
    except Exception as exc:
        logger.exception(
            "record not done: it is queued again, its attempt unused", extra={"messageId": record.message_id}
        )
        counted = _requeue(record, exc)
        if counted is None:
            _back_off(record)
            raise NotAttempted(str(exc)) from exc
    # Metrics are added here, on the event loop's one thread: Powertools' metric set is not thread-safe.
    metrics.add_metric(name=counted, unit=MetricUnit.Count, value=1)


def _requeue(record: SQSRecord, exc: Exception) -> str | None:
    """Our failure, not the receiver's: the message goes back as a delayed one (never in flight), its attempt
    unused, or to the DLQ once that happened too often (`decide`); None when even that could not be done."""
    try:
        return carry_out(record, decide(_read(record, failure=repr(exc)), deliverer.policy))
    except Exception:
        logger.exception("could not queue it again: it stays in flight", extra={"messageId": record.message_id})
        return None


def _back_off(record: SQSRecord) -> None:
    """When even queueing again fails: the record stays in flight and comes back after a backoff."""
    receives = int(record.attributes.approximate_receive_count)
    try:
        sqs.change_message_visibility(
            QueueUrl=config.delivery_queue_url,
            ReceiptHandle=record.receipt_handle,
            VisibilityTimeout=min(300, 5 * 2 ** (receives - 1)),
        )
    except Exception:  # the queue's own visibility timeout then applies
        logger.exception("could not set the backoff", extra={"messageId": record.message_id})


@invocation_logging(logger)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    with within(context.get_remaining_time_in_millis() / 1000 - RETURN_SECONDS):  # requeues and backoffs too
        return async_process_partial_response(
            event=event, record_handler=deliver_async, processor=processor, context=context
        )
