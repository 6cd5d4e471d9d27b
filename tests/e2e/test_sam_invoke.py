"""What `sam local invoke` does, minus Docker, against the local stack as `make run` starts it.

Each sample of events/ runs in a fresh Python process that holds only env.json's environment of its
function (AWS_ENDPOINT_URL back on loopback: there is no container here) and the built artefacts on
Lambda's path (.aws-sam/build/<Function>/ as /var/task, the layer's python/ as /opt/python); the
process imports `app` and calls `lambda_handler(sample, context)`, as the runtime in SAM's
container does. SAM's own resolution of the container's environment (template + env.json + the
shell's session) is checked with SAM's code, from its venv.
"""

import json
import os
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from devstack.template import load_template
from devstack.token import mint
from devtools import samples
from devtools.receiver import Receiver
from tests.e2e.localstack import LocalStackProcess
from tests.verify import assert_signed

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / ".aws-sam" / "build"
SAM_BIN = ROOT / ".venv-sam" / "bin"
SECRET = "sam-invoke-jwt-secret-sam-invoke-jwt"
COMPANY = samples.COMPANY
FUNCTIONS = ("ApiFunction", "FanoutFunction", "DeliveryFunction", "RetryFunction")

# The Python runtime's part: Lambda's path, the handler module, one invocation, the result as JSON.
RUNNER = r"""
import json, sys, time, uuid
task, layer, result_path, name, timeout, memory = sys.argv[1:7]
sys.path[:0] = [task, layer]  # /var/task first, then /opt/python, as on Lambda


class Context:
    function_name, function_version, memory_limit_in_mb = name, "$LATEST", int(memory)
    invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
    aws_request_id = str(uuid.uuid4())
    log_group_name, log_stream_name = f"/aws/lambda/{name}", "$LATEST"
    deadline = time.monotonic() + float(timeout)

    def get_remaining_time_in_millis(self):
        return max(0, int((self.deadline - time.monotonic()) * 1000))


import app

result = app.lambda_handler(json.load(sys.stdin), Context())
with open(result_path, "w") as out:
    json.dump(result, out)
"""

# SAM's resolution of a container's environment, with SAM's code: what `sam local invoke` would pass.
SAM_RESOLUTION = r"""
import json, sys
from samcli.commands.local.lib.local_lambda import LocalLambdaRunner
from samcli.lib.providers.sam_function_provider import SamFunctionProvider
from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider

template, env_file, overrides = sys.argv[1], sys.argv[2], dict(kv.split("=", 1) for kv in sys.argv[3:])
stacks, _ = SamLocalStackProvider.get_stacks(template, parameter_overrides=overrides)
provider = SamFunctionProvider(stacks)
runner = LocalLambdaRunner(
    local_runtime=None, function_provider=provider, cwd=".", real_path=".", env_vars_values=json.load(open(env_file))
)
declared = {f.name: sorted((f.environment or {}).get("Variables", {})) for f in provider.get_all()}
resolved = {f.name: runner.get_invoke_config(f).env_vars.resolve() for f in provider.get_all()}
print(json.dumps({"declared": declared, "resolved": resolved}))
"""


def _sources_changed_since(moment: float) -> bool:
    sources = [ROOT / "template.yaml", *(ROOT / "functions").rglob("*"), *(ROOT / "layers").rglob("*")]
    return any(path.is_file() and "__pycache__" not in path.parts and path.stat().st_mtime > moment for path in sources)


