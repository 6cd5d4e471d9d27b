"""The retry schedule: when the next attempt of a failed delivery happens."""

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# A receiver's Retry-After may push a retry this far out, no further: waiting retries are
# delayed messages, not in-flight ones, so SQS's 12-hour visibility limit does not bound them.
MAX_DELAY_SECONDS = 24 * 3600
JITTER = 0.2


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds asked for by a Retry-After header (delta-seconds or HTTP-date); None if unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(min(int(value[:12]), MAX_DELAY_SECONDS))  # 309 digits would overflow a float
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def next_delay(
    schedule: tuple[int, ...],
    attempt: int,
    retry_after: str | None = None,
    rand: float | None = None,
    now: datetime | None = None,
) -> int | None:
    """Seconds to wait after failed attempt number `attempt` (1-based); None when none is left.

    schedule[i] is the delay before attempt i+1, varied by ±20 % so that many failing
    deliveries do not retry in lockstep. A Retry-After may push a retry later, never earlier,
    and never past the longest delay SQS can hold a message invisible. Given `rand` (the
    jitter's draw, in [0, 1)) and `now`, it reads neither the random source nor the clock.
    """
    if attempt >= len(schedule):
        return None
    spread = (random.random() if rand is None else rand) * 2 - 1  # noqa: S311 - jitter, not crypto
    delay = schedule[attempt] * (1 + JITTER * spread)
    asked = parse_retry_after(retry_after, now)
    if asked is not None:
        delay = max(delay, asked)
    return min(round(delay), MAX_DELAY_SECONDS)
