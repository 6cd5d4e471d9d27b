"""A webhook's health after an attempt: what to write on it, if anything, and whether that disables it.

Pure: the caller reads the webhook, asks here, and writes the answer. Health is written when
it changes, not per attempt: the failure streak is counted until the webhook turns UNHEALTHY,
a success is written only when it ends a streak, and the last-success and last-failure times
are kept to the minute (TOUCH_SECONDS) rather than rewritten by every delivery.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from bluehooks.models import StoredWebhook
from bluehooks.timestamps import iso, parse

UNHEALTHY_AFTER = 5  # consecutive failed attempts
TOUCH_SECONDS = 60

Result = Literal["success", "failure", "gone"]


@dataclass(frozen=True)
class HealthChange:
    """Attributes to set on the webhook, if it still has the `condition` attributes.

    `count_failure` adds one to the failure streak atomically: concurrent deliveries of one
    webhook each count, although each read the streak before the others wrote it."""

    fields: dict[str, Any] = field(default_factory=dict)
    count_failure: bool = False
    disables: str | None = None  # GONE or FAILING: the webhook is disabled by this change
    condition: dict[str, Any] = field(default_factory=dict)


def after_attempt(
    webhook: StoredWebhook, result: Result, now: datetime, disable_after: timedelta
) -> HealthChange | None:
    stamp = iso(now)
    if result == "gone":
        return _disable(webhook, "GONE", stamp)
    if result == "success":
        if webhook.consecutiveFailures or webhook.status == "UNHEALTHY" or _stale(webhook.lastSuccessAt, now):
            fields = {"status": "HEALTHY", "consecutiveFailures": 0, "failingSince": None, "lastSuccessAt": stamp}
            return HealthChange(fields)
        return None
    failing_since = webhook.failingSince or stamp
    if now - parse(failing_since) >= disable_after:
        return _disable(webhook, "FAILING", stamp)
    if webhook.status == "HEALTHY":  # count the streak until it makes the webhook UNHEALTHY
        return HealthChange({"failingSince": failing_since, "lastFailureAt": stamp}, count_failure=True)
    return HealthChange({"lastFailureAt": stamp}) if _stale(webhook.lastFailureAt, now) else None


def after_count(streak: int) -> HealthChange | None:
    """The change a counted failure streak calls for: UNHEALTHY, once, by whoever counted to the limit."""
    if streak >= UNHEALTHY_AFTER:
        return HealthChange({"status": "UNHEALTHY"}, condition={"status": "HEALTHY"})
    return None


def _disable(webhook: StoredWebhook, reason: str, stamp: str) -> HealthChange:
    fields = {"enabled": False, "disabledReason": reason, "status": "UNHEALTHY", "lastFailureAt": stamp}
    # Only on what was read: a success, a PATCH or a re-enable since then makes this moot.
    return HealthChange(fields, disables=reason, condition={"enabled": True, "version": webhook.version})


def _stale(stamp: str | None, now: datetime) -> bool:
    return stamp is None or now - parse(stamp) >= timedelta(seconds=TOUCH_SECONDS)
