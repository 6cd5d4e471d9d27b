"""POST /filters/test: the fan-out's own matcher on a filter and a delivery body, before the filter is saved."""

import pytest

from tests.integration.conftest import bus_event, queued, token

TITLE = {"currentValue": {"title": [{"prefix": "urgent"}]}}


def body(title: str, **parts) -> dict:
    return {
        "event": "TODO_CREATED",
        "webhook": {"id": "wh_ignored"},
        "company": {"id": "c1"},
        "project": {"id": "p1"},
        "user": {"id": "u1"},
        "currentValue": {"title": title},
        "previousValue": None,
        **parts,
    }


@pytest.mark.parametrize(
    ("pattern", "event", "matches"),
    [
        (TITLE, body("urgent: fix"), True),
        (TITLE, body("later"), False),
        ({"event": ["TODO_CREATED"], "project": {"id": ["p1"]}}, body("x"), True),
        ({"project": {"id": [{"anything-but": "p1"}]}}, body("x"), False),
        ({"previousValue": [None]}, body("x"), True),
    ],
)
def test_it_answers_as_the_fan_out_decides(api, handlers, queues, company, pattern, event, matches):
    from devstack.lambdas import LambdaContext

    status, verdict = api("POST", "/filters/test", {"filter": pattern, "event": event})
    assert (status, verdict) == (200, {"matches": matches, "reason": None})
    status, webhook = api("POST", "/webhooks", {"url": "http://127.0.0.1:9/f", "filter": pattern})
    assert status == 201
    detail = {key: event[key] for key in ("currentValue", "previousValue")}
    handlers["fanout"](bus_event(company, project="p1", **detail), LambdaContext("FanoutFunction"))
    assert [m["webhookId"] for m in queued(queues["DeliveryQueue"])] == ([webhook["id"]] if matches else [])


def test_an_invalid_filter_is_a_422_with_the_reason(api):
    status, answer = api("POST", "/filters/test", {"filter": {"title": [{"prefix": 5}]}, "event": body("x")})
    assert status == 422 and "prefix" in answer["message"]
    assert api("POST", "/filters/test", {"filter": TITLE})[0] == 422  # no event


def test_a_filter_too_costly_to_decide_says_the_fan_out_delivers_it_unfiltered(api):
    tags = [f"tag-{i:02}" for i in range(80)]
    pairs = {f"k{i}": {"$or": [{"a": [f"x{i}"]}, {"b": [f"y{i}"]}]} for i in range(6)}
    costly = {"currentValue": {"tags": [{"anything-but": {"equals-ignore-case": tags}}], **pairs}}
    current = {"tags": tags * 70, **{f"k{i}": {"a": f"x{i}"} for i in range(6)}}
    status, verdict = api("POST", "/filters/test", {"filter": costly, "event": body("x", currentValue=current)})
    assert status == 200 and verdict["matches"] is True and "unfiltered" in verdict["reason"]


def test_any_signed_in_caller_may_ask_and_no_one_else(api, company):
    ask = {"filter": TITLE, "event": body("urgent")}
    assert api("POST", "/filters/test", ask, token=token(company, role="MEMBER"))[0] == 200
    assert api("POST", "/filters/test", ask, token="forged")[0] == 401
