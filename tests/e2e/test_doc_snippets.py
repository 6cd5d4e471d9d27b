"""The docs' shell blocks, pasted in order into one shell on a fresh `make run`, as a newcomer would: README.md's tour,
then docs/first-minutes.md's and docs/filters.md's blocks. Each must succeed (curl fails on any HTTP error here);
a block marked `<!-- not run by tests/e2e/test_doc_snippets.py: why -->` is skipped (`make run` itself, real AWS).
The receiver the tour starts on port 8000 gets a free port instead (8000 may be anyone's on this machine)."""

import json
import os
import re
import subprocess

from devtools.receiver import free_port
from tests.e2e.localstack import ROOT

DOCS = ["README.md", "docs/first-minutes.md", "docs/filters.md"]
NOT_RUN = "<!-- not run by tests/e2e/test_doc_snippets.py"
RECEIVER_PORT = re.compile(r"\b8000\b")  # in its URL and where the tour's receiver binds
EVENTS_PUT = 3  # the tour's curl, then the AWS CLI's and boto3's PutEvents: one event per block

# What the shell does around the pasted blocks: strict, curl failing on an HTTP error (with the body shown), the
# background receiver stopped at the end; then, once every event put has its delivery logged, that log.
PROLOGUE = """set -euo pipefail
curl() { command curl --fail-with-body "$@"; }
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
"""
EPILOGUE = f"""
set +o pipefail  # grep finds nothing until the first delivery succeeded
for i in $(seq 100); do
  succeeded=$(curl -s $API/webhooks/$ID/deliveries "${{H[@]}}" | grep -o '"state": *"succeeded"' | wc -l)
  [ "$succeeded" -ge {EVENTS_PUT} ] && break
  sleep 0.2
done
echo; curl -s $API/webhooks/$ID/deliveries "${{H[@]}}"
"""


def shell_blocks(path: str) -> list[tuple[str, str]]:
    """(where, text) of each ```sh block of the file not marked as not run, in order."""
    lines, blocks = (ROOT / path).read_text().splitlines(), []
    for number, line in enumerate(lines):
        if line == "```sh" and not (number and lines[number - 1].startswith(NOT_RUN)):
            end = lines.index("```", number + 1)
            blocks.append((f"{path}:{number + 1}", "\n".join(lines[number + 1 : end])))
    return blocks


def test_every_block_is_found_and_the_skipped_ones_say_why():
    blocks = [block for path in DOCS for block in shell_blocks(path)]
    assert [where.split(":")[0] for where, _ in blocks].count("README.md") == 4  # the tour, in four steps
    for path in DOCS:
        text = (ROOT / path).read_text()
        assert text.count("```sh") == len(shell_blocks(path)) + text.count(NOT_RUN)
        assert all(re.match(r": \S", line[len(NOT_RUN) :]) for line in text.splitlines() if NOT_RUN in line)


def test_the_docs_shell_blocks_work_when_pasted_in_order(stack):
    """`stack` is a fresh `make run` with its defaults (the local key, which `make token` signs with)."""
    port = str(free_port())
    pasted = [f"# {where}\n{RECEIVER_PORT.sub(port, text)}" for path in DOCS for where, text in shell_blocks(path)]
    env = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "WEBHOOKS_"))}
    env.update(API_PORT=str(stack.api_port), AWS_PORT=str(stack.aws_port))
    script = PROLOGUE + "\n".join(pasted) + EPILOGUE
    result = subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    log = json.loads(result.stdout.splitlines()[-1])["items"]
    assert [item["state"] for item in log] == ["succeeded"] * EVENTS_PUT, log
    assert re.search(r"'webhook-signature': 'v1,", result.stdout, re.I)  # the tour's receiver printed a signed POST
    assert '"openapi"' in result.stdout and "TODO_CREATED" in result.stdout
