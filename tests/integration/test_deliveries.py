"""The delivery log, health, 410, auto-disable, retry and recover: real handlers, moto server, real receivers."""

import json
import time
import uuid
from datetime import timedelta

import boto3
import pytest

from bluehooks.adapters.deliverylog import DeliveryLog
from bluehooks.adapters.store import webhook_key
from bluehooks.models import DeliveryAttempt, DeliveryMessage
from bluehooks.timestamps import iso, parse
from tests.integration.conftest import PARAMETERS, bus_event, token

PUBLIC = "https://93.184.216.34/hook"


def create(api, url, **fields):
    status, body = api("POST", "/webhooks", {"url": url, **fields})
    assert status == 201, body
    return body


def ping(api, webhook_id) -> str:
    status, answer = api("POST", f"/webhooks/{webhook_id}/test")
    assert status == 202, answer
    return answer["deliveryId"]


def drain(poller, until, timeout: float = 10.0) -> None:
    """Poll the delivery queue as Lambda would, until `until()` holds."""
    deadline = time.monotonic() + timeout
    while not until():
        assert time.monotonic() < deadline, "timed out waiting for deliveries"
        poller.poll_once(wait_seconds=1)


def delivery(api, webhook_id, delivery_id):
    status, body = api("GET", f"/webhooks/{webhook_id}/deliveries/{delivery_id}")
    assert status == 200, body
    return body


def webhook(api, webhook_id):
    return api("GET", f"/webhooks/{webhook_id}")[1]


def test_a_500_then_200_shows_two_attempts_with_codes_and_excerpts(api, receiver, delivery_poller, queues):
    url = receiver.behave("/flaky", status=500)
    hook = create(api, url)
    delivery_id = ping(api, hook["id"])
    assert delivery(api, hook["id"], delivery_id)["state"] == "pending"
    drain(delivery_poller, lambda: len(receiver.at("/flaky")) == 1)
    failed = delivery(api, hook["id"], delivery_id)
    assert failed["state"] == "failed" and failed["nextRetryAt"]
    receiver.behave("/flaky", status=200)
    drain(delivery_poller, lambda: delivery(api, hook["id"], delivery_id)["state"] == "succeeded")
    logged = delivery(api, hook["id"], delivery_id)
    assert [a["statusCode"] for a in logged["attempts"]] == [500, 200]
    assert [a["attempt"] for a in logged["attempts"]] == [1, 2]
    assert all(a["responseExcerpt"] == "ok" and a["durationMs"] >= 0 for a in logged["attempts"])
    assert logged["attempts"][0]["nextRetryAt"] and logged["attempts"][1]["nextRetryAt"] is None
    assert {r.headers["webhook-id"] for r in receiver.at("/flaky")} == {delivery_id}
    assert webhook(api, hook["id"])["lastSuccessAt"]


def test_five_failures_make_it_unhealthy_and_a_success_healthy_again(api, receiver, delivery_poller, queues):
    hook = create(api, receiver.behave("/sick", status=503))
    for _ in range(5):
        ping(api, hook["id"])
    drain(delivery_poller, lambda: webhook(api, hook["id"])["status"] == "UNHEALTHY")
    sick = webhook(api, hook["id"])
    assert sick["enabled"] and sick["lastFailureAt"] and len(receiver.at("/sick")) >= 5
    receiver.behave("/sick", status=204)
    drain(delivery_poller, lambda: webhook(api, hook["id"])["status"] == "HEALTHY")


def test_four_failures_are_not_yet_unhealthy(api, receiver, delivery_poller, queues):
    hook = create(api, receiver.behave("/wobbly", status=500))
    for _ in range(4):
        ping(api, hook["id"])
    # poll_once returns once the invocation has ended: the fourth attempt's health write included.
    drain(delivery_poller, lambda: len(receiver.at("/wobbly")) >= 4)
    assert webhook(api, hook["id"])["status"] == "HEALTHY"


def test_410_disables_the_webhook_and_drops_its_queued_deliveries(
    api, company, handlers, receiver, delivery_poller, queues
):
    from devstack.lambdas import LambdaContext

    hook = create(api, receiver.behave("/gone", status=410), events=["TODO_CREATED"])
    gone = ping(api, hook["id"])
    drain(delivery_poller, lambda: len(receiver.at("/gone")) == 1)
    disabled = webhook(api, hook["id"])
    assert (disabled["enabled"], disabled["disabledReason"], disabled["status"]) == (False, "GONE", "UNHEALTHY")
    assert delivery(api, hook["id"], gone)["state"] == "dead"
    queued_before = ping(api, hook["id"])  # queued while disabled: dropped at delivery
    drain(delivery_poller, lambda: delivery(api, hook["id"], queued_before)["state"] == "dropped")
    assert "GONE" in delivery(api, hook["id"], queued_before)["reason"]
    handlers["fanout"](bus_event(company), LambdaContext("FanoutFunction"))  # the index knows it is disabled
    assert boto3.client("sqs").receive_message(QueueUrl=queues["DeliveryQueue"]).get("Messages") is None
    assert len(receiver.at("/gone")) == 1


