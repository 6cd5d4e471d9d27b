"""Which index entries an event goes to; a filter too complex to decide fails open, and says so."""

import pytest

from bluehooks import filters
from bluehooks.matching import wants

PAYLOAD = {"event": "TODO_CREATED", "project": {"id": "p1"}, "currentValue": {"priority": "high"}}


def entry(**fields):
    return {"webhookId": "wh_x", "enabled": True, "projectIds": [], "filter": None, **fields}


@pytest.mark.parametrize(
    ("fields", "wanted"),
    [
        ({}, True),
        ({"enabled": False}, False),
        ({"projectIds": ["p2"]}, False),
        ({"projectIds": ["p1", "p2"]}, True),
        ({"filter": {"currentValue": {"priority": ["high"]}}}, True),
        ({"filter": {"currentValue": {"priority": ["low"]}}}, False),
    ],
)
def test_enabled_projects_then_filter(fields, wanted):
    assert wants(entry(**fields), "p1", PAYLOAD) is wanted


def test_a_filter_too_complex_to_decide_delivers_rather_than_drops(monkeypatch):
    def too_complex(*_):
        raise filters.FilterTooComplex("budget spent")

    monkeypatch.setattr(filters, "matches", too_complex)
    assert wants(entry(filter={"currentValue": {"x": [1]}}), "p1", PAYLOAD) is True
