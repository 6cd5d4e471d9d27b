"""How the tools print a webhook's health, a delivery and an attempt: one line each, times in UTC."""

from datetime import datetime

from bluehooks.models import DeliveryAttempt, StoredWebhook
from bluehooks.timestamps import now, parse


def health(webhook: StoredWebhook) -> str:
    state = "enabled" if webhook.enabled else f"DISABLED ({webhook.disabledReason or 'by its owner'})"
    facts = [f"webhook {webhook.id} {webhook.url}", webhook.status, state]
    if webhook.consecutiveFailures:
        facts.append(f"{count(webhook.consecutiveFailures, 'failure')} in a row since {webhook.failingSince}")
    facts.append(f"last success {webhook.lastSuccessAt or 'never'}, last failure {webhook.lastFailureAt or 'never'}")
    return "; ".join(facts)


def count(number: int, noun: str, nouns: str | None = None) -> str:
    return f"{number} {noun if number == 1 else nouns or noun + 's'}"


def result(attempt: DeliveryAttempt) -> str:
    """What the receiver answered: `503 in 12 ms`, or the error when no answer came."""
    answer = str(attempt.statusCode) if attempt.statusCode is not None else (attempt.error or "no answer")
    took = f" in {attempt.durationMs} ms" if attempt.durationMs is not None else ""
    error = f" ({attempt.error})" if attempt.error and attempt.statusCode is not None else ""
    return f"{answer}{took}{error}"


def when(stamp: str | None, moment: datetime | None = None) -> str:
    """The time and how far it is from now: `2026-11-28T09:00:00.000Z (in 1m 58s)`, or `(3s overdue)`."""
    if not stamp:
        return "-"
    seconds = round((parse(stamp) - (moment or now())).total_seconds())
    gap = _duration(abs(seconds))
    return f"{stamp} ({'in ' + gap if seconds >= 0 else gap + ' overdue'})"


def _duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return " ".join(f"{value}{unit}" for value, unit in ((hours, "h"), (minutes, "m"), (seconds, "s")) if value) or "0s"
