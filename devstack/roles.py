"""Each function's role as SAM's transform generates it, resolved on the local stack: what the emulator enforces.

The transform runs in the SAM venv (devstack.samroles); the managed policies SAM attaches are
shipped as their documents (devstack/policies). Each role gets an access key of its own, its
logical id, with which the local runtime signs the function's calls (devstack.sandbox).
"""

import contextlib
import functools
import hashlib
import json
import os
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import requests

from devstack.iam import Grant
from devstack.template import ACCOUNT_ID, ROOT, LocalStack, UnsupportedTemplate

POLICIES = Path(__file__).resolve().parent / "policies"


@dataclass
class Role:
    function: str
    name: str  # its logical id, and the access key the function's calls are signed with
    session_arn: str  # who AWS says is calling, in an AccessDenied message
    grants: list[Grant]
    inline: set[str]  # policies the template writes as statements: each action and resource is a grant of its own
    managed: set[str]  # AWS's managed policies (not the template's own grants)


def roles(stack: LocalStack) -> dict[str, Role]:
    """Each function's role, by function, with every intrinsic resolved on `stack`."""
    generated = sam_roles(json.dumps(stack.template))
    return {
        function: _role(stack, function, role, generated["roles"][role])
        for function, role in generated["functions"].items()
        if stack.exists(function)
    }


def install(aws_url: str, functions: dict[str, Role]) -> None:
    """Hand the roles to the emulator, which from now on refuses what they do not allow."""
    principals = {
        role.name: {
            "arn": role.session_arn,
            "function": role.function,
            "grants": [asdict(grant) for grant in role.grants],
            "inline": sorted(role.inline),
            "managed": sorted(role.managed),
        }
        for role in functions.values()
    }
    requests.post(f"{aws_url}/_devstack/iam", json=principals, timeout=10).raise_for_status()


def used(aws_url: str) -> dict[str, Any]:
    """{"roles": as installed, "used": each grant that allowed a request (key, policy, index, request)}."""
    response = requests.get(f"{aws_url}/_devstack/iam", timeout=10)
    response.raise_for_status()
    return response.json()


@functools.cache
def sam_roles(template: str) -> dict[str, Any]:
    """SAM's transform of the template (JSON): {"functions": {function: role}, "roles": {...}}.

    Kept in the SAM venv (.devstack-cache/), by the template, the SAM venv and devstack.samroles: a stack started
    again with the same template skips the 2 s of a SAM process (a new venv or a changed template is a new key)."""
    python = Path(os.environ.get("SAM_PYTHON", ROOT / ".venv-sam" / "bin" / "python"))
    if not python.exists():
        raise RuntimeError(f"the local stack's IAM needs SAM's transform, in {python}: make .venv-sam/.installed")
    cached = _cache_path(python, template)
    if cached:
        with contextlib.suppress(OSError, ValueError):
            return json.loads(cached.read_text())
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [str(python), "-m", "devstack.samroles"], input=template, capture_output=True, text=True, cwd=ROOT
    )
    if done.returncode:
        raise UnsupportedTemplate(f"SAM's transform refused the template: {done.stderr.strip()[-2000:]}")
    generated = json.loads(done.stdout)
    if cached:
        with contextlib.suppress(OSError):
            cached.parent.mkdir(exist_ok=True)
            partial = cached.with_name(f"{cached.name}.{os.getpid()}")
            partial.write_text(done.stdout)
            partial.replace(cached)  # whole or not at all, whoever else writes it at once
    return generated


def _cache_path(python: Path, template: str) -> Path | None:
    """Where SAM's answer for this template is kept: only in a venv (its pyvenv.cfg), which a reinstall replaces."""
    venv = python.parent.parent
    try:
        installed = [(venv / name).stat().st_mtime_ns for name in ("pyvenv.cfg", ".installed")]
    except OSError:
        return None  # not a venv, or not one make installed
    code = Path(__file__).with_name("samroles.py").read_text()
    region = os.environ.get("AWS_DEFAULT_REGION")  # the transform's (devstack.samroles)
    key = hashlib.sha256(json.dumps([str(python), installed, code, region, template]).encode()).hexdigest()
    return venv / ".devstack-cache" / f"samroles-{key[:32]}.json"


def _role(stack: LocalStack, function: str, name: str, generated: dict[str, Any]) -> Role:
    grants, managed = [], set()
    for arn in stack.resolve(generated["ManagedPolicyArns"]):
        policy = str(arn).rsplit("/", 1)[-1]
        path = POLICIES / f"{policy}.json"
        if not path.exists():
            raise UnsupportedTemplate(f"{function}: managed policy {policy} has no document in {POLICIES}")
        managed.add(policy)
        grants += _grants(policy, json.loads(path.read_text()))
    for policy in generated["Policies"]:
        grants += _grants(policy["PolicyName"], stack.resolve(policy["PolicyDocument"]))
    own = stack.functions()[function].get("Policies", [])
    inline = {f"{name}Policy{i}" for i, policy in enumerate(own) if isinstance(policy, dict) and "Statement" in policy}
    session_arn = f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{stack.name}-{name}/{function}"
    return Role(function, name, session_arn, grants, inline, managed)


def _grants(policy: str, document: dict[str, Any]) -> list[Grant]:
    statements = document["Statement"]
    statements = statements if isinstance(statements, list) else [statements]
    return [Grant(policy, statement, i) for i, statement in enumerate(statements)]
