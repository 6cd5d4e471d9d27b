"""The ops tools (`python -m ops`) on the local stack as `make run` starts it: redrives, pending retries, tail."""

import json
import re
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests

from bluehooks.models import DeliveryAttempt, DeliveryMessage
from bluehooks.timestamps import iso
from devstack.token import mint
from devtools.receiver import Receiver
from ops import queues, tail
from ops.__main__ import parser
from ops.target import NoTarget, Target
from tests.e2e.localstack import ROOT
from tests.e2e.test_local_stack import SECRET, create_webhook, put_event

STACK_ENV = {"WEBHOOKS_JWT_SECRET": SECRET, "RETRY_SCHEDULE": "0,1", "DELIVERY_TIMEOUT_SECONDS": "2"}


@pytest.fixture
def company() -> str:
    return f"ops-{uuid.uuid4().hex[:8]}"


def ops(stack, *args: str) -> str:
    """The tool as `make ops ARGS=...` runs it, on this local stack."""
    command = [sys.executable, "-m", "ops", *args, "--endpoint-url", stack.aws]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def api(stack, company: str, method: str, path: str, **body) -> dict:
    token = mint(company, "user-7", "ADMIN", SECRET)
    response = requests.request(
        method, f"{stack.api}{path}", json=body or None, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.ok, response.text
    return response.json()


def eventually(check, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while not (found := check()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert found, f"not within {timeout} s"
    return found


def deliveries(stack, company: str, webhook_id: str, status: str) -> list[dict]:
    return api(stack, company, "GET", f"/webhooks/{webhook_id}/deliveries?status={status}")["items"]


def dlq(stack) -> str:
    return stack.client("sqs").get_queue_url(QueueName="blue-webhooks-local-DeliveryDLQ")["QueueUrl"]


def in_dlq(stack) -> list[str]:
    """The bodies in DeliveryDLQ, left visible (a peek)."""
    response = stack.client("sqs").receive_message(QueueUrl=dlq(stack), MaxNumberOfMessages=10, VisibilityTimeout=0)
    return [message["Body"] for message in response.get("Messages", [])]


@pytest.fixture(scope="module")
def dead(stack):
    """Two webhooks whose receiver failed every attempt, each with a delivery now dead and in DeliveryDLQ;
    then the receiver answers 200 again."""
    receiver, company, paths = Receiver(), f"ops-{uuid.uuid4().hex[:8]}", ("/dead", "/recovered")
    webhooks = {path: create_webhook(stack, company, receiver.behave(path, status=500)) for path in paths}
    put_event(stack, company, "down for now")
    found = {}
    for path, webhook in webhooks.items():
        (delivery,) = eventually(lambda webhook=webhook: deliveries(stack, company, webhook["id"], "dead"))
        eventually(lambda delivery=delivery: any(delivery["deliveryId"] in body for body in in_dlq(stack)))
        assert len(receiver.at(path)) == 2  # RETRY_SCHEDULE="0,1": two attempts
        receiver.behave(path, status=200)
        found[path] = (webhook, delivery["deliveryId"])
    yield receiver, company, found
    receiver.close()


def test_a_dead_delivery_redriven_arrives_once_with_its_webhook_id(stack, dead):
    receiver, company, found = dead
    webhook, delivery_id = found["/dead"]
    assert f"redriven {delivery_id}" in ops(stack, "redrive-deliveries", "--webhook", webhook["id"])
    redelivered = receiver.wait_for("/dead", count=3, timeout=20)[2]
    assert {request.headers["webhook-id"] for request in receiver.at("/dead")} == {delivery_id}
    delivery = api(stack, company, "GET", f"/webhooks/{webhook['id']}/deliveries/{delivery_id}")
    assert delivery["state"] == "succeeded"
    assert [(a["run"], a["attempt"], a["statusCode"]) for a in delivery["attempts"]][-1] == (1, 1, 200)
    stack.wait_until_idle()  # nothing else comes
    assert receiver.at("/dead")[2:] == [redelivered]
    assert not any(delivery_id in body for body in in_dlq(stack))


def test_a_delivery_recovered_since_it_died_is_not_delivered_again(stack, dead):
    receiver, company, found = dead
    webhook, delivery_id = found["/recovered"]
    since = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    assert api(stack, company, "POST", f"/webhooks/{webhook['id']}/recover", since=since)["queued"] == 1
    receiver.wait_for("/recovered", count=3, timeout=20)
    out = ops(stack, "redrive-deliveries", "--webhook", webhook["id"])
    assert f"done     {delivery_id}" in out and "superseded" in out
    stack.wait_until_idle()
    assert len(receiver.at("/recovered")) == 3
    assert not any(delivery_id in body for body in in_dlq(stack))


def dead_letter(stack, company: str, webhook_id: str, **attributes: str) -> str:
    """A delivery message put on DeliveryDLQ by hand, as if its first attempt never happened; returns its id."""
    message = {"deliveryId": "msg_" + uuid.uuid4().hex, "webhookId": webhook_id, "companyId": company}
    message.update(eventId="evt_1", event="TODO_CREATED", payload={"event": "TODO_CREATED", "currentValue": {}})
    reasons = {name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()}
    stack.client("sqs").send_message(QueueUrl=dlq(stack), MessageBody=json.dumps(message), MessageAttributes=reasons)
    return message["deliveryId"]


def test_each_kind_of_message_gets_its_verdict_and_only_the_done_ones_leave(stack, receiver, company):
    enabled = create_webhook(stack, company, receiver.url("/fresh"))
    disabled = create_webhook(stack, company, receiver.url("/off"))
    api(stack, company, "PATCH", f"/webhooks/{disabled['id']}", enabled=False)
    poison = {"reason": {"DataType": "String", "StringValue": "poison message: not JSON"}}
    stack.client("sqs").send_message(QueueUrl=dlq(stack), MessageBody="{not json", MessageAttributes=poison)
    never_tried = dead_letter(stack, company, enabled["id"])  # moved by the redrive policy: no reason
    off = dead_letter(stack, company, disabled["id"], reason="no attempt left after 2")
    orphan = dead_letter(stack, "gone", "wh_" + uuid.uuid4().hex[:26], reason="no attempt left after 2")

    dry = ops(stack, "redrive-deliveries", "--dry-run")
    assert f"would be dropped {orphan}" in dry and f"would be redriven {never_tried}" in dry
    assert dry.splitlines()[-1].startswith("would be: redriven ")  # the tally (other tests' messages count too)
    assert sum(never_tried in body or orphan in body for body in in_dlq(stack)) == 2

    out = ops(stack, "redrive-deliveries")
    assert "not a delivery message (poison message: not JSON)" in out
    assert f"dropped  {orphan}" in out and "its webhook was deleted" in out
    assert f"kept     {off}" in out and "its webhook is disabled (by its owner)" in out
    assert f"redriven {never_tried}" in out and "was never logged: moved by the queue's redrive policy" in out
    assert receiver.wait_for("/fresh", timeout=20)[0].headers["webhook-id"] == never_tried
    left = in_dlq(stack)
    assert "{not json" in left and any(off in body for body in left)
    assert not any(orphan in body or never_tried in body for body in left)
    assert receiver.at("/off") == []


def test_pending_lists_a_waiting_retry_and_the_webhooks_health(stack, receiver, company):
    url = receiver.behave("/later", status=503, headers={"Retry-After": "120"})
    webhook = create_webhook(stack, company, url)
    put_event(stack, company, "try me later")
    (waiting,) = eventually(lambda: deliveries(stack, company, webhook["id"], "failed"))
    out = ops(stack, "pending", "--company", company, "--webhook", webhook["id"])
    (line,) = [line for line in out.splitlines() if waiting["deliveryId"] in line]
    assert "TODO_CREATED" in line and "1 attempt " in line and "attempt 1 of run 0: 503" in line
    # Retry-After: 120, a moment ago (rounded to the second: 2m within half a second of the attempt)
    assert re.search(rf"next retry {re.escape(waiting['nextRetryAt'])} \(in (1m( \d+s)?|2m)\)", line), line
    assert f"webhook {webhook['id']} {url}; HEALTHY; enabled" in out
    assert "1 delivery waiting for a retry" in out


def test_tail_prints_a_delivery_as_it_happens_until_ctrl_c(stack, receiver, company):
    webhook = create_webhook(stack, company, receiver.url("/tail"))
    command = [sys.executable, "-m", "ops", "tail", "--company", company, "--for", "60", "--interval", "0.3"]
    tail = subprocess.Popen([*command, "--endpoint-url", stack.aws], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert f"following every webhook of {company}" in tail.stdout.readline()
        put_event(stack, company, "watched")
        (request,) = receiver.wait_for("/tail", timeout=20)
        line = next(line for line in tail.stdout if request.headers["webhook-id"] in line)
        tail.send_signal(signal.SIGINT)
        assert tail.wait(timeout=10) == 0
    finally:
        tail.kill()
    assert f"{webhook['id']}  {request.headers['webhook-id']}  TODO_CREATED  attempt 1 (run 0): 200 in" in line
    assert line.rstrip().endswith("→ succeeded")


def test_on_aws_the_names_come_from_the_stacks_outputs_else_its_resources(stack):
    """The AWS path, on the emulator's CloudFormation: a stack with some outputs, the rest only as resources."""
    name = f"ops-{uuid.uuid4().hex[:8]}"
    table = {
        "Type": "AWS::DynamoDB::Table",
        "Properties": {
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        },
    }
    queue = {"Type": "AWS::SQS::Queue", "Properties": {}}
    outputs = {
        "DeliveryQueueUrl": "https://sqs/from-output",  # the output wins over the resource of the same name
        "DeliveryDLQUrl": "https://sqs/dlq",
        "FanoutDLQUrl": "https://sqs/fanout-dlq",
        "EventBusName": "blue-events-prod",
    }
    template = {
        "Parameters": {"DeliveryLogRetentionDays": {"Type": "Number", "Default": 7}},
        "Resources": {
            "WebhooksTable": table,
            "DeliveriesTable": table,
            "RetryQueue": queue,
            "DeliveryQueue": queue,
            "PayloadBucket": {"Type": "AWS::S3::Bucket", "Properties": {}},
        },
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    cfn = stack.client("cloudformation")
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template))
    cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 20})
    resources = cfn.describe_stack_resources(StackName=name)["StackResources"]
    physical = {resource["LogicalResourceId"]: resource["PhysicalResourceId"] for resource in resources}

    where = ["--stack", name, "--endpoint-url", stack.aws]
    names = Target(parser().parse_args(["pending", "--company", "c", "--webhook", "w", *where])).names

    assert (names.webhooks_table, names.deliveries_table) == (physical["WebhooksTable"], physical["DeliveriesTable"])
    assert names.retry_queue_url == physical["RetryQueue"] and names.delivery_queue_url == "https://sqs/from-output"
    assert (names.delivery_dlq_url, names.event_bus, names.retention_days) == ("https://sqs/dlq", "blue-events-prod", 7)
    assert names.payload_bucket == physical["PayloadBucket"]


def test_hostile_fanout_dlq_messages_are_kept_and_never_stop_the_others(stack, receiver, company):
    """Too deep for Python's parser, fields of the wrong type, an odd OnFailure record: each is kept or
    counted failed, and the whole event beside them is still put back on the bus (and delivered)."""
    create_webhook(stack, company, receiver.url("/replayed"))
    detail = {"company": {"id": company}, "project": {"id": "p1"}, "user": {"id": "u"}, "currentValue": {}}
    event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "TODO_CREATED", "source": "blue"}
    event.update(account="1", time="2026-11-28T09:00:00Z", region="us-east-1", resources=[], detail=detail)
    odd_record = {"requestContext": {}, "responsePayload": "a string", "requestPayload": {"source": 7}}
    hostile = ["[" * 100_000, json.dumps({"source": 1, "detail-type": ["x"], "detail": {}}), json.dumps(odd_record)]
    fanout_dlq = stack.client("sqs").get_queue_url(QueueName="blue-webhooks-local-FanoutDLQ")["QueueUrl"]
    for body in [*hostile, json.dumps(event)]:
        stack.client("sqs").send_message(QueueUrl=fanout_dlq, MessageBody=body)
    time.sleep(0.01)  # the run takes only what was sent before it began (millisecond timestamps)

    command = [sys.executable, "-m", "ops", "redrive-fanout", "--endpoint-url", stack.aws]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)

    assert result.returncode == 1, result.stdout + result.stderr  # the failed ones say so
    assert f"replayed TODO_CREATED {event['id']}" in result.stdout and "Traceback" not in result.stderr
    assert "not JSON" in result.stdout and result.stdout.count("failed   ") >= 2
    assert receiver.wait_for("/replayed", timeout=20)
    left = stack.client("sqs").receive_message(QueueUrl=fanout_dlq, MaxNumberOfMessages=10, VisibilityTimeout=0)
    assert {message["Body"] for message in left.get("Messages", [])} >= set(hostile)


