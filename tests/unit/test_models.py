"""Models: API body validation, token claims, producer event details."""

import pytest
from pydantic import ValidationError

from bluehooks.models import Caller, EventDetail, WebhookCreate

URL = "https://example.com/hook"


def test_unknown_event_rejected_with_its_name():
    with pytest.raises(ValidationError) as info:
        WebhookCreate(url=URL, events=["TODO_CREATED", "NOT_A_REAL_EVENT"])
    assert "NOT_A_REAL_EVENT" in str(info.value)


def test_extra_field_rejected():
    with pytest.raises(ValidationError):
        WebhookCreate.model_validate({"url": URL, "colour": "blue"})


def test_events_deduplicated_and_sorted():
    body = WebhookCreate(url=URL, events=["TODO_UPDATED", "COMMENT_CREATED", "TODO_UPDATED", "TODO_CREATED"])
    assert body.events == ["COMMENT_CREATED", "TODO_CREATED", "TODO_UPDATED"]


def test_short_secret_rejected():
    with pytest.raises(ValidationError):
        WebhookCreate(url=URL, secret="1234567")


def test_eight_character_secret_accepted():
    assert WebhookCreate(url=URL, secret="12345678").secret == "12345678"


def test_url_required():
    with pytest.raises(ValidationError) as info:
        WebhookCreate.model_validate({"events": ["TODO_CREATED"]})
    assert any(error["loc"] == ("url",) for error in info.value.errors())


def test_caller_int_ids_coerced_to_text():
    caller = Caller.model_validate({"sub": 42, "company": 7, "role": "ADMIN", "projects": [1, "p2"]})
    assert caller.sub == "42"
    assert caller.company == "7"
    assert caller.projects == ["1", "p2"]


def test_caller_bool_id_rejected():
    with pytest.raises(ValidationError):
        Caller.model_validate({"sub": True, "company": "c", "role": "ADMIN"})


@pytest.mark.parametrize("role", ["SUPERUSER", "admin", "", None])
def test_caller_bad_role_rejected(role):
    with pytest.raises(ValidationError):
        Caller.model_validate({"sub": "u", "company": "c", "role": role})


def test_event_detail_company_required():
    with pytest.raises(ValidationError):
        EventDetail.model_validate({"project": {"id": "p1"}})


@pytest.mark.parametrize("entity_id", ["c-1", 17])
def test_event_detail_ids_may_be_text_or_int(entity_id):
    detail = EventDetail.model_validate({"company": {"id": entity_id}, "project": {"id": entity_id}})
    assert detail.company.key == str(entity_id)
    assert detail.project.key == str(entity_id)


@pytest.mark.parametrize("field", ["company", "project", "user"])
def test_event_detail_bool_is_not_an_id(field):
    detail = {"company": {"id": "c"}, field: {"id": True}}
    with pytest.raises(ValidationError):
        EventDetail.model_validate(detail)
