"""What to do with a message of DeliveryDLQ: the ops redrive's verdict, weighed against the delivery log.

Pure: the caller reads the logged delivery and the webhook, asks here, and carries it out. A
message is `done` when `settled` says it is (as for the delivery function); while the delivery's
run is `queued` (as for the API's retry and recover) the message is kept, and a run pending for
longer was never queued, so the delivery is redriven from the log.
"""

from datetime import datetime
from typing import Literal

from bluehooks.models import DeliveryMessage, StoredWebhook
from bluehooks.rules.outcome import Logged, queued, settled

Action = Literal["redrive", "done", "drop", "keep"]


def weigh(
    message: DeliveryMessage, logged: Logged | None, webhook: StoredWebhook | None, reason: str, now: datetime
) -> tuple[Action, str]:
    """(what to do, why) for a dead-lettered delivery message; `reason` is why it was dead-lettered."""
    if logged and logged.run >= message.run and logged.state == "pending":
        if queued(logged, now):
            # Deleting it now would lose the delivery if that run was never queued; redriving it could send it twice.
            return "keep", f"run {logged.run} is queued, not yet attempted: run again later"
    elif why := settled(logged, message):
        return "done", why
    if webhook is None:
        return "drop", "its webhook was deleted"
    if not webhook.enabled:
        why = webhook.disabledReason or "by its owner"
        return "keep", f"its webhook is disabled ({why}): re-enable it, then run again"
    return "redrive", f"was {logged.state if logged else 'never logged'}: {reason}"
