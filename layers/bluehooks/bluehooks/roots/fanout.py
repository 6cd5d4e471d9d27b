"""FanoutFunction's composition root: the fan-out's settings and services."""

from dataclasses import dataclass

import boto3
from pydantic import Field

from bluehooks.adapters.producer import Producer
from bluehooks.adapters.s3 import S3PayloadStore
from bluehooks.adapters.sqs import SqsDeadLetters
from bluehooks.adapters.store import WebhookStore
from bluehooks.roots.aws import Aws
from bluehooks.roots.settings import DeliveryQueue, PayloadBucket, WebhookTable
from bluehooks.services.fanout import Fanout


class FanoutSettings(WebhookTable, DeliveryQueue, PayloadBucket):
    fanout_dlq_url: str = Field(alias="FANOUT_DLQ_URL")


@dataclass
class FanoutRoot:
    settings: FanoutSettings
    fanout: Fanout


def build(settings: FanoutSettings, aws: Aws = boto3) -> FanoutRoot:
    sqs = aws.client("sqs")
    fanout = Fanout(
        index=WebhookStore(aws.resource("dynamodb").Table(settings.webhooks_table)),
        queue=Producer(sqs, settings.delivery_queue_url),
        dead_letters=SqsDeadLetters(sqs, settings.fanout_dlq_url),
        payloads=S3PayloadStore(aws.client("s3"), settings.payload_bucket),
    )
    return FanoutRoot(settings, fanout)
