"""FanoutFunction with EventBridge-shaped events: the index query, matching, SQS batches, DLQ."""

import boto3

from tests.integration.conftest import bus_event, queued, sample


def make(api, **fields) -> dict:
    status, webhook = api("POST", "/webhooks", {"url": "https://93.184.216.34/hook", **fields})
    assert status == 201
    return webhook


def fan_out(handlers, event: dict) -> dict:
    from devstack.lambdas import LambdaContext

    return handlers["fanout"](event, LambdaContext("FanoutFunction"))


def test_one_message_per_matching_webhook(api, handlers, queues, company):
    wanted = {
        make(api, events=["TODO_CREATED"])["id"],
        make(api)["id"],  # all events
        make(api, events=["COMMENT_CREATED", "TODO_CREATED"], projectIds=["project-1"])["id"],
    }
    make(api, events=["COMMENT_CREATED"])  # other event
    make(api, projectIds=["project-2"])  # other project
    make(api, enabled=False)  # disabled

    result = fan_out(handlers, bus_event(company))

    messages = queued(queues["DeliveryQueue"])
    assert {m["webhookId"] for m in messages} == wanted
    assert result["queued"] == 3 and result["subscribed"] == 5
    assert len({m["deliveryId"] for m in messages}) == 3
    assert all(m["companyId"] == company and m["event"] == "TODO_CREATED" for m in messages)
    assert all(m["payload"]["project"] == {"id": "project-1"} for m in messages)


def test_other_companies_webhooks_never_get_the_event(api, handlers, queues, company):
    make(api)
    fan_out(handlers, bus_event("a-different-company"))
    assert queued(queues["DeliveryQueue"]) == []


def test_no_secret_ever_reaches_the_queue(api, handlers, queues, company):
    secret = make(api, secret="do-not-leak-this-secret")["secret"]
    fan_out(handlers, bus_event(company))
    sqs = boto3.client("sqs")
    raw = sqs.receive_message(QueueUrl=queues["DeliveryQueue"], MaxNumberOfMessages=10)["Messages"]
    assert raw and all(secret not in message["Body"] and "secret" not in message["Body"] for message in raw)


def test_a_redelivered_event_is_fanned_out_once(api, handlers, queues, company):
    make(api)
    event = bus_event(company)
    first = fan_out(handlers, event)
    second = fan_out(handlers, {**event, "id": "eventbridge-retry-has-another-envelope-id"})
    assert first == second
    assert len(queued(queues["DeliveryQueue"])) == 1


def test_invalid_events_are_dead_lettered_with_a_reason(handlers, queues, company):
    no_company = bus_event(company)
    del no_company["detail"]["company"]
    bad_project = bus_event(company, project={"nested": "object"})
    unknown = bus_event(company, event="TODO_EXPLODED")
    not_a_dict = {**bus_event(company), "detail": "just a string"}
    for event in (no_company, bad_project, unknown, not_a_dict):
        assert "rejected" in fan_out(handlers, event)

    sqs = boto3.client("sqs")
    dead = sqs.receive_message(QueueUrl=queues["FanoutDLQ"], MaxNumberOfMessages=10, MessageAttributeNames=["reason"])[
        "Messages"
    ]
    assert len(dead) == 4
    reasons = " ".join(m["MessageAttributes"]["reason"]["StringValue"] for m in dead)
    assert "TODO_EXPLODED" in reasons and "company" in reasons
    assert queued(queues["DeliveryQueue"]) == []


def test_the_sample_event_fans_out(api, handlers, queues):
    event = sample("fanout-todo-created.json")
    result = fan_out(handlers, event)
    assert result["event"] == "TODO_CREATED" and result["eventId"] == "evt-0001"


def test_a_corrected_event_with_the_same_id_is_fanned_out(api, handlers, queues, company):
    make(api)
    event = bus_event(company)
    broken = {**event, "detail": {**event["detail"], "company": None}}
    assert "rejected" in fan_out(handlers, broken)
    assert fan_out(handlers, event)["queued"] == 1
