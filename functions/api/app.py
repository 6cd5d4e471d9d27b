"""ApiFunction: the management API (API Gateway REST proxy → Powertools resolver).

A request is admitted first (admission: its size, its caller, its body), then resolved by the routers, each of
which parses, calls the root's service and shapes the answer.
"""

from http import HTTPStatus
from typing import Any

from admission import admit
from answers import as_proxy_result, domain_problem, invalid_request, problem
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.logging import correlation_paths
from console import console_router, docs_headers
from delivery_routes import delivery_router
from documentation import documentation_router, enable_docs
from filter_routes import filter_router
from webhook_routes import webhook_router

from bluehooks import __version__
from bluehooks.errors import DomainError
from bluehooks.models import Caller
from bluehooks.observability import invocation_logging
from bluehooks.roots.api import ApiSettings, build

logger = Logger()
tracer = Tracer(patch_modules=["boto3", "botocore"])
root = build(ApiSettings.from_env())
app = APIGatewayRestResolver(enable_validation=True)


def current_caller() -> Caller:
    return app.context["caller"]


app.include_router(webhook_router(root.webhooks, current_caller))
app.include_router(delivery_router(root.deliveries, current_caller))
app.include_router(filter_router())
app.include_router(documentation_router(app))
app.include_router(console_router(root.settings.console_frame_ancestors))


@app.exception_handler(DomainError)
def refused(exc: DomainError) -> Response:
    return domain_problem(exc)


@app.exception_handler(Exception)
def crashed(exc: Exception) -> Response:
    """Our bug or an AWS fault: logged with its trace, answered in the one error shape."""
    logger.exception("request failed")
    return problem(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error; it has been logged")


@app.exception_handler(RequestValidationError)
def invalid(exc: RequestValidationError) -> Response:
    return invalid_request(exc.errors())


@app.not_found
def no_route(_: NotFoundError) -> Response:
    return problem(HTTPStatus.NOT_FOUND, f"no route {app.current_event.http_method} {app.current_event.path}")


@app.get("/health", summary="Liveness", security=[{}], responses={200: {"description": "OK"}})
def health() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@invocation_logging(logger, correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)  # a create or rotate answer holds a secret
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        caller = admit(event, root.caller)
    except DomainError as exc:
        return as_proxy_result(domain_problem(exc))
    if caller:
        app.append_context(caller=caller)
    if event.get("path") != "/docs":
        return app.resolve(event, context)
    enable_docs(app)
    result = app.resolve(event, context)
    if result["statusCode"] == HTTPStatus.OK:
        for name, value in docs_headers(result["body"]).items():
            result["multiValueHeaders"][name] = [value]
    return result
