"""What an attempt of a delivery means: the one place that decides it, from what is known of it.

Pure: no I/O, no clock, no random source (`now` and the jitter's draw are facts too). The
carriers (`Deliverer.attempt`, the delivery handler) learn the facts `decide` asks for, one at
a time and only those it needs, and carry out the Outcome it returns: record it, write the
health, queue the next message or dead-letter this one. None of them decides "is this a
failure?" again. `settled` and `queued` say what a logged delivery means for a message of it;
the ops redrive and the API's retry and recover ask them too.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from bluehooks.models import DeliveryMessage, DeliveryState, StoredWebhook
from bluehooks.rules import ratelimit
from bluehooks.rules.health import HealthChange, Result, after_attempt
from bluehooks.rules.schedule import next_delay
from bluehooks.rules.scope import unsubscribed
from bluehooks.timestamps import iso, parse

INFRA_RETRIES = 10  # times a message may come back for our own failures before it is dead-lettered
INFRA_BACKOFF_SECONDS, INFRA_BACKOFF_MAX = 5, 300  # 5 s, 10 s, … 5 min
STALE_PENDING = timedelta(minutes=10)  # a run pending this long was never queued: it may be taken again


class Logged(Protocol):
    """What the rules read of a logged delivery (bluehooks.models.LoggedDelivery)."""

    run: int
    state: DeliveryState
    updatedAt: str
    waitingUntil: str | None


class Response(Protocol):
    """What the rules read of an HTTP result (bluehooks.outbound.HttpResult)."""

    status: int | None
    retry_after: str | None

    @property
    def ok(self) -> bool: ...


class Unknown:
    """A fact not learned yet, as distinct from one learned absent (None)."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = Unknown()
Fact = Literal["logged", "payload", "webhook", "probe", "slot", "result"]


@dataclass(frozen=True)
class Need:
    """Not decided yet: learn this fact, then ask again."""

    fact: Fact


@dataclass(frozen=True)
class Policy:
    schedule: tuple[int, ...]  # schedule[i]: the delay before attempt i+1
    disable_after: timedelta  # failing this long disables the webhook (FAILING)
    probe_interval: float = 30  # seconds between probes of an UNHEALTHY webhook's endpoint
    infra_retries: int = INFRA_RETRIES


@dataclass(frozen=True)
class Known:
    """What is known about one attempt. Facts not learned yet are UNKNOWN (or None for the answers)."""

    now: datetime
    message: DeliveryMessage | None = None  # as received; None when the body is no delivery message
    poison: str | None = None  # why the body is no delivery message
    failure: str | None = None  # our own failure (a throttle, a crash, too little time): the attempt unused
    logged: Logged | Unknown | None = UNKNOWN  # the delivery as logged; None: never logged
    payload: dict[str, Any] | Unknown = UNKNOWN  # the payload kept in S3, fetched
    payload_gone: str | None = None  # why that payload could not be fetched (expired)
    webhook: StoredWebhook | Unknown | None = UNKNOWN  # None: deleted
    webhook_current: bool = False  # read strongly consistently (the first read is not): only that may drop it
    probe: bool | None = None  # an UNHEALTHY webhook's probe lease: taken (True), another's (False)
    slot: datetime | None = None  # the rate-limit slot reserved now (a message may carry one: slotAt)
    result: Response | None = None  # the receiver's answer to the POST
    sent_at: datetime | None = None  # when that POST started
    rand: float = 0.5  # the retry jitter's draw, in [0, 1)

    def sent(self) -> DeliveryMessage:
        """The message as it is sent and recorded: with its payload, fetched when it is kept in S3."""
        if self.message.payload is not None or isinstance(self.payload, Unknown):
            return self.message
        return self.message.model_copy(update={"payload": self.payload})

    def slot_at(self) -> datetime | None:
        """When this attempt may POST under its webhook's rate limit: the slot it carries, or reserved now."""
        return parse(self.message.slotAt) if self.message.slotAt else self.slot


