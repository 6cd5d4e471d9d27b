"""The one `decide`: every outcome of an attempt, and the facts it asks for, as a table (no I/O, no clock)."""

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from bluehooks.models import DeliveryMessage, StoredWebhook
from bluehooks.rules.health import UNHEALTHY_AFTER, Expected, HealthFields, after_count
from bluehooks.rules.outcome import INFRA_RETRIES, STALE_PENDING, Known, Need, Policy, decide, queued, settled
from bluehooks.rules.redrive import weigh
from bluehooks.timestamps import iso

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
STAMP = iso(NOW)
POLICY = Policy(schedule=(0, 10, 60), disable_after=timedelta(hours=1), probe_interval=30)
MESSAGE = DeliveryMessage(
    deliveryId="msg_0123456789abcdef",
    webhookId="wh_" + "0" * 24,
    companyId="co1",
    eventId="evt_1",
    event="TODO_CREATED",
    payload={"project": {"id": "p1"}},
    run=1,
)
WEBHOOK = StoredWebhook(
    id=MESSAGE.webhookId,
    uid="u",
    name="n",
    url="https://example.com/hook",
    status="HEALTHY",
    enabled=True,
    events=[],
    projectIds=[],
    companyId="co1",
    createdById="user",
    createdAt=STAMP,
    updatedAt=STAMP,
    lastSuccessAt=STAMP,
    sealedSecret=b"sealed",
    version=7,
)


@dataclass
class Logged:
    run: int
    state: str
    updatedAt: str = STAMP
    waitingUntil: str | None = None


@dataclass
class Answer:
    status: int | None
    retry_after: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def ready(**facts) -> Known:
    """Everything learned up to the POST: logged (never), the webhook, and no answer yet."""
    known = {"now": NOW, "message": MESSAGE, "logged": None, "webhook": WEBHOOK, "webhook_current": True, "rand": 0.5}
    return Known(**{**known, **facts})


def unhealthy(**fields) -> StoredWebhook:
    return WEBHOOK.model_copy(update={"status": "UNHEALTHY", **fields})


def attempt(number: int) -> DeliveryMessage:
    return MESSAGE.model_copy(update={"attempt": number})


LIMITED = WEBHOOK.model_copy(update={"rateLimit": 2})
IN_2S, IN_3S = NOW + timedelta(seconds=2), NOW + timedelta(seconds=3)
CARRYING = MESSAGE.model_copy(update={"slotAt": STAMP})
TRIED_AT_LIMIT = MESSAGE.model_copy(update={"infraRetries": INFRA_RETRIES - 1})
TRIED_PAST = MESSAGE.model_copy(update={"infraRetries": INFRA_RETRIES})
KEPT_IN_S3 = MESSAGE.model_copy(update={"payload": None, "payloadKey": "payloads/" + "a" * 32})

# (name, what is known, the outcome's kind, its log state, whether it is dead-lettered)
OUTCOMES = [
    ("2xx", ready(result=Answer(204)), "delivered", "succeeded", False),
    ("500 with attempts left", ready(result=Answer(500)), "retry", "failed", False),
    ("no answer at all", ready(result=Answer(None)), "retry", "failed", False),
    ("the last attempt fails", ready(message=attempt(3), result=Answer(500)), "exhausted", "dead", True),
    ("the one before the last fails", ready(message=attempt(2), result=Answer(500)), "retry", "failed", False),
    ("410 Gone", ready(result=Answer(410)), "gone", "dead", False),
    ("410 on the last attempt", ready(message=attempt(3), result=Answer(410)), "gone", "dead", False),
    ("webhook deleted", ready(webhook=None), "dropped", "dropped", False),
    ("webhook disabled", ready(webhook=WEBHOOK.model_copy(update={"enabled": False})), "dropped", "dropped", False),
    ("narrowed", ready(webhook=WEBHOOK.model_copy(update={"events": ["TODO_DELETED"]})), "dropped", "dropped", False),
    ("payload expired", Known(NOW, KEPT_IN_S3, logged=None, payload_gone="gone from S3"), "dropped", "dropped", False),
    ("a newer run, attempted", ready(logged=Logged(2, "failed")), "superseded", None, False),
    ("a newer run, pending", ready(logged=Logged(2, "pending")), "superseded", None, False),
    ("this run delivered", ready(logged=Logged(1, "succeeded")), "superseded", None, False),
    ("circuit open, lease another's", ready(webhook=unhealthy(), probe=False), "deferred", "pending", False),
    ("the probe succeeds", ready(webhook=unhealthy(), probe=True, result=Answer(200)), "delivered", "succeeded", False),
    ("rate limited, slot 3 s away", ready(webhook=LIMITED, slot=IN_3S), "limited", "pending", False),
    ("slot within 2 s", ready(webhook=LIMITED, slot=IN_2S, result=Answer(200)), "delivered", "succeeded", False),
    ("our failure", ready(failure="Throttled"), "requeued", None, False),
    ("our failure, at the limit", ready(message=TRIED_AT_LIMIT, failure="x"), "requeued", None, False),
    ("our failure, past the limit", ready(message=TRIED_PAST, failure="x"), "dead", None, True),
    ("poison", Known(NOW, poison="not JSON"), "poison", None, True),
]  # fmt: skip


