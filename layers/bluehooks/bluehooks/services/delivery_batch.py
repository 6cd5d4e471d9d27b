"""DeliveryFunction's use case: a batch of DeliveryQueue records, each carried through at once.

What a record means is decided by `bluehooks.rules.outcome.decide`; this carries it out. An
attempt's message is always deleted; what follows is a new message (`Outcome.next`: the next
attempt, or the same one later, delayed by `RetryScheduler`), or the message itself in
DeliveryDLQ with its reason. A record that fails for our own reasons (a throttle, a crash, too
little time left) comes back the same way, its attempt unused, until INFRA_RETRIES; only when
even that cannot be queued is it a batch item failure, backed off in flight.

Records are plain SQS event records (dicts): no batch utility, no event data classes to import.
"""

import contextvars
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from bluehooks.deadline import within
from bluehooks.models import DeliveryMessage
from bluehooks.rules.outcome import Known, Outcome, decide
from bluehooks.timestamps import now

logger = Logger(child=True)
RETURN_SECONDS = 1  # what the handler needs after its records' calls: answering the batch
# Time a record needs beyond the POST's own deadline: reads, the log write, the next message.
OVERHEAD_SECONDS = 5
METRICS = {"poison": "PoisonMessages", "requeued": "RecordsNotAttempted", "dead": "RecordsNotAttempted"}


class NotAttempted(Exception):
    """The record goes back to the queue with its attempt unused; the message says why."""


@dataclass(frozen=True)
class Done:
    """What became of a batch: the metric of each record carried through, and the ids of those left in flight."""

    counted: list[str]
    failures: list[str]

    def answer(self) -> dict[str, Any]:
        """The partial batch response (ReportBatchItemFailures)."""
        return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in self.failures]}


class DeliveryBatch:
    def __init__(self, root: Any):
        self.root = root  # bluehooks.roots.delivery.DeliveryRoot

    def run(self, records: list[dict[str, Any]], remaining_ms: int) -> Done:
        """Every record on a thread of its own, each in a copy of this context (its log keys)."""
        runs = [
            self.root.records.submit(contextvars.copy_context().run, self._one, record, remaining_ms)
            for record in records
        ]
        results = [(record["messageId"], run.result()) for record, run in zip(records, runs, strict=True)]
        return Done([c for _, c in results if c], [message_id for message_id, c in results if c is None])

    def _one(self, record: dict[str, Any], remaining_ms: int) -> str | None:
        """The name of the metric that counts what happened; None: left in flight (a batch item failure)."""
        with within(remaining_ms / 1000 - RETURN_SECONDS):  # its requeue and backoff too
            try:
                return self.deliver(record, remaining_ms)
            except Exception as exc:
                logger.exception(
                    "record not done: it is queued again, its attempt unused", extra={"messageId": record["messageId"]}
                )
                counted = self._requeue(record, exc)
                if counted is None:
                    self._back_off(record)
                return counted

    def deliver(self, record: dict[str, Any], remaining_ms: int) -> str:
        if remaining_ms < (self.root.settings.delivery_timeout_seconds + OVERHEAD_SECONDS) * 1000:
            raise NotAttempted("too little time left in this invocation")
        known, deliverer = _read(record), self.root.deliverer
        return self.carry_out(
            record, deliverer.attempt(known.message) if known.message else decide(known, deliverer.policy)
        )

    def carry_out(self, record: dict[str, Any], outcome: Outcome) -> str:
        """Queue what comes next, or keep the record in DeliveryDLQ; the name of the metric that counts it."""
        if outcome.next:
            self.root.scheduler.wait(outcome.next)
        if outcome.dead_letter:
            self.root.scheduler.dead_letter(record["body"], outcome.reason or outcome.kind)
        return METRICS.get(outcome.kind, f"Deliveries{outcome.kind.capitalize()}")

    def _requeue(self, record: dict[str, Any], exc: Exception) -> str | None:
        """Our failure, not the receiver's: the message goes back as a delayed one (never in flight), its attempt
        unused, or to the DLQ once that happened too often (`decide`); None when even that could not be done."""
        try:
            return self.carry_out(record, decide(_read(record, failure=repr(exc)), self.root.deliverer.policy))
        except Exception:
            logger.exception("could not queue it again: it stays in flight", extra={"messageId": record["messageId"]})
            return None

    def _back_off(self, record: dict[str, Any]) -> None:
        """When even queueing again fails: the record stays in flight and comes back after a backoff."""
        receives = int(record["attributes"]["ApproximateReceiveCount"])
        try:
            self.root.in_flight.back_off(record["receiptHandle"], min(300, 5 * 2 ** (receives - 1)))
        except Exception:  # the queue's own visibility timeout then applies
            logger.exception("could not set the backoff", extra={"messageId": record["messageId"]})


def _read(record: dict[str, Any], **facts: Any) -> Known:
    """What is known from the record alone: its message, or why it is none (poison)."""
    try:
        return Known(now(), DeliveryMessage.model_validate_json(record["body"]), **facts)
    except ValidationError as exc:
        problems = exc.errors(include_url=False, include_input=False)  # the body itself stays out of the logs
        logger.error("poison message: dead-lettered", extra={"messageId": record["messageId"], "errors": problems})
        return Known(now(), poison=str(problems))
