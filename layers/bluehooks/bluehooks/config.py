"""Settings read from the function environment (set by template.yaml, or by the local stack).

Validated once, at cold start: a missing or malformed variable is one clear error naming it,
not a KeyError deep inside a request.
"""

import os
from functools import cache
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

# template.yaml's ConsoleFrameAncestors: origins only, so nothing else can reach the CSP header.
FRAME_ANCESTORS = r"^(https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?)?( https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?)*$"
DEFAULT_SCHEDULE = "0,5,300,1800,7200,18000,36000,36000"


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


class Settings(BaseModel):
    """Each field is read from the environment variable of its alias."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    webhooks_table: str = Field(alias="WEBHOOKS_TABLE")
    idempotency_table: str = Field(alias="IDEMPOTENCY_TABLE")
    delivery_queue_url: str = Field(alias="DELIVERY_QUEUE_URL")
    retry_queue_url: str = Field(alias="RETRY_QUEUE_URL")
    delivery_dlq_url: str = Field(alias="DELIVERY_DLQ_URL")
    probe_interval_seconds: int = Field(default=30, ge=1, alias="PROBE_INTERVAL_SECONDS")
    batch_size: int = Field(default=10, ge=1, le=10000, alias="DELIVERY_BATCH_SIZE")
    fanout_dlq_url: str = Field(alias="FANOUT_DLQ_URL")
    event_bus_name: str = Field(alias="EVENT_BUS_NAME")
    jwt_secret_parameter: str = Field(alias="JWT_SECRET_PARAMETER")
    jwt_issuer: Optional = Field(default=None, alias="JWT_ISSUER")
    jwt_audience: Optional = Field(default=None, alias="JWT_AUDIENCE")
    console_frame_ancestors: Annotated[str, Field(pattern=FRAME_ANCESTORS)] = Field(
        default="", alias="CONSOLE_FRAME_ANCESTORS"
    )
    max_token_lifetime_seconds: int = Field(default=86400, ge=60, alias="MAX_TOKEN_LIFETIME_SECONDS")
    secrets_key_id: str = Field(alias="SECRETS_KEY_ID")
    secret_rotation_overlap_seconds: int = Field(default=86400, ge=0, alias="SECRET_ROTATION_OVERLAP_SECONDS")
    delivery_timeout_seconds: float = Field(default=7, gt=0, alias="DELIVERY_TIMEOUT_SECONDS")
    retry_schedule: Annotated[tuple[int, ...], BeforeValidator(_schedule)] = Field(
        default=parse_schedule(DEFAULT_SCHEDULE), alias="RETRY_SCHEDULE"
    )
    allow_http: Flag = Field(default=False, alias="ALLOW_HTTP")
    allow_private_targets: Flag = Field(default=False, alias="ALLOW_PRIVATE_TARGETS")
    max_webhooks_per_company: int = Field(default=100, ge=1, alias="MAX_WEBHOOKS_PER_COMPANY")
    deliveries_table: str = Field(alias="DELIVERIES_TABLE")
    payload_bucket: str = Field(alias="PAYLOAD_BUCKET")
    delivery_log_retention_days: int = Field(default=30, ge=1, alias="DELIVERY_LOG_RETENTION_DAYS")
    disable_after_failing_seconds: int = Field(default=5 * 86400, ge=1, alias="DISABLE_AFTER_FAILING_SECONDS")
    limits_table: str = Field(alias="LIMITS_TABLE")
    # Per company and minute (DESIGN: tenant isolation and abuse limits); template.yaml's defaults.
    test_pings_per_minute: int = Field(default=10, ge=1, alias="TEST_PINGS_PER_MINUTE")
    retries_per_minute: int = Field(default=60, ge=1, alias="RETRIES_PER_MINUTE")
    recovers_per_minute: int = Field(default=10, ge=1, alias="RECOVERS_PER_MINUTE")
    manual_deliveries_per_minute: int = Field(default=1000, ge=1, alias="MANUAL_DELIVERIES_PER_MINUTE")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        return cls.model_validate(dict(os.environ if env is None else env))


@cache
def settings() -> Settings:
    return Settings.from_env()
