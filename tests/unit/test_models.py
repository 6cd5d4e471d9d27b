"""Models: API body validation, token claims, producer event details."""

import base64

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


@pytest.mark.parametrize(
    "secret",
    ["aaaaaaaa", "a" * 15, "whsec_AA==", "whsec_" + "A" * 20, "whsec_" + base64.b64encode(b"k" * 15).decode()],
)
def test_a_secret_with_less_than_16_bytes_of_key_material_is_refused(secret):
    with pytest.raises(ValidationError, match="16"):
        WebhookCreate(url=URL, secret=secret)


def test_whsec_must_be_followed_by_base64():
    with pytest.raises(ValidationError, match="base64"):
        WebhookCreate(url=URL, secret="whsec_" + "!" * 30)


@pytest.mark.parametrize("secret", ["a" * 16, "whsec_" + base64.b64encode(b"k" * 16).decode()])
def test_sixteen_bytes_of_key_material_are_accepted(secret):
    assert WebhookCreate(url=URL, secret=secret).secret == secret


@pytest.mark.parametrize(
    "name", ["a\x00b", "line\nbreak", "tab\t", "\x7f", "\x85", "\u2028", "\u2029", "evil\u202egnp.exe"]
)
def test_control_characters_in_names_are_refused(name):
    with pytest.raises(ValidationError, match="control characters"):
        WebhookCreate(url=URL, name=name)


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
