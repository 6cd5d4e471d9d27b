"""IAM on the local stack: each function acts as the role SAM generates for it, and only as it.

Least privilege is checked by running: a run through every path records which grant allowed each
call; every grant the template gives must have allowed one (or be named below, with why a short
run cannot reach it), and removing any grant must deny a call the run made. Two grants are
removed for real, on an edited copy of the template: the stack then fails as AWS would.
"""

import json
import time
import uuid
from pathlib import Path

import botocore.exceptions
import pytest
import requests

from devstack.roles import used
from devstack.token import mint
from devtools.receiver import Receiver
from tests.e2e.localstack import ROOT, LocalStackProcess
from tests.iam_grants import Unit, unneeded, unused

SECRET = "iam-jwt-secret-iam-jwt-secret-iam"
STACK = "blue-webhooks-local"
# Grants a short run cannot reach, each with why (a test fails if one is no longer a grant).
NOT_REACHED = {
    Unit("RetryFunctionRole", "RetryFunctionRolePolicy0"): "RetryFunction runs 15 minutes after a long retry",
    Unit("RetryFunctionRole", "RetryFunctionRolePolicy1"): "the same",
    Unit("RetryFunctionRole", "RetryFunctionRolePolicy2"): "the same",
    Unit("DeliveryFunctionRole", "DeliveryFunctionRolePolicy1"): "RetryQueue: a retry more than 15 minutes away",
    Unit(
        "DeliveryFunctionRole",
        "DeliveryFunctionRolePolicy5",
        0,
        "sqs:ChangeMessageVisibility",
        f"arn:aws:sqs:us-east-1:123456789012:{STACK}-DeliveryQueue",
    ): "only when queueing a record again fails (an SQS fault)",
}


def call(stack: LocalStackProcess, company: str, method: str, path: str, **body) -> dict:
    token = mint(company, "user-1", "ADMIN", SECRET)
    response = requests.request(
        method, f"{stack.api}{path}", json=body or None, headers={"Authorization": f"Bearer {token}"}, timeout=20
    )
    assert response.status_code < 300, (method, path, response.status_code, response.text)
    return response.json() if response.content else {}


def put_event(stack: LocalStackProcess, detail: dict) -> None:
    entry = {"Source": "blue", "DetailType": "TODO_CREATED", "EventBusName": "blue-events"}
    entry["Detail"] = json.dumps(detail)
    assert stack.client("events").put_events(Entries=[entry])["FailedEntryCount"] == 0


def event(company: str) -> dict:
    return {"company": {"id": company}, "project": {"id": "p1"}, "user": {"id": "u1"}, "currentValue": {"id": "1"}}


