"""What the API does with deliveries: the log, test pings, retry one, recover many.

Scope is the webhook's: whoever cannot see a webhook cannot see, retry or recover its
deliveries. A redelivery keeps its delivery id (the webhook-id receivers deduplicate on) and
starts a new run, so the message it replaces, if it is ever redriven, is not sent again. It
sends a stored payload only while the webhook subscribes to its event and project and the
caller may see that project (`scope`); one that may not is dropped, with the reason, instead.
Test pings, retries and recovers, and the deliveries they queue, count against the company's
limits (`limits`).
"""

import secrets

from bluehooks.errors import NotFound, NotRedelivered, Refused, Unavailable
from bluehooks.models import (
    DELIVERY_ID,
    UNSETTLED,
    Caller,
    Delivery,
    DeliveryMessage,
    DeliveryPage,
    DeliveryState,
    DeliverySummary,
    LoggedDelivery,
    NotSent,
    Recovery,
    StoredWebhook,
    schemas,
)
from bluehooks.ports import CompanyLimits, DeliveryLog, DeliveryQueue, NotQueued, outgoing
from bluehooks.rules.outcome import queued
from bluehooks.rules.payload import sent_request
from bluehooks.rules.scope import not_redeliverable, readable, unsubscribed
from bluehooks.services.management import WebhookService
from bluehooks.timestamps import now, now_iso

TEST_EVENT = "WEBHOOK_TEST"
RECOVER_PER_CALL = 200  # a call queues at most this many (a page of the log); the answer says whether more remain
RECOVER_PAGES = 5  # pages of deliveries still queued by an earlier call that one call passes over


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(13)}"


