"""A webhook's rate limit (`rateLimit`, deliveries per second): the slot arithmetic (GCRA), no I/O.

A limited webhook has one number, its theoretical arrival time `tat`: the first free slot, in
integer microseconds (exact arithmetic at any rate). A delivery takes the slot `max(tat, now)`
and moves `tat` one interval past it, so slots are never closer than the interval, whoever takes
them. The store carries out a reservation as conditional writes, one step at a time, so that
concurrent delivery invocations serialise on the item: `extend` while `tat` is ahead of now,
`restart` once it fell behind (or was never set). Each step is atomic; `reserve` is the loop.

A slot within HOLD_SECONDS is waited for in the handler; a later one, as a delayed message that
carries it (no new slot on arrival, no attempt used) and arrives a little before it.
"""

from collections.abc import Callable
from datetime import UTC, datetime

MICROS = 1_000_000
# A slot this near is waited for in the handler; a later one, as a delayed message due this long before it:
# SQS delays by whole seconds (rounded up), so it arrives one to two seconds early and is held until its slot,
# with a second to spare for the poll's latency (a late arrival would crowd the slot after it).
HOLD_SECONDS = 2.0
# A POST this long after its slot (slow reads before it) would crowd the slot after it: it takes a new one.
# So every POST starts within LATE_SECONDS of a slot of its own: at most rate x (1 + LATE_SECONDS) + 1 in any second.
LATE_SECONDS = 0.25
Step = Callable[[int | None, int, int], int | None]  # (tat, now, interval) → the new tat, or None: not this step


def interval(rate: int) -> int:
    """Microseconds between two slots, rounded up: never faster than the limit."""
    return -(-MICROS // rate)


def extend(tat: int | None, now: int, step: int) -> int | None:
    """The slot is `tat` itself, while it is ahead of now; None when it is not (the other step applies)."""
    return tat + step if tat is not None and tat >= now else None


def restart(tat: int | None, now: int, step: int) -> int | None:
    """The slot is now, once `tat` fell behind or was never set; None when it is ahead (extend applies)."""
    return now + step if tat is None or tat < now else None


def first_step(hint: int | None, now: int) -> Step:
    """Which step to try first, from the last `tat` this process saw: the right guess costs one write."""
    return extend if hint is not None and hint >= now else restart


def other(step: Step) -> Step:
    return restart if step is extend else extend


def slot_of(tat: int, step: int) -> int:
    """The slot a step reserved, from the `tat` it wrote."""
    return tat - step


def micros(moment: datetime) -> int:
    return round(moment.timestamp() * MICROS)


def moment(stamp: int) -> datetime:
    return datetime.fromtimestamp(stamp / MICROS, UTC)


def held(slot: datetime, now: datetime) -> float:
    """Seconds to wait in the handler for a slot not `later` than HOLD_SECONDS: 0 once it has come."""
    return max(0.0, (slot - now).total_seconds())


def later(slot: datetime | None, now: datetime) -> bool:
    """Whether the slot is too far to be waited for in the handler: the delivery waits as a delayed message."""
    return slot is not None and (slot - now).total_seconds() > HOLD_SECONDS


def late(slot: datetime, now: datetime) -> bool:
    """Whether the slot passed too long ago to POST in it (LATE_SECONDS)."""
    return (now - slot).total_seconds() > LATE_SECONDS
