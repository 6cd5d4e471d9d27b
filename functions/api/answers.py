"""How the API answers: one error shape for every refusal, and the OpenAPI answers of each route."""

import json
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from bluehooks.errors import (
    Busy,
    DomainError,
    Forbidden,
    LimitReached,
    NotFound,
    NotRedelivered,
    Refused,
    TooLarge,
    TooManyRequests,
    Unauthenticated,
    Unavailable,
    UnsupportedMediaType,
)
from bluehooks.models import Message, ValidationProblem

logger = Logger(child=True)
STATUS_OF: dict[type[DomainError], HTTPStatus] = {
    Unauthenticated: HTTPStatus.UNAUTHORIZED,
    Forbidden: HTTPStatus.FORBIDDEN,
    NotFound: HTTPStatus.NOT_FOUND,
    Refused: HTTPStatus.BAD_REQUEST,
    LimitReached: HTTPStatus.CONFLICT,
    NotRedelivered: HTTPStatus.CONFLICT,
    TooManyRequests: HTTPStatus.TOO_MANY_REQUESTS,
    Busy: HTTPStatus.SERVICE_UNAVAILABLE,
    Unavailable: HTTPStatus.SERVICE_UNAVAILABLE,
    TooLarge: HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    UnsupportedMediaType: HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
}


def problem(status: HTTPStatus, message: str, retry_after: int | None = None, **extra: Any) -> Response:
    """Every error answer: JSON with a human-readable `message` (and, for a 422, the `errors`)."""
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps({"message": message, **extra}),
        headers=headers,
    )


def domain_problem(exc: DomainError) -> Response:
    """A refusal's answer; a Busy or TooManyRequests one says when to try again (`Retry-After`)."""
    return problem(STATUS_OF[type(exc)], str(exc), retry_after=getattr(exc, "retry_after_seconds", None))


def invalid_request(errors: list[dict[str, Any]]) -> Response:
    """A 422 naming each field the resolver's validation refused (its RequestValidationError's errors)."""
    problems = [
        {"loc": list(error["loc"]), "type": error["type"], "msg": error.get("msg", error["type"])} for error in errors
    ]
    summary = "; ".join(f"{'.'.join(map(str, p['loc'][1:])) or 'body'}: {p['msg']}" for p in problems)
    return problem(HTTPStatus.UNPROCESSABLE_ENTITY, f"invalid request: {summary}", errors=problems)


def error_router() -> Router:
    """The one place a route's failure becomes an answer: refusals, bad input, unknown routes and our own bugs."""
    router = Router()
    router.exception_handler(DomainError)(domain_problem)
    router.exception_handler(RequestValidationError)(lambda exc: invalid_request(exc.errors()))

    @router.exception_handler(NotFoundError)
    def no_route(_: NotFoundError) -> Response:
        return problem(HTTPStatus.NOT_FOUND, f"no route {router.current_event.http_method} {router.current_event.path}")

    @router.exception_handler(Exception)
    def crashed(_: Exception) -> Response:
        """Our bug or an AWS fault: logged with its trace, answered in the one error shape."""
        logger.exception("request failed")
        return problem(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error; it has been logged")

    return router


def as_proxy_result(response: Response) -> dict[str, Any]:
    """A Response given before the resolver runs, in API Gateway's proxy result shape."""
    return {
        "statusCode": response.status_code,
        "headers": {"Content-Type": response.content_type, **(response.headers or {})},
        "body": response.body,
    }


def answers(
    *statuses: HTTPStatus, success: tuple[HTTPStatus, Any] | None = None, links_to: tuple[str, ...] = ()
) -> dict[int, dict[str, Any]]:
    """The OpenAPI responses of a route: its success, and its error answers (JSON with a `message`).

    401 and 422 are listed on every authenticated route, 422 with this API's shape. `links_to`
    names the operations that take the returned webhook's id (OpenAPI links, which clients and
    Schemathesis's stateful tests follow).
    """
    documented: dict[int, dict[str, Any]] = {}
    if success:
        status, model = success
        content = {"content": {"application/json": {"model": model}}} if model else {}
        links = {
            operation: {"operationId": operation, "parameters": {"webhook_id": "$response.body#/id"}}
            for operation in links_to
        }
        documented[status] = {"description": status.phrase, **content, **({"links": links} if links else {})}
    for status in (*statuses, HTTPStatus.UNAUTHORIZED, HTTPStatus.UNPROCESSABLE_ENTITY):
        model = ValidationProblem if status == HTTPStatus.UNPROCESSABLE_ENTITY else Message
        documented[status] = {"description": status.phrase, "content": {"application/json": {"model": model}}}
    return documented


# The answers of a route that takes a JSON body, beyond its own.
BODY_ANSWERS = (
    HTTPStatus.BAD_REQUEST,
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
)
