"""GET /event-types and the OpenAPI document describe what receivers get, and what they get matches."""

import json
import time

from jsonschema import Draft202012Validator

from bluehooks.models.catalog import EVENT_TYPES, PLATFORM_ONLY_EVENTS
from tests.integration.conftest import bus_event


def test_each_event_type_has_a_schema_and_an_example_that_validates(api):
    status, types = api("GET", "/event-types")
    assert status == 200 and [kind["name"] for kind in types] == list(EVENT_TYPES)
    for kind in types:
        Draft202012Validator.check_schema(kind["schema"])
        assert Draft202012Validator(kind["schema"]).is_valid(kind["example"]), kind["name"]
        assert kind["example"]["event"] == kind["name"] and kind["description"] == EVENT_TYPES[kind["name"]]


def test_the_openapi_document_lists_every_delivery_as_a_webhook(handlers):
    from devstack.apigateway import proxy_event
    from devstack.lambdas import LambdaContext

    answer = handlers["api"](proxy_event("GET", "/openapi.json", {}, b"", "test"), LambdaContext("ApiFunction"))
    webhooks = json.loads(answer["body"])["webhooks"]
    assert set(webhooks) == set(EVENT_TYPES)
    body = webhooks["COMMENT_CREATED"]["post"]["requestBody"]["content"]["application/json"]
    assert Draft202012Validator(body["schema"]).is_valid(body["example"])


def test_every_delivered_body_validates_against_its_types_schema(api, handlers, company, receiver, delivery_poller):
    from devstack.lambdas import LambdaContext

    status, webhook = api("POST", "/webhooks", {"url": receiver.url("/typed")})
    assert status == 201
    _, types = api("GET", "/event-types")
    schemas = {kind["name"]: kind["schema"] for kind in types}
    sent = [name for name in EVENT_TYPES if name not in PLATFORM_ONLY_EVENTS]
    for name, kind in ((name, next(k for k in types if k["name"] == name)) for name in sent):
        values = {key: kind["example"][key] for key in ("currentValue", "previousValue")}
        handlers["fanout"](bus_event(company, event=name, **values), LambdaContext("FanoutFunction"))
    assert api("POST", f"/webhooks/{webhook['id']}/test")[0] == 202
    deadline = time.monotonic() + 60
    while len(receiver.at("/typed")) < len(sent) + 1 and time.monotonic() < deadline:
        delivery_poller.poll_once(wait_seconds=1)
    bodies = [json.loads(request.body) for request in receiver.at("/typed")]
    assert sorted(body["event"] for body in bodies) == sorted([*sent, "WEBHOOK_TEST"])
    for body in bodies:
        errors = [error.message for error in Draft202012Validator(schemas[body["event"]]).iter_errors(body)]
        assert errors == [], body["event"]


def test_a_test_of_an_event_type_sends_its_example_in_the_webhooks_company(api, company, receiver, delivery_poller):
    status, webhook = api("POST", "/webhooks", {"url": receiver.url("/example"), "events": ["COMMENT_CREATED"]})
    assert status == 201
    _, types = api("GET", "/event-types")
    schema = next(kind["schema"] for kind in types if kind["name"] == "COMMENT_CREATED")
    assert api("POST", f"/webhooks/{webhook['id']}/test", {"eventType": "COMMENT_CREATED"})[0] == 202
    status, refused = api("POST", f"/webhooks/{webhook['id']}/test", {"eventType": "TODO_CREATED"})
    assert status == 400 and "no longer subscribes to TODO_CREATED" in refused["message"]
    assert api("POST", f"/webhooks/{webhook['id']}/test", {"eventType": "NOPE"})[0] == 422
    deadline = time.monotonic() + 30
    while not receiver.at("/example") and time.monotonic() < deadline:
        delivery_poller.poll_once(wait_seconds=1)
    (request,) = receiver.at("/example")
    body = json.loads(request.body)
    assert body["event"] == "COMMENT_CREATED" and body["company"] == {"id": company}
    assert list(Draft202012Validator(schema).iter_errors(body)) == []
