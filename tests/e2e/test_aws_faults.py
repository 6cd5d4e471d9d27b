"""AWS's faults injected by the emulator (devstack.faults), one at a time, and what the engine does under them."""

import time
import uuid

import requests

from devtools.receiver import Receiver
from tests.e2e.localstack import LocalStackProcess
from tests.e2e.test_iam import SECRET, call, event, put_event, wait_until


def test_an_sqs_brownout_fails_the_record_not_the_batch_after_its_post():
    """Every SQS call of the functions answered 5 s late (past botocore's 3 s read timeout, so retried):
    after a failed POST, scheduling the next attempt would outlive the invocation. The record's calls stop
    at its deadline instead, and the invocation answers in time: no batch times out after its POSTs."""
    receiver = Receiver()
    stack = LocalStackProcess(
        WEBHOOKS_JWT_SECRET=SECRET, DELIVERY_TIMEOUT_SECONDS="1", RETRY_SCHEDULE="0,1", AWS_FAULT_LATENCY="sqs=1:5"
    )
    try:
        company = f"faults-{uuid.uuid4().hex[:8]}"
        call(stack, company, "POST", "/webhooks", url=receiver.behave("/down", 500), events=["TODO_CREATED"])
        put_event(stack, event(company))
        receiver.wait_for("/down", timeout=60)
        settled = ("DeadlineReached", "DeliveryFunction timed out")  # the record failed, or the whole invocation
        wait_until(lambda: any(what in stack.output() for what in settled), "the record settled", 60)
        faults = requests.get(f"{stack.aws}/_devstack/faults", timeout=10).json()
    finally:
        stack.stop()
        receiver.close()
    assert faults.get("sqs slow (5 s)", 0) > 0
    assert "DeliveryFunction timed out" not in stack.output()
    assert "DeadlineReached" in stack.output()


def test_a_stale_read_never_drops_a_delivery_to_a_webhook_just_created():
    """AWS_FAULT_STALE_READ_SECONDS: an eventually consistent item read answers the item as it was that long ago,
    a strongly consistent one as it is. Delivery's first read of its webhook is eventually consistent
    (store.read_together): a webhook created a moment before its first event is not there yet. Delivery
    reads it again, strongly, before it drops anything (rules.outcome.decide), so the event is delivered."""
    lag = 3.0
    receiver = Receiver()
    stack = LocalStackProcess(WEBHOOKS_JWT_SECRET=SECRET, AWS_FAULT_STALE_READ_SECONDS=str(lag))
    try:
        company = f"stale-{uuid.uuid4().hex[:8]}"
        call(stack, company, "POST", "/webhooks", url=receiver.url("/new"), events=["TODO_CREATED"])
        put_event(stack, event(company))
        (delivered,) = receiver.wait_for("/new", timeout=30)

        dynamodb, table = stack.client("dynamodb"), "blue-webhooks-local-LimitsTable"
        key = {"pk": {"S": "stale-read"}}
        dynamodb.put_item(TableName=table, Item={**key, "v": {"N": "1"}})
        written = time.monotonic()
        assert "Item" not in dynamodb.get_item(TableName=table, Key=key)  # a replica that has not seen the put
        assert dynamodb.batch_get_item(RequestItems={table: {"Keys": [key]}})["Responses"][table] == []
        assert dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]["v"] == {"N": "1"}
        time.sleep(max(0.0, written + lag + 0.2 - time.monotonic()))
        assert dynamodb.get_item(TableName=table, Key=key)["Item"]["v"] == {"N": "1"}
        faults = requests.get(f"{stack.aws}/_devstack/faults", timeout=10).json()
    finally:
        stack.stop()
        receiver.close()
    assert delivered.headers["webhook-id"].startswith("msg_")
    assert faults["dynamodb stale read"] >= 3  # the delivery's read of its webhook, then the two above
