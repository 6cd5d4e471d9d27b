"""What the management API does, for one caller: tenancy, roles and project scope decided here, once.

A webhook outside the caller's company or project scope does not exist for that caller: every
operation answers NotFound for it, the list included. Knows no HTTP and no boto3.
"""

import secrets
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from bluehooks.errors import Busy, Forbidden, NotFound, Refused
from bluehooks.models import (
    Caller,
    SecretRotation,
    StoredWebhook,
    Webhook,
    WebhookCreate,
    WebhookPage,
    WebhookUpdate,
)
from bluehooks.ports import Vault, WebhookStore
from bluehooks.rules import customheaders
from bluehooks.rules.signing import generate_secret
from bluehooks.services import sealing
from bluehooks.targets import TargetPolicy, TargetRefused, check_url
from bluehooks.timestamps import now_iso

UPDATE_TRIES = 3


def new_webhook_id() -> str:
    """Time-ordered, so a company's webhooks list in creation order."""
    return f"wh_{time.time_ns() // 1_000_000:012x}{secrets.token_hex(6)}"


class WebhookService:
    def __init__(
        self,
        store: WebhookStore,
        vault: Vault,
        policy: TargetPolicy,
        max_per_company: int,
        rotation_overlap_seconds: int,
    ):
        self.store = store
        self.vault = vault
        self.policy = policy
        self.max_per_company = max_per_company
        self.rotation_overlap_seconds = rotation_overlap_seconds

    # -- reads --------------------------------------------------------------------------------

    def get(self, caller: Caller, webhook_id: str) -> Webhook:
        return self.visible(caller, webhook_id).public()

    def page(self, caller: Caller, limit: int, cursor: str | None) -> WebhookPage:
        webhooks, next_cursor = self.store.page(caller.company, limit, cursor, lambda w: caller.sees(w.projectIds))
        return WebhookPage(items=[webhook.public() for webhook in webhooks], nextCursor=next_cursor)

    # -- writes -------------------------------------------------------------------------------

    def create(self, caller: Caller, body: WebhookCreate) -> Webhook:
        self._may_write(caller, body.projectIds)
        self._check_url(body.url)
        now, webhook_id, secret = now_iso(), new_webhook_id(), body.secret or generate_secret()
        webhook = StoredWebhook(
            id=webhook_id,
            uid=uuid.uuid4().hex,
            name=body.name or _host(body.url),
            url=body.url,
            status="HEALTHY",
            enabled=body.enabled,
            events=body.events,
            projectIds=body.projectIds,
            filter=body.filter,
            rateLimit=body.rateLimit,
            **self._headers(body.headers, caller.company, webhook_id),
            companyId=caller.company,
            createdById=caller.sub,
            createdAt=now,
            updatedAt=now,
            sealedSecret=self.vault.seal(secret, caller.company, webhook_id),
        )
        self.store.create(webhook, self.max_per_company)
        return webhook.public(secret=secret)

    def update(self, caller: Caller, webhook_id: str, body: WebhookUpdate) -> Webhook:
        changes = body.changes()
        if "url" in changes:
            self.writable(caller, webhook_id)  # who may not write learns nothing from the URL check
            self._check_url(changes["url"])

        def apply(webhook: StoredWebhook) -> dict[str, Any]:
            update = {**changes, "updatedAt": now_iso()}
            if "name" in update and not update["name"]:  # cleared: named after its host again
                update["name"] = _host(update.get("url", webhook.url))
            if (update.get("enabled") and not webhook.enabled) or update.get("url", webhook.url) != webhook.url:
                update.update(_fresh_health())  # re-enabled, or a new endpoint: a clean slate
            self._may_write(caller, update.get("projectIds", webhook.projectIds))
            if "headers" in body.model_fields_set:  # the whole set is replaced
                update.update(self._headers(body.headers or {}, webhook.companyId, webhook.id))
            return update

        return self._change(caller, webhook_id, apply).public()

    def rotate_secret(self, caller: Caller, webhook_id: str, body: SecretRotation) -> Webhook:
        secret = body.secret or generate_secret()

        def apply(webhook: StoredWebhook) -> dict[str, Any]:
            keep = body.keepPreviousSecret and self.rotation_overlap_seconds > 0
            return {
                "sealedSecret": self.vault.seal(secret, webhook.companyId, webhook.id),
                "sealedPreviousSecret": webhook.sealedSecret if keep else None,
                "previousSecretExpiresAt": int(time.time()) + self.rotation_overlap_seconds if keep else None,
                "updatedAt": now_iso(),
            }

        return self._change(caller, webhook_id, apply).public(secret=secret)

    def delete(self, caller: Caller, webhook_id: str) -> None:
        webhook = self.writable(caller, webhook_id)
        if not self.store.delete(webhook):
            raise NotFound(f"no webhook {webhook_id}")

    # -- rules --------------------------------------------------------------------------------

    def visible(self, caller: Caller, webhook_id: str) -> StoredWebhook:
        webhook = self.store.get(caller.company, webhook_id)
        if webhook is None or not caller.sees(webhook.projectIds):
            raise NotFound(f"no webhook {webhook_id}")
        return webhook

    def writable(self, caller: Caller, webhook_id: str) -> StoredWebhook:
        self._may_write(caller, None)
        return self.visible(caller, webhook_id)

    @staticmethod
    def _may_write(caller: Caller, project_ids: list[str] | None) -> None:
        if not caller.can_write:
            raise Forbidden(f"role {caller.role} may only read webhooks")
        if project_ids is not None and not caller.sees(project_ids):
            raise Forbidden("your token limits you to some projects: set projectIds to some of those only")

    def _headers(self, headers: dict[str, str], company_id: str, webhook_id: str) -> dict[str, Any]:
        """The stored form of a webhook's own headers: names in the clear, values sealed."""
        sealed = sealing.seal(self.vault, headers, company_id, webhook_id)
        return {"headers": customheaders.names(headers), "sealedHeaders": sealed}

    def _check_url(self, url: str) -> None:
        try:
            check_url(url, self.policy)
        except TargetRefused as exc:
            raise Refused(f"url refused: {exc}") from exc

    def _change(
        self, caller: Caller, webhook_id: str, apply: Callable[[StoredWebhook], dict[str, Any]]
    ) -> StoredWebhook:
        """Read, apply, write if nobody wrote meanwhile; re-read and re-apply when someone did."""
        for _ in range(UPDATE_TRIES):
            webhook = self.writable(caller, webhook_id)
            changed = webhook.model_copy(update=apply(webhook))
            if self.store.replace(webhook, changed):
                return changed
        raise Busy(f"webhook {webhook_id} is being changed by someone else; retry shortly")


def _host(url: str) -> str:
    return urlsplit(url).hostname or url


def _fresh_health() -> dict[str, Any]:
    return {"status": "HEALTHY", "disabledReason": None, "consecutiveFailures": 0, "failingSince": None}