Kind = Literal[
    "delivered",  # 2xx
    "retry",  # a failure, with an attempt left: the next one after `delay` s
    "exhausted",  # a failure, and no attempt left: dead-lettered
    "gone",  # 410: the delivery is dead and the webhook disabled (GONE)
    "dropped",  # webhook deleted, disabled or narrowed, or the payload expired: never sent
    "superseded",  # a newer run owns the delivery, or this run delivered it: not sent
    "deferred",  # the webhook's circuit is open: the same attempt after `delay` s
    "limited",  # rate limited: the same attempt at its reserved slot, as a delayed message
    "requeued",  # our own failure: the same attempt after `delay` s
    "dead",  # our own failure, INFRA_RETRIES times over: dead-lettered, its attempt unused
    "poison",  # not a delivery message: dead-lettered as it is
]


@dataclass(frozen=True)
class Outcome:
    """What happens: the log's new state, the message queued next, the DLQ, the webhook's health."""

    kind: Kind
    state: DeliveryState | None = None  # what the log records; None: the log is left as it is
    delay: float | None = None
    next: DeliveryMessage | None = None  # queue this, due `delay` s from now
    dead_letter: bool = False  # keep the message as received in DeliveryDLQ, with `reason`
    health: HealthChange | None = None  # write this on the webhook (it may disable it: GONE or FAILING)
    release_probe: bool = False  # a probe succeeded: the circuit closes
    result: Response | None = None
    reason: str | None = None
    waiting_until: str | None = None  # pending, held back until then (rate limited, or the circuit open)


def decide(known: Known, policy: Policy) -> Outcome | Need:
    """The outcome of an attempt, or the next fact needed to decide it (in the order they are learned)."""
    message = known.message
    if known.poison is not None or message is None:
        return Outcome("poison", dead_letter=True, reason=f"poison message: {known.poison}")
    if known.failure is not None:
        return _our_failure(message, known.failure, known.now, policy)
    if isinstance(known.logged, Unknown):
        return Need("logged")
    if why := settled(known.logged, message):
        return Outcome("superseded", reason=why)
    if known.payload_gone is not None:
        return Outcome("dropped", state="dropped", reason=known.payload_gone)
    if message.payload is None and isinstance(known.payload, Unknown):
        return Need("payload")
    webhook = known.webhook
    if isinstance(webhook, Unknown):
        return Need("webhook")
    if why := not_sendable(webhook, known.sent()):
        if not known.webhook_current:  # a replica behind a create, an enable or a PATCH: ask the current one
            return Need("webhook")
        return Outcome("dropped", state="dropped", reason=why)
    probing = webhook.status == "UNHEALTHY"
    if probing and known.probe is None:
        return Need("probe")
    if probing and not known.probe:
        return _deferred(known, policy)
    if webhook.rateLimit and not message.slotAt and known.slot is None:
        return Need("slot")
    if ratelimit.later(slot := known.slot_at(), known.now):
        return _limited(message, slot, known.now, release_probe=probing)
    if known.result is None:
        return Need("result")
    return _answered(known, webhook, known.result, policy, probing)


def _answered(known: Known, webhook: StoredWebhook, result: Response, policy: Policy, probing: bool) -> Outcome:
    """What the receiver's answer means, for the delivery and for the webhook's health."""
    message, now = known.message, known.now
    if result.ok:
        outcome = Outcome("delivered", state="succeeded", release_probe=probing)
    elif result.status == 410:
        outcome = Outcome("gone", state="dead", reason="the endpoint answered 410 Gone: webhook disabled")
    elif (delay := next_delay(policy.schedule, message.attempt, result.retry_after, known.rand, now)) is None:
        why = f"no attempt left after {message.attempt}"
        outcome = Outcome("exhausted", state="dead", dead_letter=True, reason=why)
    else:
        due = {"attempt": message.attempt + 1, "dueAt": iso(now + timedelta(seconds=delay)), "slotAt": None}
        outcome = Outcome("retry", state="failed", delay=delay, next=message.model_copy(update=due))
    health = after_attempt(webhook, HEALTH_RESULT.get(outcome.kind, "failure"), now, policy.disable_after)
    return replace(outcome, health=health, result=result)


