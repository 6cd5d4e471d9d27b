"""Delivery: one attempt of one message to one webhook, what should happen next, and its record.

`decide` is the one place that says what an HTTP result means (delivered, retry, dead,
gone); everything else carries that decision out: the log, the webhook's health, the queue.
"""

import json
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

import requests
from aws_lambda_powertools import Logger

from bluehooks import USER_AGENT
from bluehooks.claimcheck import PayloadGone, PayloadStore
from bluehooks.customheaders import open_all
from bluehooks.deadline import require
from bluehooks.deliverylog import DeliveryLog, LoggedDelivery
from bluehooks.health import HealthChange, after_attempt, after_count
from bluehooks.models import DeliveryAttempt, DeliveryMessage, DeliveryState, StoredWebhook
from bluehooks.outbound import HttpResult, post
from bluehooks.payload import delivery_body
from bluehooks.retry import next_delay
from bluehooks.scope import unsubscribed
from bluehooks.signing import signature_headers
from bluehooks.store import WebhookStore
from bluehooks.timestamps import iso, now
from bluehooks.vault import SecretVault

logger = Logger(child=True)
DISABLED_EVENT = "WEBHOOK_DISABLED"
# One attempt of an AWS call (DeliveryFunction's clients: 2 s to connect, 3 s to read): the log write
# that must follow a POST.
RECORD_SECONDS = 5
PLATFORM_SOURCE = "blue.webhooks"  # not "blue": the fan-out's rule must never take our own events

Kind = Literal["delivered", "retry", "exhausted", "gone", "dropped", "superseded", "deferred"]
STATE_OF: dict[Kind, DeliveryState] = {
    "delivered": "succeeded",
    "retry": "failed",
    "exhausted": "dead",
    "gone": "dead",
    "dropped": "dropped",
}


@dataclass(frozen=True)
class Outcome:
    """delivered | retry (after `delay` s) | exhausted (dead-letter it) | gone (410: disabled) |
    dropped (webhook deleted, disabled, or narrowed: no longer subscribed to it) |
    superseded (a newer run, or already delivered: not sent) |
    deferred (the webhook's circuit is open: the same attempt, after `delay` s)."""

    kind: Kind
    delay: int | None = None
    result: HttpResult | None = None
    reason: str | None = None


def decide(result: HttpResult, attempt: int, schedule: tuple[int, ...]) -> Outcome:
    if result.ok:
        return Outcome("delivered", result=result)
    if result.status == 410:
        return Outcome("gone", result=result, reason="the endpoint answered 410 Gone: webhook disabled")
    delay = next_delay(schedule, attempt, result.retry_after)
    if delay is None:
        return Outcome("exhausted", result=result, reason=f"no attempt left after {attempt}")
    return Outcome("retry", delay=delay, result=result)


