"""events/: every sample parses with the models of the handler it is for, and the committed set is up to date."""

import hashlib
import importlib.util
import json
import re
from pathlib import Path

import pytest
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventModel, SqsModel
from pydantic import BaseModel, ValidationError

from bluehooks.models import (
    BusEvent,
    DeliveryMessage,
    FilterTest,
    RecoverRequest,
    SecretRotation,
    WebhookCreate,
    WebhookUpdate,
)
from bluehooks.models.catalog import EVENT_TYPES, PLATFORM_ONLY_EVENTS
from devtools import samples

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = samples.committed()
API = {name: sample for name, sample in COMMITTED.items() if name.startswith("api-")}
FANOUT = {name: sample for name, sample in COMMITTED.items() if name.startswith("fanout-")}
SQS = {name: sample for name, sample in COMMITTED.items() if name.endswith("-sqs-batch.json")}
VALUES = {"TOKEN": "header.claims.signature", "WEBHOOK_ID": "wh_0123456789abcdef01234567", "DELIVERY_ID": "msg_x"}
BODIES: dict[str, type[BaseModel]] = {
    "api-create-webhook.json": WebhookCreate,
    "api-update-webhook.json": WebhookUpdate,
    "api-rotate-secret.json": SecretRotation,
    "api-recover.json": RecoverRequest,
    "api-test-filter.json": FilterTest,
}


@pytest.fixture(scope="module")
def fanout_app():
    """functions/fanout/app.py, loaded as Lambda loads it, with an environment that reaches nothing."""
    environment = {name: "unused" for name in ("WEBHOOKS_TABLE", "IDEMPOTENCY_TABLE", "PAYLOAD_BUCKET")}
    environment |= {"DELIVERY_QUEUE_URL": "http://127.0.0.1:9/q", "FANOUT_DLQ_URL": "http://127.0.0.1:9/f"}
    environment |= {"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
    environment |= {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}
    environment |= {"POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true"}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, value)
        spec = importlib.util.spec_from_file_location("fanout_app_for_samples", ROOT / "functions/fanout/app.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return module


def test_the_committed_samples_are_the_generated_ones():
    generated = samples.generate()
    assert sorted(COMMITTED) == sorted(generated), "run: python -m devtools.samples --generate"
    for name, sample in generated.items():
        assert (samples.EVENTS / name).read_text() == samples.dumps(sample), (
            f"{name}: run python -m devtools.samples --generate"
        )


def test_every_function_and_source_has_samples():
    assert {f"api-{route}.json" for route in samples.ROUTES} == set(API)
    fanned_out = [name for name in EVENT_TYPES if name not in PLATFORM_ONLY_EVENTS]
    assert {f"fanout-{name.lower().replace('_', '-')}.json" for name in fanned_out} == set(FANOUT)
    assert set(SQS) == {"delivery-sqs-batch.json", "retry-sqs-batch.json"}
    assert "fanout-todo-created.json" in FANOUT


def test_no_token_is_committed():
    for name, sample in COMMITTED.items():
        text = json.dumps(sample)
        assert not re.search(r"eyJ[\w-]+\.[\w-]+\.[\w-]+", text), f"{name} holds a JWT"
        assert samples.placeholders(sample) <= set(VALUES), name
        authorizations = [value for key, value in sample.get("headers", {}).items() if key == "Authorization"]
        authorizations += [v[0] for key, v in sample.get("multiValueHeaders", {}).items() if key == "Authorization"]
        assert all(value == "Bearer ${TOKEN}" for value in authorizations), name


@pytest.mark.parametrize("name", sorted(FANOUT))
def test_a_bus_event_is_accepted_by_the_fanout(name, fanout_app):
    event = FANOUT[name]
    blue_event = BusEvent.model_validate(event)
    assert blue_event.source == "blue" and blue_event.detail_type == event["detail-type"]
    accepted = fanout_app.accepted(event)  # what the handler does first: validated, in the catalog, within limits
    assert (accepted.company, accepted.type, accepted.id) == ("company-1", event["detail-type"], event["detail"]["id"])
    assert accepted.payload["event"] == event["detail-type"]


def test_bus_events_have_distinct_ids_and_values():
    assert len({sample["detail"]["id"] for sample in FANOUT.values()}) == len(FANOUT)
    assert len({sample["id"] for sample in FANOUT.values()}) == len(FANOUT)
    assert FANOUT["fanout-todo-created.json"]["detail"]["id"] == "evt-0001"  # tests/integration/test_fanout.py
    for sample in FANOUT.values():
        event, detail = sample["detail-type"], sample["detail"]
        if event.endswith("_CREATED"):
            assert detail["currentValue"] and detail["previousValue"] is None
        elif event.endswith("_DELETED"):
            assert detail["currentValue"] is None and detail["previousValue"]
        else:
            assert detail["currentValue"] != detail["previousValue"], event


@pytest.mark.parametrize("name", sorted(SQS))
@pytest.mark.parametrize("rendered", [False, True])
def test_an_sqs_batch_holds_one_delivery_and_one_poison_message(name, rendered):
    batch = samples.render(SQS[name], VALUES) if rendered else SQS[name]
    good, poison = SqsModel.model_validate(batch).Records
    message = DeliveryMessage.model_validate_json(good.body)
    assert message.webhookId == (VALUES["WEBHOOK_ID"] if rendered else "${WEBHOOK_ID}")
    with pytest.raises(ValidationError):
        DeliveryMessage.model_validate_json(poison.body)
    for record in batch["Records"]:
        assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()
        assert record["eventSourceARN"].endswith(name.split("-")[0].capitalize() + "Queue")


def test_the_retry_sample_waits_for_a_later_attempt():
    good = SqsModel.model_validate(SQS["retry-sqs-batch.json"]).Records[0]
    message = DeliveryMessage.model_validate_json(good.body)
    assert message.attempt == 2 and message.dueAt


@pytest.mark.parametrize("name", sorted(API))
def test_an_api_request_is_a_rest_proxy_event(name):
    for sample in (API[name], samples.render(API[name], VALUES)):
        event = APIGatewayProxyEventModel.model_validate(sample)
        assert event.path == "/" + event.pathParameters["proxy"]
        assert event.requestContext.path == f"/{event.requestContext.stage}{event.path}"
        assert event.headers.keys() == event.multiValueHeaders.keys()
        if name in BODIES:
            assert event.headers["Content-Type"] == "application/json"
            BODIES[name].model_validate_json(event.body)
        elif event.body is not None:
            pytest.fail(f"{name} has a body no route reads")


def test_rendering_fills_every_placeholder():
    for name, sample in COMMITTED.items():
        rendered = samples.render(sample, VALUES)
        assert not samples.placeholders(rendered), name
    request = samples.render(API["api-get-delivery.json"], VALUES)
    assert request["path"] == "/webhooks/wh_0123456789abcdef01234567/deliveries/msg_x"
    assert request["headers"]["Authorization"] == request["multiValueHeaders"]["Authorization"][0]