@pytest.fixture
def bus_subscriber(stack):
    """A queue subscribed to the bus for WEBHOOK_DISABLED, as a host app would subscribe."""
    sqs, events = boto3.client("sqs"), boto3.client("events")
    name = f"disabled-{uuid.uuid4().hex[:8]}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = stack.ref("EventBus")
    pattern = {"source": ["blue.webhooks"], "detail-type": ["WEBHOOK_DISABLED"]}
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    yield url
    events.remove_targets(Rule=name, EventBusName=bus, Ids=["q"])
    events.delete_rule(Name=name, EventBusName=bus)


def test_failing_for_the_whole_period_disables_and_announces_it(
    api, company, stack, receiver, delivery_poller, queues, bus_subscriber
):
    hook = create(api, receiver.behave("/dead", status=500))
    ping(api, hook["id"])
    drain(delivery_poller, lambda: len(receiver.at("/dead")) == 1)
    assert webhook(api, hook["id"])["enabled"]
    # The period, passed without waiting for it: the first failure's start moved back by it.
    table = boto3.resource("dynamodb").Table(stack.ref("WebhooksTable"))
    key = webhook_key(company, hook["id"])
    failing_since = parse(table.get_item(Key=key)["Item"]["failingSince"])
    period = timedelta(seconds=float(PARAMETERS["DisableAfterFailingSeconds"]))
    table.update_item(
        Key=key, UpdateExpression="SET failingSince = :t", ExpressionAttributeValues={":t": iso(failing_since - period)}
    )
    drain(delivery_poller, lambda: not webhook(api, hook["id"])["enabled"])
    assert webhook(api, hook["id"])["disabledReason"] == "FAILING"
    messages = boto3.client("sqs").receive_message(QueueUrl=bus_subscriber, WaitTimeSeconds=2)["Messages"]
    event = json.loads(messages[0]["Body"])
    assert event["detail-type"] == "WEBHOOK_DISABLED" and event["detail"]["reason"] == "FAILING"
    assert event["detail"]["webhook"]["id"] == hook["id"] and event["detail"]["webhook"]["secret"] is None


def test_retry_one_redelivers_with_the_same_webhook_id(api, receiver, delivery_poller, queues):
    hook = create(api, receiver.url("/again"))
    delivery_id = ping(api, hook["id"])
    drain(delivery_poller, lambda: len(receiver.at("/again")) == 1)
    status, answer = api("POST", f"/webhooks/{hook['id']}/deliveries/{delivery_id}/retry")
    assert status == 202 and answer["state"] == "pending"
    drain(delivery_poller, lambda: len(receiver.at("/again")) == 2)
    first, second = receiver.at("/again")
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery_id
    assert first.headers["webhook-signature"] != second.headers["webhook-signature"]
    event_of = lambda received: {k: v for k, v in json.loads(received.body).items() if k != "webhook"}  # noqa: E731
    assert event_of(first) == event_of(second)  # the webhook object is its current state, the event is the same
    drain(delivery_poller, lambda: len(delivery(api, hook["id"], delivery_id)["attempts"]) == 2)


def dead_letter(api, receiver, delivery_poller, queues, path):
    hook = create(api, receiver.behave(path, status=500))
    delivery_id = ping(api, hook["id"])
    attempts = len(PARAMETERS["RetrySchedule"].split(","))
    sqs = boto3.client("sqs")
    dead = []
    deadline = time.monotonic() + 15
    while not dead:
        assert time.monotonic() < deadline
        delivery_poller.poll_once(wait_seconds=1)
        dead = sqs.receive_message(QueueUrl=queues["DeliveryDLQ"], VisibilityTimeout=60).get("Messages", [])
    assert len(receiver.at(path)) == attempts
    assert delivery(api, hook["id"], delivery_id)["state"] == "dead"
    return hook, delivery_id, dead[0]


