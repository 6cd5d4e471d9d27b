"""Events the fan-out cannot simply deliver, through the local stack as `make run` starts it.

Each one ends in a delivery or in FanoutDLQ (with a reason, or in Lambda's OnFailure record),
never nowhere; what is in FanoutDLQ goes back on the bus with the replay command.
"""

import json
import subprocess
import sys
import time
import uuid
from typing import Any

import pytest
import requests

from devstack.token import mint
from tests.e2e.localstack import ROOT

SECRET = "e2e-fanout-secret-e2e-fanout-secret"
BUS = "blue-events"
FANOUT_DLQ = "blue-webhooks-local-FanoutDLQ"


STACK_ENV = {"WEBHOOKS_JWT_SECRET": SECRET, "ASYNC_RETRY_DELAY_SECONDS": "0.2"}


def queue_url(stack, name: str) -> str:
    return stack.client("sqs").get_queue_url(QueueName=f"blue-webhooks-local-{name}")["QueueUrl"]


def create_webhook(stack, company: str, url: str) -> None:
    token = mint(company, "user-1", "ADMIN", SECRET)
    response = requests.post(
        f"{stack.api}/webhooks",
        json={"url": url, "events": ["TODO_CREATED"]},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text


def put(stack, company: str, detail_id: str | None = None, **detail: Any) -> str:
    """PutEvents of a TODO_CREATED; returns the id EventBridge gave it."""
    fields = {"company": {"id": company}, "project": {"id": "p1"}, "user": {"id": "u1"}, "currentValue": {}}
    fields.update(detail)
    if detail_id:
        fields["id"] = detail_id
    entry = {"Source": "blue", "DetailType": "TODO_CREATED", "EventBusName": BUS, "Detail": json.dumps(fields)}
    (result,) = stack.client("events").put_events(Entries=[entry])["Entries"]
    return result["EventId"]


def held_event(body: dict[str, Any]) -> dict[str, Any]:
    return body.get("requestPayload", body)


def dead_lettered(stack, event_id: str, keep: bool = False, timeout: float = 15) -> tuple[dict, dict]:
    """The FanoutDLQ message holding this EventBridge event (body, attributes); deleted unless `keep`."""
    sqs, url = stack.client("sqs"), queue_url(stack, "FanoutDLQ")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"]
        )
        for message in response.get("Messages", []):
            body = json.loads(message["Body"])
            if held_event(body).get("id") == event_id and not keep:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            else:
                sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
            if held_event(body).get("id") == event_id:
                return body, message.get("MessageAttributes", {})
    raise AssertionError(f"event {event_id} is not in FanoutDLQ")


def replay(stack, *options: str) -> str:
    """The replay command, as `make replay-fanout-dlq` runs it."""
    command = [sys.executable, "-m", "ops", "redrive-fanout", "--endpoint-url", stack.aws, *options]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def nested(levels: int) -> Any:
    value: Any = "leaf"
    for _ in range(levels):
        value = {"down": value}
    return value


def depth(value: Any) -> int:
    levels = 0
    while isinstance(value, dict):
        value, levels = value["down"], levels + 1
    return levels


def test_an_event_nested_255_levels_deep_is_dead_lettered_whole_with_the_reason(stack):
    event_id = put(stack, "deep-co", currentValue=nested(255))
    body, attributes = dead_lettered(stack, event_id)
    assert "nested deeper than 32 levels" in attributes["reason"]["StringValue"]
    assert depth(body["detail"]["currentValue"]) == 255


def test_a_lone_surrogate_is_dead_lettered_whole_as_ascii_json(stack):
    event_id = put(stack, "surrogate-co", currentValue={"title": "broken \ud800 text"})
    body, attributes = dead_lettered(stack, event_id)
    assert "lone surrogate" in attributes["reason"]["StringValue"]
    assert body["detail"]["currentValue"]["title"] == "broken \ud800 text"


def test_the_same_producer_id_from_two_companies_reaches_both(stack, receiver):
    create_webhook(stack, "twin-a", receiver.url("/twin-a"))
    create_webhook(stack, "twin-b", receiver.url("/twin-b"))
    shared = f"order-{uuid.uuid4().hex[:6]}"
    put(stack, "twin-a", shared, currentValue={"title": "from a"})
    put(stack, "twin-b", shared, currentValue={"title": "from b"})
    assert json.loads(receiver.wait_for("/twin-a")[0].body)["currentValue"] == {"title": "from a"}
    assert json.loads(receiver.wait_for("/twin-b")[0].body)["currentValue"] == {"title": "from b"}


