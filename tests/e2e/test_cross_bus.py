"""The host app's side of EventBridge: a producer's own bus routes Blue events to ours, shown on the emulator.

A second bus, in this account or in another one (a role assumed through the emulator's STS), has a
rule whose target is our bus's ARN; an event put there reaches a receiver as a signed delivery. The
emulator (moto) forwards bus to bus, but it evaluates no policy: the bus policy below, which the
template's EventBusProducerPolicy grants on AWS, is accepted here and not enforced, so that it is
required, and enough, is for AWS to show.
"""

import json
import uuid

import boto3
import pytest
import requests

from devstack.token import mint
from tests.e2e.localstack import REGION
from tests.verify import assert_signed

SECRET = "cross-bus-jwt-secret-cross-bus-jwt"
OUR_ACCOUNT = "123456789012"  # the emulator's default account, where the local stack lives


STACK_ENV = {"WEBHOOKS_JWT_SECRET": SECRET}


def producer_policy(bus_arn: str, accounts: list[str]) -> dict:
    """The statement the template's EventBusProducerPolicy puts on our bus (ProducerAccountIds)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "BlueProducerAccounts",
                "Effect": "Allow",
                "Principal": {"AWS": accounts},
                "Action": "events:PutEvents",
                "Resource": bus_arn,
                "Condition": {"ForAllValues:StringEquals": {"events:source": ["blue"]}},
            }
        ],
    }


def producer_client(stack, account: str, service: str):
    """A client acting in `account`: ours directly, another through a role assumed there."""
    if account == OUR_ACCOUNT:
        return stack.client(service)
    role = f"arn:aws:iam::{account}:role/blue-producer"
    credentials = stack.client("sts").assume_role(RoleArn=role, RoleSessionName="host-app")["Credentials"]
    return boto3.client(
        service,
        endpoint_url=stack.aws,
        region_name=REGION,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


@pytest.mark.parametrize("account", [OUR_ACCOUNT, "111122223333"], ids=["same-account", "cross-account"])
def test_an_event_on_the_producers_bus_is_delivered(stack, receiver, account):
    company = f"host-{uuid.uuid4().hex[:8]}"
    token = mint(company, "user-1", "ADMIN", SECRET)
    webhook = requests.post(
        f"{stack.api}/webhooks",
        json={"url": receiver.url(f"/{company}"), "events": ["TODO_CREATED"]},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).json()
    ours = stack.client("events")
    our_bus = ours.describe_event_bus(Name="blue-events")["Arn"]
    assert our_bus == f"arn:aws:events:{REGION}:{OUR_ACCOUNT}:event-bus/blue-events"

    producer = producer_client(stack, account, "events")
    assert producer_client(stack, account, "sts").get_caller_identity()["Account"] == account
    if account != OUR_ACCOUNT:  # what the template grants when ProducerAccountIds names the account
        ours.put_permission(EventBusName="blue-events", Policy=json.dumps(producer_policy(our_bus, [account])))
        assert account in ours.describe_event_bus(Name="blue-events")["Policy"]
    bus = f"host-app-{company}"
    producer.create_event_bus(Name=bus)
    if account != OUR_ACCOUNT:  # the producer's bus is in its own account, not in ours
        with pytest.raises(ours.exceptions.ResourceNotFoundException):
            ours.describe_event_bus(Name=bus)
    producer.put_rule(Name="to-blue-webhooks", EventBusName=bus, EventPattern=json.dumps({"source": ["blue"]}))
    forwarder = f"arn:aws:iam::{account}:role/blue-events-forwarder"  # events:PutEvents on our bus, on AWS
    producer.put_targets(
        Rule="to-blue-webhooks",
        EventBusName=bus,
        Targets=[{"Id": "blue-webhooks", "Arn": our_bus, "RoleArn": forwarder}],
    )

    def put(source: str, title: str) -> None:
        detail = {"id": str(uuid.uuid4()), "company": {"id": company}, "user": {"id": "user-1"}}
        detail["currentValue"] = {"title": title}
        entry = {"Source": source, "DetailType": "TODO_CREATED", "EventBusName": bus, "Detail": json.dumps(detail)}
        assert producer.put_events(Entries=[entry])["FailedEntryCount"] == 0

    put("host-app.internal", "stays on the producer's bus")  # the rule's pattern does not forward it
    put("blue", "routed from the producer's bus")
    (request,) = receiver.wait_for(f"/{company}", timeout=15)
    assert_signed(webhook["secret"], request.headers, request.body)
    body = json.loads(request.body)
    assert body["event"] == "TODO_CREATED" and body["company"] == {"id": company}
    assert body["currentValue"] == {"title": "routed from the producer's bus"}
    assert len(receiver.wait_for(f"/{company}", count=2, timeout=2)) == 1
