"""DeliveryFunction driven like Lambda's SQS event source, POSTing to a real loopback receiver."""

import json
import time

import boto3

from tests.integration.conftest import bus_event, queued
from tests.verify import assert_signed

# DESIGN, delivery contract: exactly these (Host and Content-Length are HTTP's own).
CONTRACT_HEADERS = {
    "host",
    "content-length",
    "content-type",
    "user-agent",
    "x-signature",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
}


def deliver_event(api, handlers, company, url: str, **fields) -> dict:
    from devstack.lambdas import LambdaContext

    status, webhook = api("POST", "/webhooks", {"url": url, **fields})
    assert status == 201
    handlers["fanout"](bus_event(company, currentValue={"id": "t1", "title": "Café ☕"}), LambdaContext("F"))
    return webhook


def drain(poller, until, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not until() and time.monotonic() < deadline:
        poller.poll_once(wait_seconds=1)


def test_a_delivery_is_signed_both_ways_with_the_blue_body(api, handlers, queues, company, receiver, delivery_poller):
    webhook = deliver_event(api, handlers, company, receiver.url("/ok"))
    assert delivery_poller.poll_once(wait_seconds=1) == 1

    (request,) = receiver.at("/ok")
    assert_signed(webhook["secret"], request.headers, request.body)
    body = json.loads(request.body)
    assert list(body) == ["event", "webhook", "company", "project", "user", "currentValue", "previousValue"]
    assert body["event"] == "TODO_CREATED" and body["company"] == {"id": company}
    assert body["currentValue"]["title"] == "Café ☕" and "Café ☕".encode() in request.body
    assert body["webhook"]["id"] == webhook["id"] and "secret" not in body["webhook"]
    assert request.headers["Content-Type"] == "application/json"
    assert {name.lower() for name in request.headers} == CONTRACT_HEADERS
    assert request.headers["User-Agent"].startswith("Blue-Webhooks/")
    assert request.headers["webhook-id"].startswith("msg_")
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 30
    assert queued(queues["DeliveryQueue"]) == [] and queued(queues["DeliveryDLQ"]) == []


def test_a_failing_receiver_is_retried_then_dead_lettered(api, handlers, queues, company, receiver, delivery_poller):
    deliver_event(api, handlers, company, receiver.behave("/fail", status=500))
    drain(delivery_poller, until=lambda: queued(queues["DeliveryDLQ"]))

    attempts = receiver.at("/fail")
    assert len(attempts) == 3  # RetrySchedule "0,1,1": three attempts
    assert len({a.headers["webhook-id"] for a in attempts}) == 1
    assert attempts[1].at - attempts[0].at >= 0.7  # the 1 s step, less jitter and clock granularity
    (dead,) = queued(queues["DeliveryDLQ"])
    assert dead["deliveryId"] == attempts[0].headers["webhook-id"]
    assert queued(queues["DeliveryQueue"]) == []


def test_a_redirect_is_a_failure_and_not_followed(api, handlers, queues, company, receiver, delivery_poller):
    receiver.behave("/moved", status=302, headers={"Location": receiver.url("/elsewhere")})
    deliver_event(api, handlers, company, receiver.url("/moved"))
    delivery_poller.poll_once(wait_seconds=1)
    assert len(receiver.at("/moved")) == 1 and receiver.at("/elsewhere") == []
    assert queued(queues["DeliveryDLQ"]) == []  # not yet: it is waiting for its retry


def test_a_slow_receiver_times_out_and_is_retried(api, handlers, queues, company, receiver, delivery_poller):
    deliver_event(api, handlers, company, receiver.behave("/slow", delay=2.5))
    started = time.monotonic()
    delivery_poller.poll_once(wait_seconds=1)
    assert time.monotonic() - started < 2.4  # DeliveryTimeoutSeconds=1 cut it short
    drain(delivery_poller, until=lambda: queued(queues["DeliveryDLQ"]))
    assert len(queued(queues["DeliveryDLQ"])) == 1


def test_retry_after_is_honoured(api, handlers, queues, company, receiver, delivery_poller):
    deliver_event(api, handlers, company, receiver.behave("/busy", status=429, headers={"Retry-After": "3"}))
    delivery_poller.poll_once(wait_seconds=1)
    drain(delivery_poller, until=lambda: len(receiver.at("/busy")) >= 2, timeout=8)
    first, second = receiver.at("/busy")[:2]
    assert second.at - first.at >= 2.5


def test_a_deleted_webhook_gets_nothing_more(api, handlers, queues, company, receiver, delivery_poller):
    webhook = deliver_event(api, handlers, company, receiver.url("/deleted"))
    assert api("DELETE", f"/webhooks/{webhook['id']}")[0] == 204
    assert delivery_poller.poll_once(wait_seconds=1) == 1
    assert receiver.at("/deleted") == []
    assert queued(queues["DeliveryQueue"]) == [] and queued(queues["DeliveryDLQ"]) == []


def test_poison_messages_end_in_the_dlq(queues, delivery_poller):
    sqs = boto3.client("sqs")
    for body in ("not json", json.dumps({"deliveryId": "x"}), json.dumps([1, 2])):
        sqs.send_message(QueueUrl=queues["DeliveryQueue"], MessageBody=body)
    drain(delivery_poller, until=lambda: len(queued(queues["DeliveryDLQ"])) == 3, timeout=10)
    assert len(queued(queues["DeliveryDLQ"])) == 3


def test_one_slow_receiver_does_not_hold_up_the_others(api, handlers, queues, company, receiver, delivery_poller):
    from devstack.lambdas import LambdaContext

    api("POST", "/webhooks", {"url": receiver.behave("/slow", delay=0.9)})
    api("POST", "/webhooks", {"url": receiver.url("/fast")})
    handlers["fanout"](bus_event(company), LambdaContext("F"))
    delivery_poller.poll_once(wait_seconds=1)  # one batch holding both deliveries
    fast, slow = receiver.at("/fast")[0], receiver.at("/slow")[0]
    assert fast.at < slow.at - 0.5


def test_no_post_without_the_time_to_record_it(api, handlers, stack, company, receiver, queues):
    """An invocation with time for its reads but not for the POST and the log write after it (reads slowed
    by a brownout leave the same) sends nothing: the record comes back unattempted, its attempt unused."""
    import threading

    from devstack.lambdas import FunctionPool
    from devstack.sources import Poller
    from tests.integration.conftest import REGION

    webhook = deliver_event(api, handlers, company, receiver.url("/late"))
    path, name = stack.handler_path("DeliveryFunction")
    # The start check wants DeliveryTimeoutSeconds (1) + 5 s; the POST wants them after its reads, and 1 s to answer.
    pool = FunctionPool("DeliveryFunction", path, name, stack.layer_paths("DeliveryFunction"), 1, 6.5)
    source = next(s for s in stack.sources if s.function == "DeliveryFunction")
    assert Poller(source, pool, REGION, threading.Event()).poll_once(wait_seconds=1) == 1
    assert receiver.at("/late") == []
    assert api("GET", f"/webhooks/{webhook['id']}/deliveries")[1]["items"] == []  # no attempt logged
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=queues["DeliveryQueue"], AttributeNames=["ApproximateNumberOfMessagesDelayed"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessagesDelayed"] == "1"  # back in 5 s, its attempt unused