def test_recover_redelivers_what_was_dead_lettered_once(api, receiver, delivery_poller, queues):
    hook, delivery_id, dlq_message = dead_letter(api, receiver, delivery_poller, queues, "/recover")
    receiver.behave("/recover", status=200)
    since = "2000-01-01T00:00:00Z"
    status, recovery = api("POST", f"/webhooks/{hook['id']}/recover", {"since": since})
    assert (status, recovery) == (202, {"queued": 1, "remaining": False, "notSent": []})
    assert api("POST", f"/webhooks/{hook['id']}/recover", {"since": since})[1]["queued"] == 0  # idempotent
    drain(delivery_poller, lambda: delivery(api, hook["id"], delivery_id)["state"] == "succeeded")
    assert receiver.at("/recover")[-1].headers["webhook-id"] == delivery_id
    # A later redrive of the DLQ must not deliver it a second time.
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=queues["DeliveryQueue"], MessageBody=dlq_message["Body"])
    sqs.delete_message(QueueUrl=queues["DeliveryDLQ"], ReceiptHandle=dlq_message["ReceiptHandle"])
    count = len(receiver.at("/recover"))
    delivery_poller.poll_once(wait_seconds=1)
    assert len(receiver.at("/recover")) == count
    assert sqs.receive_message(QueueUrl=queues["DeliveryQueue"]).get("Messages") is None  # consumed, not retried


def test_recover_only_since_the_time_given(api, receiver, delivery_poller, queues):
    hook, _, _ = dead_letter(api, receiver, delivery_poller, queues, "/late")
    status, recovery = api("POST", f"/webhooks/{hook['id']}/recover", {"since": "2999-01-01T00:00:00Z"})
    assert (status, recovery["queued"]) == (202, 0)


def test_the_log_lists_newest_first_filters_and_pages(api, receiver, delivery_poller, queues):
    hook = create(api, receiver.behave("/log", status=200))
    ok = [ping(api, hook["id"]) for _ in range(3)]
    drain(delivery_poller, lambda: len(receiver.at("/log")) == 3)
    receiver.behave("/log", status=500)
    bad = ping(api, hook["id"])
    drain(delivery_poller, lambda: len(receiver.at("/log")) == 4)
    base = f"/webhooks/{hook['id']}/deliveries"
    listed = api("GET", base)[1]["items"]
    assert [d["deliveryId"] for d in listed] == [bad, *reversed(ok)]
    assert [d["deliveryId"] for d in api("GET", f"{base}?status=failed")[1]["items"]] == [bad]
    assert api("GET", f"{base}?event=TODO_CREATED")[1]["items"] == []
    assert len(api("GET", f"{base}?event=WEBHOOK_TEST")[1]["items"]) == 4
    first = api("GET", f"{base}?limit=3")[1]
    second = api("GET", f"{base}?limit=3&cursor={first['nextCursor']}")[1]
    assert [d["deliveryId"] for d in first["items"] + second["items"]] == [bad, *reversed(ok)]
    assert api("GET", f"{base}?since=2999-01-01T00:00:00Z")[1]["items"] == []
    assert api("GET", f"{base}?cursor=forged")[0] == 400
    assert api("GET", f"{base}?status=exploded")[0] == 422


def test_deliveries_are_404_across_companies_and_project_scopes(api, company, receiver, delivery_poller, queues):
    hook = create(api, receiver.url("/scoped"), projectIds=["p1", "p2"])
    delivery_id = ping(api, hook["id"])
    drain(delivery_poller, lambda: len(receiver.at("/scoped")) == 1)
    base = f"/webhooks/{hook['id']}"
    routes = [
        ("GET", f"{base}/deliveries", None),
        ("GET", f"{base}/deliveries/{delivery_id}", None),
        ("POST", f"{base}/deliveries/{delivery_id}/retry", None),
        ("POST", f"{base}/recover", {"since": "2000-01-01T00:00:00Z"}),
    ]
    for outsider in (token("another-company"), token(company, role="PROJECT_MANAGER", projects=["p1"])):
        for method, path, body in routes:
            assert api(method, path, body, token=outsider)[0] == 404, (method, path)
    assert api("GET", f"{base}/deliveries/msg_unknown")[0] == 404
    member = token(company, role="MEMBER")
    assert api("GET", f"{base}/deliveries", token=member)[0] == 200
    assert api("POST", f"{base}/deliveries/{delivery_id}/retry", token=member)[0] == 403


