"""One wall-clock deadline per attempt, and every transport error a recorded failure (real loopback sockets)."""

import time

import pytest

from bluehooks.outbound import pinned_session, post
from bluehooks.targets import TargetPolicy
from devtools.hostile_receiver import HostileReceiver

TIMEOUT = 1.0
SLACK = 0.5  # thread scheduling on a busy 2-core machine


@pytest.fixture(scope="module")
def hostile():
    receiver = HostileReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def session():
    return pinned_session(TargetPolicy(allow_http=True, allow_loopback=True))


def timed_post(session, url):
    started = time.monotonic()
    result = post(session, url, b"{}", {"Content-Type": "application/json"}, TIMEOUT)
    return result, time.monotonic() - started


def test_a_trickled_status_line_fails_at_the_deadline(hostile, session):
    result, took = timed_post(session, hostile.url("/trickle"))
    assert result.status is None and result.error == f"timeout after {TIMEOUT:g} s"
    assert TIMEOUT - 0.05 <= took < TIMEOUT + SLACK  # per-socket timeouts alone took 18 s here


def test_a_hanging_receiver_fails_at_the_deadline(hostile, session):
    result, took = timed_post(session, hostile.url("/hang"))
    assert result.status is None and "timeout" in result.error and took < TIMEOUT + SLACK


def test_a_trickled_body_keeps_its_status_and_stops_reading_at_the_deadline(hostile, session):
    result, took = timed_post(session, hostile.url("/trickle-body"))
    assert result.status == 200 and result.ok
    assert took < TIMEOUT + SLACK


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/reset", None),
        ("/garbage", None),
        ("/bad-gzip", 200),  # urllib3 DecodeError while reading the body: the status stands
        ("/bad-chunks", 500),  # ProtocolError while reading the body
    ],
)
def test_transport_errors_are_failures_never_exceptions(hostile, session, path, status):
    result, took = timed_post(session, hostile.url(path))
    assert result.status == status and took < TIMEOUT + SLACK
    if status is None:
        assert result.error == {"/reset": "reset", "/garbage": "not an HTTP response"}[path]


def test_a_compressed_excerpt_is_decoded_and_bounded(hostile, session):
    result, _ = timed_post(session, hostile.url("/gzip"))
    assert result.status == 503 and result.retry_after == "43200"
    assert result.excerpt.startswith("slow down, please") and len(result.excerpt) <= 1024


def test_the_connection_is_reused_after_a_deadline_cut_another(hostile, session):
    timed_post(session, hostile.url("/trickle"))
    result, took = timed_post(session, hostile.url("/fast"))
    assert result.status == 200 and result.excerpt == "ok" and took < SLACK
