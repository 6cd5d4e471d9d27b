"""Which subscribed webhooks an event goes to (after the index narrowed by company and type), within a budget.

The work one event may cost its company's filters is bounded, whatever was accepted at create (DESIGN, "Tenant
isolation and abuse limits"): MAX_EVENT_STEPS for all of them, of which each filter gets a fair share, at most
filters.MAX_FILTER_STEPS. A share is what is left divided among the filters still to decide, so a costly filter
spends only its own share, and up to MAX_EVENT_STEPS // MAX_FILTER_STEPS filters each get a whole one.

A filter not decided within its share is delivered unfiltered: listed in the fan-out's log line of the event and
counted (the FiltersUndecided metric), never dropped. A filter only narrows a webhook's own events; it is
no security boundary, and a fan-out timing out would cost every webhook of the company the event.
"""

from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger

from bluehooks.models import Subscription
from bluehooks.rules import filters

logger = Logger(child=True)

# Every filter of one event: about 0.5 s of one core at the costliest steps (`python -m bench filters`), about
# 3.5 s at 256 MB on Lambda (a seventh of a vCPU), so the fan-out stays far inside its 30 s timeout.
MAX_EVENT_STEPS = 1_000_000


@dataclass
class Sifted:
    """The entries that want an event, those of them delivered unfiltered, and the filter steps it cost."""

    wanted: list[Subscription] = field(default_factory=list)
    undecided: list[str] = field(default_factory=list)
    steps: int = 0


def sift(entries: list[Subscription], project_key: str | None, payload: dict[str, Any]) -> Sifted:
    """The entries that want the event, in their order, each filter within its share of MAX_EVENT_STEPS."""
    subscribed = [entry for entry in entries if _subscribed(entry, project_key)]
    pending = sum(1 for entry in subscribed if entry.filter)
    event = filters.EventValues(payload)  # a path read for one filter is not read again for the next
    sifted = Sifted()
    for entry in subscribed:
        pattern = entry.filter
        if not pattern:
            sifted.wanted.append(entry)
            continue
        budget = filters.Budget(min(filters.MAX_FILTER_STEPS, (MAX_EVENT_STEPS - sifted.steps) // pending))
        pending -= 1
        # The filter is the costliest test, so it comes last and only for the index's candidates.
        if _filter_wants(entry, pattern, event, budget, sifted):
            sifted.wanted.append(entry)
        sifted.steps += budget.spent
    return sifted


def wants(entry: Subscription, project_key: str | None, payload: dict[str, Any]) -> bool:
    """An enabled webhook for all projects or the event's project, whose filter (if any) the payload satisfies."""
    return bool(sift([entry], project_key, payload).wanted)


def _subscribed(entry: Subscription, project_key: str | None) -> bool:
    return entry.enabled and (not entry.projectIds or project_key in entry.projectIds)


def _filter_wants(
    entry: Subscription, pattern: dict, event: filters.EventValues, budget: filters.Budget, sifted: Sifted
) -> bool:
    try:
        return filters.matches(pattern, event, budget)
    except filters.FilterTooComplex:
        # Deciding would cost more than this webhook's share: the event goes to it rather than nowhere.
        # (The fan-out logs them once per event: one line per webhook would multiply a big event's logs.)
        sifted.undecided.append(entry.webhookId)
        return True


UNDECIDED = "not decided within a filter's share of the event's budget: the fan-out delivers it unfiltered"


def test(pattern: dict[str, Any], payload: dict[str, Any]) -> tuple[bool, str | None]:
    """What the fan-out decides for one webhook with this filter (POST /filters/test), and why when it is not plain."""
    sifted = sift([Subscription(webhookId="filter-test", enabled=True, projectIds=[], filter=pattern)], None, payload)
    return bool(sifted.wanted), UNDECIDED if sifted.undecided else None
