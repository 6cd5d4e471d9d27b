"""Where a tool works: the local stack (an emulator endpoint, dummy credentials) or a stack deployed on AWS.

Locally the names come from the function environments the local stack publishes in its
emulator (what `make sam-env` reads), so they are the ones the running functions use. On AWS
they come from the CloudFormation stack: an output where the template has one, else the
physical id of the resource (a table's name, a queue's URL).
"""

import argparse
import os
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from bluehooks.adapters.deliverylog import DeliveryLog
from bluehooks.adapters.s3 import S3PayloadStore
from bluehooks.adapters.store import WebhookStore
from bluehooks.roots.delivery import DeliverySettings
from bluehooks.roots.fanout import FanoutSettings
from bluehooks.roots.retry import sqs_scheduler
from bluehooks.services.scheduling import RetryScheduler
from devstack import samenv
from devstack.template import LocalStack

DEFAULT_RETENTION_DAYS = 30
# Stack output where the template has one, else the logical id of the resource.
STACK_NAMES = {
    "webhooks_table": ("WebhooksTableName", "WebhooksTable"),
    "deliveries_table": ("DeliveriesTableName", "DeliveriesTable"),
    "delivery_queue_url": ("DeliveryQueueUrl", "DeliveryQueue"),
    "retry_queue_url": ("RetryQueueUrl", "RetryQueue"),
    "delivery_dlq_url": ("DeliveryDLQUrl", "DeliveryDLQ"),
    "fanout_dlq_url": ("FanoutDLQUrl", "FanoutDLQ"),
    "event_bus": ("EventBusName", "EventBus"),
    "payload_bucket": ("PayloadBucketName", "PayloadBucket"),
}


class NoTarget(Exception):
    """The stack (local or deployed) cannot be found or lacks a resource; the message says which."""


@dataclass(frozen=True)
class Names:
    webhooks_table: str
    deliveries_table: str
    delivery_queue_url: str
    retry_queue_url: str
    delivery_dlq_url: str
    fanout_dlq_url: str
    event_bus: str
    payload_bucket: str
    retention_days: int = DEFAULT_RETENTION_DAYS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every subcommand takes: which stack, and how to reach it."""
    local = f"http://127.0.0.1:{os.environ.get('AWS_PORT', '4566')}"
    where = parser.add_argument_group("target (default: the local stack)")
    where.add_argument("--endpoint-url", help=f"the local stack's emulator (default {local} unless --stack/--profile)")
    where.add_argument(
        "--stack", help="the deployed CloudFormation stack (AWS; required there), e.g. blue-webhooks-prod"
    )
    where.add_argument("--profile", help="AWS profile (AWS)")
    where.add_argument("--region", help="AWS region (default: the profile's; locally us-east-1)")
    parser.set_defaults(local_endpoint=local)


class Target:
    """A boto3 session and endpoint, and the stack's resource names on it."""

    def __init__(self, args: argparse.Namespace):
        self.aws = not args.endpoint_url and bool(args.stack or args.profile)
        if self.aws and not args.stack:  # never a default stack: a prod profile would reach its dev stack, or worse
            raise NoTarget("on AWS, name the stack: --stack blue-webhooks-<stage>")
        if args.endpoint_url and args.profile:
            raise NoTarget("--profile is for AWS, and --endpoint-url for an emulator: real credentials never go there")
        self.endpoint_url = None if self.aws else args.endpoint_url or args.local_endpoint
        self.stack = args.stack
        self.session = session(args.profile, args.region, local=self.endpoint_url is not None)
        # On AWS, an AWS_ENDPOINT_URL left in the shell (the local stack's) must not receive the real credentials.
        self.config = None if self.endpoint_url else Config(ignore_configured_endpoint_urls=True)
        self._names: Names | None = None

    def describe(self) -> str:
        return f"stack {self.stack}" if self.stack else f"the local stack at {self.endpoint_url}"

    def client(self, service: str):
        return self.session.client(service, endpoint_url=self.endpoint_url, config=self.config)

    def table(self, name: str):
        return self.session.resource("dynamodb", endpoint_url=self.endpoint_url, config=self.config).Table(name)

    @property
    def names(self) -> Names:
        if self._names is None:
            try:
                cfn = self.client("cloudformation")
                self._names = deployed(cfn, self.stack) if self.stack else local(self.client("ssm"))
            except (BotoCoreError, ClientError) as exc:
                hint = "" if self.stack else " (is `make run` running?)"
                raise NoTarget(f"cannot read {self.describe()}: {exc}{hint}") from exc
        return self._names

    # The domain's own services, built as the functions build them, on this target's clients.
    def store(self) -> WebhookStore:
        return WebhookStore(self.table(self.names.webhooks_table))

    def log(self) -> DeliveryLog:
        return DeliveryLog(self.table(self.names.deliveries_table), self.names.retention_days)

    def payloads(self) -> S3PayloadStore:
        return S3PayloadStore(self.client("s3"), self.names.payload_bucket)

    def scheduler(self) -> RetryScheduler:
        return sqs_scheduler(self.client("sqs"), self.names)


def session(profile: str | None, region: str | None, local: bool) -> boto3.Session:
    if local and not profile:  # the emulator takes any credentials; never send real ones
        dummy = "local"
        return boto3.Session(region_name=region or "us-east-1", aws_access_key_id=dummy, aws_secret_access_key=dummy)
    return boto3.Session(profile_name=profile, region_name=region)


def local(ssm) -> Names:
    """The names in the DeliveryFunction's environment, as the running local stack published it."""
    try:
        environments = samenv.published(ssm, LocalStack.name)
    except ClientError as exc:
        raise NoTarget("no local stack there (its function environments are not published): `make run`") from exc
    settings = DeliverySettings.from_env(environments["DeliveryFunction"])
    return Names(
        webhooks_table=settings.webhooks_table,
        deliveries_table=settings.deliveries_table,
        delivery_queue_url=settings.delivery_queue_url,
        retry_queue_url=settings.retry_queue_url,
        delivery_dlq_url=settings.delivery_dlq_url,
        fanout_dlq_url=FanoutSettings.from_env(environments["FanoutFunction"]).fanout_dlq_url,
        event_bus=settings.event_bus_name,
        payload_bucket=settings.payload_bucket,
        retention_days=settings.delivery_log_retention_days,
    )


def deployed(cfn, stack_name: str) -> Names:
    """The names from the stack's outputs, else from its resources' physical ids."""
    (stack,) = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
    parameters = {
        p["ParameterKey"]: p.get("ResolvedValue", p.get("ParameterValue")) for p in stack.get("Parameters", [])
    }
    physical = {
        resource["LogicalResourceId"]: resource.get("PhysicalResourceId")
        for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack_name)
        for resource in page["StackResourceSummaries"]
    }
    found: dict[str, Any] = {}
    for field, (output, logical_id) in STACK_NAMES.items():
        found[field] = outputs.get(output) or physical.get(logical_id)
        if not found[field]:
            raise NoTarget(f"stack {stack_name} has neither an output {output} nor a resource {logical_id}")
    retention = parameters.get("DeliveryLogRetentionDays") or DEFAULT_RETENTION_DAYS
    return Names(**found, retention_days=int(retention))
