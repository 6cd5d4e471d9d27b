"""A webhook's secret is shown twice (create, rotate) and nowhere else: not in logs, traces, queues,
answers, nor in plain text at rest."""

import json
import os
import textwrap

import boto3

from tests.integration.conftest import queued
from tests.xray import run_traced


def test_no_secret_in_logs_queues_answers_or_the_table(api, receiver, delivery_poller, queues, stack, all_logs):
    created = api("POST", "/webhooks", {"url": receiver.url("/s"), "secret": "first-secret-abc"})[1]
    rotated = api("POST", f"/webhooks/{created['id']}/rotate-secret")[1]
    secrets = [created["secret"], rotated["secret"]]
    api("POST", f"/webhooks/{created['id']}/test")
    bodies = json.dumps(queued(queues["DeliveryQueue"]))
    delivery_poller.poll_once()
    received = receiver.wait_for("/s")
    answers = [
        api("GET", f"/webhooks/{created['id']}"),
        api("GET", "/webhooks"),
        api("PATCH", f"/webhooks/{created['id']}", {"name": "renamed"}),
    ]
    table = boto3.resource("dynamodb").Table(stack.ref("WebhooksTable"))
    at_rest = repr(table.scan()["Items"])
    logs = "".join(repr(record.__dict__) for record in all_logs.records)  # message and every extra field
    assert received and created["id"] in logs  # the logs and the queue were really written
    assert created["id"] in bodies
    for secret in secrets:
        assert secret not in bodies
        assert secret not in logs
        assert secret not in json.dumps(answers)
        assert secret not in at_rest and secret.encode().hex() not in at_rest


TRACED_CALL = textwrap.dedent(
    """
    import json, sys
    from devstack.apigateway import proxy_event
    from devstack.lambdas import LambdaContext, load_handler
    from devstack.stack import point_boto3_at
    from devstack.template import ROOT

    point_boto3_at(sys.argv[1])
    handler = load_handler(ROOT / "functions/api/app.py", "lambda_handler", [ROOT / "layers/bluehooks"])
    headers = {"Authorization": "Bearer " + sys.argv[2], "Content-Type": "application/json"}
    body = json.dumps({"url": sys.argv[3], "headers": {"X-Api-Key": sys.argv[4]}}).encode()
    created = handler(proxy_event("POST", "/webhooks", headers, body, "t"), LambdaContext("ApiFunction"))
    webhook = json.loads(created["body"])
    path = "/webhooks/" + webhook["id"] + "/rotate-secret"
    rotated = handler(proxy_event("POST", path, headers, b"", "t"), LambdaContext("ApiFunction"))
    print(json.dumps([webhook["secret"], json.loads(rotated["body"])["secret"]]))
    """
)


def test_xray_records_no_secret(stack, company, receiver):
    """Run the API handler as Lambda runs it with tracing on, and read what it sends the X-Ray daemon."""
    from tests.integration.conftest import token

    header_value = "custom-header-value-" + os.urandom(8).hex()
    args = [os.environ["AWS_ENDPOINT_URL"], token(company), receiver.url("/x"), header_value]
    stdout, recorded = run_traced("functions/api", "ApiFunction", TRACED_CALL, *args)
    secrets = json.loads(stdout.strip().splitlines()[-1])
    assert all(secret.startswith("whsec_") for secret in secrets)
    for secret in [*secrets, header_value]:
        assert not any(secret in datagram for datagram in recorded)
