"""Routes of /webhooks: parse the request, call the WebhookService, shape the answer."""

from collections.abc import Callable
from http import HTTPStatus
from typing import Annotated

from answers import BODY_ANSWERS, answers
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from bluehooks.models import Caller, SecretRotation, Webhook, WebhookCreate, WebhookPage, WebhookUpdate
from bluehooks.services.management import WebhookService

WRITE = (HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND)
ONE = "/webhooks/<webhook_id>"
ONE_WEBHOOK_OPERATIONS = ("getWebhook", "updateWebhook", "rotateSecret", "sendTest", "deleteWebhook")


def webhook_router(service: WebhookService, caller: Callable[[], Caller]) -> Router:
    """A new router per resolver: its routes close over this service and this caller lookup."""
    router = Router()

    @router.post(
        "/webhooks",
        summary="Create a webhook; its secret is returned this once",
        responses=answers(
            *BODY_ANSWERS, HTTPStatus.FORBIDDEN, HTTPStatus.CONFLICT, success=(HTTPStatus.CREATED, Webhook)
        ),
    )
    def create_webhook(body: Annotated[WebhookCreate, Body()]) -> tuple[Webhook, int]:
        return service.create(caller(), body), HTTPStatus.CREATED

    @router.get(
        "/webhooks",
        summary="List the company's webhooks (those in the token's projects, if it names some)",
        responses=answers(HTTPStatus.BAD_REQUEST, success=(HTTPStatus.OK, WebhookPage)),
    )
    def list_webhooks(
        limit: Annotated[int, Query(ge=1, le=100)] = 50, cursor: Annotated[str | None, Query(max_length=200)] = None
    ) -> WebhookPage:
        return service.page(caller(), limit, cursor)

    @router.get(
        ONE,
        operation_id="getWebhook",
        summary="One webhook (its secret is null)",
        responses=answers(HTTPStatus.NOT_FOUND, success=(HTTPStatus.OK, Webhook)),
    )
    def get_webhook(webhook_id: str) -> Webhook:
        return service.get(caller(), webhook_id)

    @router.patch(
        ONE,
        operation_id="updateWebhook",
        summary="Change a webhook: only the fields sent change; re-enabling makes it HEALTHY",
        responses=answers(*BODY_ANSWERS, *WRITE, HTTPStatus.SERVICE_UNAVAILABLE, success=(HTTPStatus.OK, Webhook)),
    )
    def update_webhook(webhook_id: str, body: Annotated[WebhookUpdate, Body()]) -> Webhook:
        return service.update(caller(), webhook_id, body)

    @router.delete(
        ONE,
        operation_id="deleteWebhook",
        summary="Delete a webhook; nothing is delivered to it afterwards",
        responses=answers(*WRITE, HTTPStatus.SERVICE_UNAVAILABLE, success=(HTTPStatus.NO_CONTENT, None)),
    )
    def delete_webhook(webhook_id: str):  # no return annotation: Powertools would document a Response as a model
        service.delete(caller(), webhook_id)
        return Response(status_code=HTTPStatus.NO_CONTENT, body="")

    @router.post(
        f"{ONE}/rotate-secret",
        operation_id="rotateSecret",
        summary="Rotate the secret: the new one is returned this once; the old one keeps signing for the overlap",
        responses=answers(*BODY_ANSWERS, *WRITE, HTTPStatus.SERVICE_UNAVAILABLE, success=(HTTPStatus.OK, Webhook)),
    )
    def rotate_secret(webhook_id: str, body: Annotated[SecretRotation | None, Body()] = None) -> Webhook:
        return service.rotate_secret(caller(), webhook_id, body or SecretRotation())

    return router
