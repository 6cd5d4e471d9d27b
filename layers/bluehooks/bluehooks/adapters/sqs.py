"""Dead-letter queues (FanoutDLQ, DeliveryDLQ) over SQS: the body kept whole, the reason in an attribute."""

MAX_REASON_CHARS = 1000  # far under SQS's 256 KiB of attributes; a reason is read by a person


class SqsDeadLetters:
    """The DeadLetters port over one SQS queue."""

    def __init__(self, sqs, queue_url: str):
        self.sqs = sqs
        self.queue_url = queue_url

    def keep(self, body: str, reason: str) -> None:
        self.sqs.send_message(
            QueueUrl=self.queue_url,
            MessageBody=body,
            MessageAttributes={"reason": {"DataType": "String", "StringValue": reason[:MAX_REASON_CHARS]}},
        )


class SqsInFlight:
    """A received message of one queue, left in flight: it comes back once its visibility timeout ends."""

    def __init__(self, sqs, queue_url: str):
        self.sqs = sqs
        self.queue_url = queue_url

    def back_off(self, receipt_handle: str, seconds: int) -> None:
        self.sqs.change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
        )
