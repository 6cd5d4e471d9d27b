"""RetryFunction's composition root: the retry hops' settings and scheduler."""

from dataclasses import dataclass
from typing import Any

import boto3

from bluehooks.adapters.producer import Producer
from bluehooks.adapters.sqs import SqsDeadLetters
from bluehooks.roots.aws import Aws
from bluehooks.roots.settings import Scheduling
from bluehooks.services.scheduling import RetryScheduler


class RetrySettings(Scheduling):
    pass


@dataclass
class RetryRoot:
    settings: RetrySettings
    scheduler: RetryScheduler


def build(settings: RetrySettings, aws: Aws = boto3) -> RetryRoot:
    return RetryRoot(settings, sqs_scheduler(aws.client("sqs"), settings))


def sqs_scheduler(sqs, queues: Scheduling | Any) -> RetryScheduler:
    """The scheduler over these queues (any object with their three URLs), as the functions and ops build it."""
    return RetryScheduler(
        Producer(sqs, queues.delivery_queue_url),
        Producer(sqs, queues.retry_queue_url),
        SqsDeadLetters(sqs, queues.delivery_dlq_url),
    )