def wait_until(condition, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture(scope="module")
def run(receiver):
    """Every path of the system once, on a stack of its own: the roles and the grants each call used."""
    stack = LocalStackProcess(WEBHOOKS_JWT_SECRET=SECRET, RETRY_SCHEDULE="0,1", DELIVERY_TIMEOUT_SECONDS="2")
    try:
        company = f"iam-{uuid.uuid4().hex[:8]}"
        # Rate limited (a limit it never reaches): each delivery to it takes a slot in LimitsTable.
        up = call(stack, company, "POST", "/webhooks", url=receiver.url("/up"), events=["TODO_CREATED"], rateLimit=100)
        gone = call(stack, company, "POST", "/webhooks", url=receiver.behave("/gone", 410), events=["TODO_CREATED"])
        down = call(stack, company, "POST", "/webhooks", url=receiver.behave("/down", 500), events=["TODO_CREATED"])
        put_event(stack, event(company))
        put_event(stack, {"project": {"id": "p1"}})  # no company: rejected to FanoutDLQ
        receiver.wait_for("/up")
        wait_until(lambda: call(stack, company, "GET", f"/webhooks/{gone['id']}")["enabled"] is False, "410 disables")
        wait_until(lambda: len(receiver.at("/down")) == 2, "two attempts at /down")
        deliveries = call(stack, company, "GET", f"/webhooks/{up['id']}/deliveries")["items"]
        delivery = deliveries[0]["deliveryId"] if "deliveryId" in deliveries[0] else deliveries[0]["id"]
        call(stack, company, "GET", f"/webhooks/{up['id']}/deliveries/{delivery}")
        call(stack, company, "POST", f"/webhooks/{up['id']}/deliveries/{delivery}/retry")
        call(stack, company, "POST", f"/webhooks/{up['id']}/test")
        call(stack, company, "POST", f"/webhooks/{up['id']}/rotate-secret")
        call(stack, company, "PATCH", f"/webhooks/{up['id']}", name="renamed")
        call(stack, company, "GET", "/webhooks")
        receiver.wait_for("/up", count=3)
        wait_until(lambda: "dead" in str(call(stack, company, "GET", f"/webhooks/{down['id']}/deliveries")), "dead")
        # A payload too large to travel in its messages: kept in S3 by the fan-out, read there by delivery.
        put_event(stack, {**event(company), "currentValue": {"id": "2", "text": "x" * 300_000}})
        receiver.wait_for("/up", count=4)
        call(stack, company, "POST", f"/webhooks/{down['id']}/recover", since="2000-01-01T00:00:00Z")
        call(stack, company, "DELETE", f"/webhooks/{up['id']}")
        yield stack, used(stack.aws)
    finally:
        stack.stop()


def test_every_grant_the_template_gives_allowed_a_call_of_the_run(run):
    _, answer = run
    assert unused(answer) - NOT_REACHED.keys() == set()


def test_the_grants_a_run_cannot_reach_are_still_grants(run):
    _, answer = run
    assert NOT_REACHED.keys() <= unused(answer)


def test_removing_any_grant_denies_a_call_the_run_made(run):
    """The template's grants removed one at a time, each replayed against the run's calls (in-process)."""
    _, answer = run
    assert unneeded(answer) - NOT_REACHED.keys() == set()


def test_a_call_the_role_does_not_allow_fails_as_aws_fails_it(run):
    stack, _ = run
    as_fanout = {"aws_access_key_id": "FanoutFunctionRole", "aws_secret_access_key": "x"}
    dynamodb = stack.client("dynamodb", **as_fanout)
    with pytest.raises(botocore.exceptions.ClientError) as denied:
        dynamodb.get_item(TableName=f"{STACK}-WebhooksTable", Key={"pk": {"S": "WEBHOOK#x"}, "sk": {"S": "x"}})
    error = denied.value.response["Error"]
    assert error["Code"] == "AccessDeniedException"
    assert error["Message"].startswith(
        f"User: arn:aws:sts::123456789012:assumed-role/{STACK}-FanoutFunctionRole/FanoutFunction is not authorized"
        f" to perform: dynamodb:GetItem on resource: arn:aws:dynamodb:us-east-1:123456789012:table/{STACK}-"
    )
    sqs = stack.client("sqs", **as_fanout)
    queue = stack.client("sqs").get_queue_url(QueueName=f"{STACK}-DeliveryQueue")["QueueUrl"]
    with pytest.raises(botocore.exceptions.ClientError) as denied:
        sqs.receive_message(QueueUrl=queue)
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_the_subscription_index_condition_keeps_the_fanout_off_webhook_items(run):
    stack, _ = run
    dynamodb = stack.client("dynamodb", aws_access_key_id="FanoutFunctionRole", aws_secret_access_key="x")
    table = f"{STACK}-WebhooksTable"
    query = {"TableName": table, "KeyConditionExpression": "pk = :pk"}
    dynamodb.query(**query, ExpressionAttributeValues={":pk": {"S": "SUBSCRIPTION#acme#TODO_CREATED"}})
    with pytest.raises(botocore.exceptions.ClientError, match="AccessDeniedException"):
        dynamodb.query(**query, ExpressionAttributeValues={":pk": {"S": "WEBHOOK#acme"}})


def test_the_delivery_function_reserves_rate_limit_slots_only(run):
    """Its grant on LimitsTable is for the slots (pk RATE#...), never the API's per-company counts."""
    stack, _ = run
    dynamodb = stack.client("dynamodb", aws_access_key_id="DeliveryFunctionRole", aws_secret_access_key="x")
    update = {"TableName": f"{STACK}-LimitsTable", "UpdateExpression": "SET tat = :t"}
    dynamodb.update_item(**update, Key={"pk": {"S": "RATE#acme#wh_x"}}, ExpressionAttributeValues={":t": {"N": "1"}})
    with pytest.raises(botocore.exceptions.ClientError, match="AccessDeniedException"):
        dynamodb.update_item(**update, Key={"pk": {"S": "acme#29000000"}}, ExpressionAttributeValues={":t": {"N": "1"}})


def edited(tmp_path: Path, *changes: tuple[str, str]) -> Path:
    """A copy of template.yaml with these (text, replacement) changes (each text must be there exactly once)."""
    text = (ROOT / "template.yaml").read_text()
    for old, new in changes:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    copy = tmp_path / "template.yaml"
    copy.write_text(text)
    return copy


def test_without_their_grants_delivery_and_fanout_fail_access_denied_as_on_aws(tmp_path, receiver):
    """DeliveryFunction without kms:Decrypt: every delivery fails. FanoutFunction without sending to
    DeliveryQueue: every event fails, and after Lambda's retries its record, sent as the role, is in FanoutDLQ."""
    fanout_policies = "      Policies:\n        - SQSSendMessagePolicy: {QueueName: !GetAtt DeliveryQueue.QueueName}\n"
    template = edited(
        tmp_path,
        ("        - KMSDecryptPolicy: {KeyId: !Ref SecretsKey}\n", ""),
        (fanout_policies + "        - Statement:\n", "      Policies:\n        - Statement:\n"),
    )
    stack = LocalStackProcess(WEBHOOKS_JWT_SECRET=SECRET, LOCAL_TEMPLATE=str(template), ASYNC_RETRY_DELAY_SECONDS="0.1")
    try:
        company = f"iam-{uuid.uuid4().hex[:8]}"
        webhook = call(stack, company, "POST", "/webhooks", url=receiver.url("/no-key"), events=["TODO_CREATED"])
        call(stack, company, "POST", f"/webhooks/{webhook['id']}/test")
        wait_until(lambda: "kms:Decrypt" in stack.output(), "AccessDenied on kms:Decrypt")
        put_event(stack, event(company))
        sqs = stack.client("sqs")
        dlq = sqs.get_queue_url(QueueName=f"{STACK}-FanoutDLQ")["QueueUrl"]
        records = []
        wait_until(lambda: records.extend(sqs.receive_message(QueueUrl=dlq).get("Messages", [])) or records, "DLQ")
        assert receiver.at("/no-key") == []
    finally:
        stack.stop()
    (record,) = records
    failure = json.loads(record["Body"])["responsePayload"]
    assert failure["errorType"] == "EnqueueFailed" and "AccessDenied" in failure["errorMessage"]
    assert (
        "sqs:SendMessage on resource: arn:aws:sqs:us-east-1:123456789012:blue-webhooks-local-DeliveryQueue"
        in (failure["errorMessage"])
    )
    assert "AccessDeniedException" in stack.output() and "is not authorized to perform: kms:Decrypt" in stack.output()
