"""Retry schedule: jitter, exhaustion, Retry-After, the 12-hour cap, schedule parsing."""

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from bluehooks.roots.settings import parse_schedule
from bluehooks.rules.schedule import next_delay

SCHEDULE = (0, 5, 300)


@pytest.mark.parametrize(("rand", "expected"), [(0.0, 4), (1.0, 6), (0.5, 5)])
def test_jitter_is_twenty_percent_around_schedule(rand, expected):
    assert next_delay(SCHEDULE, 1, rand=rand) == expected


def test_random_jitter_stays_within_bounds():
    delays = {next_delay(SCHEDULE, 2) for _ in range(200)}
    assert all(240 <= delay <= 360 for delay in delays)
    assert len(delays) > 1


def test_no_retry_left_after_last_attempt():
    assert next_delay(SCHEDULE, len(SCHEDULE), rand=0.5) is None
    assert next_delay(SCHEDULE, len(SCHEDULE) + 1, rand=0.5) is None


def test_retry_after_pushes_retry_later():
    assert next_delay(SCHEDULE, 1, retry_after="120", rand=0.5) == 120


def test_retry_after_never_pulls_retry_earlier():
    assert next_delay(SCHEDULE, 2, retry_after="1", rand=0.5) == 300


def test_retry_after_capped_at_a_day():
    assert next_delay(SCHEDULE, 1, retry_after="999999", rand=0.5) == 86400
    assert next_delay(SCHEDULE, 1, retry_after="43200", rand=0.5) == 43200


def test_a_309_digit_retry_after_is_capped_not_an_overflow():
    assert next_delay(SCHEDULE, 1, retry_after="9" * 309, rand=0.5) == 86400


def test_schedule_capped_at_a_day():
    assert next_delay((0, 100_000), 1, rand=1.0) == 86400


def test_retry_after_http_date():
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    delay = next_delay(SCHEDULE, 1, retry_after=when, rand=0.5)
    assert 55 <= delay <= 61


@pytest.mark.parametrize("garbage", ["soon", "-5", "12.5s", "Mon, 99 Foo 2020", ""])
def test_garbage_retry_after_ignored(garbage):
    assert next_delay(SCHEDULE, 1, retry_after=garbage, rand=0.5) == 5


@pytest.mark.parametrize("digits", ["²", "¹²⁰"])
def test_non_ascii_digit_retry_after_ignored(digits):
    # str.isdigit() accepts superscripts, which float() rejects; a receiver can send byte 0xB2 ("²" in latin-1).
    assert next_delay(SCHEDULE, 1, retry_after=digits, rand=0.5) == 5


def test_parse_schedule():
    assert parse_schedule("0, 5,300") == (0, 5, 300)


@pytest.mark.parametrize("text", ["", "-1", "0,-5"])
def test_parse_schedule_rejects_empty_or_negative(text):
    with pytest.raises(ValueError):
        parse_schedule(text)
