"""Per-company abuse limits (DESIGN: tenant isolation): test pings, retries, recovers and the deliveries
they queue, per minute. Over one: a 429 with Retry-After in the API's error shape; other companies go on.

The limits are conftest's PARAMETERS, template parameters that reach the API's environment as on AWS.
The API's clock is held 30 s into a minute, so Retry-After is exact and no window turns over mid-test.
"""

import time
import uuid

import boto3
import pytest

from devstack.lambdas import root_of
from tests.integration.conftest import PARAMETERS, Api
from tests.integration.test_deliveries import create, drain, ping

PINGS, RETRIES, RECOVERS, DELIVERIES = (
    int(PARAMETERS[f"{name}PerMinute"]) for name in ("TestPings", "Retries", "Recovers", "ManualDeliveries")
)
SINCE = {"since": "2000-01-01T00:00:00Z"}


@pytest.fixture
def minute(handlers, monkeypatch) -> list[float]:
    """The clock the API's limits read: 30 s into the current minute until a test moves it on."""
    limits = root_of(handlers["api"]).deliveries.limits
    now = [time.time() // 60 * 60 + 30]
    monkeypatch.setattr(limits, "clock", lambda: now[0])
    return now


@pytest.fixture(autouse=True)
def leave_the_queues_empty(queues):
    """These tests leave deliveries queued; later tests count the calls of their own only."""
    yield
    for url in queues.values():
        boto3.client("sqs").purge_queue(QueueUrl=url)


@pytest.fixture
def other(handlers) -> Api:
    """Another company, calling the same API."""
    return Api(handlers["api"], f"other-{uuid.uuid4().hex[:8]}")


def assert_limited(api: Api, answer: tuple, limit: str) -> None:
    status, body = answer
    assert (status, body) == (429, {"message": f"{limit} a minute per company; try again in 30 s"})
    assert api.headers["Retry-After"] in ("30", ["30"])  # the seconds left in this minute


def retry(hook: dict, delivery_id: str) -> str:
    return f"/webhooks/{hook['id']}/deliveries/{delivery_id}/retry"


def test_pings_past_the_limit_are_a_429_for_that_company_only(api, other, receiver, delivery_poller, queues, minute):
    hook = create(api, receiver.url("/pings"))
    for _ in range(PINGS):
        ping(api, hook["id"])
    assert_limited(api, api("POST", f"/webhooks/{hook['id']}/test"), f"at most {PINGS} test pings")
    ping(other, create(other, receiver.url("/other"))["id"])
    minute[0] += 60
    ping(api, hook["id"])  # a new minute
    drain(delivery_poller, lambda: len(receiver.at("/pings")) == PINGS + 1 and len(receiver.at("/other")) == 1)


def test_retries_past_the_limit_are_a_429_for_that_company_only(api, other, receiver, delivery_poller, queues, minute):
    hook = create(api, receiver.url("/retries"))
    pinged = [ping(api, hook["id"]) for _ in range(RETRIES + 1)]
    theirs = create(other, receiver.url("/other"))
    their_ping = ping(other, theirs["id"])
    drain(delivery_poller, lambda: len(receiver.at("/retries")) == RETRIES + 1 and receiver.at("/other"))
    for delivery_id in pinged[:RETRIES]:
        assert api("POST", retry(hook, delivery_id))[0] == 202
    assert_limited(api, api("POST", retry(hook, pinged[-1])), f"at most {RETRIES} retries")
    assert other("POST", retry(theirs, their_ping))[0] == 202


def test_a_succeeded_delivery_is_retried_once_per_run(api, receiver, delivery_poller, queues, minute):
    hook = create(api, receiver.url("/once"))
    delivery_id = ping(api, hook["id"])
    drain(delivery_poller, lambda: len(receiver.at("/once")) == 1)
    answers = [api("POST", retry(hook, delivery_id)) for _ in range(10)]
    assert [status for status, _ in answers] == [202] + [409] * 9
    assert "already queued" in answers[-1][1]["message"]
    drain(delivery_poller, lambda: len(receiver.at("/once")) == 2)
    assert api("POST", retry(hook, delivery_id))[0] == 202  # that run settled: one more
    drain(delivery_poller, lambda: len(receiver.at("/once")) == 3)


def test_recovers_past_the_limit_are_a_429_for_that_company_only(api, other, receiver, queues, minute):
    hook = create(api, receiver.url("/recovers"))
    for _ in range(RECOVERS):
        assert api("POST", f"/webhooks/{hook['id']}/recover", SINCE)[0] == 202
    assert_limited(api, api("POST", f"/webhooks/{hook['id']}/recover", SINCE), f"at most {RECOVERS} recovers")
    theirs = create(other, receiver.url("/other"))
    assert other("POST", f"/webhooks/{theirs['id']}/recover", SINCE)[0] == 202


def test_deliveries_queued_by_manual_actions_are_limited_together(
    api, other, receiver, delivery_poller, queues, minute
):
    hook = create(api, receiver.behave("/many", status=500))
    pinged = [ping(api, hook["id"]) for _ in range(PINGS)]
    drain(delivery_poller, lambda: len(receiver.at("/many")) == PINGS)  # each failed once, its retry waits
    recover = f"/webhooks/{hook['id']}/recover"
    status, recovery = api("POST", recover, SINCE)
    assert (status, recovery["queued"], recovery["remaining"]) == (202, DELIVERIES - PINGS, True)  # what is left
    limit = f"at most {DELIVERIES} deliveries queued by test, retry and recover"
    assert_limited(api, api("POST", recover, SINCE), limit)
    assert_limited(api, api("POST", retry(hook, pinged[0])), limit)  # the oldest: still failed, not recovered
    ping(other, create(other, receiver.url("/other"))["id"])
    minute[0] += 60
    status, recovery = api("POST", recover, SINCE)
    assert (status, recovery["queued"], recovery["remaining"]) == (202, PINGS - (DELIVERIES - PINGS), False)
