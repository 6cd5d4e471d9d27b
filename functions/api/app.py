"""ApiFunction: the management API (API Gateway REST proxy → Powertools resolver)."""

import base64
import binascii
import json
from functools import cache
from http import HTTPStatus
from typing import Annotated, Any

import boto3
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import (
    BadRequestError,
    ForbiddenError,
    NotFoundError,
    ServiceError,
    UnauthorizedError,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths

from bluehooks import PRODUCT, __version__
from bluehooks.auth import AuthError, authenticate, signing_key
from bluehooks.catalog import EVENT_TYPES
from bluehooks.config import settings
from bluehooks.models import Caller, EventType, Message, ValidationProblem, Webhook, WebhookCreate, WebhookPage
from bluehooks.outbound import TargetPolicy, TargetRefused, check_url
from bluehooks.store import WebhookLimitReached, WebhookStore

MAX_BODY_BYTES = 64 * 1024
PUBLIC_PATHS = frozenset({"/health", "/openapi.json"})

logger = Logger()
tracer = Tracer()
config = settings()
store = WebhookStore(boto3.resource("dynamodb").Table(config.webhooks_table))
target_policy = TargetPolicy(allow_http=config.allow_http, allow_loopback=config.allow_private_targets)
app = APIGatewayRestResolver(enable_validation=True)


def current_caller() -> Caller:
    try:
        key = signing_key(config.jwt_secret_parameter)
        return authenticate(app.current_event.headers.get("Authorization"), key)
    except AuthError as exc:
        raise UnauthorizedError(str(exc)) from exc


def writer() -> Caller:
    caller = app.context["caller"]
    if not caller.can_write:
        raise ForbiddenError(f"role {caller.role} may only read webhooks")
    return caller


def authenticate_request(app: APIGatewayRestResolver, next_middleware):
    if app.current_event.path not in PUBLIC_PATHS:
        app.append_context(caller=current_caller())
    return next_middleware(app)


app.use(middlewares=[authenticate_request])


def answers(*statuses: HTTPStatus, success: tuple[HTTPStatus, Any] | None = None) -> dict[int, dict[str, Any]]:
    """The OpenAPI responses of a route: its success, and its error answers (JSON with a `message`).

    422 is listed on every route, with this API's shape, as Powertools lists it everywhere.
    """
    documented: dict[int, dict[str, Any]] = {}
    if success:
        status, model = success
        content = {"content": {"application/json": {"model": model}}} if model else {}
        documented[status] = {"description": status.phrase, **content}
    for status in (*statuses, HTTPStatus.UNPROCESSABLE_ENTITY):
        model = ValidationProblem if status == HTTPStatus.UNPROCESSABLE_ENTITY else Message
        documented[status] = {"description": status.phrase, "content": {"application/json": {"model": model}}}
    return documented


@app.exception_handler(RequestValidationError)
def invalid_request(exc: RequestValidationError) -> Response:
    if app.current_event.path not in PUBLIC_PATHS:
        current_caller()  # an unauthenticated caller learns nothing about the schema
    problems = [{"loc": list(error["loc"]), "type": error["type"], "msg": _explain(error)} for error in exc.errors()]
    summary = "; ".join(
        p["msg"] if p["type"] == "json_invalid" else f"{'.'.join(map(str, p['loc'][1:])) or 'body'}: {p['msg']}"
        for p in problems
    )
    return _json(HTTPStatus.UNPROCESSABLE_ENTITY, {"message": f"invalid request: {summary}", "errors": problems})


def _explain(error: dict[str, Any]) -> str:
    if error["type"] == "json_invalid":
        return "the body is not valid JSON"
    return error.get("msg", error["type"])


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body))


@app.get("/health", summary="Liveness", security=[{}], responses=answers(success=(HTTPStatus.OK, dict[str, str])))
def health() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@app.get("/openapi.json", summary="This document", include_in_schema=False)
def openapi():
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=openapi_document())


