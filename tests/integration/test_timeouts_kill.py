"""Lambda kills an invocation at its timeout: locally, its work stops having effects from that moment."""

import os
import threading
import time

import pytest
import requests

from devstack.emulator import calls, difference
from devstack.lambdas import FunctionPool, FunctionTimedOut, root_of
from devstack.sandbox import Sandbox, SandboxFrozen, inside, install
from devtools.receiver import Receiver
from tests.integration.conftest import bus_event

TIMEOUT = 1.0
STALL = 2 * TIMEOUT  # a read stalls past the timeout; what follows it would run in a killed sandbox


class Stalling:
    """Stands in for an object of the handler's module copy: its methods wait `STALL` seconds first."""

    def __init__(self, wrapped, stalled: threading.Event):
        self._wrapped, self._stalled = wrapped, stalled

    def __getattr__(self, name: str):
        method = getattr(self._wrapped, name)

        def stalling(*args, **kwargs):
            time.sleep(STALL)
            try:
                return method(*args, **kwargs)
            finally:
                self._stalled.set()

        return stalling


def invocation_threads(function: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == f"{function}-invocation" and t.is_alive()]


def test_a_fanout_that_exceeds_its_timeout_makes_no_aws_call_after_it(stack, api, company):
    status, _ = api("POST", "/webhooks", {"url": "http://127.0.0.1:9/never", "events": ["TODO_CREATED"]})
    assert status == 201
    stalled = threading.Event()

    def slow_subscriptions(name, handler):
        fanout = root_of(handler).fanout
        fanout.index = Stalling(fanout.index, stalled)
        return handler

    path, name = stack.handler_path("FanoutFunction")
    layers = stack.layer_paths("FanoutFunction")
    pool = FunctionPool("FanoutFunction", path, name, layers, 1, TIMEOUT, slow_subscriptions)
    with pytest.raises(FunctionTimedOut):
        pool.invoke(bus_event(company))
    after_timeout = calls(os.environ["AWS_ENDPOINT_URL"])
    assert stalled.wait(10 * STALL), "the stalled read never returned"
    for thread in invocation_threads("FanoutFunction"):
        thread.join(10 * STALL)
    made = difference(after_timeout, calls(os.environ["AWS_ENDPOINT_URL"]))
    assert made == []  # neither the subscription read nor SendMessageBatch nor the idempotency cleanup


def test_a_killed_invocations_http_calls_fail_too(stack):
    """A delivery's POST from a frozen sandbox never reaches the receiver (the socket refuses it)."""
    install()
    receiver = Receiver()
    try:
        sandbox = Sandbox("DeliveryFunction")
        with inside(sandbox):
            requests.post(receiver.url("/alive"), data=b"{}", timeout=5)
            sandbox.freeze()
            with pytest.raises(requests.ConnectionError) as refused:
                requests.post(receiver.url("/frozen"), data=b"{}", timeout=5)
        assert isinstance(refused.value.__context__, SandboxFrozen) or "froze" in str(refused.value)
        assert len(receiver.at("/alive")) == 1 and receiver.at("/frozen") == []
    finally:
        receiver.close()
