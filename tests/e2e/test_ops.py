"""The ops tools (`python -m ops`) on the local stack as `make run` starts it: redrives, pending retries, tail."""

import json
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests

from devstack.token import mint
from ops.__main__ import parser
from ops.target import Target
from tests.e2e.localstack import ROOT, LocalStackProcess
from tests.e2e.test_local_stack import SECRET, create_webhook, put_event
from tests.receiver import Receiver


@pytest.fixture(scope="module")
def stack():
    local = LocalStackProcess(WEBHOOKS_JWT_SECRET=SECRET, RETRY_SCHEDULE="0,1", DELIVERY_TIMEOUT_SECONDS="2")
    yield {"api": local.api, "events": local.client("events"), "sqs": local.client("sqs"), "local": local}
    local.stop()


@pytest.fixture
def company() -> str:
    return f"ops-{uuid.uuid4().hex[:8]}"


def ops(stack, *args: str) -> str:
    """The tool as `make ops ARGS=...` runs it, on this local stack."""
    command = [sys.executable, "-m", "ops", *args, "--endpoint-url", stack["local"].aws]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def api(stack, company: str, method: str, path: str, **body) -> dict:
    token = mint(company, "user-7", "ADMIN", SECRET)
    response = requests.request(
        method, f"{stack['api']}{path}", json=body or None, headers={"Authorization": f"Bearer {token}"}, timeout=10
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
    return stack["sqs"].get_queue_url(QueueName="blue-webhooks-local-DeliveryDLQ")["QueueUrl"]


def in_dlq(stack) -> list[str]:
    """The bodies in DeliveryDLQ, left visible (a peek)."""
    response = stack["sqs"].receive_message(QueueUrl=dlq(stack), MaxNumberOfMessages=10, VisibilityTimeout=0)
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
    time.sleep(1)  # nothing else comes
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
    time.sleep(1)
    assert len(receiver.at("/recovered")) == 3
    assert not any(delivery_id in body for body in in_dlq(stack))


def dead_letter(stack, company: str, webhook_id: str, **attributes: str) -> str:
    """A delivery message put on DeliveryDLQ by hand, as if its first attempt never happened; returns its id."""
    message = {"deliveryId": "msg_" + uuid.uuid4().hex, "webhookId": webhook_id, "companyId": company}
    message.update(eventId="evt_1", event="TODO_CREATED", payload={"event": "TODO_CREATED", "currentValue": {}})
    reasons = {name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()}
    stack["sqs"].send_message(QueueUrl=dlq(stack), MessageBody=json.dumps(message), MessageAttributes=reasons)
    return message["deliveryId"]


def test_each_kind_of_message_gets_its_verdict_and_only_the_done_ones_leave(stack, receiver, company):
    enabled = create_webhook(stack, company, receiver.url("/fresh"))
    disabled = create_webhook(stack, company, receiver.url("/off"))
    api(stack, company, "PATCH", f"/webhooks/{disabled['id']}", enabled=False)
    poison = {"reason": {"DataType": "String", "StringValue": "poison message: not JSON"}}
    stack["sqs"].send_message(QueueUrl=dlq(stack), MessageBody="{not json", MessageAttributes=poison)
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
    assert f"next retry {waiting['nextRetryAt']} (in 1m" in line  # Retry-After: 120, a few seconds ago
    assert f"webhook {webhook['id']} {url}; HEALTHY; enabled" in out
    assert "1 delivery waiting for a retry" in out


def test_tail_prints_a_delivery_as_it_happens_until_ctrl_c(stack, receiver, company):
    webhook = create_webhook(stack, company, receiver.url("/tail"))
    command = [sys.executable, "-m", "ops", "tail", "--company", company, "--for", "60", "--interval", "0.3"]
    tail = subprocess.Popen(
        [*command, "--endpoint-url", stack["local"].aws], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
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
        "Resources": {"WebhooksTable": table, "DeliveriesTable": table, "RetryQueue": queue, "DeliveryQueue": queue},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    cfn = stack["local"].client("cloudformation")
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template))
    cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 20})
    resources = cfn.describe_stack_resources(StackName=name)["StackResources"]
    physical = {resource["LogicalResourceId"]: resource["PhysicalResourceId"] for resource in resources}

    where = ["--stack", name, "--endpoint-url", stack["local"].aws]
    names = Target(parser().parse_args(["pending", "--company", "c", "--webhook", "w", *where])).names

    assert (names.webhooks_table, names.deliveries_table) == (physical["WebhooksTable"], physical["DeliveriesTable"])
    assert names.retry_queue_url == physical["RetryQueue"] and names.delivery_queue_url == "https://sqs/from-output"
    assert (names.delivery_dlq_url, names.event_bus, names.retention_days) == ("https://sqs/dlq", "blue-events-prod", 7)
