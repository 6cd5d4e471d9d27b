"""FanoutFunction: an event from the bus → one DeliveryQueue message per matching webhook.

EventBridge invokes it asynchronously: an error here gets Lambda's two retries, then the event
goes to FanoutDLQ in an OnFailure record (template.yaml, EventInvokeConfig). Events that can
never be fanned out are not errors: they go to FanoutDLQ at once, with the reason. So does an
event whose fan-out failed and whose OnFailure record would not fit an SQS message (Lambda would
drop it): kept whole (claim-checked), without Lambda's retries.

(company, event type, event id) keys the whole fan-out: it names each delivery (`delivery_id`), so
a fan-out run again (an event delivered twice, Lambda's retry, a replay) queues the same deliveries,
and delivery sends none its log shows delivered; receivers deduplicate on webhook-id.
"""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from bluehooks.observability import handler_tracing, invocation_logging
from bluehooks.roots.fanout import FanoutSettings, build
from bluehooks.services.fanout import Rejected, accepted, too_large_for_failure_record

logger = Logger()
metrics = Metrics()
root = build(FanoutSettings.from_env())


@invocation_logging(logger)
@handler_tracing()
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        result = root.fanout.fan_out(accepted(event))
    except Rejected as exc:
        metrics.add_metric(name="EventsRejected", unit=MetricUnit.Count, value=1)
        return root.fanout.reject(event, str(exc))
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