def test_a_rejected_event_is_not_remembered_its_correction_is_delivered(stack, receiver):
    create_webhook(stack, "fix-co", receiver.url("/fix"))
    same = f"todo-{uuid.uuid4().hex[:6]}"
    dead_lettered(stack, put(stack, "fix-co", same, currentValue={"title": "bad \udfff"}))
    put(stack, "fix-co", same, currentValue={"title": "fixed"})
    assert json.loads(receiver.wait_for("/fix")[0].body)["currentValue"] == {"title": "fixed"}


def invocation_failures(stack, event_id: str) -> int:
    return sum("FanoutFunction invocation" in line and event_id in line for line in stack.output().splitlines())


def settled_in_on_failure_record(stack, event_id: str) -> dict[str, Any]:
    """The OnFailure record of the event, after which the fan-out is not invoked for it again."""
    record, _ = dead_lettered(stack, event_id, keep=True)
    # A bounded wait, as nothing here can be waited for: an invocation after the record would be a fourth line.
    time.sleep(1)
    assert invocation_failures(stack, event_id) == 3
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["responseContext"]["functionError"] == "Unhandled"
    return record


def test_a_batch_sqs_refuses_fails_the_invocation_into_the_on_failure_record(stack, receiver):
    # SQS refusing the delivery messages for real: the queue's size limit lowered under them.
    sqs, delivery_queue = stack.client("sqs"), queue_url(stack, "DeliveryQueue")
    create_webhook(stack, "refused-co", receiver.url("/refused"))
    sqs.set_queue_attributes(QueueUrl=delivery_queue, Attributes={"MaximumMessageSize": "1024"})
    try:
        event_id = put(stack, "refused-co", currentValue={"title": "y" * 2048})
        record = settled_in_on_failure_record(stack, event_id)
    finally:
        sqs.set_queue_attributes(QueueUrl=delivery_queue, Attributes={"MaximumMessageSize": "1048576"})
    assert record["responsePayload"]["errorType"] == "EnqueueFailed"  # naming SQS's refusal
    assert "SendMessageBatch" in record["responsePayload"]["errorMessage"]
    assert record["requestPayload"]["detail"]["currentValue"] == {"title": "y" * 2048}
    assert "replayed TODO_CREATED " + event_id in replay(stack)
    assert json.loads(receiver.wait_for("/refused")[0].body)["currentValue"] == {"title": "y" * 2048}


def test_a_crash_is_invoked_three_times_recorded_replayed_and_fanned_out(stack, receiver):
    dynamodb = stack.client("dynamodb")
    table = dynamodb.describe_table(TableName="blue-webhooks-local-WebhooksTable")["Table"]
    create_webhook(stack, "crash-co", receiver.url("/crash"))
    items = dynamodb.scan(TableName=table["TableName"])["Items"]
    dynamodb.delete_table(TableName=table["TableName"])  # the fan-out crashes on its subscription read
    try:
        event_id = put(stack, "crash-co", currentValue={"title": "survives"})
        record = settled_in_on_failure_record(stack, event_id)
    finally:
        dynamodb.create_table(
            TableName=table["TableName"],
            KeySchema=table["KeySchema"],
            AttributeDefinitions=table["AttributeDefinitions"],
            BillingMode="PAY_PER_REQUEST",
        )
        for item in items:
            dynamodb.put_item(TableName=table["TableName"], Item=item)
    assert record["requestPayload"]["id"] == event_id
    assert record["requestPayload"]["detail"]["currentValue"] == {"title": "survives"}
    assert "ResourceNotFoundException" in record["responsePayload"]["errorMessage"]
    assert receiver.at("/crash") == []

    assert f"would replay TODO_CREATED {event_id}" in replay(stack, "--dry-run")
    dead_lettered(stack, event_id, keep=True)  # a dry run changes nothing
    assert f"replayed TODO_CREATED {event_id}" in replay(stack)
    delivered = receiver.wait_for("/crash")
    assert json.loads(delivered[0].body)["currentValue"] == {"title": "survives"}
    with pytest.raises(AssertionError, match="not in FanoutDLQ"):
        dead_lettered(stack, event_id, timeout=2)
