"""The SQS in-flight ceiling, scaled down: a dead endpoint's waiting retries do not stop anyone else's deliveries."""

import json
import threading
import time

import pytest
import requests

from devstack.token import mint
from tests.e2e.localstack import LocalStackProcess

SECRET = "inflight-jwt-secret-inflight-jwt"
LIMIT = 20
EVENTS = 60


@pytest.fixture(scope="module")
def stack():
    running = LocalStackProcess(
        WEBHOOKS_JWT_SECRET=SECRET,
        SQS_INFLIGHT_LIMIT=str(LIMIT),
        RETRY_SCHEDULE="0,2,2,2,2,2,2,2",
        DELIVERY_TIMEOUT_SECONDS="1",
    )
    yield running
    running.stop()


def test_a_dead_endpoints_backlog_does_not_stop_a_healthy_endpoints_deliveries(stack, receiver):
    headers = {"Authorization": f"Bearer {mint('busy', 'u1', 'ADMIN', SECRET)}"}
    for path, status in (("/dead", 503), ("/alive", 200)):
        url = receiver.behave(path, status=status)
        assert requests.post(f"{stack.api}/webhooks", json={"url": url}, headers=headers, timeout=10).status_code == 201
    sqs, events = stack.client("sqs"), stack.client("events")
    queue = sqs.get_queue_url(QueueName="blue-webhooks-local-DeliveryQueue")["QueueUrl"]
    most_in_flight, watching = [0], threading.Event()

    def watch() -> None:
        while not watching.is_set():
            counts = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
            most_in_flight[0] = max(
                most_in_flight[0], int(counts["Attributes"]["ApproximateNumberOfMessagesNotVisible"])
            )
            time.sleep(0.05)

    threading.Thread(target=watch, daemon=True).start()
    for start in range(0, EVENTS, 10):
        entries = [
            {
                "Source": "blue",
                "DetailType": "TODO_CREATED",
                "EventBusName": "blue-events",
                "Detail": json.dumps({"company": {"id": "busy"}, "project": {"id": "p1"}, "currentValue": {"n": n}}),
            }
            for n in range(start, start + 10)
        ]
        events.put_events(Entries=entries)
    receiver.wait_for("/alive", EVENTS, timeout=60)
    watching.set()
    assert len(receiver.at("/alive")) == EVENTS
    assert len(receiver.at("/dead")) >= 5  # tried until UNHEALTHY; then one probe at a time
    delayed = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessagesDelayed"])
    # Its deliveries wait as delayed messages: as in-flight ones they would be three times the ceiling.
    assert int(delayed["Attributes"]["ApproximateNumberOfMessagesDelayed"]) >= EVENTS - LIMIT
    assert most_in_flight[0] < LIMIT, most_in_flight[0]
    assert "OverLimit" not in stack.output()


def test_the_emulator_enforces_the_ceiling_as_aws_does(stack):
    sqs = stack.client("sqs")
    queue = sqs.create_queue(QueueName="ceiling")["QueueUrl"]
    for n in range(LIMIT + 5):
        sqs.send_message(QueueUrl=queue, MessageBody=str(n))
    received = 0
    while received < LIMIT:
        received += len(sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=60)["Messages"])
    with pytest.raises(sqs.exceptions.ClientError, match="OverLimit"):
        sqs.receive_message(QueueUrl=queue)
