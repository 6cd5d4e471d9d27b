"""`make sam-local-check`: the real `sam local invoke` and `sam local start-api`, in Docker, on a local stack.

Brings up what it needs and leaves only caches behind: Docker (Debian's docker.io when no dockerd
is installed; a dockerd of its own when none answers, stopped at the end), the stand-in Lambda
image when absent (devtools/lambdaimage.py), a local stack of its own (`python -m devstack`, ports
below 32768) reachable from the containers through a forward on the docker0 bridge address,
`sam build` when the sources are newer than the build. Then:

- `sam local invoke` of each function with one sample per event source (SAMPLES=all: every sample
  of events/), rendered for the stack as `make samples` renders them; `sam local invoke` exits 0
  when the function fails, so each returned payload is checked: no errorType, the expected fields,
  and the poison record of an SQS batch reported failed or dead-lettered on the stack;
- `sam local start-api`: a POST and a GET /webhooks, and the webhook in the stack's DynamoDB.

SAM's containers started by the run are removed (by SAM's label), whatever the outcome. Each
step's time is printed, and a summary at the end. Exit status 0 only if every check passed; when
Docker cannot run here, 1 with the reason.
"""

import argparse
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import requests

from devstack.template import ROOT
from devstack.token import DEFAULT_JWT_SECRET, mint, quiet_local_default
from devtools import dockerhost, lambdaimage, layerplatform, samples

SAM = ROOT / ".venv-sam" / "bin" / "sam"
BUILD = ROOT / ".aws-sam" / "build"
CACHE = Path(os.environ.get("SAM_LOCAL_CACHE") or Path.home() / ".cache" / "blue-webhooks" / "sam-local")
REGION = "us-east-1"
DUMMY = "testing"
# One sample per function and event source: API Gateway, the EventBridge rule, the two SQS queues.
DEFAULT_SAMPLES = (
    "api-list-webhooks.json",
    "fanout-todo-created.json",
    "delivery-sqs-batch.json",
    "retry-sqs-batch.json",
)
FUNCTIONS = {
    "api-": "ApiFunction",
    "fanout-": "FanoutFunction",
    "delivery-": "DeliveryFunction",
    "retry-": "RetryFunction",
}
SQS_SAMPLES = ("delivery-", "retry-")  # a good record and a poison one, which is dead-lettered on DeliveryDLQ
DEAD_LETTER_QUEUE = "blue-webhooks-local-DeliveryDLQ"
LAST = "api-delete-webhook.json"
PORTS = (20000, 32767)  # below Linux's ephemeral range (32768–60999), where other work's ports come and go


class CheckFailed(AssertionError):
    """A step's outcome is not the expected one; the message says what was found."""


@dataclass
class Steps:
    """Each step's name, seconds and note, printed as it ends."""

    rows: list[tuple[str, float, str]] = field(default_factory=list)

    def record(self, name: str, seconds: float, note: str) -> None:
        self.rows.append((name, seconds, note))
        print(f"[sam-local-check] {name}: {seconds:.1f} s — {note}", flush=True)

    def run(self, name: str, action: Callable[[], str]) -> str:
        started = time.monotonic()
        note = action()
        self.record(name, time.monotonic() - started, note)
        return note

    def enter(self, stack: contextlib.ExitStack, name: str, manager: contextlib.AbstractContextManager) -> Any:
        started = time.monotonic()
        value = stack.enter_context(manager)
        self.record(name, time.monotonic() - started, str(value))
        return value

    def summary(self) -> str:
        width = max((len(name) for name, _, _ in self.rows), default=0)
        lines = [f"  {name:<{width}}  {seconds:7.1f} s  {note}" for name, seconds, note in self.rows]
        total = sum(seconds for _, seconds, _ in self.rows)
        return "\n".join(["sam-local-check timings:", *lines, f"  {'total':<{width}}  {total:7.1f} s"])


# -- ports and the local stack ------------------------------------------------------------------------------


def free_port(rng: random.Random | None = None, span: tuple[int, int] = PORTS) -> int:
    """A port free on 127.0.0.1 now, drawn below the ephemeral range (a port handed out by bind(0) is there)."""
    rng = rng or random.SystemRandom()
    for _ in range(200):
        port = rng.randint(*span)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {span}")


