"""The scenario `make demo` plays: its webhooks, the burst of Blue events, and what each webhook must end with.

Which webhook each event reaches is written out by hand (`reaches`), not computed by the product's
matching code, so the demo checks the product against an independent expectation.
"""

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

# down: 500 until it has refused each of its deliveries once, then up (so every one is retried, then delivered);
# dead: 500 until its deliveries are dead, then up for the recover.
Receiver = Literal["up", "down", "dead"]


@dataclass(frozen=True)
class WebhookPlan:
    key: str
    company: str
    name: str
    receiver: Receiver
    fields: dict[str, Any] = field(default_factory=dict)  # events, projectIds, filter, as POST /webhooks takes them

    @property
    def path(self) -> str:
        return f"/{self.key}"


@dataclass(frozen=True)
class BlueEvent:
    """One domain event as the host app puts it on the bus (DESIGN, producer contract)."""

    type: str
    project: str
    user: str
    current: dict[str, Any]
    reaches: frozenset[str]
    previous: dict[str, Any] | None = None
    company: str = "acme"

    def detail(self, number: int) -> dict[str, Any]:
        return {
            "id": f"evt-demo-{number:03d}",
            "company": {"id": self.company},
            "project": {"id": self.project},
            "user": {"id": self.user},
            "currentValue": self.current,
            "previousValue": self.previous,
        }


@dataclass(frozen=True)
class Seen:
    """One request a scenario receiver got, as it judged it."""

    webhook: str
    delivery_id: str
    record: str  # currentValue.id of the delivered event
    status: int
    verified: bool


@dataclass
class Tally:
    """Where a webhook's deliveries ended, read from the API's delivery log."""

    deliveries: int = 0
    first_try: int = 0
    retried: int = 0  # delivered after failed attempts
    dead: int = 0  # before the recover
    recovered: int = 0  # dead, then delivered by the recover
    not_matching: int = 0  # events on the bus it did not get: other type, project, filter or company


WEBHOOKS = [
    WebhookPlan(
        "crm",
        "acme",
        "CRM sync",
        "up",
        {"events": ["TODO_CREATED", "TODO_UPDATED", "TODO_DONE_STATUS_CHANGED"], "projectIds": ["website"]},
    ),
    WebhookPlan(
        "triage",
        "acme",
        "Urgent triage",
        "up",
        {
            "events": ["TODO_CREATED", "TODO_UPDATED"],
            "filter": {"currentValue": {"priority": ["high"], "title": [{"anything-but": {"prefix": "[draft]"}}]}},
        },
    ),
    WebhookPlan(
        "erp", "acme", "ERP (down at first)", "down", {"events": ["TODO_CREATED"], "projectIds": ["mobile-app"]}
    ),
    WebhookPlan("archive", "acme", "Audit archive (down)", "dead", {"events": ["TODO_DELETED", "COMMENT_DELETED"]}),
    WebhookPlan("globex", "globex", "Globex CRM (other company)", "up"),
]


def _todo(record: str, title: str, priority: str, **more: Any) -> dict[str, Any]:
    return {
        "id": record,
        "title": title,
        "priority": priority,
        "list": {"id": "list-backlog", "title": "Backlog"},
        **more,
    }


HOMEPAGE = _todo("rec-101", "Launch checklist for the new homepage", "high", done=False)
CRASH = _todo("rec-102", "Crash on login (Android 15)", "high", done=False)
FOOTER = _todo("rec-103", "Update footer links", "low", done=False)
DRAFT = _todo("rec-104", "[draft] Pricing page copy", "high", done=False)
COMMENT = {"id": "cmt-201", "text": "Reproduced on a Pixel 8, build 4.12.0", "todo": {"id": "rec-102"}}

