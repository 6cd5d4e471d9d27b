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
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import AsyncBatchProcessor, EventType, async_process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ValidationError

from bluehooks.deadline import within
from bluehooks.models import DeliveryMessage
from bluehooks.observability import invocation_logging
from bluehooks.roots.delivery import DeliverySettings, build
from bluehooks.rules.outcome import Known, Outcome, decide
from bluehooks.timestamps import now

logger = Logger()
tracer = Tracer(patch_modules=["boto3", "botocore"])  # never requests: no trace headers to subscribers
metrics = Metrics()
root = build(DeliverySettings.from_env())
RETURN_SECONDS = 1  # what the handler needs after its records' calls: answering the batch
processor = AsyncBatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
# Time a record needs beyond the POST's own deadline: reads, the log write, the next message.
OVERHEAD_SECONDS = 5
METRICS = {"poison": "PoisonMessages", "requeued": "RecordsNotAttempted", "dead": "RecordsNotAttempted"}


class NotAttempted(Exception):
    """The record goes back to the queue with its attempt unused; the message says why."""


def deliver(record: SQSRecord, remaining_ms: int) -> str:
    """Carry one record through; returns the name of the metric that counts what happened."""
    if remaining_ms < (root.settings.delivery_timeout_seconds + OVERHEAD_SECONDS) * 1000:
        raise NotAttempted("too little time left in this invocation")
    known = _read(record)
    deliverer = root.deliverer
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
        root.scheduler.wait(outcome.next)
    if outcome.dead_letter:
        root.scheduler.dead_letter(record.body, outcome.reason or outcome.kind)
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
            root.records, in_context, deliver_within, record, remaining_ms
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
        return carry_out(record, decide(_read(record, failure=repr(exc)), root.deliverer.policy))
    except Exception:
        logger.exception("could not queue it again: it stays in flight", extra={"messageId": record.message_id})
        return None


def _back_off(record: SQSRecord) -> None:
    """When even queueing again fails: the record stays in flight and comes back after a backoff."""
    receives = int(record.attributes.approximate_receive_count)
    try:
        root.in_flight.back_off(record.receipt_handle, min(300, 5 * 2 ** (receives - 1)))
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