@pytest.mark.parametrize(
    ("known", "kind", "state", "dead_letter"), [row[1:] for row in OUTCOMES], ids=[row[0] for row in OUTCOMES]
)
def test_every_outcome(known, kind, state, dead_letter):
    outcome = decide(known, POLICY)
    assert (outcome.kind, outcome.state, outcome.dead_letter) == (kind, state, dead_letter)
    assert (outcome.next is not None) == (kind in ("retry", "deferred", "requeued", "limited"))
    assert outcome.reason or kind in ("delivered", "retry")  # whatever is not sent or not delivered says why


# (name, what is known, the fact asked for next)
NEEDS = [
    ("the log first", Known(NOW, MESSAGE), "logged"),
    ("a payload kept in S3", Known(NOW, KEPT_IN_S3, logged=None), "payload"),
    ("then the webhook", Known(NOW, KEPT_IN_S3, logged=None, payload={"project": {"id": "p1"}}), "webhook"),
    ("a carried payload: straight to the webhook", Known(NOW, MESSAGE, logged=Logged(1, "failed")), "webhook"),
    ("an UNHEALTHY webhook: its probe lease", ready(webhook=unhealthy()), "probe"),
    # The first read of the webhook is eventually consistent: a drop is decided on a strongly consistent one.
    ("deleted, by a replica: read again", ready(webhook=None, webhook_current=False), "webhook"),
    (
        "disabled, by a replica",
        ready(webhook=WEBHOOK.model_copy(update={"enabled": False}), webhook_current=False),
        "webhook",
    ),
    ("a replica's sendable webhook: the POST", ready(webhook_current=False), "result"),
    ("a HEALTHY one: the POST", ready(), "result"),
    ("a probe taken: the POST", ready(webhook=unhealthy(), probe=True), "result"),
    ("a rate-limited webhook: its slot", ready(webhook=LIMITED), "slot"),
    ("a slot reserved: the POST", ready(webhook=LIMITED, slot=NOW), "result"),
    ("a slot carried: the POST", ready(webhook=LIMITED, message=CARRYING), "result"),
    ("unhealthy and limited: the probe first", ready(webhook=unhealthy(rateLimit=2)), "probe"),
]


@pytest.mark.parametrize(("known", "fact"), [row[1:] for row in NEEDS], ids=[row[0] for row in NEEDS])
def test_the_facts_are_asked_for_in_order_and_only_when_needed(known, fact):
    assert decide(known, POLICY) == Need(fact)


def test_a_settled_message_is_not_read_further_than_the_log():
    superseded = decide(Known(NOW, KEPT_IN_S3, logged=Logged(2, "dead")), POLICY)
    assert superseded.kind == "superseded" and "run 2" in superseded.reason


def test_a_retry_is_the_next_attempt_due_after_its_jittered_delay():
    outcome = decide(ready(message=attempt(2), result=Answer(503), rand=0.0), POLICY)  # -20 %: 60 s → 48 s
    assert outcome.delay == 48 and outcome.next.attempt == 3 and outcome.next.dueAt == iso(NOW + timedelta(seconds=48))
    later = decide(ready(result=Answer(503, retry_after="120")), POLICY)
    assert later.delay == 120  # a Retry-After pushes it later, never earlier
    dated = decide(ready(result=Answer(503, retry_after="Sat, 01 Mar 2025 12:05:00 GMT")), POLICY)
    assert dated.delay == 300  # an HTTP-date counts from the `now` passed in, not from the clock


