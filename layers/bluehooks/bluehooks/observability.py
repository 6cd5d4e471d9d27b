"""Each invocation's log context (Lambda's context, the correlation id), kept to that invocation.

Powertools' `inject_lambda_context` appends these keys to the formatter that every logger of a
service shares. The local stack runs all functions in one process, so a delivery's lines carried
`function_name: ApiFunction` when the API ran meanwhile. Here the keys live in context variables:
each invocation's own thread has its own, on Lambda and locally alike, and a thread working for an
invocation gets them by running in a copy of its context (`contextvars.copy_context().run`).
"""

import functools
import os
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.jmespath_utils import query


def invocation_logging(logger: Logger, correlation_id_path: str | None = None) -> Callable:
    """A handler decorator: inject_lambda_context's keys, for this invocation only, less the ARN and
    memory size: each function logs to a group of its own, and CloudWatch Logs bills every byte of every line."""

    def decorate(handler: Callable) -> Callable:
        first = [True]  # per execution environment: each one loads the handler's module afresh

        @functools.wraps(handler)
        def invoke(event: Any, context: Any) -> Any:
            logger.thread_safe_clear_keys()
            logger.thread_safe_append_keys(
                cold_start=first[0],
                function_name=context.function_name,
                function_request_id=context.aws_request_id,
                **({"correlation_id": query(envelope=correlation_id_path, data=event)} if correlation_id_path else {}),
            )
            first[0] = False
            return handler(event, context)

        return invoke

    return decorate


def handler_tracing(**capture: Any) -> Callable:
    """A handler decorator: Tracer's `capture_lambda_handler` when tracing is on (EventTracing), else none.

    Off, no Tracer is built: building one imports the X-Ray SDK, 20-30 ms of every cold start."""
    if os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() == "true":
        return lambda handler: handler
    from aws_lambda_powertools import Tracer

    return Tracer(patch_modules=["boto3", "botocore"]).capture_lambda_handler(**capture)
