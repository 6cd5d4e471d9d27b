"""A developer's first five minutes, on a real local stack: the quickstart `make run` prints, real deliveries
verified by the receivers' modules (Python and Node.js), `make listen` and `make demo`."""

import base64
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import jwt
import pytest
import requests

from bluehooks.rules.signing import signature_headers
from devstack import quickstart
from devstack.token import mint
from devtools.loopback import RECEIVERS, verification_module
from devtools.receiver import Receiver, free_port
from devtools.scenario import WEBHOOKS, Tally, differences, expected_tally

ROOT = Path(__file__).resolve().parents[2]
SECRET = "first-minutes-jwt-secret-first-minutes"
VERIFY_JS = ROOT / "receivers" / "node" / "verify.js"
bwv = verification_module()


STACK_ENV = {"WEBHOOKS_JWT_SECRET": SECRET, "RETRY_SCHEDULE": "0,1,1"}


@pytest.fixture(scope="module")
def delivery(stack):
    """One real delivery of a TODO_CREATED event: (secret, headers as received, body bytes)."""
    receiver = Receiver()  # its own: the `receiver` fixture is per test
    try:
        webhook = api(stack, "POST", "/webhooks", {"url": receiver.url("/verify"), "events": ["TODO_CREATED"]})
        put_event(stack, "company-1", "p1")
        (request,) = receiver.wait_for("/verify", timeout=15)
        yield webhook["secret"], request.headers, request.body
    finally:
        receiver.close()


