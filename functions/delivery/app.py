"""DeliveryFunction: DeliveryQueue batches → one signed POST per message, every record at once.

The batch's records are carried through by `bluehooks.services.delivery_batch` (what a record means is
`bluehooks.rules.outcome.decide`'s); this answers which records stay in flight and counts the rest.
"""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from bluehooks.observability import handler_tracing, invocation_logging
from bluehooks.roots.delivery import DeliverySettings, build
from bluehooks.services.delivery_batch import DeliveryBatch

logger = Logger()
metrics = Metrics()
root = build(DeliverySettings.from_env())
batch = DeliveryBatch(root)


@invocation_logging(logger)
@handler_tracing(capture_response=False)  # boto3's calls only, never requests: no trace headers to subscribers
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    done = batch.run(event["Records"], context.get_remaining_time_in_millis())
    for counted in done.counted:  # here, on one thread: Powertools' metric set is not thread-safe
        metrics.add_metric(name=counted, unit=MetricUnit.Count, value=1)
    return done.answer()
