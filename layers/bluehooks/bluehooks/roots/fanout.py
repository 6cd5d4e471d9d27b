"""FanoutFunction's composition root: the fan-out's settings and services."""

from pydantic import Field

from bluehooks.roots.settings import DeliveryQueue, PayloadBucket, WebhookTable


class FanoutSettings(WebhookTable, DeliveryQueue, PayloadBucket):
    idempotency_table: str = Field(alias="IDEMPOTENCY_TABLE")
    fanout_dlq_url: str = Field(alias="FANOUT_DLQ_URL")