@dataclass
class LocalStack:
    api_port: int
    aws_port: int
    env_file: Path
    token: str = field(repr=False)
    forwarded: int = 0

    def __str__(self) -> str:
        return (
            f"API 127.0.0.1:{self.api_port}, emulator 127.0.0.1:{self.aws_port}, host.docker.internal:{self.forwarded}"
        )

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def aws(self) -> str:
        return f"http://127.0.0.1:{self.aws_port}"

    def client(self, service: str):
        return boto3.client(
            service, endpoint_url=self.aws, region_name=REGION, aws_access_key_id=DUMMY, aws_secret_access_key=DUMMY
        )

    def environment(self, function: str) -> dict[str, str]:
        return json.loads(self.env_file.read_text())[function]


@contextlib.contextmanager
def local_stack(work: Path, bridge: str, timeout: float = 90) -> Iterator[LocalStack]:
    """`python -m devstack` on ports of its own; containers reach its emulator at host.docker.internal:<forward>."""
    api_port, aws_port = free_port(), free_port()
    with dockerhost.forward(bridge, aws_port) as forwarded:
        env_file, log = work / "env.json", work / "devstack.log"
        environment = {
            **os.environ,
            "API_PORT": str(api_port),
            "AWS_PORT": str(aws_port),
            "WEBHOOKS_JWT_SECRET": DEFAULT_JWT_SECRET,
            "SAM_ENV_FILE": str(env_file),
            "SAM_EMULATOR_URL": f"http://host.docker.internal:{forwarded}",
        }
        with log.open("w") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "devstack"], cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT
            )
        try:
            _wait_ready(process, log, timeout)
            token = mint(samples.COMPANY, samples.USER, "ADMIN", DEFAULT_JWT_SECRET, ttl=3600)
            yield LocalStack(api_port, aws_port, env_file, token, forwarded)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                process.wait(timeout=30)


