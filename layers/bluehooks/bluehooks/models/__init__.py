"""Pydantic models of the contracts: tokens, API bodies, webhooks, producer events, queue messages."""

import base64
import re
import unicodedata
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    model_validator,
)

from bluehooks.models.catalog import unknown_event_types
from bluehooks.rules import customheaders, filters, signing

Role = Literal["OWNER", "ADMIN", "PROJECT_MANAGER", "MEMBER"]
WRITER_ROLES = frozenset({"OWNER", "ADMIN", "PROJECT_MANAGER"})
Status = Literal["HEALTHY", "UNHEALTHY"]
ProjectId = Annotated[str, Field(min_length=1, max_length=128)]


class Model(BaseModel):
    """Builds its validator on first use: each function's cold start builds only the models it uses."""

    model_config = ConfigDict(defer_build=True)


def _int_as_text(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


# Token claims may carry numeric ids; they are compared as text. An empty id names nobody.
ClaimId = Annotated[StrictStr, BeforeValidator(_int_as_text), Field(min_length=1, max_length=256)]


class Caller(Model):
    """The verified claims of the bearer token."""

    sub: ClaimId
    company: ClaimId
    role: Role
    projects: list[ClaimId] | None = Field(default=None, max_length=1000)

    @property
    def can_write(self) -> bool:
        return self.role in WRITER_ROLES

    def sees(self, project_ids: list[str]) -> bool:
        """A project-limited token sees only webhooks limited to some of its own projects."""
        if self.projects is None:
            return True
        return bool(project_ids) and set(project_ids) <= set(self.projects)


def _known_events(events: list[str]) -> list[str]:
    if unknown := unknown_event_types(events):
        raise ValueError(f"unknown event types: {', '.join(unknown)} (see GET /event-types)")
    return sorted(set(events))


def _valid_filter(pattern: dict[str, Any] | None) -> dict[str, Any] | None:
    if pattern is None:
        return None
    try:
        filters.validate(pattern)
    except filters.InvalidFilter as exc:
        raise ValueError(f"invalid filter: {exc}") from None
    return pattern or None


# Control and format characters (bidi overrides among them) and line or paragraph separators: a name
# is shown in the console, e-mails and logs, where these break or disguise the text around them.
_UNSHOWABLE = frozenset({"Cc", "Cf", "Zl", "Zp"})


def _no_control_characters(text: str) -> str:
    if any(unicodedata.category(character) in _UNSHOWABLE for character in text):
        raise ValueError("may not hold control characters, format characters or line separators")
    return text


Name = Annotated[str, Field(max_length=200), AfterValidator(_no_control_characters)]
Url = Annotated[str, Field(min_length=1, max_length=2048)]
EventList = Annotated[
    list[str],
    Field(max_length=100, description="Event types to receive; empty or absent: all events."),
    AfterValidator(_known_events),
]
ProjectList = Annotated[
    list[ProjectId],
    Field(max_length=100, description="Projects to receive events of; empty or absent: all projects."),
    AfterValidator(lambda ids: sorted(set(ids))),
]
FilterPattern = Annotated[
    dict[str, Any] | None,
    Field(description="An EventBridge event pattern matched against the delivered payload; null: no filter."),
    AfterValidator(_valid_filter),
]
HeaderSet = Annotated[
    dict[str, str],
    Field(
        description=f"Sent with every delivery, at most {customheaders.MAX_HEADERS}: name → value (at most "
        f"{customheaders.MAX_VALUE_BYTES} bytes of printable ASCII). Values are write-only: sealed, never returned."
    ),
    AfterValidator(customheaders.checked),
]
MAX_RATE_LIMIT = 10_000
RateLimit = Annotated[
    StrictInt | None,
    Field(
        ge=1,
        le=MAX_RATE_LIMIT,
        description=f"Deliveries per second, 1-{MAX_RATE_LIMIT:,}; null: unlimited. Deliveries past it wait "
        "(state `pending`, with `waitingUntil`), never counted as attempts.",
    ),
]


def _enough_key_material(secret: str) -> str:
    """Both schemes get a 16-byte key at least: whsec_ + base64 (Standard Webhooks), or the text itself."""
    if secret.startswith(signing.SECRET_PREFIX):
        try:
            key = base64.b64decode(secret.removeprefix(signing.SECRET_PREFIX), validate=True)
        except ValueError:
            raise ValueError("a secret starting with whsec_ must be followed by base64") from None
    else:
        key = secret.encode()
    if len(key) < MIN_SECRET_BYTES:
        raise ValueError(f"a secret needs at least {MIN_SECRET_BYTES} bytes of key material (after whsec_, decoded)")
    return secret


MIN_SECRET_BYTES = 16
Secret = Annotated[
    str,
    Field(min_length=16, max_length=256, pattern=r"^[\x21-\x7e]+$"),
    AfterValidator(_enough_key_material),
]


class WebhookCreate(Model):
    """Body of POST /webhooks."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    url: Url
    secret: Secret | None = Field(default=None, description="Generated (whsec_...) when absent.")
    events: EventList = Field(default_factory=list)
    projectIds: ProjectList = Field(default_factory=list)
    filter: FilterPattern = None
    enabled: bool = True
    rateLimit: RateLimit = None
    headers: HeaderSet = Field(default_factory=dict, repr=False)  # repr: a value must never reach a log


class WebhookUpdate(Model):
    """Body of PATCH /webhooks/{id}: only the fields present change."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    url: Url | None = None
    events: EventList | None = None
    projectIds: ProjectList | None = None
    filter: FilterPattern = None
    enabled: bool | None = None
    rateLimit: RateLimit = None
    headers: HeaderSet | None = Field(default=None, repr=False, description="Replaces the set; null or {} clears it.")

    @model_validator(mode="after")
    def null_only_clears_name_filter_headers_or_rate_limit(self) -> "WebhookUpdate":
        for field in self.model_fields_set - {"name", "filter", "headers", "rateLimit"}:
            if getattr(self, field) is None:
                raise ValueError(f"{field} may not be null (leave it out to keep it)")
        return self

    def changes(self) -> dict[str, Any]:
        """The fields the caller sent but `headers` (its values are sealed, never stored as sent); null
        clears the name (named after the host again), the filter or the rate limit."""
        return self.model_dump(include=self.model_fields_set - {"headers"})


class SecretRotation(Model):
    """Body of POST /webhooks/{id}/rotate-secret (optional)."""

    model_config = ConfigDict(extra="forbid")

    secret: Secret | None = Field(default=None, description="The new secret; generated (whsec_...) when absent.")
    keepPreviousSecret: bool = Field(
        default=True, description="false: the previous secret stops signing at once, instead of after the overlap."
    )


class Metadata(Model):
    events: list[str]
    projectIds: list[str]


class WebhookFields(Model):
    """What the API shows of a webhook, and what is stored of it, but its secret."""

    id: str
    uid: str
    name: str
    url: str
    status: Status
    enabled: bool
    events: list[str]
    projectIds: list[str]
    filter: dict[str, Any] | None = None
    rateLimit: int | None = Field(default=None, description="Deliveries per second; null: unlimited.")
    headers: list[str] = Field(default_factory=list, description="Names of the webhook's own headers (values hidden).")
    companyId: str
    createdById: str
    createdAt: str
    updatedAt: str
    disabledReason: str | None = None
    lastSuccessAt: str | None = None
    lastFailureAt: str | None = None


class Webhook(WebhookFields):
    """The webhook object of the API and of delivery payloads (there with no secret)."""

    secret: str | None = Field(description="Returned only by create and rotate; null afterwards.")
    metadata: Metadata


class StoredWebhook(WebhookFields):
    """A webhook as stored: its secrets sealed (KMS), its delivery health, its version for safe updates."""

    sealedSecret: bytes
    sealedPreviousSecret: bytes | None = None
    sealedHeaders: list[bytes] = Field(default_factory=list, description="The headers' values, sealed (KMS).")
    previousSecretExpiresAt: int | None = Field(
        default=None, description="Unix seconds; the old secret signs until then."
    )
    consecutiveFailures: int = 0
    failingSince: str | None = None
    probeUntil: float | None = Field(
        default=None, description="Unix seconds: the circuit's probe lease (kept by updates)."
    )
    version: int = 1

    def public(self, secret: str | None = None) -> Webhook:
        fields = self.model_dump(include=set(WebhookFields.model_fields))
        return Webhook(**fields, secret=secret, metadata=Metadata(events=self.events, projectIds=self.projectIds))


class WebhookPage(Model):
    items: list[Webhook]
    nextCursor: str | None = Field(description="Pass as ?cursor= for the next page; null on the last.")


class Subscription(Model):
    """A subscription index entry: what the fan-out decides on without reading the webhook itself."""

    webhookId: str
    enabled: bool
    projectIds: list[str]
    filter: dict[str, Any] | None = None


class EventType(Model):
    """An event type of the catalog, with the JSON Schema (2020-12) of the body a receiver gets, and an example."""

    model_config = ConfigDict(populate_by_name=True)

    name: str
    description: str
    body_schema: dict[str, Any] = Field(alias="schema", description="JSON Schema (2020-12) of the delivery body")
    example: dict[str, Any] = Field(description="A delivery body of this type, valid against `schema`")


class Message(Model):
    """Every error answer: a human-readable message."""

    message: str


class ValidationProblem(Message):
    """A 422: the message, and each problem with where it is (`loc`) and what it is (`type`, `msg`)."""

    errors: list[dict[str, Any]]


EntityId = StrictStr | StrictInt


class EntityRef(Model):
    """{"id": ...} as the producer sends it; extra fields are kept."""

    model_config = ConfigDict(extra="allow")

    id: EntityId

    @property
    def key(self) -> str:
        return str(self.id)


class EventDetail(Model):
    """The `Detail` of a producer's PutEvents entry (DESIGN: producer contract)."""

    id: StrictStr | None = Field(default=None, min_length=1, max_length=256)
    company: EntityRef
    project: EntityRef | None = None
    user: EntityRef | None = None
    currentValue: Any = None
    previousValue: Any = None


class BusEvent(Model):
    """What EventBridge hands the fan-out: its envelope (of which the fan-out reads the id and type) and our Detail."""

    id: StrictStr
    source: StrictStr
    detail_type: StrictStr = Field(alias="detail-type")
    detail: EventDetail


class DeliveryMessage(Model):
    """One SQS message: one event for one webhook. Never carries a secret."""

    deliveryId: str
    webhookId: str
    companyId: str
    eventId: str
    event: str
    payload: dict[str, Any] | None = Field(
        default=None, description="The body without its `webhook` part, added at delivery; none when too large."
    )
    payloadKey: str | None = Field(
        default=None, pattern=r"^payloads/[a-z2-7]{32}$", description="Where a payload too large to carry is kept (S3)."
    )
    run: int = Field(default=0, ge=0, description="Which redelivery of this delivery; older runs are superseded.")
    attempt: int = Field(default=1, ge=1, le=1000, description="The number of the attempt this message is for.")
    dueAt: str | None = Field(default=None, description="When that attempt is due (ISO 8601); none: now.")
    infraRetries: int = Field(default=0, ge=0, description="Times it came back for our own failures (attempt unused).")
    slotAt: str | None = Field(default=None, description="The rate-limit slot reserved for it (ISO 8601): sent then.")

    @model_validator(mode="after")
    def _has_payload(self) -> "DeliveryMessage":
        if self.payload is None and self.payloadKey is None:
            raise ValueError("a delivery message carries its payload, or the key of one kept in S3")
        return self


DeliveryState = Literal["pending", "succeeded", "failed", "dead", "dropped"]
REDELIVERABLE: tuple[DeliveryState, ...] = ("failed", "dead")
UNSETTLED: tuple[DeliveryState, ...] = (*REDELIVERABLE, "pending")  # may still be sent: what a narrowing drops
DELIVERY_ID = re.compile(r"^msg_[a-z0-9]{16,64}$")


class DeliveryAttempt(Model):
    """One POST of a delivery, as the log keeps it."""

    attempt: int = Field(description="The attempt's number in its run: a retry or recover starts a new run at 1.")
    run: int = Field(default=0, description="0 for the first run; each retry or recover of the delivery adds one.")
    at: str
    statusCode: int | None = None
    durationMs: int | None = None
    error: str | None = Field(default=None, description="What failed when no 2xx came: timeout, refused, …")
    responseExcerpt: str = Field(default="", description="The first 1 KiB of the response body, as text.")
    nextRetryAt: str | None = None


class DeliverySummary(Model):
    """A delivery in the log: one event to one webhook, and where it stands."""

    deliveryId: str = Field(description="The webhook-id header of every attempt.")
    webhookId: str
    eventId: str
    event: str
    state: DeliveryState
    reason: str | None = Field(default=None, description="Why it is dead or dropped, or what it waits for.")
    createdAt: str
    updatedAt: str
    attemptCount: int
    nextRetryAt: str | None = None
    waitingUntil: str | None = Field(
        default=None, description="Pending, and held back until then: rate limited, or its endpoint unhealthy."
    )
    lastError: str | None = Field(
        default=None, description="What the last attempt met when it failed: an HTTP status or a transport error."
    )


class SentRequest(Model):
    """The POST an attempt makes, as the log can show it: signatures, secrets and custom header values left out."""

    method: Literal["POST"] = "POST"
    url: str
    headers: dict[str, str] = Field(description="Each header's value, or what stands in for a hidden one.")
    body: dict[str, Any] = Field(description="The JSON body, with the webhook as it is now.")
    bodyComplete: bool = Field(description="false: a large payload kept in S3, of which the log shows the head only.")


class Delivery(DeliverySummary):
    attempts: list[DeliveryAttempt]
    request: SentRequest | None = Field(default=None, description="What is POSTed for it (GET of one delivery only).")


class LoggedDelivery(Delivery):
    """A delivery as stored: what the API shows, and what a redelivery needs."""

    companyId: str
    payload: dict[str, Any]  # only its head when it is kept in S3 (payloadKey)
    payloadKey: str | None = None
    run: int = 0

    def message(self) -> DeliveryMessage:
        return DeliveryMessage(
            deliveryId=self.deliveryId,
            webhookId=self.webhookId,
            companyId=self.companyId,
            eventId=self.eventId,
            event=self.event,
            payload=None if self.payloadKey else self.payload,
            payloadKey=self.payloadKey,
            run=self.run,
        )

    def summary(self) -> DeliverySummary:
        return DeliverySummary.model_validate(self.model_dump(include=set(DeliverySummary.model_fields)))

    @model_validator(mode="after")
    def _last_error(self) -> "LoggedDelivery":
        last = self.attempts[-1] if self.attempts else None
        if last and not (last.statusCode and 200 <= last.statusCode < 300):
            self.lastError = last.error or (f"HTTP {last.statusCode}" if last.statusCode else None)
        return self


class DeliveryPage(Model):
    items: list[DeliverySummary]
    nextCursor: str | None = Field(
        description=(
            "Pass as ?cursor= for the next (older) page; null on the last. A page may be shorter than `limit` "
            "and still have one: a page holds at most 4 MiB of deliveries."
        )
    )


def _in_utc(moment: datetime) -> datetime:
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time is out of range") from None


Moment = Annotated[AwareDatetime, AfterValidator(_in_utc)]


class RecoverRequest(Model):
    """Body of POST /webhooks/{id}/recover."""

    model_config = ConfigDict(extra="forbid")

    since: Moment = Field(description="Redeliver every failed or dead delivery created at or after this time.")


class NotSent(Model):
    """A delivery left out of a redelivery, and why: the webhook no longer subscribes to it, or you may not see it."""

    deliveryId: str
    reason: str


class Recovery(Model):
    queued: int = Field(description="Deliveries queued again by this call.")
    remaining: bool = Field(description="true: more remain; call again with the same body to queue the next ones.")
    notSent: list[NotSent] = Field(
        default_factory=list,
        description="Deliveries this call dropped instead (state `dropped`, with the reason in the log).",
    )


PAYLOAD_PARTS = ("event", "company", "project", "user", "currentValue", "previousValue")


class FilterTest(Model):
    """Body of POST /filters/test: a filter, and a delivery body to match it against (its `webhook` is ignored)."""

    model_config = ConfigDict(extra="forbid")

    filter: Annotated[dict[str, Any], AfterValidator(_valid_filter)]
    event: dict[str, Any] = Field(description="A delivery body, as GET /event-types' examples or the delivery log show")

    def payload(self) -> dict[str, Any]:
        """What the fan-out matches: the body's parts but the webhook."""
        return {part: self.event[part] for part in PAYLOAD_PARTS if part in self.event}


class FilterVerdict(Model):
    matches: bool
    reason: str | None = Field(default=None, description="Why, when the answer is not a plain match or no match.")


class TestRequest(Model):
    """Body of POST /webhooks/{id}/test (optional): which event type's example to send; none, a WEBHOOK_TEST ping."""

    model_config = ConfigDict(extra="forbid")

    eventType: str | None = Field(default=None, description="An event type of GET /event-types the webhook receives.")

    @model_validator(mode="after")
    def known(self) -> "TestRequest":
        if self.eventType is not None:
            _known_events([self.eventType])
        return self
