"""Pydantic models of the contracts: tokens, API bodies, webhooks, producer events, queue messages."""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, StrictStr, field_validator

from bluehooks.catalog import unknown_event_types

Role = Literal["OWNER", "ADMIN", "PROJECT_MANAGER", "MEMBER"]
WRITER_ROLES = frozenset({"OWNER", "ADMIN", "PROJECT_MANAGER"})
Status = Literal["HEALTHY", "UNHEALTHY"]
ProjectId = Annotated[str, Field(min_length=1, max_length=128)]


def _int_as_text(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


# Token claims may carry numeric ids; they are compared as text.
ClaimId = Annotated[StrictStr, BeforeValidator(_int_as_text)]


class Caller(BaseModel):
    """The verified claims of the bearer token."""

    sub: ClaimId
    company: ClaimId
    role: Role
    projects: list[ClaimId] | None = None

    @property
    def can_write(self) -> bool:
        return self.role in WRITER_ROLES


class WebhookCreate(BaseModel):
    """Body of POST /webhooks."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    url: str = Field(min_length=1, max_length=2048)
    secret: str | None = Field(default=None, min_length=8, max_length=256, pattern=r"^[\x21-\x7e]+$")
    events: list[str] = Field(default_factory=list, max_length=100, description="Empty or absent: all events.")
    projectIds: list[ProjectId] = Field(
        default_factory=list, max_length=100, description="Empty or absent: all projects."
    )
    enabled: bool = True

    @field_validator("events")
    @classmethod
    def known_events(cls, events: list[str]) -> list[str]:
        if unknown := unknown_event_types(events):
            raise ValueError(f"unknown event types: {', '.join(unknown)} (see GET /event-types)")
        return sorted(set(events))

    @field_validator("projectIds")
    @classmethod
    def distinct_projects(cls, project_ids: list[str]) -> list[str]:
        return sorted(set(project_ids))


class Metadata(BaseModel):
    events: list[str]
    projectIds: list[str]


class Webhook(BaseModel):
    """The webhook object of the API and of delivery payloads (there with no secret)."""

    id: str
    uid: str
    name: str
    url: str
    secret: str | None = Field(description="Returned only by create and rotate; null afterwards.")
    status: Status
    enabled: bool
    events: list[str]
    projectIds: list[str]
    filter: dict[str, Any] | None = None
    metadata: Metadata
    companyId: str
    createdById: str
    createdAt: str
    updatedAt: str
    disabledReason: str | None = None


class WebhookPage(BaseModel):
    items: list[Webhook]
    nextCursor: str | None = Field(description="Pass as ?cursor= for the next page; null on the last.")


class EventType(BaseModel):
    name: str
    description: str


class Message(BaseModel):
    """Every error answer: a human-readable message."""

    message: str


class ValidationProblem(Message):
    """A 422: the message, and each problem with where it is (`loc`) and what it is (`type`, `msg`)."""

    errors: list[dict[str, Any]]


EntityId = StrictStr | StrictInt


class EntityRef(BaseModel):
    """{"id": ...} as the producer sends it; extra fields are kept."""

    model_config = ConfigDict(extra="allow")

    id: EntityId

    @property
    def key(self) -> str:
        return str(self.id)


class EventDetail(BaseModel):
    """The `Detail` of a producer's PutEvents entry (DESIGN: producer contract)."""

    id: StrictStr | None = Field(default=None, min_length=1, max_length=256)
    company: EntityRef
    project: EntityRef | None = None
    user: EntityRef | None = None
    currentValue: Any = None
    previousValue: Any = None


class DeliveryMessage(BaseModel):
    """One SQS message: one event for one webhook. Never carries a secret."""

    deliveryId: str
    webhookId: str
    companyId: str
    eventId: str
    event: str
    payload: dict[str, Any] = Field(description="The body without its `webhook` part, added at delivery.")
