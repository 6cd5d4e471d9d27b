"""Per-company limits on manual actions (test pings, retries, recovers and the deliveries they queue).

DESIGN, tenant isolation: one tenant may not make us send more than these a minute, whatever it
calls. Each limit counts in a fixed one-minute window; one DynamoDB item per company and minute
holds that minute's counts:

  pk = <company>#<minute>   testPings, retries, recovers, manualDeliveries   expiresAt (TTL)

A manual action is one conditional UpdateItem that adds to its counts only while each stays within
its limit, so concurrent API invocations never overshoot. A fixed window lets a burst across a
minute's edge reach twice a limit within 60 s, never more than a limit in one window.
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from bluehooks.errors import TooManyRequests
from bluehooks.ports import ManualAction

DELIVERIES = "manualDeliveries"
WINDOW_SECONDS = 60
WHAT = {
    "testPings": "test pings",
    "retries": "retries",
    "recovers": "recovers",
    DELIVERIES: "deliveries queued by test, retry and recover",
}


@dataclass(frozen=True)
class Limits:
    """The most a company may do per minute (template parameters)."""

    testPings: int
    retries: int
    recovers: int
    manualDeliveries: int


class CompanyLimits:
    def __init__(self, table, limits: Limits, clock: Callable[[], float] = time.time):
        self.table = table
        self.limits = limits
        self.clock = clock

    def admit(self, company: str, action: ManualAction, deliveries: int = 0) -> None:
        """Count one `action` and the `deliveries` it queues; TooManyRequests when over a limit."""
        counts = {action: 1, DELIVERIES: deliveries} if deliveries else {action: 1}
        if (counted := self._add(company, counts)) is not None:
            raise self._refusal(counts, counted)

    def share(self, company: str, wanted: int) -> int:
        """Count as many of `wanted` deliveries as this minute still allows, and say how many (at least one).

        TooManyRequests when none is left. Two writes at most: the second takes what the first
        found left."""
        wanted = min(wanted, self.limits.manualDeliveries)
        counted = self._add(company, {DELIVERIES: wanted})
        if counted is None:
            return wanted
        left = self.limits.manualDeliveries - counted.get(DELIVERIES, 0)
        if left > 0 and (counted := self._add(company, {DELIVERIES: left})) is None:
            return left
        raise self._refusal({DELIVERIES: wanted}, counted)

    def _add(self, company: str, counts: dict[str, int]) -> dict[str, int] | None:
        """Add `counts` to this minute's unless one would pass its limit: None, or the counts as they were."""
        window = int(self.clock()) // WINDOW_SECONDS
        names = {f"#{name}": name for name in counts}
        values: dict[str, Any] = {":expires": (window + 2) * WINDOW_SECONDS}
        conditions = []
        for name, count in counts.items():
            values[f":{name}"] = count
            values[f":{name}Max"] = getattr(self.limits, name) - count  # the most it may hold before this adds
            conditions.append(f"(attribute_not_exists(#{name}) OR #{name} <= :{name}Max)")
        try:
            self.table.update_item(
                Key={"pk": f"{company}#{window}"},
                UpdateExpression=f"ADD {', '.join(f'#{name} :{name}' for name in counts)} SET expiresAt = :expires",
                ConditionExpression=" AND ".join(conditions),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                # The counts that refused it come with the error: no second read to say which limit it was.
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            item = exc.response.get("Item") or {}
            return {name: int(TypeDeserializer().deserialize(value)) for name, value in item.items() if name in WHAT}
        return None

    def _refusal(self, counts: dict[str, int], counted: dict[str, int]) -> TooManyRequests:
        over = [name for name, count in counts.items() if counted.get(name, 0) + count > getattr(self.limits, name)]
        name = over[0] if over else next(iter(counts))
        wait = max(1, math.ceil(WINDOW_SECONDS - self.clock() % WINDOW_SECONDS))
        limit = getattr(self.limits, name)
        return TooManyRequests(f"at most {limit} {WHAT[name]} a minute per company; try again in {wait} s", wait)
