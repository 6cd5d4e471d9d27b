"""Fan-out planning (pure functions only), SQS batching, and the delivery body."""

import json

import pytest

from bluehooks.fanout import MAX_BATCH_BYTES, batches, delivery_id, plan
from bluehooks.models import EventDetail, Metadata, Webhook
from bluehooks.payload import delivery_body, event_payload

EVENT = "TODO_CREATED"
SECRET = "whsec_c2VjcmV0LXZhbHVlLW11c3QtbmV2ZXItbGVhaw=="


def detail(project=None, **extra):
    data = {"company": {"id": "c1"}, "user": {"id": "u1"}, "currentValue": {"title": "x"}, **extra}
    if project is not None:
        data["project"] = {"id": project}
    return EventDetail.model_validate(data)


def entry(webhook_id, project_ids=(), enabled=True, **extra):
    return {"webhookId": webhook_id, "enabled": enabled, "projectIds": list(project_ids), **extra}


def planned_ids(event_detail, entries):
    return [message.webhookId for message in plan("evt-1", EVENT, event_detail, entries)]


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
    (message,) = plan("evt-1", EVENT, detail("p1"), [entry("wh_a")])
    assert message.eventId == "evt-1"
    assert message.event == EVENT
    assert message.companyId == "c1"
    assert message.deliveryId == delivery_id("evt-1", "wh_a")
    assert message.payload["event"] == EVENT


def test_delivery_id_stable_and_distinct():
    assert delivery_id("evt-1", "wh_a") == delivery_id("evt-1", "wh_a")
    assert delivery_id("evt-1", "wh_a") != delivery_id("evt-1", "wh_b")
    assert delivery_id("evt-1", "wh_a") != delivery_id("evt-2", "wh_a")


def test_delivery_id_separates_fields():
    assert delivery_id("ab", "c") != delivery_id("a", "bc")


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
    messages = plan("evt-1", EVENT, detail("p1"), entries)
    assert len(messages) == 2
    for message in messages:
        body = message.model_dump_json()
        assert "secret" not in set(_keys(json.loads(body)))
        assert SECRET not in body


def test_batches_respect_entry_count():
    bodies = [(f"id{i}", "{}") for i in range(25)]
    groups = batches(bodies)
    assert [len(group) for group in groups] == [10, 10, 5]
    assert [item for group in groups for item in group] == bodies


def test_batches_respect_total_size():
    bodies = [(f"id{i}", "x" * (MAX_BATCH_BYTES * 2 // 5)) for i in range(7)]
    groups = batches(bodies)
    assert all(len(group) <= 2 for group in groups)
    assert all(sum(len(body.encode()) for _, body in group) <= MAX_BATCH_BYTES for group in groups)
    assert [item for group in groups for item in group] == bodies


def test_batches_count_utf8_bytes():
    bodies = [(f"id{i}", "é" * (MAX_BATCH_BYTES // 5)) for i in range(5)]  # 2/5 of the limit each, encoded
    groups = batches(bodies)
    assert all(len(group) <= 2 for group in groups)
    assert all(sum(len(body.encode()) for _, body in group) <= MAX_BATCH_BYTES for group in groups)
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
