"""What the services need from the world, as typing.Protocols: the adapters (bluehooks.adapters) provide them
over AWS, the tests over whatever they like. The webhook store, the delivery log and the company limits are
named as the DynamoDB adapters that came before the ports.

A port speaks in models and plain values, never in item shapes, clients or boto3 exceptions.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from bluehooks.models import (
    DeliveryAttempt,
    DeliveryMessage,
    DeliveryState,
    LoggedDelivery,
    StoredWebhook,
    Subscription,
)
from bluehooks.rules.health import HealthChange
from bluehooks.rules.jsonlimits import dumps_ascii

MAX_WHY_CHARS = 1000
# SQS: a message, and the sum of a SendMessageBatch's messages, at most 1 MiB (1,048,576 bytes):
# https://aws.amazon.com/blogs/compute/more-room-to-build-serverless-services-now-support-payloads-up-to-1-mb
MAX_MESSAGE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Outgoing:
    """One message to queue: `key` names it to the caller (a delivery id), `delay` in seconds (≤ 900)."""

    key: str
    body: str
    delay: int = 0

    @property
    def size(self) -> int:
        return len(self.body.encode())


def outgoing(message: DeliveryMessage, delay: int = 0) -> Outgoing:
    """A delivery message as ASCII-escaped JSON (SQS refuses some characters a payload may hold)."""
    return Outgoing(message.deliveryId, dumps_ascii(message.model_dump(mode="json")), delay)


class NotQueued(Exception):
    """Some messages could not be queued, after every try; `unsent` are those, the message says why."""

    def __init__(self, unsent: list[Outgoing], total: int, why: set[str]):
        reasons = "; ".join(sorted(why))[:MAX_WHY_CHARS]
        super().__init__(f"{len(unsent)} of {total} delivery messages could not be queued ({reasons})")
        self.unsent = unsent


class DeliveryQueue(Protocol):
    """DeliveryQueue (or RetryQueue, on a retry's way to its due time), batched within SQS's limits."""

    def send(self, messages: list[Outgoing]) -> None:
        """Queue every message; NotQueued, after all were tried, names those that could not be."""


class DeadLetters(Protocol):
    """A dead-letter queue: what will not be delivered or fanned out, kept whole with the reason."""

    def keep(self, body: str, reason: str) -> None: ...


class PayloadStore(Protocol):
    """Payloads too large to travel whole (bluehooks.rules.claimcheck), by key."""

    def put(self, key: str, payload_json: str) -> None: ...

    def get(self, key: str) -> dict[str, Any]:
        """The payload; claimcheck.PayloadGone once it expired."""


class RateLimits(Protocol):
    """Slots of limited webhooks (bluehooks.rules.ratelimit), shared by every delivery invocation."""

    def reserve(self, company_id: str, webhook_id: str, rate: int) -> datetime:
        """Take the webhook's next slot at `rate` per second: when its delivery may be sent."""


class SubscriptionIndex(Protocol):
    """The webhooks subscribed to a company's event type, for the fan-out."""

    def subscriptions(self, company_id: str, event: str) -> list[Subscription]:
        """The entries of this event and of all events ("*"), filters parsed."""


class WebhookStore(Protocol):
    """The webhooks of each company (bluehooks.adapters.store): what management and delivery read and write."""

    def create(self, webhook: StoredWebhook, max_per_company: int) -> None:
        """errors.LimitReached when the company has max_per_company webhooks already."""

    def get(self, company_id: str, webhook_id: str) -> StoredWebhook | None: ...

    def get_with(self, company_id: str, webhook_id: str, other: Any) -> tuple[Any, StoredWebhook | None]:
        """`other` (an adapters.store.ItemRead) and the webhook, in one eventually consistent read."""

    def get_current(self, company_id: str, webhook_id: str) -> StoredWebhook | None:
        """Strongly consistent: what decides a drop."""

    def page(
        self, company_id: str, limit: int, cursor: str | None, visible: Callable[[StoredWebhook], bool]
    ) -> tuple[list[StoredWebhook], str | None]: ...

    def replace(self, old: StoredWebhook, new: StoredWebhook) -> bool:
        """False if the webhook changed meanwhile."""

    def delete(self, webhook: StoredWebhook) -> bool:
        """False if it was deleted meanwhile."""

    def apply_health(self, webhook: StoredWebhook, change: HealthChange) -> StoredWebhook | None:
        """The webhook as written, or None when the change's condition no longer held."""

    def take_probe(self, webhook: StoredWebhook, lease_seconds: float) -> bool: ...

    def end_probe(self, webhook: StoredWebhook) -> None: ...


class DeliveryLog(Protocol):
    """The delivery log (bluehooks.adapters.deliverylog): one record per delivery, its state and attempts."""

    def get(self, company_id: str, webhook_id: str, delivery_id: str) -> LoggedDelivery | None: ...

    def record(
        self,
        message: DeliveryMessage,
        state: DeliveryState,
        attempt: DeliveryAttempt | None = None,
        reason: str | None = None,
    ) -> bool:
        """False if a newer run owns the delivery."""

    def start_run(self, delivery: LoggedDelivery, only_from: tuple[DeliveryState, ...] | None = None) -> bool: ...

    def drop(self, delivery: LoggedDelivery, reason: str) -> bool: ...

    def put_back(self, delivery: LoggedDelivery, state: DeliveryState, reason: str | None) -> bool: ...

    def page(
        self,
        company_id: str,
        webhook_id: str,
        limit: int,
        cursor: str | None = None,
        states: tuple[str, ...] = (),
        event: str | None = None,
        since: str | None = None,
    ) -> tuple[list[LoggedDelivery], str | None]:
        """Newest first, and the cursor of the next page (None on the last). A page may be shorter than
        `limit` and still have a cursor: a page of large deliveries ends at a byte budget."""


ManualAction = Literal["testPings", "retries", "recovers"]


class CompanyLimits(Protocol):
    """Per-company limits on manual actions (bluehooks.adapters.limits)."""

    def admit(self, company: str, action: ManualAction, deliveries: int = 0) -> None:
        """Count the action and the deliveries it queues; errors.TooManyRequests when over a limit."""

    def share(self, company: str, wanted: int) -> int:
        """How many of `wanted` deliveries this minute still allows (at least one), counted."""


class Vault(Protocol):
    """Seals a webhook's secrets for storage and opens them for signing, bound to their webhook."""

    def seal(self, secret: str, company_id: str, webhook_id: str) -> bytes: ...

    def open(self, sealed: bytes, company_id: str, webhook_id: str) -> str: ...
