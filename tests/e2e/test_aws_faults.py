"""AWS's faults injected by the emulator (devstack.faults), one at a time, and what the engine does under them."""

import time
import uuid

import botocore.exceptions
import pytest
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


def test_stale_reads_are_as_aws_gives_them_and_a_delivery_drops_only_on_a_strong_one():
    """AWS_FAULT_STALE_READ_SECONDS: an eventually consistent item read answers the item as it was that long ago,
    never a cancelled transaction's writes; a strongly consistent one as it is. Delivery's first read of its
    webhook is eventually consistent (store.read_together), and it drops a delivery only on a strong read again
    (rules.outcome.decide; by BatchGetItem, its role's only read of webhooks): a webhook created a moment before
    its event is delivered to, one disabled between two attempts is dropped, and no read is denied or retried."""
    lag = 2.0
    receiver = Receiver()
    stack = LocalStackProcess(WEBHOOKS_JWT_SECRET=SECRET, AWS_FAULT_STALE_READ_SECONDS=str(lag), RETRY_SCHEDULE="0,4")
    try:
        company = f"stale-{uuid.uuid4().hex[:8]}"
        call(stack, company, "POST", "/webhooks", url=receiver.url("/new"), events=["TODO_CREATED"])
        down = call(stack, company, "POST", "/webhooks", url=receiver.behave("/down", 500), events=["TODO_CREATED"])
        put_event(stack, event(company))
        (delivered,) = receiver.wait_for("/new", timeout=30)
        receiver.wait_for("/down", timeout=30)  # its first attempt failed; the next is 4 s later
        call(stack, company, "PATCH", f"/webhooks/{down['id']}", enabled=False)

        def logged() -> list[dict]:
            return call(stack, company, "GET", f"/webhooks/{down['id']}/deliveries")["items"]

        wait_until(lambda: logged()[0]["state"] == "dropped", "the delivery dropped", 30)

        dynamodb, table = stack.client("dynamodb"), "blue-webhooks-local-LimitsTable"
        key, other = {"pk": {"S": "stale-read"}}, {"pk": {"S": "never-written"}}
        dynamodb.put_item(TableName=table, Item={**key, "v": {"N": "1"}})
        written = time.monotonic()
        assert "Item" not in dynamodb.get_item(TableName=table, Key=key)  # a replica that has not seen the put
        assert dynamodb.batch_get_item(RequestItems={table: {"Keys": [key]}})["Responses"][table] == []
        assert dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]["v"] == {"N": "1"}
        with pytest.raises(botocore.exceptions.ClientError):  # cancelled: its first write is undone
            dynamodb.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": table, "Item": {**other, "v": {"N": "2"}}}},
                    {
                        "ConditionCheck": {
                            "TableName": table,
                            "Key": key,
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
        assert "Item" not in dynamodb.get_item(TableName=table, Key=other)
        time.sleep(max(0.0, written + lag + 0.2 - time.monotonic()))
        assert dynamodb.get_item(TableName=table, Key=key)["Item"]["v"] == {"N": "1"}
        faults = requests.get(f"{stack.aws}/_devstack/faults", timeout=10).json()
    finally:
        stack.stop()
        receiver.close()
    assert delivered.headers["webhook-id"].startswith("msg_")
    assert len(receiver.at("/down")) == 1  # never sent again once disabled
    assert "not authorized" not in stack.output() and "queued again" not in stack.output()
    assert faults["dynamodb stale read"] >= 3  # the new webhook's first read, then the two above