@pytest.fixture(scope="module")
def build() -> Path:
    """`sam build`'s artefacts (make test builds them first); built here when missing or older than the sources."""
    built = BUILD / "template.yaml"
    if not built.exists() or _sources_changed_since(built.stat().st_mtime):
        if not (SAM_BIN / "sam").exists():
            pytest.fail("no SAM CLI (.venv-sam): run `make build` first (make test does)")
        subprocess.run(
            [str(SAM_BIN / "sam"), "build", "--parallel"],
            cwd=ROOT,
            env={**os.environ, "SAM_CLI_TELEMETRY": "0"},
            check=True,
            capture_output=True,
            timeout=600,
        )
    return BUILD


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory):
    env_file = tmp_path_factory.mktemp("sam") / "env.json"
    stack = LocalStackProcess(
        WEBHOOKS_JWT_SECRET=SECRET,
        SAM_ENV_FILE=str(env_file),
        SAM_EMULATOR_URL="",
        RETRY_SCHEDULE="0,1,1",
        DELIVERY_TIMEOUT_SECONDS="2",
    )
    stack.env_file = env_file
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def env_json(local_stack) -> dict[str, dict[str, str]]:
    return json.loads(local_stack.env_file.read_text())


@pytest.fixture(scope="module")
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture(scope="module")
def token() -> str:
    return mint(COMPANY, samples.USER, "ADMIN", SECRET, ttl=900)