def test_a_deferral_or_a_requeue_keeps_the_attempt_and_a_payload_in_s3_stays_there():
    deferred = decide(Known(NOW, KEPT_IN_S3, logged=None, payload={"a": 1}, webhook=unhealthy(), probe=False), POLICY)
    assert deferred.delay == 30 and deferred.next.attempt == 1 and deferred.next.payload is None
    assert deferred.next.dueAt == iso(NOW + timedelta(seconds=30))
    tried = MESSAGE.model_copy(update={"infraRetries": 3})
    requeued = decide(ready(message=tried, failure="ClientError('Throttling')"), POLICY)
    assert (requeued.delay, requeued.next.infraRetries, requeued.next.attempt) == (40, 4, 1)
    assert decide(ready(message=tried.model_copy(update={"infraRetries": 9}), failure="x"), POLICY).delay == 300
    dead = decide(ready(message=tried.model_copy(update={"infraRetries": INFRA_RETRIES}), failure="boom"), POLICY)
    assert dead.reason == f"failed {INFRA_RETRIES + 1} times for our own reasons: boom"


def test_health_follows_the_answer():
    assert decide(ready(result=Answer(200)), POLICY).health is None  # healthy, touched lately: nothing to write
    failed = decide(ready(result=Answer(500)), POLICY).health
    assert failed.count_failure and failed.fields.given() == {"failingSince": STAMP, "lastFailureAt": STAMP}
    gone = decide(ready(result=Answer(410)), POLICY).health
    assert gone.disables == "GONE" and gone.expected == Expected(enabled=True, version=7)
    assert gone.fields.given() == {
        "enabled": False,
        "disabledReason": "GONE",
        "status": "UNHEALTHY",
        "lastFailureAt": STAMP,
    }
    probe = decide(ready(webhook=unhealthy(consecutiveFailures=5), probe=True, result=Answer(200)), POLICY)
    assert probe.release_probe and probe.health.fields.given()["status"] == "HEALTHY"
    assert not decide(ready(webhook=unhealthy(), probe=True, result=Answer(500)), POLICY).release_probe


@pytest.mark.parametrize(
    ("failing_for", "disables"), [(timedelta(minutes=59, seconds=59), None), (timedelta(hours=1), "FAILING")]
)
def test_failing_for_disable_after_disables_the_webhook_whatever_the_delivery_does(failing_for, disables):
    webhook = WEBHOOK.model_copy(update={"failingSince": iso(NOW - failing_for)})
    outcome = decide(ready(webhook=webhook, result=Answer(500)), POLICY)
    assert outcome.kind == "retry" and outcome.health.disables == disables  # the retry then finds it disabled


def test_the_streak_turns_unhealthy_once_counted_to_the_limit():
    assert after_count(WEBHOOK.model_copy(update={"consecutiveFailures": UNHEALTHY_AFTER - 1})) is None
    change = after_count(WEBHOOK.model_copy(update={"consecutiveFailures": UNHEALTHY_AFTER}))
    assert change.fields == HealthFields(status="UNHEALTHY") and change.expected == Expected(status="HEALTHY")


def test_settled_and_queued_are_the_same_for_delivery_ops_and_the_api():
    assert settled(None, MESSAGE) is None
    assert settled(Logged(1, "failed"), MESSAGE) is None and settled(Logged(0, "succeeded"), MESSAGE) is None
    assert settled(Logged(1, "succeeded"), MESSAGE) == "already delivered"
    assert queued(Logged(1, "pending", iso(NOW - STALE_PENDING)), NOW)
    assert not queued(Logged(1, "pending", iso(NOW - STALE_PENDING - timedelta(milliseconds=1))), NOW)
    assert not queued(Logged(1, "failed"), NOW)
    long_ago = iso(NOW - timedelta(hours=1))
    assert queued(Logged(1, "pending", long_ago, waitingUntil=iso(NOW + timedelta(hours=1))), NOW)  # rate limited
    assert not queued(Logged(1, "pending", long_ago, waitingUntil=long_ago), NOW)


REDRIVES = [
    ("never logged", None, WEBHOOK, "redrive"),
    ("its run is queued", Logged(1, "pending"), WEBHOOK, "keep"),
    ("a newer run is queued", Logged(2, "pending"), WEBHOOK, "keep"),
    ("a newer run, pending too long", Logged(2, "pending", iso(NOW - timedelta(hours=1))), WEBHOOK, "redrive"),
    ("a newer run, attempted", Logged(2, "failed"), WEBHOOK, "done"),
    ("delivered", Logged(1, "succeeded"), WEBHOOK, "done"),
    ("dead, webhook deleted", Logged(1, "dead"), None, "drop"),
    ("dead, webhook disabled", Logged(1, "dead"), WEBHOOK.model_copy(update={"enabled": False}), "keep"),
    ("dead", Logged(1, "dead"), WEBHOOK, "redrive"),
]


