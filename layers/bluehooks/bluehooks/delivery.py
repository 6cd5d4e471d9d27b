"""Delivery: one attempt of one message to one webhook, and what should happen next."""

import time
from dataclasses import dataclass
from typing import Literal

import requests
from aws_lambda_powertools import Logger

from bluehooks import USER_AGENT
from bluehooks.models import DeliveryMessage, StoredWebhook
from bluehooks.outbound import HttpResult, post
from bluehooks.payload import delivery_body
from bluehooks.retry import next_delay
from bluehooks.signing import signature_headers
from bluehooks.store import WebhookStore
from bluehooks.vault import SecretVault

logger = Logger(child=True)


@dataclass(frozen=True)
class Outcome:
    """delivered | retry (after `delay` s) | exhausted (dead-letter it) | dropped (webhook gone)."""

    kind: Literal["delivered", "retry", "exhausted", "dropped"]
    delay: int | None = None
    result: HttpResult | None = None
    reason: str | None = None


class Deliverer:
    def __init__(
        self,
        store: WebhookStore,
        vault: SecretVault,
        session: requests.Session,
        timeout: float,
        schedule: tuple[int, ...],
    ):
        self.store = store
        self.vault = vault
        self.session = session
        self.timeout = timeout
        self.schedule = schedule

    def attempt(self, message: DeliveryMessage, attempt: int) -> Outcome:
        webhook = self.store.get(message.companyId, message.webhookId)
        if webhook is None or not webhook.enabled:
            return self._log(message, attempt, Outcome("dropped", reason="webhook deleted or disabled"))
        body = delivery_body(message.payload, webhook.public())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            **signature_headers(self._secrets(webhook), message.deliveryId, int(time.time()), body),
        }
        result = post(self.session, webhook.url, body, headers, self.timeout)
        if result.ok:
            return self._log(message, attempt, Outcome("delivered", result=result))
        delay = next_delay(self.schedule, attempt, result.retry_after)
        kind = "exhausted" if delay is None else "retry"
        return self._log(message, attempt, Outcome(kind, delay=delay, result=result))

    def _secrets(self, webhook: StoredWebhook) -> list[str]:
        """The current secret, then the previous one while its rotation overlap lasts."""
        sealed = [webhook.sealedSecret]
        if webhook.sealedPreviousSecret and (webhook.previousSecretExpiresAt or 0) > time.time():
            sealed.append(webhook.sealedPreviousSecret)
        return [self.vault.open(secret, webhook.companyId, webhook.id) for secret in sealed]

    @staticmethod
    def _log(message: DeliveryMessage, attempt: int, outcome: Outcome) -> Outcome:
        result = outcome.result
        logger.info(
            f"delivery {outcome.kind}",
            extra={
                "deliveryId": message.deliveryId,
                "webhookId": message.webhookId,
                "event": message.event,
                "attempt": attempt,
                "statusCode": result.status if result else None,
                "durationMs": result.duration_ms if result else None,
                "error": result.error if result else outcome.reason,
                "nextRetrySeconds": outcome.delay,
            },
        )
        return outcome