@pytest.fixture(scope="module")
def receiving_webhook(local_stack, receiver, token) -> dict[str, Any]:
    """Created first, through the running stack's API: every event of the samples' company, to the receiver."""
    response = requests.post(
        f"{local_stack.api}/webhooks",
        json={"name": "sam invoke receiver", "url": receiver.url("/sam")},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()


def invoke(build: Path, env_json: dict, local_stack, function: str, event: Any, tmp: Path) -> Any:
    """One invocation in a fresh process: env.json's environment of the function, the emulator on loopback."""
    environment = {**env_json[function], "AWS_ENDPOINT_URL": local_stack.aws}
    environment |= {"AWS_LAMBDA_FUNCTION_NAME": function, "AWS_SAM_LOCAL": "true"}  # as SAM's container has them
    result_path = tmp / f"{function}-{uuid.uuid4().hex}.json"
    command = [sys.executable, "-I", "-S", "-B", "-c", RUNNER, str(build / function), str(build / "DomainLayer/python")]
    command += [str(result_path), function, "30", "256"]
    done = subprocess.run(
        command, input=json.dumps(event), env=environment, capture_output=True, text=True, timeout=60, cwd=tmp
    )
    assert done.returncode == 0, f"{function} failed:\n{done.stderr[-3000:]}"
    return json.loads(result_path.read_text())


def rendered(name: str, **values: str) -> Any:
    return samples.render(samples.committed()[name], values)


# -- env.json -------------------------------------------------------------------------------------------


LOCAL_FLAGS = ("ALLOW_HTTP", "ALLOW_PRIVATE_TARGETS")  # the URL rules' local exceptions: the API and the delivery


def test_make_run_writes_env_json_for_every_function(local_stack, env_json):
    assert sorted(env_json) == sorted(FUNCTIONS)
    template = load_template()
    declared = template["Globals"]["Function"]["Environment"]["Variables"]
    container_url = f"http://host.docker.internal:{local_stack.aws_port}"
    for function, environment in env_json.items():
        own = template["Resources"][function]["Properties"].get("Environment", {}).get("Variables", {})
        assert set(declared) | set(own) <= set(environment), function  # each function's own settings too
        assert environment["AWS_ENDPOINT_URL"] == container_url
        queues = [name for name in own if name.endswith("_QUEUE_URL") or name.endswith("_DLQ_URL")]
        assert all(environment[name].startswith(container_url + "/") for name in queues)  # as a container reaches
        assert environment["AWS_ACCESS_KEY_ID"] == environment["AWS_SECRET_ACCESS_KEY"] == "testing"
        assert environment["AWS_REGION"] == environment["AWS_DEFAULT_REGION"] == "us-east-1"
        assert environment["POWERTOOLS_TRACE_DISABLED"] == environment["POWERTOOLS_METRICS_DISABLED"] == "true"
        assert all(environment[flag] == "true" for flag in LOCAL_FLAGS if flag in own), function
    assert all(set(LOCAL_FLAGS) <= set(env_json[function]) for function in ("ApiFunction", "DeliveryFunction"))
    delivering = env_json["DeliveryFunction"]  # the stack's own settings reach the function that reads them
    assert delivering["RETRY_SCHEDULE"] == "0,1,1" and delivering["DELIVERY_TIMEOUT_SECONDS"] == "2"
    key = env_json["DeliveryFunction"]["SECRETS_KEY_ID"]
    assert local_stack.client("kms").describe_key(KeyId=key)["KeyMetadata"]["Enabled"]
    table = env_json["ApiFunction"]["WEBHOOKS_TABLE"]
    assert local_stack.client("dynamodb").describe_table(TableName=table)["Table"]["TableStatus"] == "ACTIVE"
    assert "wrote" in local_stack.output() and str(local_stack.env_file) in local_stack.output()


def test_make_sam_env_writes_it_again_from_the_running_stack(local_stack, env_json, tmp_path):
    environment = {**os.environ, "AWS_PORT": str(local_stack.aws_port), "SAM_EMULATOR_URL": "http://172.17.0.1:4566"}
    command = [sys.executable, "-m", "devtools.samenv", "--output", str(tmp_path / "env.json")]
    done = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    written_by_run = local_stack.env_file.read_text()
    again = (tmp_path / "env.json").read_text()
    assert again == written_by_run.replace(
        f"http://host.docker.internal:{local_stack.aws_port}", "http://172.17.0.1:4566"
    )
    assert json.loads(again)["FanoutFunction"]["AWS_ENDPOINT_URL"] == "http://172.17.0.1:4566"


def test_make_sam_env_says_when_no_stack_runs(tmp_path):
    environment = {**os.environ, "AWS_PORT": "9"}
    command = [sys.executable, "-m", "devtools.samenv", "--output", str(tmp_path / "env.json")]
    done = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "make run" in done.stderr
    assert not (tmp_path / "env.json").exists()


def test_sam_resolves_the_containers_environment_from_the_template_and_env_json(build, local_stack):
    """SAM's own code: the declared variables take env.json's values; credentials come from SAM's session."""
    if not (SAM_BIN / "python").exists():
        pytest.fail("no SAM CLI (.venv-sam): run `make build` first (make test does)")
    session = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}
    command = [str(SAM_BIN / "python"), "-c", SAM_RESOLUTION, str(build / "template.yaml"), str(local_stack.env_file)]
    command.append("DeliveryTimeoutSeconds=2")  # as `make sam-invoke` passes it: SAM's mapping lookup needs a string
    environment = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), **session}
    # Nothing here calls AWS; if SAM's code ever did, it would reach the emulator, never AWS.
    environment |= {"AWS_DEFAULT_REGION": "us-east-1", "SAM_CLI_TELEMETRY": "0", "AWS_ENDPOINT_URL": local_stack.aws}
    done = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    resolution = json.loads(done.stdout.strip().splitlines()[-1])
    env_json = json.loads(local_stack.env_file.read_text())
    for function in FUNCTIONS:
        container, wanted = resolution["resolved"][function], env_json[function]
        for name in resolution["declared"][function]:
            assert container[name] == wanted[name], (function, name)
        assert {name: container[name] for name in session} == session
        assert container["AWS_REGION"] == "us-east-1" and container["AWS_SAM_LOCAL"] == "true"
    assert resolution["resolved"]["DeliveryFunction"]["AWS_LAMBDA_FUNCTION_TIMEOUT"] == "12"
    assert "AWS_ENDPOINT_URL" in resolution["declared"]["FanoutFunction"]  # else SAM drops env.json's value
    assert (
        resolution["resolved"]["FanoutFunction"]["AWS_ENDPOINT_URL"] == env_json["FanoutFunction"]["AWS_ENDPOINT_URL"]
    )


