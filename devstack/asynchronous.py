"""Lambda's asynchronous invocation, as an EventBridge rule invokes a function: retries, then OnFailure.

On AWS the rule only hands the event to Lambda. A function error is retried by Lambda
(EventInvokeConfig's MaximumRetryAttempts, about one and two minutes apart), and when the retries
are exhausted a record of the invocation, holding the event, goes to the OnFailure destination.
Locally the waits are short (ASYNC_RETRY_DELAY_SECONDS, then twice that); the invocations and
the record, in the same queue, are as on AWS.
"""

import json
import logging
import threading
import traceback
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from devstack.lambdas import FunctionPool
from devstack.template import ACCOUNT_ID, EventSource

log = logging.getLogger("devstack")
MAX_ERROR_CHARS = 4096
MAX_STACK_FRAMES = 20


def eventbridge_event(body: str) -> dict[str, Any]:
    """The event as EventBridge hands it to a Lambda target (the emulator leaves out `account`)."""
    event = json.loads(body)
    event.setdefault("account", ACCOUNT_ID)
    return event


def error_response(exc: Exception, request_id: str) -> dict[str, Any]:
    """What the Python runtime reports for an unhandled exception (bounded: it travels in an SQS message)."""
    return {
        "errorMessage": str(exc)[:MAX_ERROR_CHARS],
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_tb(exc.__traceback__)[-MAX_STACK_FRAMES:],
    }


def destination_record(body: str, error: dict[str, Any], function_arn: str, request_id: str, attempts: int) -> str:
    """Lambda's OnFailure record as SQS message text; `requestPayload` is the event's JSON as it arrived."""
    record = {
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestContext": {
            "requestId": request_id,
            "functionArn": f"{function_arn}:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": attempts,
        },
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": error,
    }
    # Spliced in as text, as Lambda copies the payload: nothing of the event is re-encoded.
    return f'{json.dumps(record, separators=(",", ":"))[:-1]},"requestPayload":{body}}}'


@dataclass
class AsyncInvoker:
    """Settles each event of a rule's tap: invoked until it succeeds, or its failure recorded at OnFailure."""

    pool: FunctionPool
    source: EventSource
    sqs: Any
    region: str
    stop: threading.Event
    delay: float = 1.0

    def settle(self, body: str) -> bool:
        """True once the event succeeded or went to the destination; False leaves it on the tap for later."""
        event = eventbridge_event(body)
        request_id = str(uuid.uuid4())  # one request id for all attempts of an invocation, as on AWS
        attempts = self.source.retries + 1
        for attempt in range(1, attempts + 1):
            if attempt > 1 and self.stop.wait(self.delay * (attempt - 1)):
                return False  # shutting down
            error = self._attempt(event, request_id)
            if error is None:
                return True
            log.warning(
                "%s invocation %d of %d failed for event %s: %s: %s",
                self.source.function,
                attempt,
                attempts,
                event.get("id"),
                error["errorType"],
                error["errorMessage"][:200],
            )
        return self._record_failure(body, error, request_id, attempts)

    def _attempt(self, event: dict[str, Any], request_id: str) -> dict[str, Any] | None:
        try:
            self.pool.invoke(event, request_id)
        except Exception as exc:  # any function error, as Lambda sees it
            return error_response(exc, request_id)
        return None

    def _record_failure(self, body: str, error: dict[str, Any], request_id: str, attempts: int) -> bool:
        if not self.source.on_failure_url:
            log.error("%s: retries exhausted and no OnFailure destination: Lambda discards the event", self.source)
            return True
        function_arn = f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{self.source.function}"
        record = destination_record(body, error, function_arn, request_id, attempts)
        try:
            self.sqs.send_message(QueueUrl=self.source.on_failure_url, MessageBody=record)
        except Exception:
            # AWS would drop the event (DestinationDeliveryFailures); here it stays on the tap.
            log.exception("%s: the OnFailure destination refused the record", self.source.function)
            return False
        log.error("%s: retries exhausted, the event is in its OnFailure destination", self.source.function)
        return True
