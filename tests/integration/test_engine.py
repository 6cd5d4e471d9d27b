"""The delivery engine against misbehaving receivers and our own faults: real handlers, moto server, real sockets."""

import json
import os
import textwrap

import boto3
import pytest
from botocore.exceptions import ClientError

from devtools.hostile_receiver import HostileReceiver
from tests.integration.conftest import PARAMETERS, bus_event
from tests.integration.test_deliveries import create, delivery, drain, ping
from tests.xray import run_traced

TIMEOUT = float(PARAMETERS["DeliveryTimeoutSeconds"])


@pytest.fixture(scope="module")
def hostile():
    receiver = HostileReceiver()
    yield receiver
    receiver.close()


def delivery_root(delivery_poller):
    """The delivery function's root (its one module copy in this poller), for fault injection."""
    (root,) = delivery_poller.pool.roots()
    return root


def queue_counts(url: str) -> dict[str, int]:
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ]
    attributes = boto3.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return {name.removeprefix("ApproximateNumberOfMessages") or "visible": int(attributes[name]) for name in names}


def test_a_trickling_receiver_fails_at_the_deadline_while_nine_others_get_one_delivery_each(
    api, company, handlers, receiver, hostile, delivery_poller, queues
):
    from devstack.lambdas import LambdaContext

    slow = create(api, hostile.url("/trickle"), events=["TODO_CREATED"])
    fast = [create(api, receiver.url(f"/fast-{n}"), events=["TODO_CREATED"]) for n in range(9)]
    handlers["fanout"](bus_event(company), LambdaContext("FanoutFunction"))
    trickles, tried = len(hostile.trickled), hostile.requests.count("/trickle")
    assert delivery_poller.poll_once() == 10  # one batch, one invocation
    # The batch ended at the deadline, not the trickle's end: the receiver saw the client hang up mid-response.
    drain(delivery_poller, lambda: len(hostile.trickled) > trickles)
    sent, whole = hostile.trickled[trickles]
    assert sent < whole, hostile.trickled
    # Wait for the slow one's retry; by then nothing else may have come again.
    drain(delivery_poller, lambda: hostile.requests.count("/trickle") - tried == 2)
    assert all(len(receiver.at(f"/fast-{n}")) == 1 for n in range(9))
    logged = api("GET", f"/webhooks/{slow['id']}/deliveries")[1]["items"]
    first = delivery(api, slow["id"], logged[0]["deliveryId"])["attempts"][0]
    assert len(logged) == 1 and first["error"] == f"timeout after {TIMEOUT:g} s"
    assert all(api("GET", f"/webhooks/{w['id']}/deliveries")[1]["items"][0]["state"] == "succeeded" for w in fast)


@pytest.mark.parametrize(("path", "status"), [("/reset", None), ("/garbage", None), ("/bad-chunks", 500)])
def test_transport_errors_are_recorded_failures_with_the_next_attempt_scheduled(
    api, hostile, delivery_poller, queues, path, status
):
    hook = create(api, hostile.url(path))
    delivery_id = ping(api, hook["id"])
    delivery_poller.poll_once()
    logged = delivery(api, hook["id"], delivery_id)
    assert logged["state"] == "failed" and logged["attempts"][0]["statusCode"] == status
    assert status or logged["attempts"][0]["error"] in {"reset", "not an HTTP response"}
    assert logged["lastError"] == (logged["attempts"][0]["error"] or f"HTTP {status}")
    (waiting,) = [json.loads(m["Body"]) for m in _receive_all(queues["DeliveryQueue"], wait=2)]
    assert (waiting["deliveryId"], waiting["attempt"]) == (delivery_id, 2)


def _receive_all(url: str, wait: int = 0) -> list[dict]:
    sqs = boto3.client("sqs")
    return sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait).get("Messages", [])


def test_a_poison_message_is_dead_lettered_on_its_first_receive_with_the_reason(delivery_poller, queues):
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=queues["DeliveryQueue"], MessageBody='{"deliveryId": 42}')
    assert delivery_poller.poll_once() == 1
    (dead,) = sqs.receive_message(
        QueueUrl=queues["DeliveryDLQ"], MessageAttributeNames=["All"], AttributeNames=["All"], WaitTimeSeconds=1
    )["Messages"]
    assert dead["Body"] == '{"deliveryId": 42}' and "poison" in dead["MessageAttributes"]["reason"]["StringValue"]
    assert queue_counts(queues["DeliveryQueue"]) == {"visible": 0, "NotVisible": 0, "Delayed": 0}


def test_a_throttle_does_not_use_an_attempt(api, receiver, delivery_poller, queues, monkeypatch):
    hook = create(api, receiver.url("/after-throttle"))
    delivery_id = ping(api, hook["id"])
    store = delivery_root(delivery_poller).deliverer.store
    real_get, throttled = store.get_with, []

    def get_once_throttled(*args):
        if not throttled:
            throttled.append(True)
            error = {"Code": "ProvisionedThroughputExceededException", "Message": "Rate exceeded"}
            raise ClientError({"Error": error}, "BatchGetItem")
        return real_get(*args)

    monkeypatch.setattr(store, "get_with", get_once_throttled)
    delivery_poller.poll_once()
    assert receiver.at("/after-throttle") == [] and throttled
    drain(delivery_poller, lambda: len(receiver.at("/after-throttle")) == 1, timeout=15)  # back after its backoff
    logged = delivery(api, hook["id"], delivery_id)
    assert logged["state"] == "succeeded" and [a["attempt"] for a in logged["attempts"]] == [1]


