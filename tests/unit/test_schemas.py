"""Every event type's delivery schema is valid JSON Schema 2020-12, its example validates, and the schema can refuse."""

import pytest
from jsonschema import Draft202012Validator

from bluehooks.models.catalog import EVENT_TYPES
from bluehooks.models.schemas import delivery_schema, example

EVENTS = sorted(EVENT_TYPES)


def validator(event: str) -> Draft202012Validator:
    schema = delivery_schema(event)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


@pytest.mark.parametrize("event", EVENTS)
def test_the_example_validates_against_its_schema(event):
    errors = [error.message for error in validator(event).iter_errors(example(event))]
    assert errors == []


@pytest.mark.parametrize("event", EVENTS)
def test_the_schema_refuses_another_events_body_and_a_missing_part(event):
    body = example(event)
    other = next(name for name in EVENTS if name != event)
    assert not validator(event).is_valid({**body, "event": other})
    assert not validator(event).is_valid({name: value for name, value in body.items() if name != "webhook"})
    assert not validator(event).is_valid({**body, "company": None})


def test_the_webhook_object_in_a_body_has_no_secret_and_no_dangling_reference():
    webhook = delivery_schema("TODO_CREATED")["properties"]["webhook"]
    assert "secret" not in webhook["properties"] and "$ref" not in str(webhook)
    assert not validator("TODO_CREATED").is_valid({**example("TODO_CREATED"), "webhook": {"id": "wh_1"}})


@pytest.mark.parametrize("event", [name for name in EVENTS if name.endswith("_DELETED")])
def test_a_deletion_may_carry_nothing_as_its_current_value(event):
    assert validator(event).is_valid({**example(event), "currentValue": None})
    assert not validator("TODO_CREATED").is_valid({**example("TODO_CREATED"), "currentValue": None})
