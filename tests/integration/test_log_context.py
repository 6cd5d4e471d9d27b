"""Each invocation's log lines carry its own function's context, also when the local stack runs
several functions in one process at once (on Lambda each has its own process)."""

import io
import json
import logging
import threading

from devtools.raw_receiver import RawReceiver, read_request
from tests.integration.conftest import bus_event


class HeldReceiver(RawReceiver):
    """Answers 500 only once released: the delivery is mid-invocation until then. (A failure: a success is
    logged at DEBUG only, the delivery log has it.)"""

    def __init__(self) -> None:
        super().__init__()
        self.arrived, self.release = threading.Event(), threading.Event()

    def serve(self, conn) -> None:
        if read_request(conn):
            self.arrived.set()
            self.release.wait(10)
            conn.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n")


def powertools_handler() -> logging.StreamHandler:
    """The service's Powertools log handler: every function's, in this one process."""
    from bluehooks.services import delivery

    service = logging.getLogger(delivery.logger.service)
    (handler,) = [h for h in service.handlers if isinstance(h, logging.StreamHandler)]
    return handler


def test_a_delivery_logs_as_the_delivery_function_while_the_api_runs(api, handlers, company, queues, delivery_poller):
    from devstack.lambdas import LambdaContext

    receiver, handler, lines = HeldReceiver(), powertools_handler(), io.StringIO()
    before = handler.setStream(lines)
    try:
        assert api("POST", "/webhooks", {"url": receiver.url("/held")})[0] == 201
        handlers["fanout"](bus_event(company), LambdaContext("FanoutFunction"))
        delivering = threading.Thread(target=delivery_poller.poll_once, kwargs={"wait_seconds": 1})
        delivering.start()
        assert receiver.arrived.wait(10)
        assert api("GET", "/webhooks")[0] == 200  # the API's invocation, in the middle of the delivery's
        receiver.release.set()
        delivering.join(15)
    finally:
        receiver.release.set()
        receiver.close()
        handler.setStream(before)
    logged = [json.loads(line) for line in lines.getvalue().splitlines()]
    (attempt,) = [line for line in logged if line.get("message") == "delivery retry"]
    assert attempt["function_name"] == "DeliveryFunction", attempt
    assert "function_arn" not in attempt and "function_memory_size" not in attempt  # bytes billed, nothing told


def test_a_success_is_logged_at_debug_only_and_every_other_outcome_at_info(handlers):
    """CloudWatch Logs bills each byte: a delivered attempt is in the delivery log, not at INFO as well."""
    from bluehooks.models import DeliveryMessage
    from bluehooks.rules.outcome import Outcome
    from bluehooks.services.delivery import Deliverer

    handler, lines = powertools_handler(), io.StringIO()
    message = DeliveryMessage(
        deliveryId="msg_" + "a" * 24, webhookId="wh_1", companyId="c", eventId="e", event="E", payload={}
    )
    before = handler.setStream(lines)
    try:
        for kind in ("delivered", "retry", "exhausted", "gone", "deferred"):
            Deliverer._log(message, Outcome(kind))
    finally:
        handler.setStream(before)
    logged = [json.loads(line)["message"] for line in lines.getvalue().splitlines()]
    assert logged == ["delivery retry", "delivery exhausted", "delivery gone", "delivery deferred"]
