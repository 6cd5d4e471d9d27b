"""ApiFunction: the management API (API Gateway REST proxy → Powertools resolver).

Before the resolver runs, a request is bounded (size), authenticated, and its body checked to
be JSON we can parse safely; so the resolver's own parsing never meets a hostile body, and an
unauthenticated caller learns nothing about the schema.
"""

import base64
import binascii
import json
from functools import cache
from http import HTTPStatus
from typing import Any

import boto3
from answers import answers, as_proxy_result, domain_problem, problem
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.logging import correlation_paths
from console import console_router, docs_headers
from delivery_routes import delivery_router
from filter_routes import filter_router
from webhook_routes import webhook_router

from bluehooks import PRODUCT, __version__, jsonlimits
from bluehooks.auth import authenticate, signing_key
from bluehooks.catalog import EVENT_TYPES
from bluehooks.deliveries import DeliveryService
from bluehooks.deliverylog import DeliveryLog
from bluehooks.errors import DomainError, Refused, TooLarge, UnsupportedMediaType
from bluehooks.limits import CompanyLimits, Limits
from bluehooks.management import WebhookService
from bluehooks.models import Caller, EventType
from bluehooks.observability import invocation_logging
from bluehooks.producer import Producer
from bluehooks.roots.api import ApiSettings
from bluehooks.schemas import delivery_schema, example
from bluehooks.store import WebhookStore
from bluehooks.targets import TargetPolicy
from bluehooks.vault import SecretVault

MAX_BODY_BYTES = 64 * 1024
PUBLIC_PATHS = frozenset({"/health", "/openapi.json", "/docs", "/console"})
PUBLIC_PREFIXES = ("/console/",)  # the console's static files
TITLE = f"{PRODUCT} management API"

logger = Logger()
tracer = Tracer(patch_modules=["boto3", "botocore"])
config = ApiSettings.from_env()
sqs = boto3.client("sqs")
dynamodb = boto3.resource("dynamodb")
service = WebhookService(
    store=WebhookStore(dynamodb.Table(config.webhooks_table)),
    vault=SecretVault(boto3.client("kms"), config.secrets_key_id),
    policy=TargetPolicy(allow_http=config.allow_http, allow_loopback=config.allow_private_targets),
    max_per_company=config.max_webhooks_per_company,
    rotation_overlap_seconds=config.secret_rotation_overlap_seconds,
)
deliveries = DeliveryService(
    webhooks=service,
    log=DeliveryLog(dynamodb.Table(config.deliveries_table), config.delivery_log_retention_days),
    queue=Producer(sqs, config.delivery_queue_url),
    limits=CompanyLimits(
        dynamodb.Table(config.limits_table),
        Limits(
            testPings=config.test_pings_per_minute,
            retries=config.retries_per_minute,
            recovers=config.recovers_per_minute,
            manualDeliveries=config.manual_deliveries_per_minute,
        ),
    ),
)
app = APIGatewayRestResolver(enable_validation=True)


def current_caller() -> Caller:
    return app.context["caller"]


app.include_router(webhook_router(service, current_caller))
app.include_router(delivery_router(deliveries, current_caller))
app.include_router(filter_router())
app.include_router(console_router(config.console_frame_ancestors))


@app.exception_handler(DomainError)
def refused(exc: DomainError) -> Response:
    return domain_problem(exc)


@app.exception_handler(Exception)
def crashed(exc: Exception) -> Response:
    """Our bug or an AWS fault: logged with its trace, answered in the one error shape."""
    logger.exception("request failed")
    return problem(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error; it has been logged")


@app.exception_handler(RequestValidationError)
def invalid_request(exc: RequestValidationError) -> Response:
    problems = [
        {"loc": list(error["loc"]), "type": error["type"], "msg": error.get("msg", error["type"])}
        for error in exc.errors()
    ]
    summary = "; ".join(f"{'.'.join(map(str, p['loc'][1:])) or 'body'}: {p['msg']}" for p in problems)
    return problem(HTTPStatus.UNPROCESSABLE_ENTITY, f"invalid request: {summary}", errors=problems)


@app.not_found
def no_route(_: NotFoundError) -> Response:
    return problem(HTTPStatus.NOT_FOUND, f"no route {app.current_event.http_method} {app.current_event.path}")


@app.get("/health", summary="Liveness", security=[{}], responses={200: {"description": "OK"}})
def health() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@app.get("/openapi.json", summary="This document", include_in_schema=False)
def openapi():
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=openapi_document())


@cache
def openapi_document() -> str:
    """Built on first request, not at cold start; with what we send receivers as OpenAPI 3.1 `webhooks`."""
    document = json.loads(app.get_openapi_json_schema(title=TITLE, version=__version__, **security()))
    document["webhooks"] = {name: delivery_operation(name) for name in EVENT_TYPES}
    return json.dumps(document)


