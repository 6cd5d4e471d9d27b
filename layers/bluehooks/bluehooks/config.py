"""Settings read from the function environment (set by template.yaml, or by the local stack)."""

import os
from dataclasses import dataclass
from functools import cache


def _flag(name: str) -> bool:
    return os.environ.get(name, "false").strip().lower() == "true"


def parse_schedule(text: str) -> tuple[int, ...]:
    """'0,5,300' -> (0, 5, 300): the delay in seconds before each delivery attempt."""
    delays = tuple(int(part) for part in text.split(",") if part.strip())
    if not delays or any(delay < 0 for delay in delays):
        raise ValueError(f"retry schedule must be non-negative seconds, got {text!r}")
    return delays


@dataclass(frozen=True)
class Settings:
    webhooks_table: str
    idempotency_table: str
    delivery_queue_url: str
    fanout_dlq_url: str
    event_bus_name: str
    jwt_secret_parameter: str
    delivery_timeout_seconds: float
    retry_schedule: tuple[int, ...]
    allow_http: bool
    allow_private_targets: bool
    max_webhooks_per_company: int

    @classmethod
    def from_env(cls) -> "Settings":
        env = os.environ
        return cls(
            webhooks_table=env["WEBHOOKS_TABLE"],
            idempotency_table=env["IDEMPOTENCY_TABLE"],
            delivery_queue_url=env["DELIVERY_QUEUE_URL"],
            fanout_dlq_url=env["FANOUT_DLQ_URL"],
            event_bus_name=env["EVENT_BUS_NAME"],
            jwt_secret_parameter=env["JWT_SECRET_PARAMETER"],
            delivery_timeout_seconds=float(env.get("DELIVERY_TIMEOUT_SECONDS", "7")),
            retry_schedule=parse_schedule(env.get("RETRY_SCHEDULE", "0,5,300,1800,7200,18000,36000,36000")),
            allow_http=_flag("ALLOW_HTTP"),
            allow_private_targets=_flag("ALLOW_PRIVATE_TARGETS"),
            max_webhooks_per_company=int(env.get("MAX_WEBHOOKS_PER_COMPANY", "100")),
        )


@cache
def settings() -> Settings:
    return Settings.from_env()
