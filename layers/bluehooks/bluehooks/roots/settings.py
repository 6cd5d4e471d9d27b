"""What every function's settings share: read from its environment (template.yaml, or the local stack) once,
at cold start, so that a missing or malformed variable is one clear error naming it, not a KeyError deep
inside a request.

Plain pydantic models, not pydantic-settings: that package costs about 50 ms more of every cold start (its
import, on this project's measure) for what `from_env` does here in four lines.
"""

import os
from collections.abc import Mapping
from typing import Annotated, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

DEFAULT_SCHEDULE = "0,5,300,1800,7200,18000,36000,36000"


class Misconfigured(ValueError):
    """The function's environment lacks a variable, or holds one it cannot use; the message names each."""


class FunctionSettings(BaseModel):
    """Each field is read from the environment variable of its alias; other variables are ignored."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        try:
            return cls.model_validate(dict(os.environ if env is None else env))
        except ValidationError as exc:
            raise Misconfigured(f"{cls.__name__}: {problems(exc)}") from None

    @classmethod
    def variables(cls) -> set[str]:
        """The environment variables this function reads (template.yaml gives it exactly these)."""
        return {field.alias or name for name, field in cls.model_fields.items()}


def problems(exc: ValidationError) -> str:
    """Each variable and what is wrong with it; never its value (the environment is no place to echo)."""
    return "; ".join(
        f"{'.'.join(map(str, error['loc']))}: {'missing' if error['type'] == 'missing' else error['msg']}"
        for error in exc.errors(include_url=False, include_input=False)
    )


def parse_schedule(text: str) -> tuple[int, ...]:
    """'0,5,300' -> (0, 5, 300): the delay in seconds before each delivery attempt."""
    delays = tuple(int(part) for part in text.split(",") if part.strip())
    if not delays or any(delay < 0 for delay in delays):
        raise ValueError(f"retry schedule must be non-negative seconds, got {text!r}")
    return delays


def _schedule(value: object) -> object:
    return parse_schedule(value) if isinstance(value, str) else value


def _flag(value: object) -> object:
    return value.strip().lower() == "true" if isinstance(value, str) else value


def _optional(value: object) -> object:
    return value or None


Flag = Annotated[bool, BeforeValidator(_flag)]
Optional = Annotated[str | None, BeforeValidator(_optional)]
Schedule = Annotated[tuple[int, ...], BeforeValidator(_schedule)]


# -- what several functions read: each function's settings are made of these and its own -------------------


class WebhookTable(FunctionSettings):
    webhooks_table: str = Field(alias="WEBHOOKS_TABLE")


class DeliveryLogTable(FunctionSettings):
    deliveries_table: str = Field(alias="DELIVERIES_TABLE")
    delivery_log_retention_days: int = Field(default=30, ge=1, alias="DELIVERY_LOG_RETENTION_DAYS")


class TargetRules(FunctionSettings):
    """Which URLs a webhook may point at (bluehooks.targets): checked at create, and again at each POST."""

    allow_http: Flag = Field(default=False, alias="ALLOW_HTTP")
    allow_private_targets: Flag = Field(default=False, alias="ALLOW_PRIVATE_TARGETS")


class SecretsKey(FunctionSettings):
    secrets_key_id: str = Field(alias="SECRETS_KEY_ID")


class DeliveryQueue(FunctionSettings):
    delivery_queue_url: str = Field(alias="DELIVERY_QUEUE_URL")


class Scheduling(DeliveryQueue):
    """The queues a delivery message travels on after its first attempt (bluehooks.services.scheduling)."""

    retry_queue_url: str = Field(alias="RETRY_QUEUE_URL")
    delivery_dlq_url: str = Field(alias="DELIVERY_DLQ_URL")


class PayloadBucket(FunctionSettings):
    payload_bucket: str = Field(alias="PAYLOAD_BUCKET")


class LimitsTable(FunctionSettings):
    """Per-company counts of manual actions (adapters.limits) and webhooks' rate-limit slots (adapters.ratelimits)."""

    limits_table: str = Field(alias="LIMITS_TABLE")
