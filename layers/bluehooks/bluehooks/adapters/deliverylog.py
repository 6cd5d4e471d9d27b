"""The delivery log in DynamoDB: one item per delivery, one write per attempt.

  pk = <company>#<webhook>   sk = <deliveryId>   the delivery: state, attempts, payload, run
  GSI ByCreated: pk, createdAt (+ state, event)  newest first, ?since=, the filters; the items by key

An attempt appends itself to the item and sets the state in one UpdateItem. The payload is
kept (zlib-compressed; one too large for an item in S3, by its key: bluehooks.rules.claimcheck) so
that a delivery can be redelivered after its queue message is gone. `run` counts redeliveries:
a retry or recover starts a new run, and a message of an older run (a DLQ redrive of what was
since recovered) is superseded, never delivered again. Items expire after the retention (TTL on
expiresAt), counted from the last write; one whose payload is in S3, from its first, with the object.
"""

import base64
import binascii
import json
import re
import time
import zlib
from collections.abc import Callable, Iterator
from typing import Any

from aws_lambda_powertools import Logger
from boto3.dynamodb.conditions import Attr, Key
from boto3.dynamodb.types import Binary
from botocore.exceptions import ClientError
from pydantic_core import to_json

from bluehooks.adapters.store import ItemRead, batch_get
from bluehooks.errors import Refused
from bluehooks.models import (
    DELIVERY_ID,
    UNSETTLED,
    DeliveryAttempt,
    DeliveryMessage,
    DeliveryState,
    LoggedDelivery,
)
from bluehooks.rules import jsonlimits
from bluehooks.rules.claimcheck import head
from bluehooks.timestamps import now_iso, parse

logger = Logger(child=True)
BY_CREATED = "ByCreated"
READ_ITEMS, READ_PAGES = 100, 5  # the most a filtered page of the log reads: 500 items
# The most a page of the log holds (list, recover): its deliveries as JSON, payloads uncompressed. Well
# within ApiFunction's 256 MB, and its answer, a part of it, under Lambda's 6 MB response (API Gateway's).
PAGE_BYTES = 4 * 1024 * 1024
# Items asked per BatchGetItem: 25 of DynamoDB's largest (400 KB) are 10 MB, within its 16 MB answer; what a
# page reads past its budget is at most that.
KEYS_PER_READ = 25
CREATED_AT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")  # timestamps.iso's form, as stored


def partition(company_id: str, webhook_id: str) -> str:
    return f"{company_id}#{webhook_id}"