@cache
def openapi_document() -> str:
    """Built on first request, not at cold start."""
    return app.get_openapi_json_schema(
        title=f"{PRODUCT} management API",
        version=__version__,
        security_schemes={"bearerAuth": HTTPBearer(bearerFormat="JWT")},
        security=[{"bearerAuth": []}],
    )


@app.get(
    "/event-types",
    summary="The event catalog",
    responses=answers(HTTPStatus.UNAUTHORIZED, success=(HTTPStatus.OK, list[EventType])),
)
def event_types() -> list[EventType]:
    return [EventType(name=name, description=text) for name, text in EVENT_TYPES.items()]


@app.post(
    "/webhooks",
    summary="Create a webhook; its secret is returned this once",
    responses=answers(
        HTTPStatus.BAD_REQUEST,
        HTTPStatus.UNAUTHORIZED,
        HTTPStatus.FORBIDDEN,
        HTTPStatus.CONFLICT,
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
        HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
        success=(HTTPStatus.CREATED, Webhook),
    ),
)
def create_webhook(body: Annotated[WebhookCreate, Body()]) -> tuple[Webhook, int]:
    caller = writer()
    if caller.projects is not None and (not body.projectIds or set(body.projectIds) - set(caller.projects)):
        raise ForbiddenError("your token limits you to some projects: list only those in projectIds")
    try:
        check_url(body.url, target_policy)
        return store.create(caller, body, config.max_webhooks_per_company), HTTPStatus.CREATED
    except TargetRefused as exc:
        raise BadRequestError(f"url refused: {exc}") from exc
    except WebhookLimitReached as exc:
        raise ServiceError(HTTPStatus.CONFLICT, str(exc)) from exc


@app.get(
    "/webhooks",
    summary="List the company's webhooks",
    responses=answers(HTTPStatus.BAD_REQUEST, HTTPStatus.UNAUTHORIZED, success=(HTTPStatus.OK, WebhookPage)),
)
def list_webhooks(
    limit: Annotated[int, Query(ge=1, le=100)] = 50, cursor: Annotated[str | None, Query(max_length=200)] = None
) -> WebhookPage:
    try:
        return store.page(app.context["caller"].company, limit, cursor)
    except ValueError as exc:
        raise BadRequestError(str(exc)) from exc


@app.get(
    "/webhooks/<webhook_id>",
    summary="One webhook (its secret is null)",
    responses=answers(HTTPStatus.UNAUTHORIZED, HTTPStatus.NOT_FOUND, success=(HTTPStatus.OK, Webhook)),
)
def get_webhook(webhook_id: str) -> Webhook:
    webhook = store.get(app.context["caller"].company, webhook_id)
    if webhook is None:
        raise NotFoundError(f"no webhook {webhook_id}")
    return webhook


@app.delete(
    "/webhooks/<webhook_id>",
    summary="Delete a webhook; nothing is delivered to it afterwards",
    responses=answers(
        HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND, success=(HTTPStatus.NO_CONTENT, None)
    ),
)
def delete_webhook(webhook_id: str):
    if not store.delete(writer().company, webhook_id):
        raise NotFoundError(f"no webhook {webhook_id}")
    return Response(status_code=HTTPStatus.NO_CONTENT, body="")


def refusal(event: dict[str, Any]) -> dict[str, Any] | None:
    """A response for bodies refused before parsing: too large, not JSON, or not UTF-8."""
    body = event.get("body") or ""
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    if len(body) > MAX_BODY_BYTES:
        status, message = HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"request body exceeds {MAX_BODY_BYTES} bytes"
    elif body and not headers.get("content-type", "").lower().startswith("application/json"):
        status, message = HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send the body as JSON with Content-Type: application/json"
    elif event.get("isBase64Encoded") and not _is_utf8(body):
        status, message = HTTPStatus.BAD_REQUEST, "the body must be UTF-8 encoded JSON"
    else:
        return None
    return {
        "statusCode": status,
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": json.dumps({"message": message}),
    }


def _is_utf8(base64_body: str) -> bool:
    try:
        base64.b64decode(base64_body, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return True


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return refusal(event) or app.resolve(event, context)
