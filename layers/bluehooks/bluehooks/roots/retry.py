"""RetryFunction's composition root: the retry hops' settings and scheduler."""

from dataclasses import dataclass

import boto3

from bluehooks.roots.aws import Aws
from bluehooks.roots.settings import Scheduling
from bluehooks.scheduling import RetryScheduler


class RetrySettings(Scheduling):
    pass


@dataclass
class RetryRoot:
    settings: RetrySettings
    scheduler: RetryScheduler


def build(settings: RetrySettings, aws: Aws = boto3) -> RetryRoot:
    scheduler = RetryScheduler(
        aws.client("sqs"), settings.delivery_queue_url, settings.retry_queue_url, settings.delivery_dlq_url
    )
    return RetryRoot(settings, scheduler)