HEALTH_RESULT: dict[Kind, Result] = {"delivered": "success", "gone": "gone"}


def _our_failure(message: DeliveryMessage, failure: str, now: datetime, policy: Policy) -> Outcome:
    """Not the receiver's doing: the same attempt again, later, and dead-lettered once that happened too often."""
    tried = message.infraRetries
    if tried >= policy.infra_retries:
        why = f"failed {tried + 1} times for our own reasons: {failure}"[:1000]
        return Outcome("dead", dead_letter=True, reason=why)
    backoff = min(INFRA_BACKOFF_MAX, INFRA_BACKOFF_SECONDS * 2**tried)
    return _later(message.model_copy(update={"infraRetries": tried + 1}), "requeued", backoff, now, failure)


def _later(message: DeliveryMessage, kind: Kind, seconds: float, now: datetime, reason: str) -> Outcome:
    """The same attempt again, `seconds` from now: no attempt is used, and it takes a new slot then."""
    due = message.model_copy(update={"dueAt": iso(now + timedelta(seconds=seconds)), "slotAt": None})
    return Outcome(kind, delay=seconds, next=due, reason=reason)


def _deferred(known: Known, policy: Policy) -> Outcome:
    """The circuit is open and another probes: the same attempt after the probe interval, shown waiting (in
    the state it was: a failed delivery stays failed, as ops and the API list waiting retries)."""
    outcome = _later(known.message, "deferred", policy.probe_interval, known.now, "endpoint unhealthy")
    logged = known.logged
    # The state of this run (a read a moment behind may still show the run before the retry that queued it).
    state = logged.state if logged and logged.run == known.message.run else "pending"
    until = outcome.next.dueAt
    return replace(outcome, state=state, waiting_until=until, reason=f"endpoint unhealthy: next probe at {until}")


def _limited(message: DeliveryMessage, slot: datetime, now: datetime, release_probe: bool) -> Outcome:
    """Waits for its slot as a delayed message that carries it, shown waiting; due HOLD_SECONDS before the
    slot, it is held in the handler until then."""
    due, until = slot - timedelta(seconds=ratelimit.HOLD_SECONDS), iso(slot)
    return Outcome(
        "limited",
        state="pending",
        delay=(due - now).total_seconds(),
        next=message.model_copy(update={"dueAt": iso(due), "slotAt": until}),
        release_probe=release_probe,  # a probe that must wait for its slot lets another probe meanwhile
        reason=f"rate limited: at {until}",
        waiting_until=until,
    )


def not_sendable(webhook: StoredWebhook | None, message: DeliveryMessage) -> str | None:
    """Why nothing may be sent to it now: deleted, disabled, or narrowed since the message was queued."""
    if webhook is None:
        return "webhook deleted"
    if not webhook.enabled:
        return f"webhook disabled ({webhook.disabledReason or 'by its owner'})"
    if why := unsubscribed(webhook, message.event, message.payload):
        return f"not sent: {why}"
    return None


def settled(logged: Logged | None, message: DeliveryMessage) -> str | None:
    """Why this message is never to be sent, if so: a newer run owns its delivery, or its run delivered it.

    A newer run, whatever its state: a message of an older run would POST once more what the
    log then refuses to record (DeliveryLog.record is conditional on the run)."""
    if logged is None:
        return None
    if logged.run > message.run:
        return f"run {logged.run} superseded it (retried or recovered since): not sent again"
    if logged.run == message.run and logged.state == "succeeded":
        return "already delivered"
    return None


def queued(logged: Logged, now: datetime) -> bool:
    """Pending, and not for longer than STALE_PENDING: its run's message is queued (or being queued),
    so nobody starts another run. Pending for longer, its queueing failed (or its caller died before it);
    unless it is waiting (rate limited, or for a probe) and said until when."""
    recent = iso(now - STALE_PENDING)
    return logged.state == "pending" and max(logged.updatedAt, logged.waitingUntil or "") >= recent
