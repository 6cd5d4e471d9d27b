"""ApiFunction's composition root: the management API's settings and services."""

from typing import Annotated

from pydantic import Field

from bluehooks.roots.settings import DeliveryLogTable, DeliveryQueue, Optional, SecretsKey, TargetRules, WebhookTable

# template.yaml's ConsoleFrameAncestors: origins only, so nothing else can reach the CSP header.
FRAME_ANCESTORS = r"^(https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?)?( https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?)*$"


class ApiSettings(WebhookTable, DeliveryLogTable, TargetRules, SecretsKey, DeliveryQueue):
    jwt_secret_parameter: str = Field(alias="JWT_SECRET_PARAMETER")
    jwt_issuer: Optional = Field(default=None, alias="JWT_ISSUER")
    jwt_audience: Optional = Field(default=None, alias="JWT_AUDIENCE")
    max_token_lifetime_seconds: int = Field(default=86400, ge=60, alias="MAX_TOKEN_LIFETIME_SECONDS")
    console_frame_ancestors: Annotated[str, Field(pattern=FRAME_ANCESTORS)] = Field(
        default="", alias="CONSOLE_FRAME_ANCESTORS"
    )
    secret_rotation_overlap_seconds: int = Field(default=86400, ge=0, alias="SECRET_ROTATION_OVERLAP_SECONDS")
    max_webhooks_per_company: int = Field(default=100, ge=1, alias="MAX_WEBHOOKS_PER_COMPANY")
    limits_table: str = Field(alias="LIMITS_TABLE")
    # Per company and minute (DESIGN: tenant isolation and abuse limits); template.yaml's defaults.
    test_pings_per_minute: int = Field(default=10, ge=1, alias="TEST_PINGS_PER_MINUTE")
    retries_per_minute: int = Field(default=60, ge=1, alias="RETRIES_PER_MINUTE")
    recovers_per_minute: int = Field(default=10, ge=1, alias="RECOVERS_PER_MINUTE")
    manual_deliveries_per_minute: int = Field(default=1000, ge=1, alias="MANUAL_DELIVERIES_PER_MINUTE")