# -- the samples, invoked ---------------------------------------------------------------------------------

# Every API sample, in an order that gives each the ids it needs, and the status it must get.
API_SEQUENCE = [
    ("api-health.json", 200),
    ("api-openapi.json", 200),
    ("api-docs.json", 200),
    ("api-console.json", 200),
    ("api-event-types.json", 200),
    ("api-list-webhooks.json", 200),
    ("api-create-webhook.json", 201),
    ("api-get-webhook.json", 200),
    ("api-update-webhook.json", 200),
    ("api-rotate-secret.json", 200),
    ("api-send-test.json", 202),
    ("api-list-deliveries.json", 200),
    ("api-get-delivery.json", 200),
    ("api-retry-delivery.json", 202),
    ("api-recover.json", 202),
    ("api-delete-webhook.json", 204),
    ("api-test-filter.json", 200),
]


@pytest.mark.timeout(400)  # a fresh interpreter per sample: slow on a loaded machine
def test_every_api_sample_gets_its_answer(build, env_json, local_stack, token, tmp_path):
    assert sorted(name for name, _ in API_SEQUENCE) == sorted(f"api-{route}.json" for route in samples.ROUTES)
    values = {"TOKEN": token}
    for name, status in API_SEQUENCE:
        response = invoke(build, env_json, local_stack, "ApiFunction", rendered(name, **values), tmp_path)
        assert response["statusCode"] == status, f"{name}: {response.get('body', '')[:500]}"
        body = response.get("body") or ""
        if name == "api-create-webhook.json":
            values["WEBHOOK_ID"] = json.loads(body)["id"]
        elif name == "api-send-test.json":
            values["DELIVERY_ID"] = json.loads(body)["deliveryId"]
        elif name == "api-event-types.json":
            assert {item["name"] for item in json.loads(body)} >= {"TODO_CREATED", "COMMENT_CREATED"}
    unauthorized = invoke(
        build, env_json, local_stack, "ApiFunction", samples.committed()["api-list-webhooks.json"], tmp_path
    )
    assert unauthorized["statusCode"] == 401  # the committed sample, as it is: no token
    response = requests.get(f"{local_stack.api}/webhooks/{values['WEBHOOK_ID']}", headers=_auth(token), timeout=10)
    assert response.status_code == 404  # deleted by the sample, for the running stack too


@pytest.mark.timeout(400)  # a fresh interpreter per sample: slow on a loaded machine
def test_every_bus_sample_is_fanned_out_and_delivered(
    build, env_json, local_stack, receiving_webhook, receiver, tmp_path
):
    bus_samples = {name: sample for name, sample in samples.committed().items() if name.startswith("fanout-")}

    def fan_out(sample: Any) -> Any:
        return invoke(build, env_json, local_stack, "FanoutFunction", sample, tmp_path)

    with ThreadPoolExecutor(max_workers=3) as pool:
        results = dict(zip(bus_samples, pool.map(fan_out, bus_samples.values()), strict=True))
    for name, result in results.items():
        sample = bus_samples[name]
        assert result["event"] == sample["detail-type"] and result["eventId"] == sample["detail"]["id"], name
        assert result["queued"] >= 1, name  # at least the receiving webhook's delivery
    # The queued deliveries, delivered by the running stack's DeliveryFunction.
    arrived = receiver.wait_for("/sam", count=len(bus_samples), timeout=60)
    events = sorted(json.loads(request.body)["event"] for request in arrived)
    assert events == sorted(sample["detail-type"] for sample in bus_samples.values())
    for request in arrived:
        assert_signed(receiving_webhook["secret"], request.headers, request.body)
    assert (
        invoke(build, env_json, local_stack, "FanoutFunction", bus_samples["fanout-todo-created.json"], tmp_path)[
            "queued"
        ]
        == results["fanout-todo-created.json"]["queued"]
    )  # the same event again: the same deliveries (their ids), which delivery finds delivered


