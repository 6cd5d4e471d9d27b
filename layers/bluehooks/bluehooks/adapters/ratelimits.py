"""Rate-limit slots in LimitsTable: one item per limited webhook, each reservation a conditional UpdateItem.

  pk = RATE#<company>#<webhook>   tat (microseconds, the first free slot)   expiresAt (TTL)

The steps of bluehooks.rules.ratelimit as DynamoDB writes: the condition is the step's, so of two
invocations reserving at once each gets its own slot (the item serialises them). The first step
tried is the one this process last needed for the webhook, so a steady stream costs one write per
delivery; a guess that fails costs a second.
"""

from datetime import datetime

from botocore.exceptions import ClientError

from bluehooks.rules import ratelimit
from bluehooks.timestamps import now

KEEP_SECONDS = 86400  # an item outlives its last slot by this much (then the webhook starts afresh)
TRIES = 4  # extend and restart fail each other only when the other succeeded meanwhile
HINTS = 10_000  # webhooks whose last tat a process remembers


STEPS = {
    ratelimit.extend: ("SET tat = tat + :step", "tat >= :now"),
    ratelimit.restart: ("SET tat = :now + :step", "attribute_not_exists(tat) OR tat < :now"),
}


class SlotsBusy(Exception):
    """No slot after TRIES steps (never seen: each failed step means another's succeeded)."""


class DynamoRateLimits:
    def __init__(self, table):
        self.table = table
        self.hints: dict[str, int] = {}

    def reserve(self, company_id: str, webhook_id: str, rate: int) -> datetime:
        """Take this webhook's next slot at `rate` per second: now, or later if others took the nearer ones."""
        key, step = f"RATE#{company_id}#{webhook_id}", ratelimit.interval(rate)
        at, hint = ratelimit.micros(now()), self.hints.get(key)
        # Kept a day past the furthest slot this process knows of: a backlog's item outlives the backlog.
        expires = max(at, hint or 0) // ratelimit.MICROS + KEEP_SECONDS
        write = ratelimit.first_step(hint, at)
        for _ in range(TRIES):
            if (tat := self._write(key, write, at, step, expires)) is not None:
                if len(self.hints) >= HINTS:
                    self.hints.clear()
                self.hints[key] = tat
                return ratelimit.moment(ratelimit.slot_of(tat, step))
            write = ratelimit.other(write)
        raise SlotsBusy(f"no rate-limit slot for {webhook_id} after {TRIES} writes")

    def _write(self, key: str, write: ratelimit.Step, at: int, step: int, expires: int) -> int | None:
        """One step as one conditional UpdateItem: the new tat, or None when its condition did not hold."""
        expression, condition = STEPS[write]
        try:
            answer = self.table.update_item(
                Key={"pk": key},
                UpdateExpression=f"{expression}, expiresAt = :expires",
                ConditionExpression=condition,
                ExpressionAttributeValues={":step": step, ":now": at, ":expires": expires},
                ReturnValues="UPDATED_NEW",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise
        return int(answer["Attributes"]["tat"])