def api(stack, method: str, path: str, body: dict | None = None, company: str = "company-1") -> dict:
    token = mint(company, "user-1", "ADMIN", SECRET)
    response = requests.request(
        method, stack.api + path, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.status_code < 300, response.text
    return response.json() if response.content else {}


def put_event(stack, company: str, project: str) -> None:
    detail = {
        "company": {"id": company},
        "project": {"id": project},
        "user": {"id": "u1"},
        "currentValue": {"id": "r1"},
    }
    entry = {
        "Source": "blue",
        "DetailType": "TODO_CREATED",
        "EventBusName": "blue-events",
        "Detail": json.dumps(detail),
    }
    assert stack.client("events").put_events(Entries=[entry])["FailedEntryCount"] == 0


def printed_quickstart(stack) -> list[str]:
    """The quickstart's shell lines, as `make run` printed them after its ready line."""
    deadline = time.monotonic() + 10
    while "make demo" not in stack.output() and time.monotonic() < deadline:
        time.sleep(0.1)
    text = stack.output().split(stack.ready, 1)[1]
    return [line.strip() for line in text.splitlines() if line.startswith("  ") and not line.startswith("  #")][:4]


def bash(*lines: str) -> str:
    result = subprocess.run(["bash", "-c", "set -euo pipefail\n" + "\n".join(lines)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_quickstart_lines_work_when_pasted(stack, receiver):
    export, create, put, show = printed_quickstart(stack)
    assert "does not survive" in stack.output() or "forgets every webhook" in stack.output()
    token = re.search(r"TOKEN=(\S+)", export)[1]
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])  # and not expired
    assert claims["exp"] - claims["iat"] == quickstart.TOKEN_HOURS * 3600
    create = create.replace(quickstart.RECEIVER, receiver.url("/blue"))  # port 8000 may be anyone's here
    webhook_id = bash(export, create, "echo $ID").strip()
    assert webhook_id.startswith("wh_")
    assert json.loads(bash(put))["FailedEntryCount"] == 0
    shown = json.loads(bash(export, f"export ID={webhook_id}", show))  # pasted at once: step 3 waits
    (request,) = receiver.wait_for("/blue", timeout=15)
    assert json.loads(request.body)["webhook"]["id"] == webhook_id
    assert shown["state"] == "succeeded" and shown["deliveryId"] == request.headers["webhook-id"]
    assert [attempt["error"] for attempt in shown["attempts"]] == [None]


def test_quickstart_step_3_shows_a_refused_attempt_its_error_and_the_next_retry(stack):
    """Nothing on :8000, as for a newcomer who pastes the quickstart alone."""
    export, create, put, show = printed_quickstart(stack)
    create = create.replace(quickstart.RECEIVER, f"http://127.0.0.1:{free_port()}/blue")  # nothing listens there
    webhook_id = bash(export, create, "echo $ID").strip()
    assert json.loads(bash(put))["FailedEntryCount"] == 0
    shown = json.loads(bash(export, f"export ID={webhook_id}", show))
    first = shown["attempts"][0]
    assert first["statusCode"] is None and first["error"] and first["nextRetryAt"], shown


def test_a_real_delivery_verifies_with_the_python_module(delivery):
    secret, headers, body = delivery
    assert bwv.verify(secret, headers, body)["event"] == "TODO_CREATED"
    with pytest.raises(bwv.WebhookVerificationError):
        bwv.verify(secret, headers, body + b" ")
    with pytest.raises(bwv.WebhookVerificationError):
        bwv.verify("whsec_" + base64.b64encode(b"x" * 32).decode(), headers, body)


def test_the_same_delivery_verifies_with_the_node_module(delivery):
    secret, headers, body = delivery
    cases = [(secret, body), (secret, body + b" "), ("whsec_" + base64.b64encode(b"x" * 32).decode(), body)]
    assert node_verify(headers, cases) == [True, False, False]


@pytest.mark.parametrize("secret", ["whsec_my-own-secret!", "whsec_c2VjcmV0", "whsec_abc", "a plain one"])
def test_node_derives_the_standard_key_as_blue_does_for_a_custom_secret(secret):
    """DESIGN: the base64 after whsec_, else the secret's bytes; Node's lenient base64 must not decode the rest."""
    headers = signature_headers([secret], "msg_custom", int(time.time()), b"{}")
    assert bwv.verify(secret, headers, b"{}") == {}
    assert node_verify(headers, [(secret, b"{}")]) == [True]


def test_a_rotated_secret_delivery_carries_two_signatures(stack, receiver):
    created = api(stack, "POST", "/webhooks", {"url": receiver.url("/rotated")})
    new = api(stack, "POST", f"/webhooks/{created['id']}/rotate-secret")["secret"]
    api(stack, "POST", f"/webhooks/{created['id']}/test")
    (request,) = receiver.wait_for("/rotated", timeout=15)
    headers, body, old = request.headers, request.body, created["secret"]
    assert len(headers["webhook-signature"].split()) == 2
    assert bwv.verify(new, headers, body)["event"] == "WEBHOOK_TEST"
    assert bwv.verify(old, headers, body, x_signature=False)
    with pytest.raises(bwv.WebhookVerificationError, match="X-Signature"):
        bwv.verify(old, headers, body)
    assert node_verify(headers, [(new, body), (old, body)]) == [True, False]


def node_verify(headers: dict[str, str], cases: list[tuple[str, bytes]]) -> list[bool]:
    """receivers/node/verify.js on each (secret, body), the headers as Express hands them over (lower case)."""
    runner = (
        "const { verify } = require(process.argv[1]); let input = '';"
        "process.stdin.on('data', (chunk) => (input += chunk)).on('end', () => {"
        "  const { headers, cases } = JSON.parse(input);"
        "  console.log(JSON.stringify(cases.map(([s, b]) => verify(s, headers, Buffer.from(b, 'base64')))));"
        "});"
    )
    lower = {name.lower(): value for name, value in headers.items()}
    given = json.dumps({"headers": lower, "cases": [(s, base64.b64encode(b).decode()) for s, b in cases]})
    result = subprocess.run(
        ["node", "-e", runner, str(VERIFY_JS)], input=given, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)


def readme_block(heading: str, language: str) -> str:
    readme = (ROOT / "README.md").read_text()
    return re.search(rf"### {re.escape(heading)}\n.*?```{language}\n(.*?)```", readme, re.S).group(1)


def test_the_readme_node_snippet_is_verify_js():
    assert readme_block("Verify a delivery in Node.js", "js") == VERIFY_JS.read_text()


def test_the_readme_python_example_handles_a_real_delivery(delivery, monkeypatch):
    secret, headers, body = delivery
    monkeypatch.syspath_prepend(str(RECEIVERS))  # where a customer's copy of the module would be
    namespace: dict = {}
    exec(readme_block("Verify a delivery in Python", "python"), namespace)
    assert namespace["handle"](secret, headers, body) == 204
    assert namespace["handle"](secret, headers, body.replace(b"TODO", b"TADA")) == 401


def test_listen_prints_verified_deliveries_forwards_them_and_deletes_its_webhook(stack, receiver):
    command = [sys.executable, "-m", "devtools.listen", "--api", stack.api, "--events", "TODO_CREATED"]
    command += ["--project", "p-listen", "--forward-to", receiver.url("/app")]
    listen = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, "WEBHOOKS_JWT_SECRET": SECRET},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        ready = listen.stdout.readline()
        webhook_id = re.search(r"Ready: webhook (wh_\w+)", ready)[1]
        assert "signing secret is whsec_" in listen.stdout.readline()
        put_event(stack, "company-1", "p-other")  # another project: not this webhook's
        put_event(stack, "company-1", "p-listen")
        (forwarded,) = receiver.wait_for("/app", timeout=15)
        lines = [listen.stdout.readline() for _ in range(4)]
    finally:
        listen.send_signal(signal.SIGINT)
        rest, _ = listen.communicate(timeout=15)
    heading = next(line for line in lines if "webhook-id" in line)
    assert "TODO_CREATED" in heading and "attempt 1" in heading and "verified ✓" in heading and "→ 200" in heading
    assert forwarded.headers["webhook-id"] in heading and json.loads(forwarded.body)["project"] == {"id": "p-listen"}
    assert listen.returncode == 0 and f"Deleted webhook {webhook_id}" in rest
    token = mint("company-1", "user-1", "ADMIN", SECRET)
    gone = requests.get(f"{stack.api}/webhooks/{webhook_id}", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert gone.status_code == 404


def test_local_state_does_not_survive_a_restart(stack, start_stack):
    """What the README and the quickstart say: the emulator keeps everything in memory. (The last test to use
    `stack`: it stops it and starts the stack again on the same ports.)"""
    assert "Local state lives in the emulator's memory" in stack.output()
    api(stack, "POST", "/webhooks", {"url": "http://127.0.0.1:9/x"}, company="restart-co")
    assert len(api(stack, "GET", "/webhooks", company="restart-co")["items"]) == 1
    stack.stop()
    again = start_stack(**STACK_ENV, API_PORT=str(stack.api_port), AWS_PORT=str(stack.aws_port))
    assert api(again, "GET", "/webhooks", company="restart-co")["items"] == []


def test_the_demo_runs_its_scenario_and_exits_0():
    result = subprocess.run(
        [sys.executable, "-m", "devtools.demo"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Every outcome as expected" in result.stdout
    assert "HEALTHY" in result.stdout and "UNHEALTHY" in result.stdout and "/recover" in result.stdout


def test_the_demo_reports_every_difference_from_its_scenario():
    tallies = {plan.key: expected_tally(plan) for plan in WEBHOOKS}
    health = {plan.key: ["HEALTHY"] for plan in WEBHOOKS}
    tallies["crm"] = Tally(deliveries=4, first_try=4, not_matching=10)
    found = differences(tallies, [], health)
    assert "CRM sync: deliveries 4, expected 5" in found
    assert any("Audit archive" in line and "health HEALTHY, expected" in line for line in found)
    assert any("received records []" in line for line in found)  # nothing was received at all
