"""RetryFunction: RetryQueue → each waiting retry hops on towards its due time (see bluehooks.services.scheduling)."""

from typing import Any

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from bluehooks.models import DeliveryMessage
from bluehooks.observability import handler_tracing, invocation_logging
from bluehooks.roots.retry import RetrySettings, build

logger = Logger()
root = build(RetrySettings.from_env())


def hop(record: dict[str, Any]) -> None:
    try:
        message = DeliveryMessage.model_validate_json(record["body"])
    except ValidationError as exc:
        problems = exc.errors(include_url=False, include_input=False)
        logger.error("poison message: dead-lettered", extra={"messageId": record["messageId"], "errors": problems})
        root.scheduler.dead_letter(record["body"], f"poison message: {problems}")
        return
    root.scheduler.wait(message)


def hopped(record: dict[str, Any]) -> bool:
    """False when the record could not hop: it stays in flight, and comes back."""
    try:
        hop(record)
    except Exception:
        logger.exception("retry not moved on: it comes back", extra={"messageId": record["messageId"]})
        return False
    return True


@invocation_logging(logger)
@handler_tracing(capture_response=False)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    failed = [record["messageId"] for record in event["Records"] if not hopped(record)]
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}
