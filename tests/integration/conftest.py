"""Integration fixtures: a moto server on loopback, template.yaml's resources on it, the real handlers."""

import json
import logging
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import boto3
import jwt
import pytest

from devstack.apigateway import proxy_event
from devstack.emulator import Emulator
from devstack.lambdas import FunctionPool, LambdaContext, load_handler
from devstack.sources import Poller
from devstack.stack import REGION, Settings, point_boto3_at, provision
from devtools.receiver import free_port

EVENTS = Path(__file__).resolve().parents[2] / "events"
JWT_SECRET = "integration-secret-integration-secret"
PARAMETERS = {
    "AllowHttp": "true",
    "AllowPrivateTargets": "true",
    "RetrySchedule": "0,1,1",
    "DeliveryTimeoutSeconds": "1",
    "MaxWebhooksPerCompany": "12",
    "SecretRotationOverlapSeconds": "3",
    "DisableAfterFailingSeconds": "5",
    "ProbeIntervalSeconds": "2",
    # Per-company limits small enough for a test to reach with a few calls, and above any other test's use.
    "TestPingsPerMinute": "10",
    "RetriesPerMinute": "3",
    "RecoversPerMinute": "2",
    "ManualDeliveriesPerMinute": "14",
}


def sample(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


@pytest.fixture(scope="session")
def stack():
    port = free_port()
    # Tests purge the queues between them, more often than SQS's once a minute.
    emulator = Emulator(port, env={"MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR": "false"})
    point_boto3_at(emulator.url)
    yield provision(Settings(aws_port=port, jwt_secret=JWT_SECRET, parameters=PARAMETERS))
    emulator.stop()


@pytest.fixture(scope="session")
def handlers(stack):
    def load(function: str):
        path, name = stack.handler_path(function)
        return load_handler(path, name, stack.layer_paths(function))

    return {name: load(f"{name.capitalize()}Function") for name in ("api", "fanout", "delivery")}


@pytest.fixture(scope="session")
def queues(stack):
    return {name: stack.ref(name) for name in ("DeliveryQueue", "DeliveryDLQ", "FanoutDLQ")}


@pytest.fixture(autouse=True)
def empty_queues(request):
    """Each test starts with empty queues (tests that use them)."""
    if "queues" in request.fixturenames:
        sqs = boto3.client("sqs")
        for url in request.getfixturevalue("queues").values():
            sqs.purge_queue(QueueUrl=url)


@pytest.fixture
def all_logs(caplog):
    """caplog, with every line the functions' loggers may write: a delivered attempt's is DEBUG."""
    from bluehooks.services import delivery

    caplog.set_level(logging.DEBUG, logger=delivery.logger.name)
    return caplog


@pytest.fixture
def company() -> str:
    """A fresh tenant per test, so tests never see each other's webhooks."""
    return f"company-{uuid.uuid4().hex[:8]}"


def token(company: str, role: str = "ADMIN", sub: str = "user-1", **claims: Any) -> str:
    issued = int(time.time())
    claims = {"sub": sub, "company": company, "role": role, "iat": issued, "exp": issued + 600, **claims}
    return jwt.encode(
        {name: value for name, value in claims.items() if value is not None}, JWT_SECRET, algorithm="HS256"
    )


class Api:
    """Calls the real ApiFunction handler with API Gateway proxy events."""

    def __init__(self, handler, company: str):
        self.handler = handler
        self.token = token(company)

    def __call__(
        self, method: str, path: str, body: Any = None, token: str | None = None, headers: dict | None = None
    ) -> tuple[int, Any]:
        all_headers = {"Authorization": f"Bearer {token or self.token}"}
        raw = b""
        if body is not None:
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        response = self.handler(proxy_event(method, path, all_headers, raw, "test"), LambdaContext("ApiFunction"))
        self.headers = {**response.get("headers", {}), **response.get("multiValueHeaders", {})}  # the last answer's
        text = response.get("body") or ""
        return response["statusCode"], json.loads(text) if text else None


@pytest.fixture
def api(handlers, company) -> Api:
    return Api(handlers["api"], company)


def bus_event(company: str, event: str = "TODO_CREATED", project: Any = "project-1", **detail: Any) -> dict:
    """An EventBridge event as the rule hands it to FanoutFunction, from the sample."""
    sample_event = sample("fanout-todo-created.json")
    sample_event["id"] = str(uuid.uuid4())
    sample_event["detail-type"] = event
    sample_event["detail"].update(company={"id": company}, project={"id": project}, id=str(uuid.uuid4()), **detail)
    return sample_event


@pytest.fixture
def delivery_poller(stack, handlers):
    """The delivery event source mapping, polled on demand (poll_once) instead of in a thread."""
    source = next(s for s in stack.sources if s.function == "DeliveryFunction")
    path, name = stack.handler_path("DeliveryFunction")
    pool = FunctionPool("DeliveryFunction", path, name, stack.layer_paths("DeliveryFunction"), 1, 30)
    return Poller(source, pool, REGION, threading.Event())


def queued(queue_url: str) -> list[dict[str, Any]]:
    """Every message body now visible on a queue (received, then made visible again)."""
    sqs = boto3.client("sqs")
    bodies, handles = [], []
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=30).get(
        "Messages", []
    ):
        bodies += [_parsed(message["Body"]) for message in batch]
        handles += [message["ReceiptHandle"] for message in batch]
    for handle in handles:
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=handle, VisibilityTimeout=0)
    return bodies


def _parsed(body: str) -> Any:
    try:
        return json.loads(body)
    except json.JSONDecodeError:
        return body