def delivery_operation(event: str) -> dict[str, Any]:
    body = {"schema": delivery_schema(event), "example": example(event)}
    return {
        "post": {
            "summary": EVENT_TYPES[event],
            "operationId": f"deliver{event.title().replace('_', '')}",
            "security": [],
            "requestBody": {"required": True, "content": {"application/json": body}},
            "responses": {"2XX": {"description": "Received (any other answer is retried)"}},
        }
    }


@cache
def enable_docs() -> None:
    """Swagger UI at /docs, added on its first request: enable_swagger imports the OpenAPI models."""
    app.enable_swagger(path="/docs", title=TITLE, version=__version__, **security())


@cache
def security() -> dict[str, Any]:
    # Powertools' OpenAPI models take some 50 ms to import, and only the documentation needs them.
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    return {"security_schemes": {"bearerAuth": HTTPBearer(bearerFormat="JWT")}, "security": [{"bearerAuth": []}]}


@app.get("/event-types", summary="The event catalog", responses=answers(success=(HTTPStatus.OK, list[EventType])))
def event_types() -> list[EventType]:
    return catalog()


@cache
def catalog() -> list[EventType]:
    """Built on first request (the schemas do not change while the function lives), not at cold start."""
    return [
        EventType(name=name, description=text, schema=delivery_schema(name), example=example(name))
        for name, text in EVENT_TYPES.items()
    ]


# -- before the resolver ------------------------------------------------------------------------


def admit(event: dict[str, Any]) -> Caller | None:
    """The caller, once the request is fit for the resolver; a DomainError says why it is not."""
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    body = event.get("body") or ""
    if len(body) > MAX_BODY_BYTES * 4 // 3 + 4:  # base64 grows a body by a third
        raise TooLarge(f"request body exceeds {MAX_BODY_BYTES} bytes")
    caller = None
    path = event.get("path") or ""
    if path not in PUBLIC_PATHS and not path.startswith(PUBLIC_PREFIXES):
        key = signing_key(config.jwt_secret_parameter)
        caller = authenticate(
            headers.get("authorization"), key, config.jwt_issuer, config.jwt_audience, config.max_token_lifetime_seconds
        )
    if body:
        text = _text(body, bool(event.get("isBase64Encoded")))
        if len(text.encode()) > MAX_BODY_BYTES:
            raise TooLarge(f"request body exceeds {MAX_BODY_BYTES} bytes")
        _require_json(headers.get("content-type", ""))
        try:
            jsonlimits.loads(text)
        except jsonlimits.UnacceptableJson as exc:
            raise Refused(f"the body is {exc}") from None
        _normalize(event, text)
    return caller


def _require_json(content_type: str) -> None:
    """application/json, in UTF-8: the only charset JSON may use between systems (RFC 8259)."""
    media_type, *parameters = (part.strip().lower() for part in content_type.split(";"))
    if media_type != content_types.APPLICATION_JSON:
        raise UnsupportedMediaType("send the body as JSON with Content-Type: application/json")
    pairs = (parameter.partition("=") for parameter in parameters)
    charsets = {value.strip().strip('"') for name, _, value in pairs if name.strip() == "charset"}
    if charsets - {"utf-8"}:
        raise UnsupportedMediaType("send the body as JSON in UTF-8 (Content-Type: application/json; charset=utf-8)")


def _text(body: str, is_base64: bool) -> str:
    if not is_base64:
        return body
    try:
        return base64.b64decode(body, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise Refused("the body must be UTF-8 encoded JSON") from None


def _normalize(event: dict[str, Any], text: str) -> None:
    """The resolver parses a plain-text body with a lower-case JSON content type."""
    event["body"], event["isBase64Encoded"] = text, False
    headers = {name: value for name, value in (event.get("headers") or {}).items() if name.lower() != "content-type"}
    event["headers"] = {**headers, "Content-Type": content_types.APPLICATION_JSON}
    event["multiValueHeaders"] = {name: [value] for name, value in event["headers"].items()}


@invocation_logging(logger, correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)  # a create or rotate answer holds a secret
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        caller = admit(event)
    except DomainError as exc:
        return as_proxy_result(domain_problem(exc))
    if caller:
        app.append_context(caller=caller)
    if event.get("path") != "/docs":
        return app.resolve(event, context)
    enable_docs()
    result = app.resolve(event, context)
    if result["statusCode"] == HTTPStatus.OK:
        for name, value in docs_headers(result["body"]).items():
            result["multiValueHeaders"][name] = [value]
    return result