def test_a_run_longer_than_the_invisibility_handles_each_message_once_and_ends(stack, monkeypatch):
    sqs = stack.client("sqs")
    queue = sqs.create_queue(QueueName=f"ops-drain-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    for n in range(3):
        sqs.send_message(QueueUrl=queue, MessageBody=str(n))
    time.sleep(0.01)
    monkeypatch.setattr(queues, "VISIBILITY_SECONDS", 1)
    handled: list[str] = []

    def slow_keep(message: queues.Message) -> bool:
        assert len(handled) < 10, "handed over again and again"
        handled.append(message["Body"])
        time.sleep(0.6)  # three of these outlast the second of invisibility
        return False

    kept = queues.drain(sqs, queue, slow_keep, wait_seconds=0)

    assert sorted(handled) == ["0", "1", "2"] and len(kept) == 3
    visible = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    assert len(visible.get("Messages", [])) == 3  # released at the end


@pytest.mark.parametrize(
    ("where", "refusal"),
    [
        (["--profile", "prod"], "name the stack"),
        (["--profile", "prod", "--endpoint-url", "http://127.0.0.1:1"], "real"),
    ],
)
def test_aws_needs_a_stack_and_real_credentials_never_reach_an_endpoint(where: list[str], refusal: str):
    with pytest.raises(NoTarget, match=refusal):
        Target(parser().parse_args(["pending", "--company", "c", "--webhook", "w", *where]))


class Clock:
    """The time module as `tail` sees it, moved ahead by hand instead of waited for."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def time(self) -> float:
        return time.time() + self.ahead

    def monotonic(self) -> float:
        return time.monotonic() + self.ahead


def test_tail_reads_a_waiting_delivery_again_only_once_its_retry_is_due_and_boundedly(stack, company, monkeypatch):
    log = Target(parser().parse_args(["tail", "--company", company, "--endpoint-url", stack.aws])).log()
    webhook_id, later = "wh_" + uuid.uuid4().hex[:26], iso(datetime.now(UTC) + timedelta(hours=1))
    for n in range(2 * tail.READS_PER_POLL):
        message = DeliveryMessage(
            deliveryId=f"msg_{uuid.uuid4().hex}",
            webhookId=webhook_id,
            companyId=company,
            eventId=f"evt_{n}",
            event="TODO_CREATED",
            payload={},
        )
        if n % 2:  # a failed attempt, retried in an hour
            log.record(message, "failed", DeliveryAttempt(attempt=1, at=iso(datetime.now(UTC)), nextRetryAt=later))
        else:  # queued again, not yet attempted
            log.record(message, "pending")
    reads: list[tuple[str, str]] = []
    real_get = log.get
    monkeypatch.setattr(log, "get", lambda company_id, *key: reads.append(key) or real_get(company_id, *key))
    follower = tail.Follower(log, company, lambda: [webhook_id])
    assert follower.start() == 2 * tail.READS_PER_POLL
    monkeypatch.setattr(tail, "OVERLAP", timedelta(0))  # as if created long ago: only the re-reads see them
    clock = Clock()
    monkeypatch.setattr(tail, "time", clock)

    assert follower.poll() == [] and reads == []  # none is due yet
    clock.ahead += tail.RECHECK_SECONDS
    follower.poll()

    assert len(reads) == tail.READS_PER_POLL  # every pending one is due, none of the failed ones
    pending = {key for key, when in follower.unsettled.items() if when < clock.time() + 60}
    assert set(reads) <= pending and len(pending) == tail.READS_PER_POLL


def test_a_newer_run_never_queued_is_kept_until_stale_then_redriven(stack, receiver, company):
    """A retry or recover (or a redrive) that started a run but whose queueing failed: deleting the DLQ
    message as superseded would lose the delivery; it is kept, and redriven once the run is stale."""
    webhook = create_webhook(stack, company, receiver.url("/unqueued"))
    delivery_id = dead_letter(stack, company, webhook["id"], reason="no attempt left after 2")
    target = Target(parser().parse_args(["tail", "--company", company, "--endpoint-url", stack.aws]))
    log, message = target.log(), DeliveryMessage.model_validate_json(in_dlq_body(stack, delivery_id))
    log.record(message, "dead", DeliveryAttempt(attempt=2, at=iso(datetime.now(UTC)), statusCode=500))
    assert log.start_run(log.get(company, webhook["id"], delivery_id))  # run 1, pending: never queued

    assert f"kept     {delivery_id}" in ops(stack, "redrive-deliveries", "--webhook", webhook["id"])
    assert in_dlq_body(stack, delivery_id) and receiver.at("/unqueued") == []

    stale = iso(datetime.now(UTC) - timedelta(minutes=11))
    key = {"pk": f"{company}#{webhook['id']}", "sk": delivery_id}
    log.table.update_item(Key=key, UpdateExpression="SET updatedAt = :t", ExpressionAttributeValues={":t": stale})
    assert f"redriven {delivery_id}" in ops(stack, "redrive-deliveries", "--webhook", webhook["id"])
    assert receiver.wait_for("/unqueued", timeout=20)[0].headers["webhook-id"] == delivery_id
    assert log.get(company, webhook["id"], delivery_id).run == 2


def in_dlq_body(stack, delivery_id: str) -> str | None:
    return next((body for body in in_dlq(stack) if delivery_id in body), None)
