"""Fan-out planning (pure functions only), SQS batching, and the delivery body."""

import json

import pytest

from bluehooks.adapters.producer import MAX_BATCH_BYTES, batches
from bluehooks.models import EventDetail, Metadata, Subscription, Webhook
from bluehooks.ports import Outgoing
from bluehooks.rules import jsonlimits
from bluehooks.rules.payload import delivery_body, event_payload
from bluehooks.services.fanout import (
    MAX_PAYLOAD_BYTES,
    MAX_REASON_CHARS,
    Rejected,
    accept,
    attribute_text,
    delivery_id,
    event_text,
    message_body,
    plan,
)

EVENT = "TODO_CREATED"
SECRET = "whsec_c2VjcmV0LXZhbHVlLW11c3QtbmV2ZXItbGVhaw=="


def detail(project=None, **extra):
    data = {"company": {"id": "c1"}, "user": {"id": "u1"}, "currentValue": {"title": "x"}, **extra}
    if project is not None:
        data["project"] = {"id": project}
    return EventDetail.model_validate(data)


def entry(webhook_id, project_ids=(), enabled=True, **extra):
    """An index entry as the store reads it (attributes it does not know, such as a secret, are left out)."""
    return Subscription.model_validate(
        {"webhookId": webhook_id, "enabled": enabled, "projectIds": list(project_ids), **extra}
    )


def accepted(event_detail=None, event=EVENT, event_id="evt-1"):
    return accept(event_id, event, event_detail or detail("p1"))


def planned_ids(event_detail, entries):
    return [message.webhookId for message in plan(accepted(event_detail), entries)]


def test_disabled_webhook_skipped():
    assert planned_ids(detail("p1"), [entry("wh_a", enabled=False), entry("wh_b")]) == ["wh_b"]


def test_empty_project_list_matches_any_project_and_none():
    entries = [entry("wh_all")]
    assert planned_ids(detail("p1"), entries) == ["wh_all"]
    assert planned_ids(detail("p2"), entries) == ["wh_all"]
    assert planned_ids(detail(), entries) == ["wh_all"]


def test_project_list_restricts_to_its_projects():
    entries = [entry("wh_p1", ["p1"])]
    assert planned_ids(detail("p1"), entries) == ["wh_p1"]
    assert planned_ids(detail("p2"), entries) == []
    assert planned_ids(detail(), entries) == []


def test_int_project_id_matches_text():
    assert planned_ids(detail(7), [entry("wh_7", ["7"])]) == ["wh_7"]


def test_messages_carry_event_and_company():
    event = accepted()
    (message,) = plan(event, [entry("wh_a")])
    assert message.eventId == "evt-1"
    assert message.event == EVENT
    assert message.companyId == "c1"
    assert message.deliveryId == delivery_id(event, "wh_a")
    assert message.payload["event"] == EVENT


def test_delivery_id_stable_and_distinct():
    event = accepted()
    assert delivery_id(event, "wh_a") == delivery_id(accepted(), "wh_a")
    assert delivery_id(event, "wh_a") != delivery_id(event, "wh_b")
    assert delivery_id(event, "wh_a") != delivery_id(accepted(event_id="evt-2"), "wh_a")
    # The idempotency key's other parts: the same producer id from another company or type is another event.
    assert delivery_id(event, "wh_a") != delivery_id(accepted(event="TODO_UPDATED"), "wh_a")
    other_company = detail("p1", company={"id": "c2"})
    assert delivery_id(event, "wh_a") != delivery_id(accepted(other_company), "wh_a")


def test_delivery_id_separates_fields():
    assert delivery_id(accepted(event_id="ab"), "c") != delivery_id(accepted(event_id="a"), "bc")


def _keys(value):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from _keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _keys(inner)


def test_messages_never_carry_a_secret():
    entries = [entry("wh_a", secret=SECRET), entry("wh_b", ["p1"], secret=SECRET)]
    messages = plan(accepted(), entries)
    assert len(messages) == 2
    for message in messages:
        body = message.model_dump_json()
        assert "secret" not in set(_keys(json.loads(body)))
        assert SECRET not in body


def test_batches_respect_entry_count():
    bodies = [Outgoing(f"id{i}", "{}") for i in range(25)]
    groups = batches(bodies)
    assert [len(group) for group in groups] == [10, 10, 5]
    assert [item for group in groups for item in group] == bodies


