"""The platform's own events on the bus: WEBHOOK_DISABLED, so that the host app can tell the webhook's owner."""

import json
import time
from collections.abc import Callable

from aws_lambda_powertools import Logger

from bluehooks.models import StoredWebhook

logger = Logger(child=True)
BACKOFFS = (0.2, 0.4, 0.8)
DISABLED_EVENT = "WEBHOOK_DISABLED"
PLATFORM_SOURCE = "blue.webhooks"  # not "blue": the fan-out's rule must never take our own events


class EventBus:
    def __init__(self, events, bus_name: str, sleep: Callable[[float], None] = time.sleep):
        self.events = events
        self.bus_name = bus_name
        self.sleep = sleep

    def announce_disabled(self, webhook: StoredWebhook, why: str) -> None:
        """PutEvents, tried again when it fails (it fails per entry too, answering 200)."""
        for backoff in BACKOFFS:
            if not self.events.put_events(Entries=[disabled_event(webhook, why, self.bus_name)])["FailedEntryCount"]:
                return
            self.sleep(backoff)
        logger.error("WEBHOOK_DISABLED could not be put on the bus", extra={"webhookId": webhook.id, "reason": why})


def disabled_event(webhook: StoredWebhook, reason: str, bus: str) -> dict:
    """The PutEvents entry that tells the host app a webhook was disabled (so it can e-mail the owner)."""
    detail = {"reason": reason, "company": {"id": webhook.companyId}, "webhook": webhook.public().model_dump()}
    return {"Source": PLATFORM_SOURCE, "DetailType": DISABLED_EVENT, "Detail": json.dumps(detail), "EventBusName": bus}
