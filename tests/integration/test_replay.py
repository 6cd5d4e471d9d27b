"""`python -m ops redrive-fanout` on the emulator: every FanoutDLQ shape back on the bus, nothing deleted unless put."""

import json
import time

import boto3

from devstack.asynchronous import destination_record
from ops.fanout_dlq import replay
from tests.integration.conftest import bus_event, queued

BUS = "blue-events"


def tap(stack) -> str:
    """The rule's tap queue: where the bus delivers what the replay puts back (no poller drains it here)."""
    return next(source.queue_url for source in stack.sources if source.kind == "rule")


def test_each_shape_is_put_back_and_only_what_was_put_is_deleted(stack, queues, company):
    sqs, events = boto3.client("sqs"), boto3.client("events")
    sqs.purge_queue(QueueUrl=tap(stack))
    crashed, rejected, broken = bus_event(company), bus_event(company), bus_event(company)
    del crashed["detail"]["id"]  # the envelope id must then travel in the detail
    broken["detail"] = "not an object"  # PutEvents refuses it: it stays in FanoutDLQ
    error = {"errorMessage": "boom", "errorType": "RuntimeError", "requestId": "r", "stackTrace": []}
    record = destination_record(json.dumps(crashed), error, "arn:aws:lambda:us-east-1:1:function:F", "r", 3)
    reason = {"reason": {"DataType": "String", "StringValue": "unknown event type"}}
    sqs.send_message(QueueUrl=queues["FanoutDLQ"], MessageBody=record)
    sqs.send_message(QueueUrl=queues["FanoutDLQ"], MessageBody=json.dumps(rejected), MessageAttributes=reason)
    sqs.send_message(QueueUrl=queues["FanoutDLQ"], MessageBody=json.dumps(broken), MessageAttributes=reason)
    time.sleep(
        0.01
    )  # the run takes only what was sent before it began (millisecond timestamps): not one sent in its ms

    tally = replay(sqs, events, queues["FanoutDLQ"], BUS, wait_seconds=0)

    assert (tally.replayed, tally.failed, tally.unreplayable) == (2, 1, 0)
    assert [message["detail"] for message in queued(queues["FanoutDLQ"])] == ["not an object"]
    back = {event["detail"]["id"]: event for event in queued(tap(stack))}
    assert set(back) == {crashed["id"], rejected["detail"]["id"]}
    assert back[crashed["id"]]["detail"]["currentValue"] == crashed["detail"]["currentValue"]
    assert all(event["detail-type"] == "TODO_CREATED" and event["source"] == "blue" for event in back.values())


def test_a_dry_run_changes_nothing(queues, company):
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=queues["FanoutDLQ"], MessageBody=json.dumps(bus_event(company)))
    tally = replay(sqs, boto3.client("events"), queues["FanoutDLQ"], BUS, dry_run=True, wait_seconds=0)
    assert (tally.replayed, len(tally.held)) == (0, 1)
    assert len(queued(queues["FanoutDLQ"])) == 1


def test_messages_sent_after_the_run_began_wait_for_the_next_run(queues, company, monkeypatch):
    """An event rejected again comes back to FanoutDLQ while the replay runs: it is not replayed in a loop."""
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=queues["FanoutDLQ"], MessageBody=json.dumps(bus_event(company)))
    an_hour_ago = time.time() - 3600
    monkeypatch.setattr("ops.queues.time.time", lambda: an_hour_ago)  # the run began before it was sent
    tally = replay(sqs, boto3.client("events"), queues["FanoutDLQ"], BUS, wait_seconds=0)
    assert (tally.replayed, len(tally.held)) == (0, 1)
    assert len(queued(queues["FanoutDLQ"])) == 1
