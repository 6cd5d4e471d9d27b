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
        sqs.send_message_batch(QueueUrl=queue, Entries=[{"Id": str(n), "MessageBody": "m"} for n in range(3)])
        assert len(sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]) == 3
        assert "Messages" not in sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0)

    rows = {(r["service"], r["action"], r["resource"], r["detail"]): (r["count"], r["items"]) for r in counted(work)}
    assert rows == {
        ("dynamodb", "GetItem", table, ""): (3, 3),
        ("dynamodb", "GetItem", table, "consistent"): (1, 1),
        ("sqs", "SendMessageBatch", "call-counts", ""): (1, 3),
        ("sqs", "ReceiveMessage", "call-counts", "messages"): (1, 3),  # items: the messages it returned
        ("sqs", "ReceiveMessage", "call-counts", "empty"): (1, 0),
    }


def test_a_delivered_event_is_one_put_one_fan_out_and_one_delivery(stack, api, receiver, delivery_poller, company):
    """The event goes the whole way: PutEvents, the rule's tap, FanoutFunction, DeliveryQueue, DeliveryFunction."""
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

    kinds = Counter()
    for row in counted(deliver):
        if row["detail"] != "empty":
            kinds[row["service"], row["action"]] += row["items"]
    assert len(receiver.at("/counted")) == 1
    assert kinds[("events", "PutEvents")] == 1
    assert kinds[("sqs", "SendMessageBatch")] == 1  # the fan-out's one delivery message
    assert kinds[("sqs", "DeleteMessageBatch")] == 2  # the tap's event, the delivery's message
    invoked = {function: row["invocations"] for function, row in invocations.since(invoked_before).items()}
    assert invoked == {rule.function: 1, "DeliveryFunction": 1}
