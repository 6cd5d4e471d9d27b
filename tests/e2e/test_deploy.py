"""`make deploy` and `make smoke` (devtools.deploy, devtools.smoke) on the local stack, as the ops tools are tested:
SSM, CloudFormation's outputs, the API and EventBridge are the emulator's and the local stack's; only the SAM CLI is
a stand-in (tests/e2e/fake_sam.py), which records its calls and creates the stage's stack with the outputs the tools
read. Never real AWS."""

import base64
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from devstack.token import mint
from tests.e2e.localstack import ROOT

SECRET = "deploy-test-jwt-secret-deploy-test-jwt"
STACK_ENV = {"WEBHOOKS_JWT_SECRET": SECRET, "RETRY_SCHEDULE": "0,1"}
FAKE_SAM = shlex.join([sys.executable, str(ROOT / "tests" / "e2e" / "fake_sam.py")])


def tool(stack, tmp_path: Path, name: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`make deploy` / `make smoke` as the Makefile runs them, on the local stack's emulator."""
    command = [sys.executable, "-m", f"devtools.{name}", *args, "--endpoint-url", stack.aws]
    if name == "deploy":
        command += ["--sam", FAKE_SAM]
    fake = {"FAKE_SAM_LOG": str(tmp_path / "sam.log"), "FAKE_SAM_API": stack.api}
    return subprocess.run(
        command, cwd=ROOT, env={**os.environ, **fake, **env}, capture_output=True, text=True, timeout=120
    )


def sam_calls(tmp_path: Path) -> list[dict]:
    return [json.loads(line) for line in (tmp_path / "sam.log").read_text().splitlines()]


def key_of(stack, name: str) -> dict:
    return stack.client("ssm").get_parameter(Name=name, WithDecryption=True)["Parameter"]


def test_deploy_creates_the_stage_key_when_absent_deploys_and_prints_the_api_url(stack, tmp_path):
    first = tool(stack, tmp_path, "deploy", "--stage", "staging", "--no-confirm-changeset", **stage_stack("staging"))
    assert first.returncode == 0, first.stdout + first.stderr
    assert "created SSM parameter blue-webhooks-staging-jwt-secret (SecureString, 48 random bytes)" in first.stdout
    created = key_of(stack, "blue-webhooks-staging-jwt-secret")
    assert created["Type"] == "SecureString" and len(base64.urlsafe_b64decode(created["Value"] + "==")) >= 32
    assert [call["argv"] for call in sam_calls(tmp_path)] == [
        ["build", "--config-env", "staging"],
        ["deploy", "--config-env", "staging", "--no-confirm-changeset"],
    ]
    assert {call["endpoint"] for call in sam_calls(tmp_path)} == {stack.aws}
    assert f"API: {stack.api}" in first.stdout and "make smoke STAGE=staging RECEIVER=https://" in first.stdout

    again = tool(stack, tmp_path, "deploy", "--stage", "staging", **stage_stack("staging"))
    assert again.returncode == 0 and "SSM parameter blue-webhooks-staging-jwt-secret exists, kept" in again.stdout
    assert key_of(stack, "blue-webhooks-staging-jwt-secret")["Value"] == created["Value"]  # never replaced


def test_deploy_stops_when_sam_fails(stack, tmp_path):
    failed = tool(stack, tmp_path, "deploy", "--stage", "staging", FAKE_SAM_FAIL="build", **stage_stack("staging"))
    assert failed.returncode == 1 and "sam build failed" in failed.stderr and "API:" not in failed.stdout
    assert [call["argv"][0] for call in sam_calls(tmp_path)] == ["build"]


def test_an_unknown_stage_is_an_error(stack, tmp_path):
    unknown = tool(stack, tmp_path, "deploy", "--stage", "qa", **stage_stack("staging"))
    assert unknown.returncode == 2 and "no stage 'qa' in samconfig.toml" in unknown.stderr


@pytest.fixture(scope="module")
def dev(stack, tmp_path_factory):
    """The dev stage deployed, its key being the local stack's (as if the API's stage had been deployed with it)."""
    stack.client("ssm").put_parameter(Name="blue-webhooks-dev-jwt-secret", Value=SECRET, Type="SecureString")
    deployed = tool(stack, tmp_path_factory.mktemp("dev"), "deploy", "--stage", "dev", **stage_stack("dev"))
    assert deployed.returncode == 0 and "exists, kept" in deployed.stdout, deployed.stdout + deployed.stderr


def test_smoke_calls_the_api_with_the_stage_key_and_shows_the_delivery(stack, dev, receiver, tmp_path):
    smoke = tool(stack, tmp_path, "smoke", "--stage", "dev", "--receiver", receiver.url("/smoke"))
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr
    (request,) = receiver.at("/smoke")
    company = json.loads(request.body)["company"]["id"]
    shown = smoke.stdout
    assert "GET /health" in shown and "event types" in shown and f"company {company}" in shown
    assert f'"deliveryId": "{request.headers["webhook-id"]}"' in shown and '"state": "succeeded"' in shown
    assert "Smoke test passed" in shown
    webhook_id = json.loads(request.body)["webhook"]["id"]
    token = mint(company, "user-1", "ADMIN", SECRET)
    gone = requests.get(f"{stack.api}/webhooks/{webhook_id}", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert gone.status_code == 404  # deleted at the end


def test_smoke_fails_on_a_refused_delivery_and_says_why(stack, dev, receiver, tmp_path):
    down = receiver.behave("/down", status=503)
    smoke = tool(stack, tmp_path, "smoke", "--stage", "dev", "--receiver", down)
    assert smoke.returncode == 1 and "make smoke: the delivery is failed: 503" in smoke.stdout


def test_smoke_with_another_stage_key_is_refused_by_the_api(stack, receiver, tmp_path):
    """The token is signed with the stage's own key: prod's (created by deploy) is not the API's here."""
    tool(stack, tmp_path, "deploy", "--stage", "prod", **stage_stack("prod"))
    smoke = tool(stack, tmp_path, "smoke", "--stage", "prod", "--receiver", receiver.url("/never"))
    assert smoke.returncode == 1 and "GET /event-types answered 401" in smoke.stderr
    assert receiver.at("/never") == []


def stage_stack(stage: str) -> dict[str, str]:
    """The stack the stand-in SAM CLI creates: the stage's, as samconfig.toml names it."""
    return {"FAKE_SAM_STACK": f"blue-webhooks-{stage}"}


@pytest.mark.parametrize("variable", ["STAGE", "RECEIVER"])
def test_make_passes_stage_and_receiver_as_data_never_to_the_shell(variable, tmp_path):
    """A STAGE or RECEIVER from elsewhere (a CI job's branch name) must not run commands with deploy credentials."""
    pwned = tmp_path / "pwned"
    given = {"STAGE": "nostage", "RECEIVER": "https://x.example/"} | {variable: f"nostage`touch {pwned}`"}
    make = subprocess.run(
        ["make", "smoke", *(f"{name}={value}" for name, value in given.items())],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert not pwned.exists(), make.stdout + make.stderr
    assert make.returncode != 0 and "make smoke: no stage" in make.stderr, make.stdout + make.stderr