def test_a_fanned_out_delivery_is_logged_at_its_first_attempt(
    api, company, handlers, receiver, delivery_poller, queues
):
    from devstack.lambdas import LambdaContext

    hook = create(api, receiver.url("/fan"), events=["TODO_CREATED"])
    handlers["fanout"](bus_event(company), LambdaContext("FanoutFunction"))
    drain(delivery_poller, lambda: len(receiver.at("/fan")) == 1)
    (logged,) = api("GET", f"/webhooks/{hook['id']}/deliveries")[1]["items"]
    assert logged["event"] == "TODO_CREATED" and logged["state"] == "succeeded" and logged["attemptCount"] == 1
    assert logged["deliveryId"] == receiver.at("/fan")[0].headers["webhook-id"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/deliveries?since=0001-01-01T00:00:00%2B14:00", None),
        ("POST", "/recover", {"since": "9999-12-31T23:59:59-14:00"}),
    ],
)
def test_times_at_the_edge_of_the_calendar_are_a_422(api, company, method, path, body):
    hook = create(api, PUBLIC)
    member = token(company, role="MEMBER") if method == "GET" else None
    status, answer = api(method, f"/webhooks/{hook['id']}{path}", body, token=member)
    assert status == 422 and "range" in answer["message"]


def test_forged_delivery_ids_and_cursors_are_refused(api, receiver, delivery_poller, queues):
    import base64

    hook = create(api, receiver.url("/ids"))
    ping(api, hook["id"])
    base = f"/webhooks/{hook['id']}/deliveries"
    assert api("GET", f"{base}/{'m' * 2000}")[0] == 404
    assert api("POST", f"{base}/msg_{'a' * 100}/retry")[0] == 404

    def cursor(position: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")

    for position in ({"sk": "", "createdAt": "x"}, {"sk": "msg_" + "a" * 26, "createdAt": "2001-01-01T00:00:00Z"}):
        assert api("GET", f"{base}?since=2020-01-01T00:00:00Z&cursor={cursor(position)}")[0] == 400


def test_a_filtered_page_reads_a_bounded_number_of_items(api, receiver, delivery_poller, queues, monkeypatch):
    import bluehooks.adapters.deliverylog

    monkeypatch.setattr(bluehooks.adapters.deliverylog, "READ_ITEMS", 3)
    monkeypatch.setattr(bluehooks.adapters.deliverylog, "READ_PAGES", 2)
    hook = create(api, receiver.url("/many"))
    for _ in range(8):
        ping(api, hook["id"])
    base = f"/webhooks/{hook['id']}/deliveries"
    first = api("GET", f"{base}?status=dead&limit=1")[1]
    assert first["items"] == [] and first["nextCursor"]  # 6 read, none dead: a short page and a cursor
    second = api("GET", f"{base}?status=dead&limit=1&cursor={first['nextCursor']}")[1]
    assert second["items"] == [] and second["nextCursor"] is None  # the last 2, and the end
    everything = api("GET", f"{base}?limit=5")[1]
    rest = api("GET", f"{base}?limit=5&cursor={everything['nextCursor']}")[1]
    assert len(everything["items"]) + len(rest["items"]) == 8 and rest["nextCursor"] is None


def test_an_unexpected_error_is_a_logged_json_500(api, handlers, monkeypatch):
    from devstack.lambdas import root_of

    service = root_of(handlers["api"]).webhooks
    monkeypatch.setattr(service, "page", lambda *_: 1 / 0)
    status, answer = api("GET", "/webhooks")
    assert status == 500 and answer == {"message": "internal error; it has been logged"}


def test_a_duplicate_that_fails_after_its_delivery_succeeded_leaves_it_succeeded(stack):
    """Two copies of one message (SQS delivers at least once; a read a moment behind sends the second): the
    second's failed POST is not recorded over the first's success. A new run (retry, recover) is recorded."""
    log = DeliveryLog(boto3.resource("dynamodb").Table(stack.ref("DeliveriesTable")), 30)
    message = DeliveryMessage(
        deliveryId=f"msg_{uuid.uuid4().hex}",
        webhookId="wh_" + "0" * 24,
        companyId="dup",
        eventId="e",
        event="E",
        payload={},
    )
    at = iso(parse("2026-01-01T00:00:00.000Z"))
    assert log.record(message, "succeeded", DeliveryAttempt(attempt=1, at=at, statusCode=200))
    assert not log.record(message, "failed", DeliveryAttempt(attempt=1, at=at, statusCode=500))
    logged = log.get("dup", message.webhookId, message.deliveryId)
    assert (logged.state, logged.attemptCount) == ("succeeded", 1)
    assert log.record(
        message.model_copy(update={"run": 1}), "failed", DeliveryAttempt(attempt=1, at=at, statusCode=500)
    )
    assert log.get("dup", message.webhookId, message.deliveryId).state == "failed"