EVENTS = [
    BlueEvent("TODO_CREATED", "website", "u-ana", HOMEPAGE, frozenset({"crm", "triage"})),
    BlueEvent("TODO_CREATED", "mobile-app", "u-ben", CRASH, frozenset({"triage", "erp"})),
    BlueEvent("TODO_CREATED", "website", "u-ana", FOOTER, frozenset({"crm"})),
    BlueEvent("TODO_CREATED", "website", "u-cho", DRAFT, frozenset({"crm"})),  # the filter refuses drafts
    BlueEvent("TODO_UPDATED", "website", "u-ana", {**FOOTER, "priority": "high"}, frozenset({"crm", "triage"}), FOOTER),
    BlueEvent("TODO_DONE_STATUS_CHANGED", "website", "u-ben", {**HOMEPAGE, "done": True}, frozenset({"crm"}), HOMEPAGE),
    BlueEvent(
        "TODO_CREATED", "mobile-app", "u-ben", _todo("rec-105", "Push notification copy", "medium"), frozenset({"erp"})
    ),
    BlueEvent("TODO_ASSIGNEE_ADDED", "mobile-app", "u-ana", {**CRASH, "assignees": [{"id": "u-dev"}]}, frozenset()),
    BlueEvent("COMMENT_CREATED", "mobile-app", "u-dev", COMMENT, frozenset()),
    BlueEvent(
        "TODO_TAG_ADDED", "website", "u-ana", {**HOMEPAGE, "tags": [{"id": "tag-1", "title": "launch"}]}, frozenset()
    ),
    BlueEvent("TODO_DELETED", "website", "u-cho", DRAFT, frozenset({"archive"}), DRAFT),
    BlueEvent("COMMENT_DELETED", "mobile-app", "u-dev", COMMENT, frozenset({"archive"}), COMMENT),
    BlueEvent(
        "TODO_CUSTOM_FIELD_VALUE_CHANGED",
        "website",
        "u-ana",
        {**HOMEPAGE, "customField": {"id": "cf-points", "name": "Story points", "value": 5}},
        frozenset(),
    ),
    BlueEvent(
        "TODO_CREATED",
        "q3",
        "g-eve",
        _todo("rec-901", "Quarterly report", "high"),
        frozenset({"globex"}),
        None,
        "globex",
    ),
]

# Health as GET /webhooks/{id} shows it over the run: only the webhook whose deliveries die turns
# UNHEALTHY (5 failed attempts in a row); the ERP's two refusals stay under that.
EXPECTED_HEALTH = {
    plan.key: ["HEALTHY", "UNHEALTHY", "HEALTHY"] if plan.receiver == "dead" else ["HEALTHY"] for plan in WEBHOOKS
}


def matching(plan: WebhookPlan) -> list[BlueEvent]:
    return [event for event in EVENTS if plan.key in event.reaches]


def expected_tally(plan: WebhookPlan) -> Tally:
    count = len(matching(plan))
    tally = Tally(deliveries=count, not_matching=len(EVENTS) - count)
    if plan.receiver == "up":
        tally.first_try = count
    elif plan.receiver == "down":
        tally.retried = count
    else:
        tally.dead = tally.recovered = count
    return tally


def differences(tallies: dict[str, Tally], seen: list[Seen], health: dict[str, list[str]]) -> list[str]:
    """Every way a run differs from the scenario; empty when each outcome is the expected one."""
    found = []
    for plan in WEBHOOKS:
        got, expected = asdict(tallies[plan.key]), asdict(expected_tally(plan))
        found += [
            f"{plan.name}: {name} {got[name]}, expected {expected[name]}" for name in got if got[name] != expected[name]
        ]
        requests = [s for s in seen if s.webhook == plan.key]
        delivered = {s.record for s in requests if s.status == 200 and s.verified}
        wanted = {event.current["id"] for event in matching(plan)}
        if delivered != wanted:
            found.append(f"{plan.name}: received records {sorted(delivered)}, expected {sorted(wanted)}")
        webhook_ids = {s.delivery_id for s in requests}  # retries and the recover keep a delivery's webhook-id
        if len(webhook_ids) != len(matching(plan)):
            found.append(f"{plan.name}: {len(webhook_ids)} webhook-ids, expected {len(matching(plan))}")
        if health[plan.key] != EXPECTED_HEALTH[plan.key]:
            found.append(
                f"{plan.name}: health {' → '.join(health[plan.key])}, expected {' → '.join(EXPECTED_HEALTH[plan.key])}"
            )
    found += [f"{s.webhook}: request {s.delivery_id} failed signature verification" for s in seen if not s.verified]
    return found
