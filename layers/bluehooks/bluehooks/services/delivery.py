"""Delivery: one attempt of one message to one webhook, carried out as `rules.outcome.decide` says.

`Deliverer.attempt` learns the facts `decide` asks for (the log, the payload, the webhook, the
probe lease, the POST's answer) and carries out its Outcome: the log record, the webhook's
health, the probe. Queueing what comes next is the handler's (`Outcome.next`, `dead_letter`).
"""

import random
import time
from dataclasses import replace
from datetime import datetime, timedelta

import requests
from aws_lambda_powertools import Logger

from bluehooks import USER_AGENT
from bluehooks.deadline import require
from bluehooks.models import DeliveryAttempt, DeliveryMessage, StoredWebhook
from bluehooks.outbound import HttpResult, post
from bluehooks.ports import DeliveryLog, PayloadStore, RateLimits, Vault, WebhookStore
from bluehooks.rules import ratelimit
from bluehooks.rules.claimcheck import PayloadGone
from bluehooks.rules.health import HealthChange, after_count
from bluehooks.rules.outcome import Fact, Known, Need, Outcome, Policy, decide
from bluehooks.rules.payload import delivery_body
from bluehooks.rules.signing import signature_headers
from bluehooks.services.sealing import open_all
from bluehooks.timestamps import iso, now

logger = Logger(child=True)
# One attempt of an AWS call (DeliveryFunction's clients: 2 s to connect, 3 s to read): the log write
# that must follow a POST.
RECORD_SECONDS = 5


class SlotPassed(Exception):
    """The rate limit's slot passed while the POST was prepared: sent now, it would crowd the next slot."""


class Deliverer:
    def __init__(
        self,
        store: WebhookStore,
        log: DeliveryLog,
        vault: Vault,
        session: requests.Session,
        timeout: float,
        schedule: tuple[int, ...],
        disable_after: timedelta,
        probe_interval: float = 30,
        announce=None,
        payloads: PayloadStore | None = None,
        rate_limits: RateLimits | None = None,
    ):
        self.store = store
        self.log = log
        self.vault = vault
        self.session = session
        self.timeout = timeout
        self.policy = Policy(schedule, disable_after, probe_interval)
        self.announce = announce or (lambda webhook, reason: None)
        self.payloads = payloads
        self.rate_limits = rate_limits

    def attempt(self, message: DeliveryMessage) -> Outcome:
        """Learn what `decide` asks for until it decides, then carry that out (all but the queueing)."""
        known = Known(now(), message, rand=random.random())  # noqa: S311 - jitter, not crypto
        while isinstance(step := decide(known, self.policy), Need):
            known = replace(self._learn(known, step.fact), now=now())
        return self._carry_out(known, step)

    def _learn(self, known: Known, fact: Fact) -> Known:
        """One fact, read (or, for the result, the POST made): the attempt's I/O before its outcome."""
        message = known.message
        if fact == "logged":  # and the webhook with it, in one call: decide asks for it next (unless settled)
            logged, webhook = self.store.get_with(message.companyId, message.webhookId, self.log.reading(message))
            return replace(known, logged=logged, webhook=webhook)
        if fact == "payload":
            try:
                return replace(known, payload=self.payloads.get(message.payloadKey))
            except PayloadGone as exc:
                return replace(known, payload_gone=str(exc))
        if fact == "webhook":
            webhook = self.store.get_current(message.companyId, message.webhookId)
            return replace(known, webhook=webhook, webhook_current=True)
        if fact == "probe":
            return replace(known, probe=self.store.take_probe(known.webhook, self.timeout + self.policy.probe_interval))
        if fact == "slot":
            return replace(known, slot=self._reserve(known.webhook))
        slot = known.slot_at()
        sent_at = max(known.now, slot) if slot else known.now  # a rate-limited POST waits for its slot
        try:
            return replace(known, result=self._post(known.webhook, known.sent(), slot), sent_at=sent_at)
        except SlotPassed:  # a new slot, not the one passed (decide then says when it goes)
            return replace(
                known, message=message.model_copy(update={"slotAt": None}), slot=self._reserve(known.webhook)
            )

    def _reserve(self, webhook: StoredWebhook) -> datetime:
        return self.rate_limits.reserve(webhook.companyId, webhook.id, webhook.rateLimit)

    def _carry_out(self, known: Known, outcome: Outcome) -> Outcome:
        if outcome.state:
            attempt = self._attempt(known, outcome) if outcome.result else None
            self.log.record(known.sent(), outcome.state, attempt, outcome.reason, outcome.waiting_until)
        if outcome.health:
            self._keep_health(known.webhook, outcome.health)
        if outcome.release_probe:
            self.store.end_probe(known.webhook)  # the others are released at their next try
        return self._log(known.message, outcome)

    def _post(self, webhook: StoredWebhook, message: DeliveryMessage, slot: datetime | None = None) -> HttpResult:
        body = delivery_body(message.payload, webhook.public())
        headers = {  # the webhook's own first, so that the contract's always win
            **open_all(self.vault, webhook.sealedHeaders, webhook.companyId, webhook.id),
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            **signature_headers(self._secrets(webhook), message.deliveryId, int(time.time()), body),
        }
        hold = ratelimit.held(slot, now()) if slot else 0.0  # decide lets only a slot within HOLD_SECONDS through
        # Never a POST whose outcome could not be written: slow reads before it (a brownout) leave the
        # record unattempted instead, so a receiver is not sent it again for want of a log write.
        require(self.timeout + RECORD_SECONDS + hold, "the POST and the log write after it")
        if slot and ratelimit.late(slot, now()):  # (a brownout's new slots end with the invocation's time, above)
            raise SlotPassed(f"{slot} passed while the POST was prepared")
        time.sleep(hold)  # the slot, the slow reads done
        return post(self.session, webhook.url, body, headers, self.timeout)

    def _secrets(self, webhook: StoredWebhook) -> list[str]:
        """The current secret, then the previous one while its rotation overlap lasts."""
        sealed = [webhook.sealedSecret]
        if webhook.sealedPreviousSecret and (webhook.previousSecretExpiresAt or 0) > time.time():
            sealed.append(webhook.sealedPreviousSecret)
        return [self.vault.open(secret, webhook.companyId, webhook.id) for secret in sealed]

    @staticmethod
    def _attempt(known: Known, outcome: Outcome) -> DeliveryAttempt:
        result: HttpResult = outcome.result
        return DeliveryAttempt(
            attempt=known.message.attempt,
            run=known.message.run,
            at=iso(known.sent_at),
            statusCode=result.status,
            durationMs=result.duration_ms,
            error=result.error,
            responseExcerpt=result.excerpt,
            nextRetryAt=outcome.next.dueAt if outcome.next else None,
        )

    def _keep_health(self, webhook: StoredWebhook, change: HealthChange) -> None:
        written = self.store.apply_health(webhook, change)
        if written is None:
            return
        if change.disables:
            logger.warning("webhook disabled", extra={"webhookId": webhook.id, "reason": change.disables})
            self.announce(written, change.disables)
        elif change.count_failure and (unhealthy := after_count(written)):
            self.store.apply_health(webhook, unhealthy)

    @staticmethod
    def _log(message: DeliveryMessage, outcome: Outcome) -> Outcome:
        result = outcome.result
        # A success is in the delivery log already: CloudWatch Logs (billed per byte) gets it at DEBUG only.
        log = logger.debug if outcome.kind == "delivered" else logger.info
        log(
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
