"""The emulator's call counts and the local runtime's invocation counts, which `make bench`'s cost section prices."""

import json
import os
import threading
from collections import Counter

import boto3

from devstack.emulator import calls, difference
from devstack.lambdas import FunctionPool, invocations
from devstack.sources import Poller
from devstack.stack import REGION


def counted(action) -> list[dict]:
    """The calls the emulator served while `action` ran."""
    before = calls(os.environ["AWS_ENDPOINT_URL"])
    action()
    return difference(before, calls(os.environ["AWS_ENDPOINT_URL"]))


def test_calls_are_counted_by_service_action_and_resource(stack):
    table = stack.ref("WebhooksTable")
    sqs, dynamodb = boto3.client("sqs"), boto3.client("dynamodb")
    queue = sqs.create_queue(QueueName="call-counts")["QueueUrl"]

    def work() -> None:
        for number in range(3):
            dynamodb.get_item(TableName=table, Key={"pk": {"S": f"nobody-{number}"}, "sk": {"S": "x"}})
        dynamodb.get_item(TableName=table, Key={"pk": {"S": "nobody"}, "sk": {"S": "x"}}, ConsistentRead=True)
        keys = [{"pk": {"S": "nobody"}, "sk": {"S": name}} for name in ("x", "y")]
        dynamodb.batch_get_item(RequestItems={table: {"Keys": keys, "ConsistentRead": True}})
        dynamodb.batch_get_item(RequestItems={table: {"Keys": keys[:1]}})
        sqs.send_message_batch(QueueUrl=queue, Entries=[{"Id": str(n), "MessageBody": "m"} for n in range(3)])
        assert len(sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]) == 3
        assert "Messages" not in sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0)

    rows = {(r["service"], r["action"], r["resource"], r["detail"]): (r["count"], r["items"]) for r in counted(work)}
    assert rows == {
        ("dynamodb", "GetItem", table, ""): (3, 3),
        ("dynamodb", "GetItem", table, "consistent"): (1, 1),
        ("dynamodb", "BatchGetItem", "", "consistent"): (1, 2),  # items: the keys it read
        ("dynamodb", "BatchGetItem", "", ""): (1, 1),
        ("sqs", "SendMessageBatch", "call-counts", ""): (1, 3),
        ("sqs", "ReceiveMessage", "call-counts", "messages"): (1, 3),  # items: the messages it returned
        ("sqs", "ReceiveMessage", "call-counts", "empty"): (1, 0),
    }


# What AWS bills per delivered event to one webhook besides PutEvents and polling (issue 19: at most 6).
STEADY = {
    ("dynamodb", "Query", "WebhooksTable"): 2,  # the subscription index: the event's type, and "*"
    ("dynamodb", "BatchGetItem", ""): 1,  # the webhook and the delivery's log item, in one call
    ("dynamodb", "UpdateItem", "DeliveriesTable"): 1,  # the attempt, in the delivery log
    ("sqs", "SendMessageBatch", "DeliveryQueue"): 1,  # the fan-out's one delivery message
    ("sqs", "DeleteMessageBatch", "DeliveryQueue"): 1,  # the event source mapping's, after the batch
}
# A first delivery also decrypts the secret (then cached) and writes the webhook's health (then kept to the minute).
FIRST = {**STEADY, ("kms", "Decrypt", ""): 1, ("dynamodb", "UpdateItem", "WebhooksTable"): 1}


def billed(rows: list[dict], stack) -> Counter:
    """Calls by (service, action, table or queue), as AWS bills them: no tap queue (Lambda's own), no receive."""
    names = {stack.ref(name).rsplit("/", 1)[-1]: name for name in ("WebhooksTable", "DeliveriesTable", "DeliveryQueue")}
    kinds = Counter()
    for row in rows:
        if row["action"] not in ("PutEvents", "ReceiveMessage") and not row["resource"].endswith("-tap"):
            kinds[row["service"], row["action"], names.get(row["resource"], "")] += row["count"]
    return kinds


def test_a_delivered_event_is_one_put_one_fan_out_and_one_delivery(
    stack, api, receiver, delivery_poller, company, queues
):
    """The event goes the whole way: PutEvents, the rule's tap, FanoutFunction, DeliveryQueue, DeliveryFunction;
    and costs the calls counted here, so that one more fails this test."""
    status, _ = api("POST", "/webhooks", {"url": receiver.url("/counted"), "events": ["TODO_CREATED"]})
    assert status == 201
    rule = next(s for s in stack.sources if s.kind == "rule")
    path, name = stack.handler_path(rule.function)
    fanout = Poller(
        rule,
        FunctionPool(rule.function, path, name, stack.layer_paths(rule.function), 1, 30),
        REGION,
        threading.Event(),
    )
    detail = {"company": {"id": company}, "project": {"id": "p1"}, "currentValue": {"title": "counted"}}
    invoked_before = invocations.snapshot()

    def deliver() -> None:
        boto3.client("events").put_events(
            Entries=[
                {
                    "Source": "blue",
                    "DetailType": "TODO_CREATED",
                    "EventBusName": stack.ref("EventBus"),
                    "Detail": json.dumps(detail),
                }
            ]
        )
        assert fanout.poll_once(wait_seconds=2) == 1
        assert delivery_poller.poll_once(wait_seconds=2) == 1

    first = counted(deliver)
    kinds = Counter()
    for row in first:
        if row["detail"] != "empty":
            kinds[row["service"], row["action"]] += row["items"]
    assert len(receiver.at("/counted")) == 1
    assert kinds[("events", "PutEvents")] == 1
    assert kinds[("sqs", "DeleteMessageBatch")] == 2  # the tap's event, the delivery's message
    invoked = {function: row["invocations"] for function, row in invocations.since(invoked_before).items()}
    assert invoked == {rule.function: 1, "DeliveryFunction": 1}
    assert billed(first, stack) == FIRST

    steady = counted(deliver)
    assert billed(steady, stack) == STEADY
    # Half the read units: eventually consistent (store.read_together says why that is safe).
    assert [row["detail"] for row in steady if row["action"] == "BatchGetItem"] == [""]
    assert len(receiver.at("/counted")) == 2
    assert sum(STEADY.values()) <= 6