class DeliveryLog:
    def __init__(self, table, retention_days: int, sleep: Callable[[float], None] = time.sleep):
        self.table = table
        self.retention_seconds = retention_days * 86400
        self.sleep = sleep  # between reads DynamoDB left undone (store.batch_get)

    def get(self, company_id: str, webhook_id: str, delivery_id: str) -> LoggedDelivery | None:
        key = {"pk": partition(company_id, webhook_id), "sk": delivery_id}
        item = self.table.get_item(Key=key, ConsistentRead=True).get("Item")
        return _from_item(item) if item else None

    def reading(self, message: DeliveryMessage) -> ItemRead:
        """The read of a message's delivery, to make with others (store.read_together)."""
        return ItemRead(
            self.table, {"pk": partition(message.companyId, message.webhookId), "sk": message.deliveryId}, _from_item
        )

    def record(
        self,
        message: DeliveryMessage,
        state: DeliveryState,
        attempt: DeliveryAttempt | None = None,
        reason: str | None = None,
        waiting_until: str | None = None,
    ) -> bool:
        """Write one attempt (or a state with no attempt) in one UpdateItem; False if a newer run owns it, or
        this run succeeded already (a duplicate's failed POST never turns a delivered delivery failed).

        `waiting_until`: a pending delivery held back until then (rate limited, or its endpoint unhealthy)."""
        now = now_iso()
        sets = {
            "state": state,
            "reason": reason,
            "updatedAt": now,
            "nextRetryAt": attempt.nextRetryAt if attempt else waiting_until,  # when it is tried next
            "waitingUntil": waiting_until,
            "webhookId": message.webhookId,
            "companyId": message.companyId,
            "eventId": message.eventId,
            "event": message.event,
            "run": message.run,
        }
        expires = {"expiresAt": int(time.time()) + self.retention_seconds}
        once = {"createdAt": now, **_stored_payload(message)}
        # A payload kept in S3 expires after the retention from its first record: so does its log item.
        (once if message.payloadKey else sets).update(expires)
        names = {f"#{name}": name for name in (*sets, *once, "attempts")}
        values = {f":{name}": value for name, value in {**sets, **once}.items()}
        values.update({":attempt": [attempt.model_dump()] if attempt else [], ":none": [], ":succeeded": "succeeded"})
        expression = ", ".join(
            [f"#{name} = :{name}" for name in sets]
            + [f"#{name} = if_not_exists(#{name}, :{name})" for name in once]
            + ["#attempts = list_append(if_not_exists(#attempts, :none), :attempt)"]
        )
        try:
            self.table.update_item(
                Key={"pk": partition(message.companyId, message.webhookId), "sk": message.deliveryId},
                UpdateExpression="SET " + expression,
                ConditionExpression=(
                    "attribute_not_exists(#run) OR #run < :run OR (#run = :run AND #state <> :succeeded)"
                ),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            if attempt and _item_full(exc):  # DynamoDB's 400 KB: the state still changes; no POST is repeated
                logger.error(
                    "attempt not logged: the delivery's item is full", extra={"deliveryId": message.deliveryId}
                )
                return self.record(message, state, None, reason, waiting_until)
            raise
        return True

    def start_run(self, delivery: LoggedDelivery, only_from: tuple[DeliveryState, ...] | None = None) -> bool:
        """Make the delivery pending in a new run, unless someone did meanwhile; True when this call did."""
        return self._new_run(delivery, "pending", None, only_from)

    def drop(self, delivery: LoggedDelivery, reason: str) -> bool:
        """End it unsent, in a new run (so no message of an older run is sent), saying why; True when this call did."""
        return self._new_run(delivery, "dropped", reason, UNSETTLED)

    def put_back(self, delivery: LoggedDelivery, state: DeliveryState, reason: str | None) -> bool:
        """Undo start_run when its message could not be queued: the run and state it had before."""
        return self._new_run(delivery, state, reason, ("pending",), step=-1)

    def _new_run(
        self,
        delivery: LoggedDelivery,
        state: DeliveryState,
        reason: str | None,
        only_from: tuple[DeliveryState, ...] | None,
        step: int = 1,
    ) -> bool:
        """Conditional on the run and state it was read in: of two concurrent callers, one starts the run."""
        condition = Attr("run").eq(delivery.run) & Attr("state").eq(delivery.state)
        if only_from:
            condition &= Attr("state").is_in(list(only_from))
        try:
            self.table.update_item(
                Key={"pk": partition(delivery.companyId, delivery.webhookId), "sk": delivery.deliveryId},
                UpdateExpression=(
                    "SET #state = :state, #reason = :reason, #run = #run + :step, updatedAt = :now,"
                    " nextRetryAt = :none, waitingUntil = :none"
                ),
                ConditionExpression=condition,
                ExpressionAttributeNames={"#state": "state", "#reason": "reason", "#run": "run"},
                ExpressionAttributeValues={
                    ":state": state,
                    ":reason": reason,
                    ":step": step,
                    ":now": now_iso(),
                    ":none": None,
                },
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        delivery.run += step
        delivery.state = state
        delivery.reason = reason
        return True

    def page(
        self,
        company_id: str,
        webhook_id: str,
        limit: int,
        cursor: str | None = None,
        states: tuple[str, ...] = (),
        event: str | None = None,
        since: str | None = None,
    ) -> tuple[list[LoggedDelivery], str | None]:
        """Newest first, `limit` at most, and the cursor of the next page (None on the last).

        A page ends early, with a cursor, at PAGE_BYTES: large deliveries make short pages. A filtered
        page reads at most READ_PAGES × READ_ITEMS items: a rare state in a long log gives a short page
        and a cursor, never an unbounded scan."""
        pk = partition(company_id, webhook_id)
        key = Key("pk").eq(pk) & Key("createdAt").gte(since) if since else Key("pk").eq(pk)
        query: dict[str, Any] = {"IndexName": BY_CREATED, "KeyConditionExpression": key, "ScanIndexForward": False}
        filters = [Attr("state").is_in(list(states))] if states else []
        if event:
            filters.append(Attr("event").eq(event))
        if filters:
            query["FilterExpression"] = filters[0] if len(filters) == 1 else filters[0] & filters[1]
        if cursor:
            query["ExclusiveStartKey"] = {"pk": pk, **_decode_cursor(cursor, since)}
        query["Limit"] = max(limit, READ_ITEMS) if filters else limit
        found: list[LoggedDelivery] = []
        held = 0
        for _ in range(READ_PAGES):
            page = self.table.query(**query)
            entries, last = page["Items"], page.get("LastEvaluatedKey")
            while entries:
                if len(found) == limit:
                    return found, _encode_cursor(found[-1])
                taken = entries[: min(KEYS_PER_READ, limit - len(found))]
                entries = entries[len(taken) :]
                for delivery in self._deliveries(taken):
                    held += _held_bytes(delivery)
                    if found and held > PAGE_BYTES:  # the cursor continues at this one
                        return found, _encode_cursor(found[-1])
                    found.append(delivery)
            if not last:
                return found, None
            if len(found) == limit:
                return found, _encode_cursor(found[-1])
            query["ExclusiveStartKey"] = last
        return found, _encode_cursor(last)

    def _deliveries(self, entries: list[dict[str, Any]]) -> Iterator[LoggedDelivery]:
        """The deliveries of these index entries, in their order, each parsed as it is taken: the index
        projects only what a query filters on, so that a write which changes nothing else (most) is not
        written to it again."""
        keys = [{"pk": entry["pk"], "sk": entry["sk"]} for entry in entries]
        # Strongly consistent: a replica behind the index would leave out a delivery just written.
        wanted = {self.table.name: {"Keys": keys, "ConsistentRead": True}}
        read = batch_get(self.table.meta.client, wanted, self.sleep)
        items = {item["sk"]: item for item in read.get(self.table.name, [])}
        return (_from_item(items[key["sk"]]) for key in keys if key["sk"] in items)  # one expired since: left out


def _held_bytes(delivery: LoggedDelivery) -> int:
    """What a delivery weighs in a page: its JSON, the payload uncompressed. Its item's own size would
    undercount that: the item keeps the payload compressed."""
    return len(to_json(delivery))


def _item_full(exc: ClientError) -> bool:
    error = exc.response["Error"]
    return error["Code"] == "ValidationException" and "exceeded the maximum allowed size" in error.get("Message", "")


def _stored_payload(message: DeliveryMessage) -> dict[str, Any]:
    """The payload as the item keeps it: compressed; one kept in S3 by its key, and its head only."""
    if message.payloadKey:
        kept = {"payload": head(message.payload or {}), "payloadKey": message.payloadKey}
    else:
        kept = {"payload": message.payload}
    return {**kept, "payload": zlib.compress(jsonlimits.dumps_ascii(kept["payload"]).encode())}


def _from_item(item: dict[str, Any]) -> LoggedDelivery:
    fields = {name: value for name, value in item.items() if name not in ("pk", "sk", "payload", "expiresAt")}
    payload = item["payload"].value if isinstance(item["payload"], Binary) else item["payload"]
    attempts = fields.get("attempts", [])
    return LoggedDelivery.model_validate(
        {
            **fields,
            "deliveryId": item["sk"],
            "payload": json.loads(zlib.decompress(payload)),
            "attemptCount": len(attempts),
        }
    )


def _encode_cursor(last: dict[str, Any] | LoggedDelivery) -> str:
    """The position after `last` (a LastEvaluatedKey, or the last delivery returned)."""
    sk, created = (
        (last.deliveryId, last.createdAt) if isinstance(last, LoggedDelivery) else (last["sk"], last["createdAt"])
    )
    return base64.urlsafe_b64encode(json.dumps({"sk": sk, "createdAt": created}).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, since: str | None) -> dict[str, str]:
    """Only the position within this webhook's log: the partition always comes from the caller."""
    try:
        position = jsonlimits.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if _is_position(position) and not (since and position["createdAt"] < since):
            return position
    except (ValueError, binascii.Error):  # UnacceptableJson is a ValueError
        pass
    raise Refused("cursor is not one this API returned (for this query)")


def _is_position(position: Any) -> bool:
    """Exactly what _encode_cursor writes: any other JSON, of any type, is not a position."""
    if not isinstance(position, dict) or set(position) != {"sk", "createdAt"}:
        return False
    sk, created = position["sk"], position["createdAt"]
    return isinstance(sk, str) and isinstance(created, str) and bool(DELIVERY_ID.fullmatch(sk) and _iso(created))


def _iso(created: str) -> bool:
    if not CREATED_AT.fullmatch(created):
        return False
    try:
        parse(created)  # the form alone lets month 13 through
    except ValueError:
        return False
    return True
