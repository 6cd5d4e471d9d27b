"""The API's account of itself: its health, its OpenAPI document (with what receivers get, as OpenAPI 3.1
`webhooks`), Swagger UI at /docs, and the event catalog; each built on its first request, not at cold start."""

import json
from functools import cache
from http import HTTPStatus
from typing import Any

from answers import answers
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from console import docs_headers

from bluehooks import PRODUCT, __version__
from bluehooks.models import EventType
from bluehooks.models.catalog import EVENT_TYPES
from bluehooks.models.schemas import delivery_schema, example

TITLE = f"{PRODUCT} management API"


def documentation_router(app: APIGatewayRestResolver) -> Router:
    """/health, /openapi.json (of `app`'s routes) and /event-types."""
    router = Router()

    @router.get("/health", summary="Liveness", security=[{}], responses={200: {"description": "OK"}})
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @router.get("/openapi.json", summary="This document", include_in_schema=False)
    def openapi():
        return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=openapi_document(app))

    @router.get(
        "/event-types", summary="The event catalog", responses=answers(success=(HTTPStatus.OK, list[EventType]))
    )
    def event_types() -> list[EventType]:
        return catalog()

    return router


@cache
def openapi_document(app: APIGatewayRestResolver) -> str:
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


def resolve_docs(app: APIGatewayRestResolver, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """GET /docs: Swagger UI, sent with its own CSP and framing headers."""
    enable_docs(app)
    result = app.resolve(event, context)
    if result["statusCode"] == HTTPStatus.OK:
        for name, value in docs_headers(result["body"]).items():
            result["multiValueHeaders"][name] = [value]
    return result


@cache
def enable_docs(app: APIGatewayRestResolver) -> None:
    """Swagger UI at /docs, added on its first request: enable_swagger imports the OpenAPI models."""
    app.enable_swagger(path="/docs", title=TITLE, version=__version__, **security())


@cache
def security() -> dict[str, Any]:
    # Powertools' OpenAPI models take some 50 ms to import, and only the documentation needs them.
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    return {"security_schemes": {"bearerAuth": HTTPBearer(bearerFormat="JWT")}, "security": [{"bearerAuth": []}]}


@cache
def catalog() -> list[EventType]:
    """Built on first request (the schemas do not change while the function lives), not at cold start."""
    return [
        EventType(name=name, description=text, schema=delivery_schema(name), example=example(name))
        for name, text in EVENT_TYPES.items()
    ]
