"""ApiFunction's composition root: the management API's settings and services."""

from dataclasses import dataclass
from typing import Annotated

import boto3
from pydantic import Field

from bluehooks.adapters.deliverylog import DeliveryLog
from bluehooks.adapters.kms import KmsVault
from bluehooks.adapters.limits import CompanyLimits, Limits
from bluehooks.adapters.producer import Producer
from bluehooks.adapters.store import WebhookStore
from bluehooks.adapters.vault import SecretVault
from bluehooks.auth import authenticate, signing_key
from bluehooks.models import Caller
from bluehooks.roots.aws import Aws
from bluehooks.roots.settings import (
    DeliveryLogTable,
    DeliveryQueue,
    LimitsTable,
    Optional,
    SecretsKey,
    TargetRules,
    WebhookTable,
)
from bluehooks.services.deliveries import DeliveryService
from bluehooks.services.management import WebhookService
from bluehooks.targets import TargetPolicy

# template.yaml's ConsoleFrameAncestors: origins only, so nothing else can reach the CSP header.
FRAME_ANCESTORS = r"^(https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?)?( https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?)*$"


class ApiSettings(WebhookTable, DeliveryLogTable, TargetRules, SecretsKey, DeliveryQueue, LimitsTable):
    jwt_secret_parameter: str = Field(alias="JWT_SECRET_PARAMETER")
    jwt_issuer: Optional = Field(default=None, alias="JWT_ISSUER")
    jwt_audience: Optional = Field(default=None, alias="JWT_AUDIENCE")
    max_token_lifetime_seconds: int = Field(default=86400, ge=60, alias="MAX_TOKEN_LIFETIME_SECONDS")
    console_frame_ancestors: Annotated[str, Field(pattern=FRAME_ANCESTORS)] = Field(
        default="", alias="CONSOLE_FRAME_ANCESTORS"
    )
    secret_rotation_overlap_seconds: int = Field(default=86400, ge=0, alias="SECRET_ROTATION_OVERLAP_SECONDS")
    max_webhooks_per_company: int = Field(default=100, ge=1, alias="MAX_WEBHOOKS_PER_COMPANY")
    # Per company and minute (DESIGN: tenant isolation and abuse limits); template.yaml's defaults.
    test_pings_per_minute: int = Field(default=10, ge=1, alias="TEST_PINGS_PER_MINUTE")
    retries_per_minute: int = Field(default=60, ge=1, alias="RETRIES_PER_MINUTE")
    recovers_per_minute: int = Field(default=10, ge=1, alias="RECOVERS_PER_MINUTE")
    manual_deliveries_per_minute: int = Field(default=1000, ge=1, alias="MANUAL_DELIVERIES_PER_MINUTE")


@dataclass
class ApiRoot:
    settings: ApiSettings
    webhooks: WebhookService
    deliveries: DeliveryService

    def caller(self, authorization: str | None) -> Caller:
        """The caller of the request's bearer token; Unauthenticated, its message safe to return, otherwise."""
        settings = self.settings
        key = signing_key(settings.jwt_secret_parameter)
        return authenticate(
            authorization, key, settings.jwt_issuer, settings.jwt_audience, settings.max_token_lifetime_seconds
        )


def build(settings: ApiSettings, aws: Aws = boto3) -> ApiRoot:
    dynamodb = aws.resource("dynamodb")
    webhooks = WebhookService(
        store=WebhookStore(dynamodb.Table(settings.webhooks_table)),
        vault=SecretVault(KmsVault(aws.client("kms"), settings.secrets_key_id)),
        policy=TargetPolicy(allow_http=settings.allow_http, allow_loopback=settings.allow_private_targets),
        max_per_company=settings.max_webhooks_per_company,
        rotation_overlap_seconds=settings.secret_rotation_overlap_seconds,
    )
    limits = Limits(
        testPings=settings.test_pings_per_minute,
        retries=settings.retries_per_minute,
        recovers=settings.recovers_per_minute,
        manualDeliveries=settings.manual_deliveries_per_minute,
    )
    deliveries = DeliveryService(
        webhooks=webhooks,
        log=DeliveryLog(dynamodb.Table(settings.deliveries_table), settings.delivery_log_retention_days),
        queue=Producer(aws.client("sqs"), settings.delivery_queue_url),
        limits=CompanyLimits(dynamodb.Table(settings.limits_table), limits),
    )
    return ApiRoot(settings, webhooks, deliveries)