class Deliverer:
    def __init__(
        self,
        store: WebhookStore,
        log: DeliveryLog,
        vault: SecretVault,
        session: requests.Session,
        timeout: float,
        schedule: tuple[int, ...],
        disable_after: timedelta,
        probe_interval: float = 30,
        announce=None,
        payloads: PayloadStore | None = None,
    ):
        self.store = store
        self.log = log
        self.vault = vault
        self.session = session
        self.timeout = timeout
        self.schedule = schedule
        self.disable_after = disable_after
        self.probe_interval = probe_interval  # seconds between probes of an UNHEALTHY webhook's endpoint
        self.announce = announce or (lambda webhook, reason: None)
        self.payloads = payloads

    def attempt(self, message: DeliveryMessage) -> Outcome:
        logged = self.log.get(message.companyId, message.webhookId, message.deliveryId)
        if _settled(logged, message):
            return self._log(message, Outcome("superseded", reason="a newer run, or already delivered"))
        try:
            message = self._with_payload(message)
        except PayloadGone as exc:
            self.log.record(message, "dropped", reason=str(exc))
            return self._log(message, Outcome("dropped", reason=str(exc)))
        webhook = self.store.get(message.companyId, message.webhookId)
        if why := _not_sendable(webhook, message):
            outcome = Outcome("dropped", reason=why)
            self.log.record(message, "dropped", reason=outcome.reason)
            return self._log(message, outcome)
        probing = webhook.status == "UNHEALTHY"
        if probing and not self.store.take_probe(webhook, self.timeout + self.probe_interval):
            held = Outcome("deferred", delay=self.probe_interval, reason="circuit open: one probe at a time")
            return self._log(message, held)
        started = now()
        outcome = decide(self._post(webhook, message), message.attempt, self.schedule)
        self.log.record(message, STATE_OF[outcome.kind], self._attempt(message, outcome, started), outcome.reason)
        self._keep_health(webhook, outcome)
        if probing and outcome.kind == "delivered":
            self.store.end_probe(webhook)  # the others are released at their next try
        return self._log(message, outcome)

    def _with_payload(self, message: DeliveryMessage) -> DeliveryMessage:
        """The message with its payload, fetched when it is kept in S3 (it keeps its key: the log stores that)."""
        if message.payload is not None:
            return message
        return message.model_copy(update={"payload": self.payloads.get(message.payloadKey)})

    def _post(self, webhook: StoredWebhook, message: DeliveryMessage) -> HttpResult:
        body = delivery_body(message.payload, webhook.public())
        headers = {  # the webhook's own first, so that the contract's always win
            **open_all(self.vault, webhook.sealedHeaders, webhook.companyId, webhook.id),
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            **signature_headers(self._secrets(webhook), message.deliveryId, int(time.time()), body),
        }
        # Never a POST whose outcome could not be written: slow reads before it (a brownout) leave the
        # record unattempted instead, so a receiver is not sent it again for want of a log write.
        require(self.timeout + RECORD_SECONDS, "the POST and the log write after it")
        return post(self.session, webhook.url, body, headers, self.timeout)

    def _secrets(self, webhook: StoredWebhook) -> list[str]:
        """The current secret, then the previous one while its rotation overlap lasts."""
        sealed = [webhook.sealedSecret]
        if webhook.sealedPreviousSecret and (webhook.previousSecretExpiresAt or 0) > time.time():
            sealed.append(webhook.sealedPreviousSecret)
        return [self.vault.open(secret, webhook.companyId, webhook.id) for secret in sealed]

    @staticmethod
    def _attempt(message: DeliveryMessage, outcome: Outcome, started) -> DeliveryAttempt:
        result = outcome.result
        return DeliveryAttempt(
            attempt=message.attempt,
            run=message.run,
            at=iso(started),
            statusCode=result.status,
            durationMs=result.duration_ms,
            error=result.error,
            responseExcerpt=result.excerpt,
            nextRetryAt=iso(started + timedelta(seconds=outcome.delay)) if outcome.delay is not None else None,
        )

    def _keep_health(self, webhook: StoredWebhook, outcome: Outcome) -> None:
        result = {"delivered": "success", "gone": "gone"}.get(outcome.kind, "failure")
        change: HealthChange | None = after_attempt(webhook, result, now(), self.disable_after)
        written = self.store.apply_health(webhook, change) if change else None
        if written is None:
            return
        if change.disables:
            logger.warning("webhook disabled", extra={"webhookId": webhook.id, "reason": change.disables})
            self.announce(webhook.model_copy(update=change.fields), change.disables)
        elif change.count_failure and (unhealthy := after_count(int(written["consecutiveFailures"]))):
            self.store.apply_health(webhook, unhealthy)

    @staticmethod
    def _log(message: DeliveryMessage, outcome: Outcome) -> Outcome:
        result = outcome.result
        logger.info(
            f"delivery {outcome.kind}",
            extra={
                "deliveryId": message.deliveryId,
                "webhookId": message.webhookId,
                "event": message.event,
                "attempt": message.attempt,
                "statusCode": result.status if result else None,
                "durationMs": result.duration_ms if result else None,
                "error": result.error if result else outcome.reason,
                "nextRetrySeconds": outcome.delay,
            },
        )
        return outcome


def _not_sendable(webhook: StoredWebhook | None, message: DeliveryMessage) -> str | None:
    """Why nothing may be sent to it now: deleted, disabled, or narrowed since the message was queued."""
    if webhook is None:
        return "webhook deleted"
    if not webhook.enabled:
        return f"webhook disabled ({webhook.disabledReason or 'by its owner'})"
    if why := unsubscribed(webhook, message.event, message.payload):
        return f"not sent: {why}"
    return None


def _settled(logged: LoggedDelivery | None, message: DeliveryMessage) -> bool:
    """A message of an older run (recovered since), or one already delivered in its run: not sent again."""
    if logged is None:
        return False
    return logged.run > message.run or (logged.run == message.run and logged.state == "succeeded")


def disabled_event(webhook: StoredWebhook, reason: str, bus: str) -> dict:
    """The PutEvents entry that tells the host app a webhook was disabled (so it can e-mail the owner)."""
    detail = {"reason": reason, "company": {"id": webhook.companyId}, "webhook": webhook.public().model_dump()}
    return {"Source": PLATFORM_SOURCE, "DetailType": DISABLED_EVENT, "Detail": json.dumps(detail), "EventBusName": bus}