def test_batches_respect_total_size():
    bodies = [Outgoing(f"id{i}", "x" * (MAX_BATCH_BYTES * 2 // 5)) for i in range(7)]
    groups = batches(bodies)
    assert all(len(group) <= 2 for group in groups)
    assert all(sum(message.size for message in group) <= MAX_BATCH_BYTES for group in groups)
    assert [item for group in groups for item in group] == bodies


def test_batches_count_utf8_bytes():
    bodies = [Outgoing(f"id{i}", "é" * (MAX_BATCH_BYTES // 5)) for i in range(5)]  # 2/5 of the limit each, encoded
    groups = batches(bodies)
    assert all(len(group) <= 2 for group in groups)
    assert all(sum(message.size for message in group) <= MAX_BATCH_BYTES for group in groups)
    assert [item for group in groups for item in group] == bodies


def test_batches_of_nothing():
    assert batches([]) == []


@pytest.fixture
def webhook():
    return Webhook(
        id="wh_0123456789abcdef01234567",
        uid="u" * 32,
        name="Crème brûlée",
        url="https://example.com/hook",
        secret=SECRET,
        status="HEALTHY",
        enabled=True,
        events=[EVENT],
        projectIds=[],
        metadata=Metadata(events=[EVENT], projectIds=[]),
        companyId="c1",
        createdById="u1",
        createdAt="2026-01-01T00:00:00.000Z",
        updatedAt="2026-01-01T00:00:00.000Z",
    )


def test_delivery_body_shape(webhook):
    payload = event_payload(EVENT, detail("p1", currentValue={"title": "Grüße ✓ 日本"}))
    body = delivery_body(payload, webhook)
    parsed = json.loads(body)

    assert list(parsed)[:2] == ["event", "webhook"]
    assert parsed["event"] == EVENT
    assert parsed["webhook"]["id"] == webhook.id
    assert "secret" not in parsed["webhook"]
    assert SECRET.encode() not in body
    assert parsed["currentValue"] == {"title": "Grüße ✓ 日本"}
    assert parsed["company"] == {"id": "c1"}
    assert parsed["project"] == {"id": "p1"}


def test_delivery_body_is_compact_utf8(webhook):
    payload = event_payload(EVENT, detail("p1", currentValue={"title": "Grüße ✓ 日本"}))
    body = delivery_body(payload, webhook)
    assert body.startswith(b'{"event":"TODO_CREATED","webhook":{')
    assert body == json.dumps(json.loads(body), separators=(",", ":"), ensure_ascii=False).encode()
    assert "Grüße ✓ 日本".encode() in body
    assert "Crème brûlée".encode() in body
    assert b"\\u" not in body
    assert b", " not in body
    assert b'": ' not in body


def nested(levels: int):
    value: object = "leaf"
    for _ in range(levels):
        value = {"down": value}
    return value


@pytest.mark.parametrize(
    ("event", "fields", "reason"),
    [
        ("TODO_EXPLODED", {}, "unknown event type"),
        ("WEBHOOK_DISABLED", {}, "unknown event type"),  # put on the bus by the platform, never fanned out
        (EVENT, {"company": {"id": ""}}, "company.id is empty"),
        (EVENT, {"currentValue": nested(255)}, "nested deeper"),
        (EVENT, {"currentValue": {"title": "lone \ud800 surrogate"}}, "lone surrogate"),
        (EVENT, {"previousValue": {"bad\udfff key": 1}}, "lone surrogate"),
        (EVENT, {"currentValue": {"title": "\ufffe"}}, "FFFE"),
        (EVENT, {"currentValue": {"n": float("nan")}}, "NaN"),
        (EVENT, {"user": {"id": "u1", "extra": nested(40)}}, "nested deeper"),
        (EVENT, {"currentValue": {"text": "x" * MAX_PAYLOAD_BYTES}}, "exceeds"),
        (EVENT, {"currentValue": {"text": "é" * (MAX_PAYLOAD_BYTES // 5)}}, "exceeds"),  # 6 bytes each, escaped
    ],
)
def test_events_no_webhook_could_receive_are_rejected_with_the_reason(event, fields, reason):
    with pytest.raises(Rejected, match=reason):
        accept("evt-1", event, detail("p1", **fields))


def test_the_deepest_accepted_payload_is_a_queueable_message():
    deepest = None
    for levels in range(jsonlimits.MAX_DEPTH + 2):
        try:
            deepest = accept("evt-1", EVENT, detail("p1", currentValue=nested(levels)))
        except Rejected:
            break
    (message,) = plan(deepest, [entry("wh_a")])
    assert jsonlimits.refusal(json.loads(message_body(message, deepest.payload_json))) is None


def test_message_body_is_the_message_as_ascii_json():
    event = accepted(detail("p1", currentValue={"title": "Grüße ✓ 日本 😀"}))
    (message,) = plan(event, [entry("wh_a")])
    body = message_body(message, event.payload_json)
    assert body.isascii()
    assert json.loads(body) == json.loads(message.model_dump_json())


def test_every_delivery_carries_the_payload_serialized_once():
    event = accepted()
    messages = plan(event, [entry(f"wh_{i}") for i in range(3)])
    assert all(message.payload == event.payload for message in messages)
    assert all(message_body(m, event.payload_json).endswith(f',"payload":{event.payload_json}}}') for m in messages)


def test_filters_apply_to_the_payload_after_enabled_and_projects():
    event = accepted(detail("p1", currentValue={"title": "urgent: fix", "points": 5}))
    entries = [
        entry("wh_prefix", filter={"currentValue": {"title": [{"prefix": "urgent"}]}}),
        entry("wh_numeric", filter={"currentValue": {"points": [{"numeric": [">", 10]}]}}),
        entry("wh_event", filter={"event": [EVENT], "project": {"id": ["p1"]}}),
        entry("wh_none", filter=None),
        entry("wh_other_project", ["p2"], filter={"event": [EVENT]}),
        entry("wh_disabled", enabled=False, filter={"event": [EVENT]}),
    ]
    assert [message.webhookId for message in plan(event, entries)] == ["wh_prefix", "wh_event", "wh_none"]


@pytest.mark.parametrize(
    "raw_event",
    [
        {"detail": {"currentValue": {"t": "lone \ud800"}}},
        {"detail": {"\udfff": nested(255)}},
        {"detail": {"n": float("nan"), "i": float("-inf")}},
        "just a string",
        ["a", "list"],
    ],
)
def test_dead_letter_bodies_are_ascii_json_holding_the_whole_event(raw_event):
    body = event_text(raw_event)
    assert body.isascii()
    if isinstance(raw_event, dict) and "n" in raw_event["detail"]:
        assert json.loads(body)["detail"]["i"] == float("-inf")
    else:
        assert json.loads(body) == raw_event


def test_reasons_are_ascii_and_bounded():
    assert attribute_text("bad \ud800 here") == "bad \\ud800 here"
    assert len(attribute_text("\ud800" * 5000)) == MAX_REASON_CHARS