@pytest.mark.parametrize(
    ("logged", "webhook", "action"), [row[1:] for row in REDRIVES], ids=[row[0] for row in REDRIVES]
)
def test_the_redrive_of_a_dead_lettered_message(logged, webhook, action):
    assert weigh(MESSAGE, logged, webhook, "no attempt left after 3", NOW)[0] == action


def test_no_fact_is_learned_twice():
    """Walking the table's happy path: each fact, once, in order, then the outcome."""
    known, asked = Known(NOW, KEPT_IN_S3), []
    answers = {"logged": None, "payload": {"project": {"id": "p1"}}, "webhook": unhealthy(), "probe": True}
    answers["result"] = Answer(200)
    while isinstance(step := decide(known, POLICY), Need):
        asked.append(step.fact)
        known = replace(known, **{step.fact: answers[step.fact]})
    assert asked == ["logged", "payload", "webhook", "probe", "result"] and step.kind == "delivered"


def test_a_far_slot_waits_as_a_delayed_message_that_carries_it_and_shows_when_it_goes():
    slot = NOW + timedelta(seconds=30)
    outcome = decide(ready(webhook=LIMITED, slot=slot, message=attempt(2)), POLICY)
    assert (outcome.state, outcome.waiting_until) == ("pending", iso(slot))
    assert outcome.reason == f"rate limited: at {iso(slot)}"
    assert outcome.next.slotAt == iso(slot) and outcome.next.attempt == 2  # no attempt used, no new slot on arrival
    assert outcome.delay == 28 and outcome.next.dueAt == iso(slot - timedelta(seconds=2))  # held the last 2 s
    assert outcome.result is None and outcome.health is None and not outcome.release_probe
    arrived = decide(ready(webhook=LIMITED, message=outcome.next, now=slot - timedelta(seconds=2)), POLICY)
    assert arrived == Need("result")  # within the hold: Deliverer waits for the slot, then POSTs
    early = decide(ready(webhook=LIMITED, message=outcome.next, now=NOW + timedelta(seconds=10)), POLICY)
    assert early.kind == "limited" and early.next.slotAt == iso(slot)  # re-delayed with the same slot


def test_a_probe_that_must_wait_for_its_slot_lets_another_probe_meanwhile():
    outcome = decide(ready(webhook=unhealthy(rateLimit=2), probe=True, slot=NOW + timedelta(seconds=5)), POLICY)
    assert outcome.kind == "limited" and outcome.release_probe


def test_a_slot_is_for_one_attempt_only_a_deferral_retry_or_requeue_takes_a_new_one():
    carrying = CARRYING
    deferred = decide(ready(message=carrying, webhook=unhealthy(rateLimit=2), probe=False), POLICY)
    assert deferred.next.slotAt is None and deferred.state == "pending"
    retrying = decide(ready(logged=Logged(1, "failed"), webhook=unhealthy(), probe=False), POLICY)
    assert retrying.state == "failed" and retrying.waiting_until  # a waiting retry stays one (ops pending lists it)
    assert deferred.waiting_until == iso(NOW + timedelta(seconds=30))
    assert deferred.reason == f"endpoint unhealthy: next probe at {deferred.waiting_until}"
    retry = decide(ready(message=carrying, webhook=LIMITED, result=Answer(500)), POLICY)
    assert retry.kind == "retry" and retry.next.slotAt is None
    assert decide(ready(message=carrying, failure="x"), POLICY).next.slotAt is None


def test_a_deferral_shows_the_state_of_its_own_run():
    """A retry's message (run 2) read against a log a moment behind (still run 1, dead): shown pending,
    never as the run before, which would let a retry or recover be accepted again for it."""
    retried = MESSAGE.model_copy(update={"run": 2})
    behind = decide(ready(message=retried, logged=Logged(1, "dead"), webhook=unhealthy(), probe=False), POLICY)
    assert (behind.kind, behind.state) == ("deferred", "pending")
    waiting = decide(ready(message=retried, logged=Logged(2, "failed"), webhook=unhealthy(), probe=False), POLICY)
    assert (waiting.kind, waiting.state) == ("deferred", "failed")
