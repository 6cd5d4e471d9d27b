"""Large payloads end to end, and the one DeliveryQueue producer: real handlers, moto server, real receivers."""

import base64
import json
import os
import time
import uuid

import boto3
import pytest

from bluehooks.adapters import deliverylog
from bluehooks.adapters.deliverylog import PAGE_BYTES, DeliveryLog
from bluehooks.adapters.producer import MAX_BATCH_BYTES, Producer
from bluehooks.adapters.s3 import S3PayloadStore
from bluehooks.models import DeliveryAttempt, DeliveryMessage
from bluehooks.ports import NotQueued, Outgoing
from devstack.lambdas import LambdaContext, root_of
from ops.fanout_dlq import held_event
from tests.integration.conftest import bus_event
from tests.integration.test_deliveries import create, delivery, drain
from tests.integration.test_fanout import FlakySqs

SINCE = "2000-01-01T00:00:00Z"


def big_payload(company: str, size: int) -> dict:
    return {
        "event": "TODO_CREATED",
        "company": {"id": company},
        "project": {"id": "project-1"},
        "user": {"id": "user-1"},
        "currentValue": {"id": "todo-1", "text": uuid.uuid4().hex * (size // 32)},
        "previousValue": None,
    }


def dead_deliveries(stack, hook: dict, count: int, size: int) -> list[str]:
    """`count` deliveries in the log, dead (their attempts spent), each with a payload of about `size` bytes."""
    log = DeliveryLog(boto3.resource("dynamodb").Table(stack.ref("DeliveriesTable")), 30)
    ids = []
    for _ in range(count):
        message = DeliveryMessage(
            deliveryId=f"msg_{uuid.uuid4().hex}",
            webhookId=hook["id"],
            companyId=hook["companyId"],
            eventId=str(uuid.uuid4()),
            event="TODO_CREATED",
            payload=big_payload(hook["companyId"], size),
        )
        assert log.record(message, "dead", reason="no attempt left after 3")
        ids.append(message.deliveryId)
    return ids


def test_recover_of_ten_large_dead_deliveries_queues_all_and_they_arrive(api, stack, receiver, delivery_poller, queues):
    hook = create(api, receiver.url("/big"))
    ids = dead_deliveries(stack, hook, 10, 150_000)  # 1.5 MB in all: more than one SendMessageBatch holds

    status, recovery = api("POST", f"/webhooks/{hook['id']}/recover", {"since": SINCE})

    assert (status, recovery) == (202, {"queued": 10, "remaining": False, "notSent": []})
    drain(delivery_poller, lambda: len(receiver.at("/big")) == 10, timeout=30)
    assert sorted(received.headers["webhook-id"] for received in receiver.at("/big")) == sorted(ids)


def test_a_page_of_large_deliveries_ends_at_the_byte_budget_and_its_cursor_goes_on(api, stack, receiver):
    hook = create(api, receiver.url("/pages"))
    ids = dead_deliveries(stack, hook, 30, 200_000)  # 6 MB of payloads (compressed, a few KB): over one page's budget
    most = PAGE_BYTES // 200_000
    listed = f"/webhooks/{hook['id']}/deliveries?limit=100"
    status, page = api("GET", listed)
    assert status == 200 and 1 < len(page["items"]) <= most < len(ids) and page["nextCursor"]
    seen = [item["deliveryId"] for item in page["items"]]
    while page["nextCursor"]:
        status, page = api("GET", f"{listed}&cursor={page['nextCursor']}")
        assert status == 200 and 0 < len(page["items"]) <= most
        seen += [item["deliveryId"] for item in page["items"]]
    assert len(seen) == len(ids) and set(seen) == set(ids)  # each once: none skipped, none repeated


def test_recover_queues_one_page_within_the_byte_budget_and_the_next_call_the_next_page(
    api, stack, queues, monkeypatch
):
    # Three of these deliveries a page: the company's 14 deliveries a minute (PARAMETERS) would stop a
    # recover long before the real budget does.
    monkeypatch.setattr(deliverylog, "PAGE_BYTES", 700_000)
    hook = create(api, "http://127.0.0.1:9/recovered")
    ids = dead_deliveries(stack, hook, 8, 200_000)

    def pending() -> int:
        return sum(delivery(api, hook["id"], delivery_id)["state"] == "pending" for delivery_id in ids)

    recover = f"/webhooks/{hook['id']}/recover"
    assert api("POST", recover, {"since": SINCE}) == (202, {"queued": 3, "remaining": True, "notSent": []})
    assert pending() == 3
    # Those three are still queued: the call passes over their page and queues the next one.
    assert api("POST", recover, {"since": SINCE}) == (202, {"queued": 3, "remaining": True, "notSent": []})
    assert pending() == 6


def test_a_recover_that_cannot_queue_puts_the_deliveries_back_and_answers_503(
    api, stack, handlers, receiver, delivery_poller, queues, monkeypatch
):
    hook = create(api, receiver.url("/back"))
    ids = dead_deliveries(stack, hook, 3, 1000)
    producer = root_of(handlers["api"]).deliveries.queue
    flaky = FlakySqs(producer.sqs, failing=99)
    monkeypatch.setattr(producer, "sqs", flaky)

    status, answer = api("POST", f"/webhooks/{hook['id']}/recover", {"since": SINCE})

    assert status == 503 and "1 of 3 deliveries could not be queued" in answer["message"]
    assert api.headers["Retry-After"] in ("5", ["5"])
    states = {delivery(api, hook["id"], delivery_id)["state"] for delivery_id in ids}
    assert states == {"dead", "pending"}  # two went; the one that did not is dead again, not pending for nothing
    monkeypatch.setattr(producer, "sqs", flaky.real)
    assert api("POST", f"/webhooks/{hook['id']}/recover", {"since": SINCE})[1]["queued"] == 1
    drain(delivery_poller, lambda: len(receiver.at("/back")) == 3)
    assert sorted(received.headers["webhook-id"] for received in receiver.at("/back")) == sorted(ids)


def test_the_producer_splits_batches_by_bytes_and_resends_only_failed_entries(stack, queues):
    sqs = boto3.client("sqs")
    flaky = FlakySqs(sqs, failing=1)
    size = MAX_BATCH_BYTES * 2 // 5  # two fit in a batch, three do not
    messages = [Outgoing(f"k{i}", json.dumps({"n": i, "fill": "x" * size}), delay=0) for i in range(5)]

    Producer(flaky, queues["DeliveryQueue"], sleep=lambda _: None).send(messages)

    assert flaky.calls == [["0", "1"], ["0"], ["0", "1"], ["0"]]  # by bytes; the failed entry only, again
    received = []
    deadline = time.monotonic() + 10
    while len(received) < 5:
        assert time.monotonic() < deadline
        got = sqs.receive_message(QueueUrl=queues["DeliveryQueue"], MaxNumberOfMessages=10).get("Messages", [])
        received += [json.loads(message["Body"])["n"] for message in got]
    assert sorted(received) == [0, 1, 2, 3, 4]


def test_the_producer_hands_back_what_no_batch_could_hold(stack, queues):
    too_big = Outgoing("huge", "x" * (MAX_BATCH_BYTES + 1))
    fits = Outgoing("small", "{}")
    with pytest.raises(
        NotQueued, match=r"1 of 2 delivery messages could not be queued \(over 1048576 bytes\)"
    ) as caught:
        Producer(boto3.client("sqs"), queues["DeliveryQueue"]).send([too_big, fits])
    assert caught.value.unsent == [too_big]
    assert [
        json.loads(m["Body"]) for m in boto3.client("sqs").receive_message(QueueUrl=queues["DeliveryQueue"])["Messages"]
    ] == [{}]


# -- events up to EventBridge's limit (1 MB per entry since January 2026) --------------------------------


def megabyte_event(company: str, size: int = 980_000) -> dict:
    """A TODO_CREATED just under EventBridge's 1 MB entry limit, its text incompressible (no log item holds it)."""
    text = base64.b64encode(os.urandom(size * 3 // 4)).decode()
    return bus_event(company, currentValue={"id": "todo-1", "text": text})


def payloads(stack) -> S3PayloadStore:
    return S3PayloadStore(boto3.client("s3"), stack.ref("PayloadBucket"))


def fan_out(handlers, event: dict) -> dict:
    return handlers["fanout"](event, LambdaContext("FanoutFunction"))


def test_a_megabyte_event_is_delivered_once_and_logged(api, company, handlers, receiver, delivery_poller, queues):
    hook = create(api, receiver.url("/mb"))
    event = megabyte_event(company)
    assert fan_out(handlers, event)["queued"] == 1

    drain(delivery_poller, lambda: len(receiver.at("/mb")) == 1, timeout=20)
    delivery_poller.poll_once(wait_seconds=1)  # nothing was queued again (a log write that failed would have)

    (received,) = receiver.at("/mb")
    assert json.loads(received.body)["currentValue"] == event["detail"]["currentValue"]
    logged = delivery(api, hook["id"], received.headers["webhook-id"])
    assert (logged["state"], len(logged["attempts"])) == ("succeeded", 1)
    assert boto3.client("sqs").receive_message(QueueUrl=queues["DeliveryQueue"]).get("Messages") is None


def test_a_megabyte_event_is_dead_lettered_intact_and_recovered(
    api, company, stack, handlers, receiver, delivery_poller, queues
):
    hook = create(api, receiver.behave("/mb-dead", status=500))
    event = megabyte_event(company)
    fan_out(handlers, event)
    sqs = boto3.client("sqs")
    dead: list = []
    deadline = time.monotonic() + 30
    while not dead:
        assert time.monotonic() < deadline, "not dead-lettered"
        delivery_poller.poll_once(wait_seconds=1)
        dead = sqs.receive_message(QueueUrl=queues["DeliveryDLQ"]).get("Messages", [])
    message = json.loads(dead[0]["Body"])
    assert payloads(stack).get(message["payloadKey"])["currentValue"] == event["detail"]["currentValue"]
    assert delivery(api, hook["id"], message["deliveryId"])["state"] == "dead"
    attempts = len(receiver.at("/mb-dead"))

    receiver.behave("/mb-dead", status=200)
    assert api("POST", f"/webhooks/{hook['id']}/recover", {"since": SINCE})[1]["queued"] == 1
    drain(delivery_poller, lambda: len(receiver.at("/mb-dead")) == attempts + 1, timeout=20)
    assert json.loads(receiver.at("/mb-dead")[-1].body)["currentValue"] == event["detail"]["currentValue"]


def test_a_megabyte_event_whose_fan_out_fails_is_kept_whole_not_dropped_with_its_failure_record(
    api, company, stack, handlers, queues, monkeypatch
):
    create(api, "https://93.184.216.34/hook")
    queue = root_of(handlers["fanout"]).fanout.queue
    monkeypatch.setattr(queue, "sqs", FlakySqs(queue.sqs, failing=99))  # DeliveryQueue refuses it, every try
    event = megabyte_event(company, 1_020_000)  # its OnFailure record would not fit an SQS message

    assert "fan-out failed (EnqueueFailed" in fan_out(handlers, event)["rejected"]

    monkeypatch.undo()
    (kept,) = boto3.client("sqs").receive_message(QueueUrl=queues["FanoutDLQ"], MessageAttributeNames=["All"])[
        "Messages"
    ]
    assert held_event(kept, payloads(stack)) == (
        event,
        "rejected: " + kept["MessageAttributes"]["reason"]["StringValue"],
    )


def test_an_attempt_that_would_overflow_its_log_item_is_not_logged_and_not_repeated(stack):
    """DynamoDB's 400 KB per item: past it, the attempt is left out but the state is written (no NotAttempted,
    so no second POST of what was already POSTed)."""
    log = DeliveryLog(boto3.resource("dynamodb").Table(stack.ref("DeliveriesTable")), 30)
    message = DeliveryMessage(
        deliveryId=f"msg_{uuid.uuid4().hex}",
        webhookId="wh_full",
        companyId=f"company-{uuid.uuid4().hex[:8]}",
        eventId="evt-1",
        event="TODO_CREATED",
        payload=big_payload("full-co", 200_000),  # random hex: compressed, about half
    )
    excerpt = base64.b64encode(os.urandom(6 * 1024)).decode()  # 8 KiB: the item fills in fewer writes
    attempt = DeliveryAttempt(attempt=1, at="2026-01-01T00:00:00.000Z", statusCode=500, responseExcerpt=excerpt)
    for n in range(40):
        assert log.record(message, "failed" if n < 39 else "dead", attempt)
    logged = log.get(message.companyId, message.webhookId, message.deliveryId)
    assert logged.state == "dead" and 10 < logged.attemptCount < 40
