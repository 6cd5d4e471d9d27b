"""DynamoDB access for webhooks and their subscription index (one table, three kinds of item).

  pk = COMPANY#<company>                sk = WEBHOOK#<id>   the webhook, its secrets sealed
  pk = COMPANY#<company>                sk = META           webhookCount, for the per-company limit
  pk = SUBSCRIPTION#<company>#<event>   sk = <id>           subscription index entry; event "*" = all events

A webhook and its index entries are written in one transaction, so the fan-out reads exactly
the entries of one (company, event type) and of (company, "*"), never the whole company, and
never half a change: an event sees a change once its eventually consistent Query does (at half
a strongly consistent one's read units; DynamoDB's replicas are typically milliseconds behind).
Filters are stored as JSON text: DynamoDB holds neither floats nor documents nested as deeply as an
event pattern may be.
"""

import base64
import json
import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Key
from boto3.dynamodb.types import Binary
from botocore.exceptions import ClientError

from bluehooks.errors import Busy, LimitReached, Refused
from bluehooks.models import StoredWebhook, Subscription
from bluehooks.models.catalog import EVENT_TYPES, PLATFORM_ONLY_EVENTS
from bluehooks.rules.health import HealthChange

ALL_EVENTS = "*"
FANNED_OUT_EVENTS = frozenset(EVENT_TYPES) - PLATFORM_ONLY_EVENTS
WEBHOOK_ID = re.compile(r"^wh_[0-9a-f]{24}$")
TRANSACTION_TRIES = 5  # concurrent writers of one company's counter cancel each other's transactions


def company_key(company_id: str) -> str:
    return f"COMPANY#{company_id}"


def webhook_key(company_id: str, webhook_id: str) -> dict[str, str]:
    return {"pk": company_key(company_id), "sk": f"WEBHOOK#{webhook_id}"}


def subscription_key(company_id: str, event: str) -> str:
    return f"SUBSCRIPTION#{company_id}#{event}"


