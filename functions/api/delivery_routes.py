"""Routes of a webhook's deliveries: the log, test pings, retry one, recover many."""

from collections.abc import Callable
from http import HTTPStatus
from typing import Annotated

from answers import answers
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from bluehooks.models import (
    Caller,
    Delivery,
    DeliveryPage,
    DeliveryState,
    DeliverySummary,
    Moment,
    RecoverRequest,
    Recovery,
    TestRequest,
)
from bluehooks.services.deliveries import DeliveryService
from bluehooks.timestamps import iso

ONE = "/webhooks/<webhook_id>"
WRITE = (HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND)
# Over the company's limit this minute (429), or SQS refused the messages and nothing changed (503): Retry-After.
LIMITED = (HTTPStatus.TOO_MANY_REQUESTS, HTTPStatus.SERVICE_UNAVAILABLE)


def delivery_router(service: DeliveryService, caller: Callable[[], Caller]) -> Router:
    """A new router per resolver: its routes close over this service and this caller lookup."""
    router = Router()

    @router.get(
        f"{ONE}/deliveries",
        operation_id="listDeliveries",
        summary="The delivery log of a webhook, newest first",
        responses=answers(HTTPStatus.BAD_REQUEST, HTTPStatus.NOT_FOUND, success=(HTTPStatus.OK, DeliveryPage)),
    )
    def list_deliveries(
        webhook_id: str,
        limit: Annotated[int, Query(ge=1, le=100)] = 50,
        cursor: Annotated[str | None, Query(max_length=500)] = None,
        status: Annotated[DeliveryState | None, Query()] = None,
        event: Annotated[str | None, Query(max_length=100)] = None,
        since: Annotated[Moment | None, Query(description="Only deliveries created at or after this time.")] = None,
    ) -> DeliveryPage:
        return service.page(caller(), webhook_id, limit, cursor, status, event, iso(since) if since else None)

    @router.get(
        f"{ONE}/deliveries/<delivery_id>",
        operation_id="getDelivery",
        summary="One delivery: its state and every attempt",
        responses=answers(HTTPStatus.NOT_FOUND, success=(HTTPStatus.OK, Delivery)),
    )
    def get_delivery(webhook_id: str, delivery_id: str) -> Delivery:
        return service.get(caller(), webhook_id, delivery_id)

    @router.post(
        f"{ONE}/deliveries/<delivery_id>/retry",
        operation_id="retryDelivery",
        summary="Deliver it again now: the same webhook-id, a fresh timestamp and signature",
        description=(
            "409 when the webhook no longer subscribes to its event or project, or your token may not see its "
            "project (it is then dropped, with the reason), or when it is already queued."
        ),
        responses=answers(*WRITE, HTTPStatus.CONFLICT, *LIMITED, success=(HTTPStatus.ACCEPTED, DeliverySummary)),
    )
    def retry_delivery(webhook_id: str, delivery_id: str) -> tuple[DeliverySummary, int]:
        return service.retry(caller(), webhook_id, delivery_id), HTTPStatus.ACCEPTED

    @router.post(
        f"{ONE}/recover",
        operation_id="recoverDeliveries",
        summary="Redeliver every failed or dead delivery since a time (dead-lettered included)",
        responses=answers(HTTPStatus.BAD_REQUEST, *WRITE, *LIMITED, success=(HTTPStatus.ACCEPTED, Recovery)),
    )
    def recover(webhook_id: str, body: Annotated[RecoverRequest, Body()]) -> tuple[Recovery, int]:
        return service.recover(caller(), webhook_id, iso(body.since)), HTTPStatus.ACCEPTED

    @router.post(
        f"{ONE}/test",
        operation_id="sendTest",
        summary="Queue a test delivery to this webhook: a WEBHOOK_TEST ping, or an event type's example",
        responses=answers(
            HTTPStatus.BAD_REQUEST,
            *WRITE,
            *LIMITED,
            HTTPStatus.UNPROCESSABLE_ENTITY,
            success=(HTTPStatus.ACCEPTED, DeliverySummary),
        ),
    )
    def send_test(webhook_id: str, body: Annotated[TestRequest | None, Body()] = None) -> tuple[DeliverySummary, int]:
        event_type = body.eventType if body else None
        return service.send_test(caller(), webhook_id, event_type), HTTPStatus.ACCEPTED

    return router
