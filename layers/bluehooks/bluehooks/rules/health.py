"""A webhook's health after an attempt: what to set on it, on what condition, and whether that disables it.

Pure: the caller reads the webhook, asks here, and has the store write the answer. Health is
written when it changes, not per attempt: the failure streak is counted until the webhook turns
UNHEALTHY, a success is written only when it ends a streak, and the last-success and
last-failure times are kept to the minute (TOUCH_SECONDS) rather than rewritten by every delivery.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from bluehooks.models import Model, Status, StoredWebhook
from bluehooks.timestamps import iso, parse

UNHEALTHY_AFTER = 5  # consecutive failed attempts
TOUCH_SECONDS = 60

Result = Literal["success", "failure", "gone"]
DisabledReason = Literal["GONE", "FAILING"]


class HealthFields(Model):
    """The health part of a webhook. A change sets only the fields it was given; a given None clears one."""

    status: Status | None = None
    enabled: bool | None = None
    disabledReason: str | None = None
    consecutiveFailures: int | None = None
    failingSince: str | None = None
    lastSuccessAt: str | None = None
    lastFailureAt: str | None = None

    def given(self) -> dict[str, Any]:
        return self.model_dump(include=self.model_fields_set)


@dataclass(frozen=True)
class Expected:
    """What the webhook must still be for a change to apply; None: whatever it is."""

    status: Status | None = None
    enabled: bool | None = None
    version: int | None = None

    def given(self) -> dict[str, Any]:
        return {name: value for name, value in vars(self).items() if value is not None}


@dataclass(frozen=True)
class HealthChange:
    """Fields to set on the webhook, if it is still as `expected`.

    `count_failure` adds one to the failure streak atomically: concurrent deliveries of one
    webhook each count, although each read the streak before the others wrote it."""

    fields: HealthFields
    count_failure: bool = False
    disables: DisabledReason | None = None  # the webhook is disabled by this change
    expected: Expected = field(default_factory=Expected)

    def on(self, webhook: StoredWebhook) -> StoredWebhook:
        """The webhook as this change leaves it (its streak as counted here, its version bumped)."""
        update = {**self.fields.given(), "version": webhook.version + 1}
        if self.count_failure:
            update["consecutiveFailures"] = webhook.consecutiveFailures + 1
        return webhook.model_copy(update=update)


def after_attempt(
    webhook: StoredWebhook, result: Result, now: datetime, disable_after: timedelta
) -> HealthChange | None:
    stamp = iso(now)
    if result == "gone":
        return _disable(webhook, "GONE", stamp)
    if result == "success":
        if webhook.consecutiveFailures or webhook.status == "UNHEALTHY" or _stale(webhook.lastSuccessAt, now):
            healthy = HealthFields(status="HEALTHY", consecutiveFailures=0, failingSince=None, lastSuccessAt=stamp)
            return HealthChange(healthy)
        return None
    failing_since = webhook.failingSince or stamp
    if now - parse(failing_since) >= disable_after:
        return _disable(webhook, "FAILING", stamp)
    if webhook.status == "HEALTHY":  # count the streak until it makes the webhook UNHEALTHY
        return HealthChange(HealthFields(failingSince=failing_since, lastFailureAt=stamp), count_failure=True)
    return HealthChange(HealthFields(lastFailureAt=stamp)) if _stale(webhook.lastFailureAt, now) else None


def after_count(written: StoredWebhook) -> HealthChange | None:
    """The change a counted failure streak calls for: UNHEALTHY, once, by whoever counted to the limit."""
    if written.consecutiveFailures >= UNHEALTHY_AFTER:
        return HealthChange(HealthFields(status="UNHEALTHY"), expected=Expected(status="HEALTHY"))
    return None


def _disable(webhook: StoredWebhook, reason: DisabledReason, stamp: str) -> HealthChange:
    fields = HealthFields(enabled=False, disabledReason=reason, status="UNHEALTHY", lastFailureAt=stamp)
    # Only on what was read: a success, a PATCH or a re-enable since then makes this moot.
    return HealthChange(fields, disables=reason, expected=Expected(enabled=True, version=webhook.version))


def _stale(stamp: str | None, now: datetime) -> bool:
    return stamp is None or now - parse(stamp) >= timedelta(seconds=TOUCH_SECONDS)
