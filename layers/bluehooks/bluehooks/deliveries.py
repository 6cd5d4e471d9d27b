"""What the API does with deliveries: the log, test pings, retry one, recover many.

Scope is the webhook's: whoever cannot see a webhook cannot see, retry or recover its
deliveries. A redelivery keeps its delivery id (the webhook-id receivers deduplicate on) and
starts a new run, so the message it replaces, if it is ever redriven, is not sent again.
"""

import secrets
from collections.abc import Callable
from datetime import timedelta

from bluehooks.deliverylog import DELIVERY_ID, REDELIVERABLE, DeliveryLog, LoggedDelivery
from bluehooks.errors import NotFound
from bluehooks.management import WebhookService
from bluehooks.models import Caller, Delivery, DeliveryMessage, DeliveryPage, DeliverySummary, Recovery
from bluehooks.timestamps import iso, now, now_iso

TEST_EVENT = "WEBHOOK_TEST"
RECOVER_PER_CALL = 200  # a call queues at most this many; the answer says whether more remain
STALE_PENDING = timedelta(minutes=10)


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(13)}"


class DeliveryService:
    def __init__(self, webhooks: WebhookService, log: DeliveryLog, enqueue: Callable[[list[DeliveryMessage]], None]):
        self.webhooks = webhooks
        self.log = log
        self.enqueue = enqueue

    def page(
        self,
        caller: Caller,
        webhook_id: str,
        limit: int,
        cursor: str | None,
        status: str | None,
        event: str | None,
        since: str | None,
    ) -> DeliveryPage:
        webhook = self.webhooks.visible(caller, webhook_id)
        states = (status,) if status else ()
        found, next_cursor = self.log.page(webhook.companyId, webhook.id, limit, cursor, states, event, since)
        return DeliveryPage(items=[delivery.summary() for delivery in found], nextCursor=next_cursor)

    def get(self, caller: Caller, webhook_id: str, delivery_id: str) -> Delivery:
        return Delivery.model_validate(self._logged(caller, webhook_id, delivery_id, write=False).model_dump())

    def send_test(self, caller: Caller, webhook_id: str) -> DeliverySummary:
        """Queue a WEBHOOK_TEST delivery to this webhook alone, whatever events it subscribes to."""
        webhook = self.webhooks.writable(caller, webhook_id)
        message = DeliveryMessage(
            deliveryId=new_id("msg"),
            webhookId=webhook.id,
            companyId=webhook.companyId,
            eventId=new_id("evt"),
            event=TEST_EVENT,
            payload={
                "event": TEST_EVENT,
                "company": {"id": webhook.companyId},
                "project": {"id": webhook.projectIds[0]} if webhook.projectIds else None,
                "user": {"id": caller.sub},
                "currentValue": {"message": "A test delivery, sent on request.", "requestedAt": now_iso()},
                "previousValue": None,
            },
        )
        self.log.record(message, "pending")
        self.enqueue([message])
        return self._summary(message)

    def retry(self, caller: Caller, webhook_id: str, delivery_id: str) -> DeliverySummary:
        """Deliver it again, now: same webhook-id, fresh timestamp and signature, a new run."""
        delivery = self._logged(caller, webhook_id, delivery_id, write=True)
        if self.log.start_run(delivery):
            self.enqueue([delivery.message()])
        return delivery.summary()

    def recover(self, caller: Caller, webhook_id: str, since: str) -> Recovery:
        """Queue again every failed or dead delivery created since then, RECOVER_PER_CALL at most.

        Idempotent: each one moves to `pending` (conditionally) before it is queued, so a second
        call, or a concurrent one, does not queue it twice. A delivery left `pending` for longer
        than STALE_PENDING (its queueing failed, or the call died before it) is taken again."""
        webhook = self.webhooks.writable(caller, webhook_id)
        states = (*REDELIVERABLE, "pending")
        found, more = self.log.page(webhook.companyId, webhook.id, RECOVER_PER_CALL, states=states, since=since)
        stale = iso(now() - STALE_PENDING)
        stuck_or_failed = [d for d in found if d.state != "pending" or d.updatedAt < stale]
        started = [delivery for delivery in stuck_or_failed if self.log.start_run(delivery, only_from=states)]
        if started:
            self.enqueue([delivery.message() for delivery in started])
        return Recovery(queued=len(started), remaining=more is not None)

    def _logged(self, caller: Caller, webhook_id: str, delivery_id: str, write: bool) -> LoggedDelivery:
        webhook = (self.webhooks.writable if write else self.webhooks.visible)(caller, webhook_id)
        delivery = self.log.get(webhook.companyId, webhook.id, delivery_id) if DELIVERY_ID.match(delivery_id) else None
        if delivery is None:
            raise NotFound(f"no delivery {delivery_id} for webhook {webhook_id}")
        return delivery

    @staticmethod
    def _summary(message: DeliveryMessage) -> DeliverySummary:
        stamp = now_iso()
        return DeliverySummary(
            deliveryId=message.deliveryId,
            webhookId=message.webhookId,
            eventId=message.eventId,
            event=message.event,
            state="pending",
            createdAt=stamp,
            updatedAt=stamp,
            attemptCount=0,
        )
