"""FanoutFunction: an event from the bus → one DeliveryQueue message per matching webhook.

EventBridge invokes it asynchronously: an error here gets Lambda's two retries, then the event
goes to FanoutDLQ in an OnFailure record (template.yaml, EventInvokeConfig). Events that can
never be fanned out are not errors: they go to FanoutDLQ at once, with the reason. So does an
event whose fan-out failed and whose OnFailure record would not fit an SQS message (Lambda would
drop it): kept whole (claim-checked), without Lambda's retries.
"""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import ValidationError

from bluehooks.models import EventDetail
from bluehooks.observability import invocation_logging
from bluehooks.roots.fanout import FanoutSettings, build
from bluehooks.services.fanout import AcceptedEvent, Rejected, accept, too_large_for_failure_record

logger = Logger()
tracer = Tracer(patch_modules=["boto3", "botocore"])
metrics = Metrics()
root = build(FanoutSettings.from_env())
# (company, event type, event id) keys the whole fan-out: a redelivered event is fanned out
# once. If the fan-out fails half-way, the retry re-runs it with the same delivery ids, so
# receivers deduplicate on webhook-id. Only accepted events reach this section, so a rejected
# event is not remembered: corrected and sent again with the same id, it is fanned out.
idempotency = IdempotencyConfig(expires_after_seconds=24 * 3600)


class BlueEvent(EventBridgeModel):
    detail: EventDetail


def accepted(event: dict[str, Any]) -> AcceptedEvent:
    """The producer's event, validated; Rejected with the reason otherwise."""
    try:
        blue_event = BlueEvent.model_validate(event)
    except ValidationError as exc:
        raise Rejected(f"invalid event: {exc.errors(include_url=False, include_input=False)}") from None
    return accept(blue_event.detail.id or blue_event.id, blue_event.detail_type, blue_event.detail)


@idempotent_function(data_keyword_argument="key", config=idempotency, persistence_store=root.idempotency)
def fan_out_once(key: dict[str, str], event: AcceptedEvent) -> dict[str, Any]:
    return root.fanout.fan_out(event)


@invocation_logging(logger)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    idempotency.register_lambda_context(context)
    try:
        blue_event = accepted(event)
    except Rejected as exc:
        metrics.add_metric(name="EventsRejected", unit=MetricUnit.Count, value=1)
        return root.fanout.reject(event, str(exc))
    try:
        result = fan_out_once(key=blue_event.key, event=blue_event)
    except Exception as exc:
        if not too_large_for_failure_record(event):
            raise  # Lambda retries it, then keeps it in FanoutDLQ (its OnFailure record)
        # Lambda would drop this event's OnFailure record (over an SQS message): kept here instead, whole.
        logger.exception("fan-out failed: the event is dead-lettered at once")
        metrics.add_metric(name="EventsRejected", unit=MetricUnit.Count, value=1)
        return root.fanout.reject(event, f"fan-out failed ({type(exc).__name__}: {exc}); replay it once fixed")
    metrics.add_metric(name="DeliveriesQueued", unit=MetricUnit.Count, value=result.get("queued", 0))
    # Webhooks whose filter was not decided within its share, and got the event unfiltered (bluehooks.rules.matching).
    metrics.add_metric(name="FiltersUndecided", unit=MetricUnit.Count, value=result.get("undecided", 0))
    return result
