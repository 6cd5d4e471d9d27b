"""DeliveryFunction's composition root: the delivery engine's settings and services.

Its AWS clients have short socket timeouts and few retries, and make no call that would end after the
invocation's deadline (bluehooks.deadline): in a brownout a record fails, not the whole batch after its POSTs.
"""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

import boto3
import requests
from botocore.config import Config
from pydantic import Field

from bluehooks.adapters.deliverylog import DeliveryLog
from bluehooks.adapters.eventbridge import EventBus
from bluehooks.adapters.kms import KmsVault
from bluehooks.adapters.ratelimits import DynamoRateLimits
from bluehooks.adapters.s3 import S3PayloadStore
from bluehooks.adapters.sqs import SqsInFlight
from bluehooks.adapters.store import WebhookStore
from bluehooks.adapters.vault import SecretVault
from bluehooks.deadline import bounded
from bluehooks.outbound import pinned_session
from bluehooks.roots.aws import Aws
from bluehooks.roots.retry import sqs_scheduler
from bluehooks.roots.settings import (
    DEFAULT_SCHEDULE,
    DeliveryLogTable,
    LimitsTable,
    PayloadBucket,
    Schedule,
    Scheduling,
    SecretsKey,
    TargetRules,
    WebhookTable,
    parse_schedule,
)
from bluehooks.services.delivery import Deliverer
from bluehooks.services.scheduling import RetryScheduler
from bluehooks.targets import TargetPolicy

AWS_CALLS = Config(connect_timeout=2, read_timeout=3, retries={"mode": "standard", "max_attempts": 3})


class DeliverySettings(WebhookTable, DeliveryLogTable, TargetRules, SecretsKey, Scheduling, PayloadBucket, LimitsTable):
    batch_size: int = Field(default=10, ge=1, le=10000, alias="DELIVERY_BATCH_SIZE")
    delivery_timeout_seconds: float = Field(default=7, gt=0, alias="DELIVERY_TIMEOUT_SECONDS")
    retry_schedule: Schedule = Field(default=parse_schedule(DEFAULT_SCHEDULE), alias="RETRY_SCHEDULE")
    disable_after_failing_seconds: int = Field(default=5 * 86400, ge=1, alias="DISABLE_AFTER_FAILING_SECONDS")
    probe_interval_seconds: int = Field(default=30, ge=1, alias="PROBE_INTERVAL_SECONDS")
    event_bus_name: str = Field(alias="EVENT_BUS_NAME")


@dataclass
class DeliveryRoot:
    settings: DeliverySettings
    deliverer: Deliverer
    scheduler: RetryScheduler
    in_flight: SqsInFlight  # DeliveryQueue's received records, backed off when even queueing again failed
    records: ThreadPoolExecutor  # a thread per record of the largest batch: one slow receiver holds up no other


def build(settings: DeliverySettings, aws: Aws = boto3, session: requests.Session | None = None) -> DeliveryRoot:
    """`session`: the http session of the POSTs; by default one pinned to the target policy's addresses."""

    def client(service: str):
        return bounded(aws.client(service, config=AWS_CALLS))

    dynamodb = aws.resource("dynamodb", config=AWS_CALLS)
    bounded(dynamodb.meta.client)
    sqs = client("sqs")
    policy = TargetPolicy(allow_http=settings.allow_http, allow_loopback=settings.allow_private_targets)
    deliverer = Deliverer(
        store=WebhookStore(dynamodb.Table(settings.webhooks_table)),
        log=DeliveryLog(dynamodb.Table(settings.deliveries_table), settings.delivery_log_retention_days),
        vault=SecretVault(KmsVault(client("kms"), settings.secrets_key_id)),
        session=session or pinned_session(policy, settings.batch_size),
        timeout=settings.delivery_timeout_seconds,
        schedule=settings.retry_schedule,
        disable_after=timedelta(seconds=settings.disable_after_failing_seconds),
        probe_interval=settings.probe_interval_seconds,
        announce=EventBus(client("events"), settings.event_bus_name).announce_disabled,
        payloads=S3PayloadStore(client("s3"), settings.payload_bucket),
        rate_limits=DynamoRateLimits(dynamodb.Table(settings.limits_table)),
    )
    scheduler = sqs_scheduler(sqs, settings)
    records = ThreadPoolExecutor(max_workers=settings.batch_size, thread_name_prefix="record")
    return DeliveryRoot(settings, deliverer, scheduler, SqsInFlight(sqs, settings.delivery_queue_url), records)