def encode_cursor(webhook_id: str) -> str:
    return base64.urlsafe_b64encode(webhook_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        webhook_id = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except ValueError:  # binascii.Error, UnicodeDecodeError, and non-ASCII text
        webhook_id = ""
    if not WEBHOOK_ID.match(webhook_id):
        raise Refused("cursor is not one this API returned")
    return webhook_id


def to_item(webhook: StoredWebhook) -> dict[str, Any]:
    """The item of a webhook; an update keeps its probe lease (DynamoDB takes Decimal, not float)."""
    item = webhook.model_dump(exclude={"filter", "probeUntil"})
    item["filter"] = json.dumps(webhook.filter) if webhook.filter else None
    if webhook.probeUntil is not None:
        item["probeUntil"] = Decimal(f"{webhook.probeUntil:.3f}")
    return {**webhook_key(webhook.companyId, webhook.id), **item}


def from_item(item: dict[str, Any]) -> StoredWebhook:
    fields = {name: _bytes(value) for name, value in item.items()}
    fields["filter"] = json.loads(item["filter"]) if item.get("filter") else None
    return StoredWebhook.model_validate(fields)


def from_entry(entry: dict[str, Any]) -> Subscription:
    return Subscription.model_validate(
        {**entry, "filter": json.loads(entry["filter"]) if entry.get("filter") else None}
    )


def _bytes(value: Any) -> Any:
    """Binary attributes (sealed secrets, and the list of sealed header parts) as plain bytes."""
    if isinstance(value, Binary):
        return value.value
    return [_bytes(part) for part in value] if isinstance(value, list) else value


def index_entries(webhook: StoredWebhook) -> list[dict[str, Any]]:
    """What the fan-out needs to decide without reading the webhook: enabled, projects, filter."""
    return [
        {
            "pk": subscription_key(webhook.companyId, event),
            "sk": webhook.id,
            "webhookId": webhook.id,
            "enabled": webhook.enabled,
            "projectIds": webhook.projectIds,
            "filter": json.dumps(webhook.filter) if webhook.filter else None,
        }
        for event in subscribed_events(webhook.events)
    ]


def subscribed_events(events: list[str]) -> list[str]:
    """The index partitions of a webhook: its fanned-out events, or "*" for all of them.

    WEBHOOK_TEST is sent to one webhook on request, never fanned out, so it has no entry; and a
    list naming every fanned-out event is "*", which keeps a webhook's writes in one transaction."""
    if not events:
        return [ALL_EVENTS]
    fanned_out = [event for event in events if event not in PLATFORM_ONLY_EVENTS]
    return [ALL_EVENTS] if set(fanned_out) >= FANNED_OUT_EVENTS else fanned_out


# BatchGetItem reads at most 100 items and 16 MB a call, and answers in part when a partition passes 1 MB
# or is throttled, naming the rest in UnprocessedKeys, to be asked again "with exponential backoff"
# (AWS, DynamoDB API reference: BatchGetItem).
UNPROCESSED_TRIES = 4  # calls that read nothing before a read gives up: Busy
UNPROCESSED_BACKOFF_SECONDS = 0.05  # the most the first wait may be; doubled after each such call


def batch_get(
    client, request_items: dict[str, Any], sleep: Callable[[float], None] = time.sleep
) -> dict[str, list[dict[str, Any]]]:
    """Every item of a BatchGetItem's RequestItems that exists, by table.

    What DynamoDB leaves unread is asked again: at once after a call that read something (a large
    read comes in parts), after a jittered, doubling wait after one that read nothing (throttled).
    So a read makes at most (its keys + UNPROCESSED_TRIES) calls, and waits well under a second,
    before Busy: the API answers 503 with Retry-After, the delivery function's record comes back."""
    found: dict[str, list[dict[str, Any]]] = {}
    fruitless = 0
    while request_items:
        answer = client.batch_get_item(RequestItems=request_items)
        for table, items in answer["Responses"].items():
            found.setdefault(table, []).extend(items)
        left = answer.get("UnprocessedKeys") or {}
        # Each table's own settings (ConsistentRead) go with its keys asked again.
        request_items = {table: {**request_items[table], **keys} for table, keys in left.items()}
        if request_items and not any(answer["Responses"].values()):
            fruitless += 1
            if fruitless == UNPROCESSED_TRIES:
                unread = sum(len(keys["Keys"]) for keys in request_items.values())
                raise Busy(f"DynamoDB left {unread} item(s) unread (throttled); retry shortly")
            sleep(random.uniform(0, UNPROCESSED_BACKOFF_SECONDS * 2 ** (fruitless - 1)))  # noqa: S311 - jitter
    return found


@dataclass(frozen=True)
class ItemRead:
    """One item to read with others (read_together): its table, its key, and what makes it a value."""

    table: Any  # a boto3 Table resource; every read of one call shares its client
    key: dict[str, Any]
    parse: Callable[[dict[str, Any]], Any]


def read_together(*reads: ItemRead, consistent: bool = False, sleep: Callable[[float], None] = time.sleep) -> list[Any]:
    """Each read's item, parsed, or None where there is none, in the reads' order: items of several
    tables in one BatchGetItem (one round trip: a delivery's webhook and its log item).

    Eventually consistent unless asked (half the read units): an item written a moment ago may be
    answered as it was (DynamoDB's replicas are typically milliseconds behind). For a delivery that
    means: a read that would drop it is made again, strongly (WebhookStore.get_current); a log item
    not yet showing the last attempt sends the delivery again, a duplicate with its one webhook-id
    (an "at once" retry, a test ping, a retry or recover, an SQS or EventBridge duplicate can come
    that soon; the log's conditional writes keep its record right); and a webhook changed in the last
    moment (its URL, its secret, disabled or deleted) is delivered as it was, as a POST under way is."""
    wanted: dict[str, Any] = {}
    for read in reads:
        wanted.setdefault(read.table.name, {"Keys": [], "ConsistentRead": consistent})["Keys"].append(read.key)
    found = batch_get(reads[0].table.meta.client, wanted, sleep)
    return [_parsed(read, found.get(read.table.name, [])) for read in reads]


def _parsed(read: ItemRead, items: list[dict[str, Any]]) -> Any:
    item = next((item for item in items if all(item.get(k) == v for k, v in read.key.items())), None)
    return read.parse(item) if item else None


class WebhookStore:
    def __init__(self, table):
        self.table = table
        self.client = table.meta.client  # a resource client: it (de)serializes plain Python values

    def create(self, webhook: StoredWebhook, max_per_company: int) -> None:
        """Store a new webhook, its index entries and the company's count; LimitReached at the limit."""
        writes = [
            self._count_change(webhook.companyId, +1, limit=max_per_company),
            {"Put": self._in_table(to_item(webhook), ConditionExpression="attribute_not_exists(pk)")},
            *({"Put": self._in_table(entry)} for entry in index_entries(webhook)),
        ]
        if not self._transact(writes):
            raise LimitReached(f"a company may have at most {max_per_company} webhooks")

    def get(self, company_id: str, webhook_id: str) -> StoredWebhook | None:
        if not WEBHOOK_ID.match(webhook_id):
            return None
        item = self.table.get_item(Key=webhook_key(company_id, webhook_id), ConsistentRead=True).get("Item")
        return from_item(item) if item else None

    def get_with(self, company_id: str, webhook_id: str, other: "ItemRead") -> tuple[Any, StoredWebhook | None]:
        """Another table's item (as `other` parses it, or None) and the webhook, in one call (read_together)."""
        if not WEBHOOK_ID.match(webhook_id):
            return read_together(other)[0], None
        logged, webhook = read_together(other, self._reading(company_id, webhook_id))
        return logged, webhook

    def get_current(self, company_id: str, webhook_id: str) -> StoredWebhook | None:
        """The webhook, strongly consistent, by BatchGetItem: what delivery asks before it drops a delivery
        (its role reads webhooks by BatchGetItem only)."""
        if not WEBHOOK_ID.match(webhook_id):
            return None
        return read_together(self._reading(company_id, webhook_id), consistent=True)[0]

    def _reading(self, company_id: str, webhook_id: str) -> ItemRead:
        return ItemRead(self.table, webhook_key(company_id, webhook_id), from_item)

    def page(
        self, company_id: str, limit: int, cursor: str | None, visible: Callable[[StoredWebhook], bool]
    ) -> tuple[list[StoredWebhook], str | None]:
        """Up to `limit` visible webhooks in creation order, and the cursor of the next page."""
        found: list[StoredWebhook] = []
        start = decode_cursor(cursor) if cursor else None
        for webhook in self._webhooks(company_id, start):
            if visible(webhook):
                found.append(webhook)
                if len(found) == limit:
                    return found, encode_cursor(webhook.id)
        return found, None

    def _webhooks(self, company_id: str, after: str | None) -> Iterator[StoredWebhook]:
        query: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(company_key(company_id)) & Key("sk").begins_with("WEBHOOK#"),
            "ConsistentRead": True,
        }
        if after:
            query["ExclusiveStartKey"] = webhook_key(company_id, after)
        while True:
            page = self.table.query(**query)
            yield from (from_item(item) for item in page["Items"])
            if "LastEvaluatedKey" not in page:
                return
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def replace(self, old: StoredWebhook, new: StoredWebhook) -> bool:
        """Write `new` over `old` and move its index entries; False if the webhook changed meanwhile."""
        new = new.model_copy(update={"version": old.version + 1})
        kept = {entry["pk"] for entry in index_entries(new)}
        writes = [
            {
                "Put": self._in_table(
                    to_item(new),
                    ConditionExpression="attribute_exists(pk) AND version = :version",
                    ExpressionAttributeValues={":version": old.version},
                )
            },
            *({"Put": self._in_table(entry)} for entry in index_entries(new)),
            *(
                {"Delete": self._in_table({"pk": entry["pk"], "sk": entry["sk"]}, key_only=True)}
                for entry in index_entries(old)
                if entry["pk"] not in kept
            ),
        ]
        return self._transact(writes)

    def delete(self, webhook: StoredWebhook) -> bool:
        """Delete the webhook and its index entries; False if it was deleted meanwhile."""
        key = webhook_key(webhook.companyId, webhook.id)
        writes = [
            {"Delete": self._in_table(key, key_only=True, ConditionExpression="attribute_exists(pk)")},
            *(
                {"Delete": self._in_table({"pk": entry["pk"], "sk": entry["sk"]}, key_only=True)}
                for entry in index_entries(webhook)
            ),
            self._count_change(webhook.companyId, -1),
        ]
        return self._transact(writes)

    def apply_health(self, webhook: StoredWebhook, change: HealthChange) -> StoredWebhook | None:
        """Write a health change on the webhook (and its index entries when it disables it).

        Returns the webhook as written (failure streak included), or None when it is gone or not
        as the change expects (so only one writer announces a disabling). Bumps the version, so an
        API update read before it is re-applied on fresh data rather than writing stale health back."""
        update = self._health_update(change)
        if change.disables:
            disabled = webhook.model_copy(update={"enabled": False})
            index = [{"Put": self._in_table(entry)} for entry in index_entries(disabled)]
            key = {"TableName": self.table.name, "Key": webhook_key(webhook.companyId, webhook.id)}
            # The fan-out stops queueing for it with the same write.
            return change.on(webhook) if self._transact([{"Update": {**key, **update}}, *index]) else None
        written = self._update_if_there(webhook, **update)
        return from_item(written) if written else None

    @staticmethod
    def _health_update(change: HealthChange) -> dict[str, Any]:
        fields, expected = change.fields.given(), change.expected.given()
        counted = ("consecutiveFailures",) if change.count_failure else ()
        names = {f"#{name}": name for name in (*fields, *expected, "version", *counted)}
        values: dict[str, Any] = {f":{name}": value for name, value in fields.items()}
        values[":one"] = 1
        expression = "SET " + ", ".join(f"#{name} = :{name}" for name in fields)
        expression += " ADD #version :one" + (", #consecutiveFailures :one" if change.count_failure else "")
        condition = "attribute_exists(pk)"
        for name, value in expected.items():
            condition += f" AND #{name} = :was_{name}"
            values[f":was_{name}"] = value
        return {
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }

    def take_probe(self, webhook: StoredWebhook, lease_seconds: float) -> bool:
        """Claim the one probe of an UNHEALTHY webhook's endpoint for `lease_seconds`; False if taken.

        The lease outlives the probe: a failed probe leaves it in place, so the next probe waits
        for its end. One probe per lease, whatever the number of deliveries waiting."""
        now = time.time()
        claimed = self._update_if_there(
            webhook,
            UpdateExpression="SET probeUntil = :until",
            ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(probeUntil) OR probeUntil < :now)",
            ExpressionAttributeValues={":until": Decimal(f"{now + lease_seconds:.3f}"), ":now": Decimal(f"{now:.3f}")},
        )
        return claimed is not None

    def end_probe(self, webhook: StoredWebhook) -> None:
        self._update_if_there(webhook, UpdateExpression="REMOVE probeUntil", ConditionExpression="attribute_exists(pk)")

    def _update_if_there(self, webhook: StoredWebhook, **update: Any) -> dict[str, Any] | None:
        """UpdateItem on the webhook; its new attributes, or None when its condition failed."""
        try:
            return self.client.update_item(
                TableName=self.table.name,
                Key=webhook_key(webhook.companyId, webhook.id),
                ReturnValues="ALL_NEW",
                **update,
            )["Attributes"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise

    def subscriptions(self, company_id: str, event: str) -> list[Subscription]:
        """Index entries of webhooks subscribed to this event or to all events, filters parsed."""
        entries: list[dict[str, Any]] = []
        for partition in (subscription_key(company_id, event), subscription_key(company_id, ALL_EVENTS)):
            query: dict[str, Any] = {"KeyConditionExpression": Key("pk").eq(partition)}
            while True:
                page = self.table.query(**query)
                entries += page["Items"]
                if "LastEvaluatedKey" not in page:
                    break
                query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return [from_entry(entry) for entry in entries]

    def _transact(self, items: list[dict[str, Any]]) -> bool:
        """Write all or nothing; False when a condition failed. Conflicts with concurrent
        transactions are retried with jittered backoff, then answered Busy."""
        for attempt in range(TRANSACTION_TRIES):
            try:
                self.client.transact_write_items(TransactItems=items)
                return True
            except ClientError as exc:
                codes = {reason.get("Code") for reason in exc.response.get("CancellationReasons") or []}
                if "ConditionalCheckFailed" in codes:
                    return False
                if "TransactionConflict" not in codes:
                    raise
            time.sleep(random.uniform(0, 0.05 * 2**attempt))  # noqa: S311 - jitter, not crypto
        raise Busy("too many concurrent changes to this company's webhooks; retry shortly")

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