def test_the_delivery_sample_reaches_the_receiver_and_its_poison_the_dlq(
    build, env_json, local_stack, receiving_webhook, receiver, tmp_path
):
    batch = rendered("delivery-sqs-batch.json", WEBHOOK_ID=receiving_webhook["id"])
    delivery_id = json.loads(batch["Records"][0]["body"])["deliveryId"]
    assert invoke(build, env_json, local_stack, "DeliveryFunction", batch, tmp_path) == {"batchItemFailures": []}
    (request,) = [r for r in receiver.at("/sam") if r.headers.get("webhook-id") == delivery_id]
    assert_signed(receiving_webhook["secret"], request.headers, request.body)
    body = json.loads(request.body)
    assert body["event"] == "TODO_CREATED" and body["webhook"]["id"] == receiving_webhook["id"]
    assert _dead_letters(local_stack)["msg_poison_deliveryqueue"].startswith("poison message")


def test_the_retry_sample_moves_its_due_retry_on_and_its_poison_to_the_dlq(
    build, env_json, local_stack, receiving_webhook, receiver, tmp_path
):
    batch = rendered("retry-sqs-batch.json", WEBHOOK_ID=receiving_webhook["id"])
    delivery_id = json.loads(batch["Records"][0]["body"])["deliveryId"]
    assert invoke(build, env_json, local_stack, "RetryFunction", batch, tmp_path) == {"batchItemFailures": []}
    deadline = time.monotonic() + 20  # due now: on DeliveryQueue at once, then delivered by the running stack
    while not [r for r in receiver.at("/sam") if r.headers.get("webhook-id") == delivery_id]:
        assert time.monotonic() < deadline, "the due retry was not delivered"
        time.sleep(0.2)
    assert _dead_letters(local_stack)["msg_poison_retryqueue"].startswith("poison message")


def test_make_samples_renders_them_for_the_running_stack(build, env_json, local_stack, tmp_path):
    """`make samples`: a fresh token and the ids of the "sam samples" webhook, found or created, in every sample."""
    environment = {**os.environ, "API_PORT": str(local_stack.api_port), "WEBHOOKS_JWT_SECRET": SECRET}
    for run in (1, 2):
        out = tmp_path / f"run-{run}"
        command = [sys.executable, "-m", "devtools.samples", "--out", str(out), "--ttl", "600"]
        done = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
    first, second = (samples.committed(tmp_path / f"run-{run}") for run in (1, 2))
    assert sorted(first) == sorted(samples.committed())
    assert not any(samples.placeholders(sample) for sample in first.values())
    same = ("path", "requestContext")
    assert [first["api-get-delivery.json"][key] for key in same] == [
        second["api-get-delivery.json"][key] for key in same
    ]
    request = first["api-get-delivery.json"]
    response = invoke(build, env_json, local_stack, "ApiFunction", request, tmp_path)
    assert response["statusCode"] == 200, response["body"]
    assert json.loads(response["body"])["event"] == "WEBHOOK_TEST"
    webhook = json.loads(
        invoke(build, env_json, local_stack, "ApiFunction", first["api-get-webhook.json"], tmp_path)["body"]
    )
    assert webhook["name"] == samples.SAMPLES_WEBHOOK and webhook["url"] == samples.DEFAULT_SAMPLES_URL


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _dead_letters(local_stack) -> dict[str, str]:
    """DeliveryDLQ's messages, by delivery id → reason (left on the queue)."""
    sqs = local_stack.client("sqs")
    url = sqs.get_queue_url(QueueName="blue-webhooks-local-DeliveryDLQ")["QueueUrl"]
    found: dict[str, str] = {}
    for _ in range(5):
        for message in sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0, MessageAttributeNames=["reason"]
        ).get("Messages", []):
            found[json.loads(message["Body"]).get("deliveryId")] = message["MessageAttributes"]["reason"]["StringValue"]
    return found