class DeliveryService:
    def __init__(
        self,
        webhooks: WebhookService,
        log: DeliveryLog,
        queue: DeliveryQueue,
        limits: CompanyLimits,
    ):
        self.webhooks = webhooks
        self.log = log
        self.queue = queue
        self.limits = limits

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
        shown = [delivery.summary() for delivery in found if readable(caller, delivery.payload)]
        return DeliveryPage(items=shown, nextCursor=next_cursor)

    def get(self, caller: Caller, webhook_id: str, delivery_id: str) -> Delivery:
        webhook = self.webhooks.visible(caller, webhook_id)
        logged = self._logged(caller, webhook, delivery_id)
        shown = Delivery.model_validate(logged.model_dump())
        shown.request = sent_request(logged.payload, webhook.public(), logged.deliveryId, logged.payloadKey is None)
        return shown

    def send_test(self, caller: Caller, webhook_id: str, event_type: str | None = None) -> DeliverySummary:
        """Queue a test delivery to this webhook alone: a WEBHOOK_TEST ping (whatever events it subscribes to),
        or the example body of an event type it subscribes to (GET /event-types), in its company and project."""
        webhook = self.webhooks.writable(caller, webhook_id)
        event = event_type or TEST_EVENT
        example = schemas.example(event)
        project = {"id": webhook.projectIds[0]} if webhook.projectIds else example["project"]
        payload = {**example, "company": {"id": webhook.companyId}, "project": project, "user": {"id": caller.sub}}
        if event == TEST_EVENT:
            payload["currentValue"] = {**example["currentValue"], "requestedAt": now_iso()}
        elif why := unsubscribed(webhook, event, payload):
            raise Refused(f"not sent: {why}")
        self.limits.admit(webhook.companyId, "testPings", deliveries=1)
        message = DeliveryMessage(
            deliveryId=new_id("msg"),
            webhookId=webhook.id,
            companyId=webhook.companyId,
            eventId=new_id("evt"),
            event=event,
            payload={part: value for part, value in payload.items() if part != "webhook"},
        )
        self.log.record(message, "pending")
        try:
            self.queue.send([outgoing(message)])
        except NotQueued as exc:
            self.log.record(message, "dropped", reason="could not be queued: send the test again")
            raise Unavailable("the test delivery could not be queued; try again shortly") from exc
        return self._summary(message)

    def retry(self, caller: Caller, webhook_id: str, delivery_id: str) -> DeliverySummary:
        """Deliver it again, now: same webhook-id, fresh timestamp and signature, a new run.

        Once per run: while the run a retry started is pending, the delivery is not retried again."""
        webhook = self.webhooks.writable(caller, webhook_id)
        delivery = self._logged(caller, webhook, delivery_id)
        if why := self._excluded(caller, webhook, delivery):
            raise NotRedelivered(f"delivery {delivery_id} is not sent again: {why}")
        if queued(delivery, now()):
            raise NotRedelivered(f"delivery {delivery_id} is already queued; retry it once it has been attempted")
        self.limits.admit(webhook.companyId, "retries", deliveries=1)
        self._redeliver([delivery])
        return delivery.summary()

    def recover(self, caller: Caller, webhook_id: str, since: str) -> Recovery:
        """Queue again every failed or dead delivery created since then: one page of the log, RECOVER_PER_CALL
        at most (fewer when they are large), the rest left for the next call.

        Idempotent: each one moves to `pending` (conditionally) before it is queued, so a second
        call, or a concurrent one, does not queue it twice; a page that an earlier call queued whole is
        passed over. A delivery left `pending` for longer than STALE_PENDING (its queueing failed, or
        the call died before it) is taken again. One that may not be sent again is dropped, and the
        answer lists it with the reason; within the company's limit of deliveries this minute, the
        rest is left for the next call."""
        webhook = self.webhooks.writable(caller, webhook_id)
        self.limits.admit(webhook.companyId, "recovers")
        company, cursor = webhook.companyId, None
        for _ in range(RECOVER_PAGES):
            found, cursor = self.log.page(company, webhook.id, RECOVER_PER_CALL, cursor, UNSETTLED, since=since)
            if cursor is None or not all(queued(delivery, now()) for delivery in found):
                break
        wanted, not_sent = [], []
        for delivery in found:
            if queued(delivery, now()):
                continue
            if why := self._excluded(caller, webhook, delivery):
                if readable(caller, delivery.payload):  # of another project: dropped, and not named
                    not_sent.append(NotSent(deliveryId=delivery.deliveryId, reason=why))
            else:
                wanted.append(delivery)
        allowed = self.limits.share(webhook.companyId, len(wanted)) if wanted else 0
        started = self._redeliver(wanted[:allowed], only_from=UNSETTLED)
        return Recovery(queued=len(started), remaining=cursor is not None or allowed < len(wanted), notSent=not_sent)

    def _redeliver(
        self, deliveries: list[LoggedDelivery], only_from: tuple[DeliveryState, ...] | None = None
    ) -> list[LoggedDelivery]:
        """Start a new run of each (unless someone did meanwhile) and queue it; returns those started.

        A delivery whose message could not be queued is put back as it was, so that none is left
        pending with no message; then Unavailable (503): the same call may be made again."""
        was = {delivery.deliveryId: (delivery.state, delivery.reason) for delivery in deliveries}
        started = [delivery for delivery in deliveries if self.log.start_run(delivery, only_from)]
        try:
            self.queue.send([outgoing(delivery.message()) for delivery in started])
        except NotQueued as exc:
            unsent = {message.key for message in exc.unsent}
            for delivery in started:
                if delivery.deliveryId in unsent:
                    self.log.put_back(delivery, *was[delivery.deliveryId])
            raise Unavailable(
                f"{len(unsent)} of {len(started)} deliveries could not be queued, and are as they were"
            ) from exc
        return started

    def _excluded(self, caller: Caller, webhook: StoredWebhook, delivery: LoggedDelivery) -> str | None:
        """Why it may not be sent again; an unsettled one is dropped with that reason, so the log says why."""
        why = not_redeliverable(caller, webhook, delivery.event, delivery.payload)
        if why and delivery.state in UNSETTLED:
            self.log.drop(delivery, f"not sent again: {why}")
        return why

    def _logged(self, caller: Caller, webhook: StoredWebhook, delivery_id: str) -> LoggedDelivery:
        """The delivery, if this caller may see it: one of a project outside the token's is a 404 too."""
        delivery = self.log.get(webhook.companyId, webhook.id, delivery_id) if DELIVERY_ID.match(delivery_id) else None
        if delivery is None or not readable(caller, delivery.payload):
            raise NotFound(f"no delivery {delivery_id} for webhook {webhook.id}")
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
