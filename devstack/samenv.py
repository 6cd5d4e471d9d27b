"""env.json for `sam local invoke` and `sam local start-api`: each function's environment on the local stack.

`make run` writes it (SAM_ENV_FILE, default env.json) and keeps a copy in the emulator, from
which `make sam-env` (`python -m devtools.samenv`) writes it again while the stack runs. The
shape is SAM's `--env-vars` file: `{"FunctionLogicalId": {"VARIABLE": "value"}}`, each function's
whole environment as the local stack resolves it (tables, queues, key, bus, parameters), the
local flags, dummy credentials, and AWS_ENDPOINT_URL: the emulator as a SAM container sees it,
`http://host.docker.internal:<AWS_PORT>` unless SAM_EMULATOR_URL says otherwise.

SAM gives a container only the variables the template declares (their values from this file),
plus its own AWS_* variables, whose credentials and region come from the session of the shell
that runs `sam`; so AWS_ENDPOINT_URL reaches a container only once the template declares it, and
the dummy credentials here are for runners that take the file as the whole environment.
"""

import json
from collections.abc import Mapping
from pathlib import Path

import boto3

from devstack.template import LocalStack

ENV_FILE = "SAM_ENV_FILE"  # where `make run` writes env.json; unset or empty: nowhere
EMULATOR_URL = "SAM_EMULATOR_URL"  # the emulator as a SAM container reaches it
LOCAL_FLAGS = ("POWERTOOLS_TRACE_DISABLED", "POWERTOOLS_METRICS_DISABLED")
DUMMY_CREDENTIAL = "testing"  # the emulator takes any credentials; real ones never belong here
REGION = "us-east-1"


def local_flags(env: Mapping[str, str]) -> dict[str, str]:
    """No X-Ray daemon and no CloudWatch locally: both off unless the shell says otherwise."""
    return {flag: env.get(flag, "true") for flag in LOCAL_FLAGS}


def access(endpoint_url: str, region: str = REGION) -> dict[str, str]:
    """Where the functions' AWS clients go, and the dummy credentials they sign with."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": DUMMY_CREDENTIAL,
        "AWS_SECRET_ACCESS_KEY": DUMMY_CREDENTIAL,
        "AWS_SESSION_TOKEN": DUMMY_CREDENTIAL,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
    }


def environments(stack: LocalStack, endpoint_url: str, flags: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """Each function (logical id) → its environment: Globals and its own variables, resolved, then the local ones."""
    return {
        function: dict(sorted({**stack.function_environment(function), **flags, **access(endpoint_url)}.items()))
        for function in stack.functions()
    }


def container_url(aws_port: int, env: Mapping[str, str]) -> str:
    return env.get(EMULATOR_URL) or f"http://host.docker.internal:{aws_port}"


def for_containers(host: Mapping[str, Mapping[str, str]], url: str) -> dict[str, dict[str, str]]:
    """The same environments with the emulator as a container reaches it: AWS_ENDPOINT_URL and the queue URLs.

    (SDK requests go to AWS_ENDPOINT_URL whatever host a queue URL names; it is rewritten for the reader.)"""
    return {function: _moved(variables, variables["AWS_ENDPOINT_URL"], url) for function, variables in host.items()}


def _moved(variables: Mapping[str, str], old: str, new: str) -> dict[str, str]:
    moved = {
        name: new + value[len(old) :] if value.startswith(old + "/") else value for name, value in variables.items()
    }
    return {**moved, "AWS_ENDPOINT_URL": new}


def write(document: Mapping[str, Mapping[str, str]], path: Path) -> Path:
    """Written whole, then renamed: a `sam` reading it meanwhile sees the old file or the new one."""
    path = path.resolve()
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    partial.replace(path)
    return path


def parameter_name(stack_name: str) -> str:
    return f"/{stack_name}/function-environments"


def publish(stack: LocalStack, aws_port: int, env: Mapping[str, str]) -> Path | None:
    """Keep the environments in the emulator (for `make sam-env`) and write env.json if SAM_ENV_FILE names it."""
    host = environments(stack, f"http://127.0.0.1:{aws_port}", local_flags(env))
    boto3.client("ssm", region_name=stack.region).put_parameter(
        Name=parameter_name(stack.name), Value=json.dumps(host), Type="String", Tier="Advanced", Overwrite=True
    )
    target = env.get(ENV_FILE)
    return write(for_containers(host, container_url(aws_port, env)), Path(target)) if target else None


def published(ssm, stack_name: str = "blue-webhooks-local") -> dict[str, dict[str, str]]:
    """The function environments a local stack published, read with the given SSM client of its emulator."""
    return json.loads(ssm.get_parameter(Name=parameter_name(stack_name))["Parameter"]["Value"])