def test_retry_after_of_twelve_hours_waits_as_a_delayed_message_not_an_in_flight_one(
    api, hostile, delivery_poller, queues
):
    hook = create(api, hostile.url("/gzip"))  # 503 with Retry-After: 43200
    delivery_id = ping(api, hook["id"])
    delivery_poller.poll_once()
    logged = delivery(api, hook["id"], delivery_id)
    due = logged["attempts"][0]["nextRetryAt"]
    assert abs(_seconds_from_now(due) - 43200) < 120
    assert queue_counts(queues["DeliveryQueue"]) == {"visible": 0, "NotVisible": 0, "Delayed": 0}
    retry_queue = boto3.client("sqs").get_queue_url(QueueName="blue-webhooks-local-RetryQueue")["QueueUrl"]
    assert queue_counts(retry_queue)["Delayed"] == 1  # hopping towards its due time, 15 minutes at a time
    boto3.client("sqs").purge_queue(QueueUrl=retry_queue)


def _seconds_from_now(stamp: str) -> float:
    from bluehooks.timestamps import now, parse

    return (parse(stamp) - now()).total_seconds()


def test_an_unhealthy_webhook_gets_one_probe_at_a_time_and_the_rest_are_released_by_its_success(
    api, company, stack, hostile, receiver, delivery_poller, queues
):
    hook = create(api, hostile.url("/hang"))
    table = boto3.resource("dynamodb").Table(stack.ref("WebhooksTable"))
    table.update_item(
        Key={"pk": f"COMPANY#{company}", "sk": f"WEBHOOK#{hook['id']}"},
        UpdateExpression="SET #s = :u",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":u": "UNHEALTHY"},
    )
    hung_before = hostile.requests.count("/hang")
    waiting = [ping(api, hook["id"]) for _ in range(8)]
    delivery_poller.poll_once()
    assert hostile.requests.count("/hang") - hung_before == 1  # one probe, not eight timeouts
    # seven waiting for the probe, attempts unused, and the probe's own next attempt: delayed, none in flight
    assert queue_counts(queues["DeliveryQueue"]) == {"visible": 0, "NotVisible": 0, "Delayed": 8}
    # The seven show why they wait and until when (the log and the console's Waiting).
    shown = [delivery(api, hook["id"], delivery_id) for delivery_id in waiting]
    deferred = [item for item in shown if not item["attempts"]]
    assert len(deferred) == 7
    for item in deferred:
        assert (
            item["state"] == "pending" and item["reason"] == f"endpoint unhealthy: next probe at {item['waitingUntil']}"
        )
    api("PATCH", f"/webhooks/{hook['id']}", {"url": receiver.url("/back")})  # the endpoint recovers
    drain(delivery_poller, lambda: len(receiver.at("/back")) == 8, timeout=20)
    assert hostile.requests.count("/hang") - hung_before == 1
    assert api("GET", f"/webhooks/{hook['id']}")[1]["status"] == "HEALTHY"
    assert {r.headers["webhook-id"] for r in receiver.at("/back")} == set(waiting)


TRACED_DELIVERY = textwrap.dedent(
    """
    import json, sys
    import boto3
    from devstack.lambdas import LambdaContext, load_handler
    from devstack.sources import sqs_record
    from devstack.stack import point_boto3_at
    from devstack.template import ROOT, EventSource

    point_boto3_at(sys.argv[1])
    handler = load_handler(ROOT / "functions/delivery/app.py", "lambda_handler", [ROOT / "layers/bluehooks"])
    queue = sys.argv[2]
    sqs = boto3.client("sqs")
    messages = sqs.receive_message(QueueUrl=queue, AttributeNames=["All"], WaitTimeSeconds=2)["Messages"]
    source = EventSource("sqs", "DeliveryFunction", queue, "arn:aws:sqs:us-east-1:123456789012:q")
    print(json.dumps(handler({"Records": [sqs_record(m, source, "us-east-1") for m in messages]}, LambdaContext("D"))))
    """
)


def test_no_tracing_header_reaches_a_receiver(api, receiver, queues):
    hook = create(api, receiver.url("/traced"))
    ping(api, hook["id"])
    stdout, recorded = run_traced(
        "functions/delivery",
        "DeliveryFunction",
        TRACED_DELIVERY,
        os.environ["AWS_ENDPOINT_URL"],
        queues["DeliveryQueue"],
    )
    assert json.loads(stdout.strip().splitlines()[-1]) == {"batchItemFailures": []}
    (request,) = receiver.wait_for("/traced")
    assert not any(name.lower().startswith("x-amzn") for name in request.headers)
    assert not any("127.0.0.1" in datagram and "/traced" in datagram for datagram in recorded)  # no subscriber URL
