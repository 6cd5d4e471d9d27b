"""Which index entries an event goes to; a filter too complex to decide fails open, and says so."""

from collections import Counter

import pytest

from bluehooks.models import Subscription
from bluehooks.rules import filters
from bluehooks.rules.filters import search
from bluehooks.rules.matching import MAX_EVENT_STEPS, sift, wants

PAYLOAD = {"event": "TODO_CREATED", "project": {"id": "p1"}, "currentValue": {"priority": "high"}}


def entry(**fields):
    return Subscription(**{"webhookId": "wh_x", "enabled": True, "projectIds": [], "filter": None, **fields})


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


# ------------------------------------------------------------------- one event's filters: a budget, fair shares

TAGS = [f"t{i:02}" for i in range(80)]
# The security review's filter, but its $or alternatives hold: all that is left to decide is 80 comparisons a tag.
COSTLY = {
    "currentValue": {"tags": [{"anything-but": {"equals-ignore-case": TAGS}}]},
    **{f"k{i}": {"$or": [{"a": [f"x{i}"]}, {"b": [f"y{i}"]}]} for i in range(6)},
}
BIG = PAYLOAD | {"currentValue": {"tags": TAGS * 40}} | {f"k{i}": {"a": f"x{i}"} for i in range(6)}  # 3,200 tags


def ids(entries):
    return [entry.webhookId for entry in entries]


def test_a_filter_costlier_than_its_share_is_delivered_unfiltered_and_counted():
    filters.validate(COSTLY)
    entries = [
        entry(webhookId="wh_costly", filter=COSTLY),
        entry(webhookId="wh_other_project", filter={"project": {"id": ["p2"]}}),
        entry(webhookId="wh_plain"),
    ]
    sifted = sift(entries, "p1", BIG)
    assert ids(sifted.wanted) == ["wh_costly", "wh_plain"]  # the other filter was decided, not failed open
    assert sifted.undecided == ["wh_costly"]
    assert sifted.steps <= filters.MAX_FILTER_STEPS + 100  # the fan-out logs the undecided, once per event


def test_all_of_an_events_filters_cost_at_most_the_event_budget(monkeypatch):
    # Fifty costly filters, then a cheap one: each gets a share of what is left, the last one too.
    compared = Counter()
    real = search.entry_matches

    def counted(entry, value):
        compared["made"] += 1
        return real(entry, value)

    monkeypatch.setattr(search, "entry_matches", counted)
    shares, spent = [], []
    real_matches = filters.matches

    def recorded(pattern, payload, budget):
        shares.append(budget.steps)
        try:
            return real_matches(pattern, payload, budget)
        finally:
            spent.append(budget.spent)

    monkeypatch.setattr(filters, "matches", recorded)
    cheaper = {**COSTLY, "currentValue": {"tags": [{"anything-but": {"equals-ignore-case": TAGS[:20]}}]}}
    entries = [entry(webhookId=f"wh_{n}", filter=cheaper) for n in range(50)]
    entries.append(entry(webhookId="wh_last", filter={"project": {"id": ["p2"]}}))
    sifted = sift(entries, "p1", BIG)
    assert sifted.steps == sum(spent) <= MAX_EVENT_STEPS
    assert compared["made"] <= MAX_EVENT_STEPS
    assert sifted.undecided and "wh_last" not in ids(sifted.wanted)  # decided, within what was left
    assert shares[0] == MAX_EVENT_STEPS // 51  # fair: what is left, divided among the filters still to decide
    assert shares[-1] == min(filters.MAX_FILTER_STEPS, MAX_EVENT_STEPS - sum(spent[:-1]))


def test_a_path_read_for_one_filter_is_not_read_again_for_the_next(monkeypatch):
    spent, real_matches = [], filters.matches

    def recorded(pattern, payload, budget):
        try:
            return real_matches(pattern, payload, budget)
        finally:
            spent.append(budget.spent)

    monkeypatch.setattr(filters, "matches", recorded)
    pattern = {"currentValue": {"tags": ["t00"]}}
    sift([entry(webhookId=f"wh_{n}", filter=pattern) for n in range(2)], "p1", BIG)
    dicts, tags = len(BIG) + len(BIG["currentValue"]), len(BIG["currentValue"]["tags"])
    read = 2 * dicts + tags  # each key on the way (probed, then read), each element of the array
    assert spent[0] - spent[1] == read
