"""DynamoDB access for webhooks and their fan-out index (one table, three kinds of item).

  pk = COMPANY#<company>                sk = WEBHOOK#<id>   the webhook, secret included
  pk = COMPANY#<company>                sk = META           webhookCount, for the per-company limit
  pk = SUBSCRIPTION#<company>#<event>   sk = <id>           fan-out index entry; event "*" = all events

A webhook and its index entries are written and deleted in one transaction, so fan-out reads
exactly the entries of one (company, event type) and of (company, "*"), never the whole company.
"""

import base64
import binascii
import re
import secrets
import time
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from bluehooks.models import Caller, Metadata, Webhook, WebhookCreate, WebhookPage
from bluehooks.signing import generate_secret

ALL_EVENTS = "*"
WEBHOOK_ID = re.compile(r"^wh_[0-9a-f]{24}$")


class WebhookLimitReached(Exception):
    pass


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_webhook_id() -> str:
    """Time-ordered, so a company's webhooks list in creation order."""
    return f"wh_{time.time_ns() // 1_000_000:012x}{secrets.token_hex(6)}"


def company_key(company_id: str) -> str:
    return f"COMPANY#{company_id}"


def webhook_key(company_id: str, webhook_id: str) -> dict[str, str]:
    return {"pk": company_key(company_id), "sk": f"WEBHOOK#{webhook_id}"}


def subscription_key(company_id: str, event: str) -> str:
    return f"SUBSCRIPTION#{company_id}#{event}"


def to_webhook(item: dict[str, Any], *, with_secret: bool = False) -> Webhook:
    fields = {name: item.get(name) for name in Webhook.model_fields if name not in ("secret", "metadata")}
    return Webhook(
        **fields,
        secret=item["secret"] if with_secret else None,
        metadata=Metadata(events=item["events"], projectIds=item["projectIds"]),
    )


def encode_cursor(webhook_id: str) -> str:
    return base64.urlsafe_b64encode(webhook_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        webhook_id = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        webhook_id = ""
    if not WEBHOOK_ID.match(webhook_id):
        raise ValueError("cursor is not one this API returned")
    return webhook_id


class WebhookStore:
    def __init__(self, table):
        self.table = table
        self.client = table.meta.client  # a resource client: it (de)serializes plain Python values

    def create(self, caller: Caller, body: WebhookCreate, max_per_company: int) -> Webhook:
        now, webhook_id = now_iso(), new_webhook_id()
        item = {
            **webhook_key(caller.company, webhook_id),
            "id": webhook_id,
            "uid": uuid.uuid4().hex,
            "name": body.name or urlsplit(body.url).hostname,
            "url": body.url,
            "secret": body.secret or generate_secret(),
            "status": "HEALTHY",
            "enabled": body.enabled,
            "events": body.events,
            "projectIds": body.projectIds,
            "filter": None,
            "companyId": caller.company,
            "createdById": caller.sub,
            "createdAt": now,
            "updatedAt": now,
            "disabledReason": None,
        }
        count_change = self._count_change(caller.company, +1, limit=max_per_company)
        writes = [count_change, {"Put": self._in_table(item, ConditionExpression="attribute_not_exists(pk)")}]
        writes += [{"Put": self._in_table(entry)} for entry in self._index_entries(item)]
        if not self._transact(writes):
            raise WebhookLimitReached(f"a company may have at most {max_per_company} webhooks")
        return to_webhook(item, with_secret=True)

    def get_item(self, company_id: str, webhook_id: str) -> dict[str, Any] | None:
        if not WEBHOOK_ID.match(webhook_id):
            return None
        return self.table.get_item(Key=webhook_key(company_id, webhook_id), ConsistentRead=True).get("Item")

    def get(self, company_id: str, webhook_id: str) -> Webhook | None:
        item = self.get_item(company_id, webhook_id)
        return to_webhook(item) if item else None

    def page(self, company_id: str, limit: int, cursor: str | None) -> WebhookPage:
        query: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(company_key(company_id)) & Key("sk").begins_with("WEBHOOK#"),
            "Limit": limit,
        }
        if cursor:
            query["ExclusiveStartKey"] = webhook_key(company_id, decode_cursor(cursor))
        page = self.table.query(**query)
        last = page.get("LastEvaluatedKey")
        return WebhookPage(
            items=[to_webhook(item) for item in page["Items"]],
            nextCursor=encode_cursor(last["sk"].removeprefix("WEBHOOK#")) if last else None,
        )

    def delete(self, company_id: str, webhook_id: str) -> bool:
        item = self.get_item(company_id, webhook_id)
        if not item:
            return False
        deletes = [
            {
                "Delete": self._in_table(
                    webhook_key(company_id, webhook_id), key_only=True, ConditionExpression="attribute_exists(pk)"
                )
            }
        ]
        deletes += [
            {"Delete": self._in_table({"pk": entry["pk"], "sk": entry["sk"]}, key_only=True)}
            for entry in self._index_entries(item)
        ]
        return self._transact([*deletes, self._count_change(company_id, -1)])  # False: deleted meanwhile

    def subscriptions(self, company_id: str, event: str) -> list[dict[str, Any]]:
        """Index entries of webhooks subscribed to this event or to all events."""
        entries: list[dict[str, Any]] = []
        for partition in (subscription_key(company_id, event), subscription_key(company_id, ALL_EVENTS)):
            query: dict[str, Any] = {"KeyConditionExpression": Key("pk").eq(partition)}
            while True:
                page = self.table.query(**query)
                entries += page["Items"]
                if "LastEvaluatedKey" not in page:
                    break
                query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return entries

    def _transact(self, items: list[dict[str, Any]]) -> bool:
        """Write all or nothing; False when the first item's condition failed, errors raise."""
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            reasons = exc.response.get("CancellationReasons") or [{}]
            if reasons[0].get("Code") == "ConditionalCheckFailed":
                return False
            raise
        return True

    @staticmethod
    def _index_entries(item: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {
                "pk": subscription_key(item["companyId"], event),
                "sk": item["id"],
                "webhookId": item["id"],
                "enabled": item["enabled"],
                "projectIds": item["projectIds"],
            }
            for event in item["events"] or [ALL_EVENTS]
        ]

    def _count_change(self, company_id: str, delta: int, limit: int | None = None) -> dict[str, Any]:
        update: dict[str, Any] = {
            "TableName": self.table.name,
            "Key": {"pk": company_key(company_id), "sk": "META"},
            "UpdateExpression": "ADD webhookCount :delta",
            "ExpressionAttributeValues": {":delta": delta},
        }
        if limit is not None:
            update["ConditionExpression"] = "attribute_not_exists(webhookCount) OR webhookCount < :limit"
            update["ExpressionAttributeValues"][":limit"] = limit
        return {"Update": update}

    def _in_table(self, item: dict[str, Any], key_only: bool = False, **extra: Any) -> dict[str, Any]:
        return {"TableName": self.table.name, ("Key" if key_only else "Item"): item, **extra}
