"""The local stack's asynchronous invocation (retries, OnFailure record) and the replay's reading of FanoutDLQ."""

import json
import threading

import pytest

from devstack.asynchronous import AsyncInvoker, destination_record
from devstack.template import EventSource
from ops.fanout_dlq import held_event, put_entry

EVENT = {"id": "eb-1", "source": "blue", "detail-type": "TODO_CREATED", "detail": {"company": {"id": "c1"}}}


class Pool:
    """Fails the first `failures` invocations; records each one's event and request id."""

    def __init__(self, failures: int):
        self.failures, self.calls = failures, []

    def invoke(self, event, request_id=None):
        self.calls.append((event, request_id))
        if len(self.calls) <= self.failures:
            raise RuntimeError(f"crash {len(self.calls)}")


class Sqs:
    def __init__(self):
        self.sent = []

    def send_message(self, QueueUrl, MessageBody):  # boto3's argument names
        self.sent.append((QueueUrl, json.loads(MessageBody)))


def invoker(failures: int, on_failure_url: str | None = "dlq-url", retries: int = 2):
    source = EventSource("rule", "FanoutFunction", "tap", "tap-arn", retries=retries, on_failure_url=on_failure_url)
    return AsyncInvoker(Pool(failures), source, Sqs(), "us-east-1", threading.Event(), delay=0)


def test_an_error_gets_two_retries_then_the_on_failure_record_holding_the_event():
    local = invoker(failures=99)
    assert local.settle(json.dumps(EVENT))
    assert len(local.pool.calls) == 3
    assert len({request_id for _, request_id in local.pool.calls}) == 1  # one asynchronous invocation
    ((url, record),) = local.sqs.sent
    assert url == "dlq-url"
    assert record["version"] == "1.0" and record["timestamp"].endswith("Z")
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["requestContext"]["functionArn"].endswith(":function:FanoutFunction:$LATEST")
    assert record["requestPayload"] == EVENT
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    assert record["responsePayload"]["errorType"] == "RuntimeError"
    assert record["responsePayload"]["errorMessage"] == "crash 3"


@pytest.mark.parametrize("failures", [0, 1, 2])
def test_a_success_within_the_retries_records_nothing(failures):
    local = invoker(failures)
    assert local.settle(json.dumps(EVENT))
    assert len(local.pool.calls) == failures + 1 and local.sqs.sent == []


def test_the_retries_are_the_templates():
    local = invoker(failures=99, retries=0)
    assert local.settle(json.dumps(EVENT))
    assert len(local.pool.calls) == 1 and local.sqs.sent[0][1]["requestContext"]["approximateInvokeCount"] == 1


def test_the_function_gets_the_event_with_its_account():
    local = invoker(failures=0)
    local.settle(json.dumps(EVENT))
    assert local.pool.calls[0][0] == {**EVENT, "account": "123456789012"}


def test_a_refused_record_leaves_the_event_on_the_tap():
    local = invoker(failures=99)
    local.sqs.send_message = lambda **_: (_ for _ in ()).throw(RuntimeError("queue gone"))
    assert not local.settle(json.dumps(EVENT))


def test_without_a_destination_lambda_discards_the_event():
    local = invoker(failures=99, on_failure_url=None)
    assert local.settle(json.dumps(EVENT)) and local.sqs.sent == []


def test_the_replay_reads_each_fanout_dlq_shape():
    error = {"errorType": "ClientError", "errorMessage": "x"}
    record = {"Body": destination_record(json.dumps(EVENT), error, "arn", "r", 3)}
    rejected = {"Body": json.dumps(EVENT), "MessageAttributes": {"reason": {"StringValue": "too deep"}}}
    handed_off = {"Body": json.dumps(EVENT), "MessageAttributes": {"ERROR_CODE": {"StringValue": "THROTTLING"}}}
    assert held_event(record) == (EVENT, "OnFailure record (ClientError)")
    assert held_event(rejected) == (EVENT, "rejected: too deep")
    assert held_event(handed_off) == (EVENT, "not handed to Lambda: THROTTLING")
    assert held_event({"Body": json.dumps({"truncatedEvent": "{..."})})[0] is None
    assert held_event({"Body": "not json"})[0] is None


def test_a_replayed_event_keeps_its_id_and_its_producer_fields():
    entry = put_entry({**EVENT, "time": "2026-01-01T00:00:00Z", "resources": []}, "bus")
    assert json.loads(entry["Detail"]) == {**EVENT["detail"], "id": "eb-1"}  # the first EventBridge id
    assert entry == {
        "EventBusName": "bus",
        "Source": "blue",
        "DetailType": "TODO_CREATED",
        "Detail": entry["Detail"],
        "Time": "2026-01-01T00:00:00Z",
    }
    with_producer_id = {**EVENT, "detail": {**EVENT["detail"], "id": "producer-7"}}
    assert json.loads(put_entry(with_producer_id, "bus")["Detail"])["id"] == "producer-7"
