"""DeliveryFunction's composition root: the delivery engine's settings and services."""

from pydantic import Field

from bluehooks.roots.settings import (
    DEFAULT_SCHEDULE,
    DeliveryLogTable,
    PayloadBucket,
    Schedule,
    Scheduling,
    SecretsKey,
    TargetRules,
    WebhookTable,
    parse_schedule,
)


class DeliverySettings(WebhookTable, DeliveryLogTable, TargetRules, SecretsKey, Scheduling, PayloadBucket):
    batch_size: int = Field(default=10, ge=1, le=10000, alias="DELIVERY_BATCH_SIZE")
    delivery_timeout_seconds: float = Field(default=7, gt=0, alias="DELIVERY_TIMEOUT_SECONDS")
    retry_schedule: Schedule = Field(default=parse_schedule(DEFAULT_SCHEDULE), alias="RETRY_SCHEDULE")
    disable_after_failing_seconds: int = Field(default=5 * 86400, ge=1, alias="DISABLE_AFTER_FAILING_SECONDS")
    probe_interval_seconds: int = Field(default=30, ge=1, alias="PROBE_INTERVAL_SECONDS")
    event_bus_name: str = Field(alias="EVENT_BUS_NAME")