def _wait_ready(process: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while "ready" not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            raise CheckFailed(f"the local stack did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.3)


# -- sam build, sam local invoke ----------------------------------------------------------------------------


def _sources_newer_than(moment: float) -> bool:
    sources = [ROOT / "template.yaml", *(ROOT / "functions").rglob("*"), *(ROOT / "layers").rglob("*")]
    return any(path.is_file() and "__pycache__" not in path.parts and path.stat().st_mtime > moment for path in sources)


def build() -> str:
    built = BUILD / "template.yaml"
    if built.exists() and not _sources_newer_than(built.stat().st_mtime):
        return "up to date"
    sam("build", "--parallel", timeout=900)
    return "built"


def sam(*arguments: str, stack: LocalStack | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """The SAM CLI, with dummy credentials; its own AWS calls (STS, for the account id) go to the emulator."""
    environment = {**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": REGION}
    if stack:
        environment |= {"AWS_ENDPOINT_URL": stack.aws, "AWS_ACCESS_KEY_ID": DUMMY, "AWS_SECRET_ACCESS_KEY": DUMMY}
        environment |= {"AWS_SESSION_TOKEN": DUMMY}
    done = subprocess.run(
        [str(SAM), *arguments], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise CheckFailed(f"sam {' '.join(arguments[:3])} exited {done.returncode}:\n{done.stderr[-3000:]}")
    return done


def local_arguments(stack: LocalStack) -> list[str]:
    """As `make sam-invoke` passes them, plus what Docker Engine on Linux and a registry-less machine need."""
    return [
        "--env-vars", str(stack.env_file), "--region", REGION,
        "--parameter-overrides", "DeliveryTimeoutSeconds=7",
        "--skip-pull-image", "--add-host", "host.docker.internal:host-gateway",
    ]  # fmt: skip


def function_of(sample: str) -> str:
    return next(function for prefix, function in FUNCTIONS.items() if sample.startswith(prefix))


def payload_of(stdout: str) -> Any:
    """The function's result: `sam local invoke` prints it as the last line of its standard output."""
    lines = [line for line in stdout.split("\n") if line.strip()]  # not splitlines(): a body may hold U+2028
    if not lines:
        raise CheckFailed("sam local invoke printed no result")
    try:
        return json.loads(lines[-1])
    except json.JSONDecodeError as exc:
        raise CheckFailed(f"the result is not JSON: {lines[-1][:300]}") from exc


def problems(name: str, sample: Any, payload: Any) -> list[str]:
    """What is wrong with a function's result for this sample (SAM exits 0 whatever the function did)."""
    if not isinstance(payload, dict):
        return [f"the result is not a JSON object: {str(payload)[:300]}"]
    if "errorType" in payload or "errorMessage" in payload:
        return [f"the function failed: {payload.get('errorType')}: {str(payload.get('errorMessage'))[:500]}"]
    if name.startswith("api-"):
        status = payload.get("statusCode")
        found = [] if isinstance(status, int) and 200 <= status < 300 else [f"status {status}: {payload.get('body')}"]
        if name == "api-list-webhooks.json" and not found:
            found += [] if isinstance(json.loads(payload["body"]).get("items"), list) else ["no list of webhooks"]
        return found
    if name.startswith("fanout-"):
        wanted = {"event": sample["detail-type"], "eventId": sample["detail"]["id"]}
        if {key: payload.get(key) for key in wanted} != wanted:
            return [f"not this event's result: {payload}"]
        queued = payload.get("queued")
        return [] if isinstance(queued, int) and queued >= 1 else [f"nothing queued: {payload}"]
    failures = payload.get("batchItemFailures")
    if not isinstance(failures, list):
        return [f"no batchItemFailures: {payload}"]
    good = sample["Records"][0]["messageId"]
    return [f"the good record failed: {failures}"] if {"itemIdentifier": good} in failures else []


def poison_handled(sample: Any, payload: Any, stack: LocalStack) -> list[str]:
    """An SQS sample's poison record: reported failed (SQS retries it, then its DLQ) or dead-lettered at once."""
    poison = sample["Records"][1]
    if {"itemIdentifier": poison["messageId"]} in payload["batchItemFailures"]:
        return []
    if poison["body"] in dead_letters(stack, DEAD_LETTER_QUEUE):
        return []
    return [f"poison record {poison['messageId']} neither reported failed nor on {DEAD_LETTER_QUEUE}"]


def dead_letters(stack: LocalStack, queue: str) -> set[str]:
    """The bodies on a dead-letter queue (read, and left there: visibility 0)."""
    sqs = stack.client("sqs")
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    found: set[str] = set()
    for _ in range(5):
        answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
        found |= {message["Body"] for message in answer.get("Messages", [])}
    return found


def ordered(names: Iterable[str]) -> list[str]:
    """The bus and queue samples first, while the samples' webhook takes every event; then the API's, whose
    update narrows it, and its delete last."""
    return sorted(names, key=lambda name: (name.startswith("api-"), name == LAST, name))


def rendered_samples(stack: LocalStack, which: str, work: Path) -> dict[str, Path]:
    """The samples to invoke, rendered for the stack (`make samples`), in an order that keeps their ids alive."""
    values = samples.stack_values(stack.api, stack.token, samples.DEFAULT_SAMPLES_URL)
    committed = samples.committed()
    names = ordered(committed if which == "all" else DEFAULT_SAMPLES)
    folder = work / "events"
    folder.mkdir(exist_ok=True)
    for name in names:
        (folder / name).write_text(samples.dumps(samples.render(committed[name], values)))
    return {name: folder / name for name in names}


def invoke(name: str, path: Path, stack: LocalStack) -> str:
    function = function_of(name)
    done = sam("local", "invoke", function, "--event", str(path), *local_arguments(stack), stack=stack)
    sample, payload = json.loads(path.read_text()), payload_of(done.stdout)
    found = problems(name, sample, payload)
    if not found and name.startswith(SQS_SAMPLES):
        found = poison_handled(sample, payload, stack)
    if found:
        raise CheckFailed(f"{function} {name}: {'; '.join(found)}\n{done.stderr[-2000:]}")
    return f"{function}: {json.dumps(payload)[:120]}"


# -- sam local start-api ------------------------------------------------------------------------------------


def start_api(stack: LocalStack, work: Path, timeout: float = 180) -> str:
    """POST then GET /webhooks through `sam local start-api`; the webhook must be in the stack's table."""
    port = free_port()
    log = work / "start-api.log"
    command = [str(SAM), "local", "start-api", "--port", str(port), "--host", "127.0.0.1", *local_arguments(stack)]
    command += ["--warm-containers", "LAZY"]  # the first request starts ApiFunction's container, the next reuse it
    environment = {**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": REGION, "AWS_ENDPOINT_URL": stack.aws}
    environment |= {"AWS_ACCESS_KEY_ID": DUMMY, "AWS_SECRET_ACCESS_KEY": DUMMY, "AWS_SESSION_TOKEN": DUMMY}
    with log.open("w") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT)
    try:
        return _exercise_api(f"http://127.0.0.1:{port}", stack, server, log, timeout)
    finally:
        dockerhost.stop(server)


def _exercise_api(api: str, stack: LocalStack, server: subprocess.Popen, log: Path, timeout: float) -> str:
    _wait_listening(api, server, log, timeout)
    headers = {"Authorization": f"Bearer {stack.token}"}
    body = json.loads(samples.committed()["api-create-webhook.json"]["body"])
    started = time.monotonic()
    created = requests.post(f"{api}/webhooks", json=body, headers=headers, timeout=timeout)
    posted = time.monotonic() - started
    if created.status_code != 201:
        raise CheckFailed(f"POST /webhooks: {created.status_code} {created.text[:500]}\n{log.read_text()[-2000:]}")
    webhook = created.json()["id"]
    started = time.monotonic()
    listed = requests.get(f"{api}/webhooks", headers=headers, timeout=timeout)
    got = time.monotonic() - started
    if listed.status_code != 200 or webhook not in {item["id"] for item in listed.json()["items"]}:
        raise CheckFailed(f"GET /webhooks: {listed.status_code} {listed.text[:500]}")
    table = stack.environment("ApiFunction")["WEBHOOKS_TABLE"]
    key = {"pk": {"S": f"COMPANY#{samples.COMPANY}"}, "sk": {"S": f"WEBHOOK#{webhook}"}}
    if "Item" not in stack.client("dynamodb").get_item(TableName=table, Key=key):
        raise CheckFailed(f"webhook {webhook} answered 201 but is not in {table}")
    return f"POST 201 in {posted:.1f} s (cold), GET 200 in {got:.2f} s (warm); {webhook} in {table}"


def _wait_listening(api: str, server: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", int(api.rsplit(":", 1)[1])), 1):
            return
        if server.poll() is not None or time.monotonic() > deadline:
            raise CheckFailed(f"sam local start-api did not listen:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)


# -- the whole check ------------------------------------------------------------------------------------------


def rie() -> Path:
    """The SAM CLI's own Runtime Interface Emulator, shipped in its pip package: the stand-in image's."""
    found = sorted((ROOT / ".venv-sam" / "lib").glob("python3*/site-packages/samcli/local/rapid/aws-lambda-rie-x86_64"))
    if not found:
        raise CheckFailed("no aws-lambda-rie in .venv-sam: make .venv-sam/.installed")
    return found[0]


def layer_wheels() -> str:
    site = BUILD / "DomainLayer" / "python"
    if wrong := layerplatform.incompatible(site):
        raise CheckFailed(f"wheels Lambda's python3.11 (glibc 2.26) cannot load: {wrong}")
    return f"{len(list(layerplatform.distributions(site)))} wheels, each for glibc ≤ 2.26 x86_64 or pure"


def check(which: str, steps: Steps) -> None:
    CACHE.mkdir(parents=True, exist_ok=True)
    steps.run("docker install", dockerhost.install_engine)
    with contextlib.ExitStack() as stack:
        steps.enter(stack, "dockerd", dockerhost.engine(CACHE / "logs"))
        steps.run("lambda image", lambda: lambdaimage.ensure(CACHE, rie()))
        before = dockerhost.sam_containers()
        stack.callback(lambda: steps.run("cleanup", lambda: _cleanup(before)))
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sam-local-check-")))
        local = steps.enter(stack, "local stack", local_stack(work, dockerhost.bridge_gateway()))
        steps.run("sam build", build)
        steps.run("layer wheels", layer_wheels)
        for name, path in rendered_samples(local, which, work).items():
            steps.run(f"invoke {name}", lambda name=name, path=path: invoke(name, path, local))
        steps.run("start-api", lambda: start_api(local, work))


def _cleanup(before: set[str]) -> str:
    return f"removed {dockerhost.remove_containers(dockerhost.sam_containers() - before)} SAM containers"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", choices=("one", "all"), default=os.environ.get("SAMPLES") or "one")
    args = parser.parse_args()
    quiet_local_default(DEFAULT_JWT_SECRET)  # its local stack runs with the local default key
    steps = Steps()
    try:
        check(args.samples, steps)
    except dockerhost.DockerUnavailable as exc:
        print(steps.summary())
        sys.exit(f"sam-local-check FAILED: Docker cannot run here: {exc}")
    except (CheckFailed, subprocess.SubprocessError, OSError, requests.RequestException) as exc:
        print(steps.summary())
        sys.exit(f"sam-local-check FAILED: {exc}")
    print(steps.summary())
    print("sam-local-check passed")


if __name__ == "__main__":
    main()
