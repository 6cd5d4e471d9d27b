"""ApiFunction: the management API (API Gateway REST proxy → Powertools resolver).

A request is admitted first (admission: its size, its caller, its body), then resolved by the routers, each of
which parses, calls the root's service and shapes the answer; answers.error_router answers every failure.
"""

from typing import Any

from admission import admit
from answers import as_proxy_result, domain_problem, error_router
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths
from console import console_router
from delivery_routes import delivery_router
from documentation import documentation_router, resolve_docs
from filter_routes import filter_router
from webhook_routes import webhook_router

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
app.include_router(error_router())


@invocation_logging(logger, correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)  # a create or rotate answer holds a secret
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        caller = admit(event, root.caller)
    except DomainError as exc:
        return as_proxy_result(domain_problem(exc))
    if caller:
        app.append_context(caller=caller)
    if event.get("path") == "/docs":
        return resolve_docs(app, event, context)
    return app.resolve(event, context)
