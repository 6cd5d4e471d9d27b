"""The rate limit's slot arithmetic (GCRA): slots one interval apart, whoever takes them, in whatever order."""

import itertools
import random
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bluehooks.rules import ratelimit
from bluehooks.rules.ratelimit import MICROS, extend, first_step, interval, other, restart, slot_of

T0 = 1_700_000_000 * MICROS


class Cell:
    """One item's `tat`, where each step is atomic (as one conditional UpdateItem is)."""

    def __init__(self) -> None:
        self.tat: int | None = None
        self.writes = 0

    def apply(self, step, now: int, every: int) -> int | None:
        self.writes += 1
        new = step(self.tat, now, every)
        if new is not None:
            self.tat = new
        return new


def reserver(cell: Cell, now: int, every: int, hint: int | None) -> Iterator[int | None]:
    """One invocation's reservation, a step at a time (a yield between steps lets others interleave)."""
    step = first_step(hint, now)
    while (tat := cell.apply(step, now, every)) is None:
        step = other(step)
        yield None
    yield slot_of(tat, every)


def most_in_any_second(slots: list[int]) -> int:
    """The most slots in any closed one-second window (a window starting at a slot holds the most)."""
    ordered = sorted(slots)
    return max(sum(1 for other in ordered if start <= other <= start + MICROS) for start in ordered)


def test_the_interval_is_rounded_up_never_faster_than_the_limit():
    assert interval(2) == 500_000 and interval(3) == 333_334 and interval(10_000) == 100 and interval(1) == MICROS


def test_a_burst_is_spread_to_the_limit_from_now():
    cell, every = Cell(), interval(2)
    slots = [next(s for s in reserver(cell, T0, every, None) if s is not None) for _ in range(20)]
    assert slots == [T0 + k * every for k in range(20)]  # over 9.5 s
    assert most_in_any_second(slots) == 3


def test_a_webhook_quiet_for_a_while_starts_again_from_now_without_credit():
    cell, every = Cell(), interval(2)
    cell.tat = T0
    later = T0 + 60 * MICROS
    assert restart(cell.tat, later, every) == later + every and extend(cell.tat, later, every) is None
    first = list(reserver(cell, later, every, hint=T0))  # the stale hint guesses restart: one write
    assert first == [later] and cell.writes == 1
    second = list(reserver(cell, later, every, hint=cell.tat))
    assert second == [later + every] and cell.writes == 2


def test_a_wrong_guess_costs_one_more_write():
    cell, every = Cell(), interval(4)
    cell.tat = T0 + MICROS  # another process's backlog, unknown to this one
    assert list(reserver(cell, T0, every, hint=None)) == [None, T0 + MICROS] and cell.writes == 2


@pytest.mark.parametrize("seed", range(20))
def test_concurrent_reservations_interleaved_at_every_step_never_share_or_crowd_a_slot(seed):
    """Many invocations, each seeing its own `now` and hint, their steps interleaved at random."""
    rng, cell, every = random.Random(seed), Cell(), interval(5)
    cell.tat = rng.choice([None, T0 - MICROS, T0 + 2 * MICROS])
    running = [
        reserver(cell, T0 + rng.randrange(0, 3 * MICROS), every, rng.choice([None, T0, T0 + 5 * MICROS]))
        for _ in range(40)
    ]
    slots: list[int] = []
    while running:
        walker = rng.choice(running)
        if (slot := next(walker)) is not None:
            slots.append(slot)
            running.remove(walker)
    ordered = sorted(slots)
    assert all(b - a >= every for a, b in itertools.pairwise(ordered))
    assert most_in_any_second(slots) <= 5 + 1
    assert cell.writes <= 2 * len(slots)  # a step fails only because another's succeeded


def test_slots_as_times_and_the_hold():
    slot = ratelimit.moment(T0 + 2_500_000)
    assert slot == datetime(2023, 11, 14, 22, 13, 22, 500_000, tzinfo=UTC)
    assert ratelimit.micros(slot) == T0 + 2_500_000
    start = ratelimit.moment(T0)
    assert ratelimit.later(slot, start) and not ratelimit.later(slot, ratelimit.moment(T0 + 500_000))
    assert ratelimit.held(slot, ratelimit.moment(T0 + 2_000_000)) == 0.5 and ratelimit.held(slot, slot) == 0
    assert not ratelimit.later(None, start)
