"""RetryFunction: RetryQueue → each waiting retry hops on towards its due time (see bluehooks.services.scheduling)."""

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ValidationError

from bluehooks.models import DeliveryMessage
from bluehooks.observability import invocation_logging
from bluehooks.roots.retry import RetrySettings, build

logger = Logger()
tracer = Tracer(patch_modules=["boto3", "botocore"])
root = build(RetrySettings.from_env())
processor = BatchProcessor(event_type=EventType.SQS)


def hop(record: SQSRecord) -> None:
    try:
        message = DeliveryMessage.model_validate_json(record.body)
    except ValidationError as exc:
        problems = exc.errors(include_url=False, include_input=False)
        logger.error("poison message: dead-lettered", extra={"messageId": record.message_id, "errors": problems})
        root.scheduler.dead_letter(record.body, f"poison message: {problems}")
        return
    root.scheduler.wait(message)


@invocation_logging(logger)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=hop, processor=processor, context=context)
