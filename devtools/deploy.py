"""`make deploy STAGE=dev`: the stage's JWT key in SSM (created when absent), `sam build`, `sam deploy`, the API URL.

The stage's stack and parameter names come from samconfig.toml (dev is its default environment). AWS_PROFILE
and AWS_REGION (or --profile and --region) say where; --endpoint-url points it at an emulator instead, as the
tests do (tests/e2e/test_deploy.py, with a stand-in for the SAM CLI).
"""

import argparse
import os
import re
import secrets
import shlex
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from ops.target import NoTarget, Target

ROOT = Path(__file__).resolve().parent.parent
SAM = str(ROOT / ".venv-sam" / "bin" / "sam")
KEY_BYTES = 48
MIN_KEY_BYTES = 32  # HS256 wants 32 bytes at least (RFC 7518, 3.2)


class WeakKey(Exception):
    """The stage's JWT key exists but is too short to keep; the message says so, never the key."""


@dataclass(frozen=True)
class Stage:
    """One environment of samconfig.toml: its stack, and the SSM parameter holding its JWT key."""

    name: str
    config_env: str
    stack: str
    jwt_parameter: str

    @classmethod
    def read(cls, name: str, samconfig: Path = ROOT / "samconfig.toml") -> "Stage":
        config = tomllib.loads(samconfig.read_text())
        config_env = "default" if name == "dev" else name
        if config_env not in config:
            raise NoTarget(f"no stage {name!r} in samconfig.toml")
        overrides = config[config_env]["deploy"]["parameters"]["parameter_overrides"]
        return cls(
            name=name,
            config_env=config_env,
            stack=config[config_env]["global"]["parameters"]["stack_name"],
            jwt_parameter=re.search(r"JwtSecretParameterName=(\S+)", overrides)[1],
        )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options both `make deploy` and `make smoke` take: the stage, and where it lives."""
    stages = "dev, staging or prod (samconfig.toml)"
    parser.add_argument("--stage", default=os.environ.get("STAGE") or "dev", help=stages)
    parser.add_argument("--profile", default=os.environ.get("AWS_PROFILE"), help="AWS profile (default: AWS_PROFILE)")
    parser.add_argument("--region", help="AWS region (default: the profile's, AWS_REGION or AWS_DEFAULT_REGION)")
    parser.add_argument("--endpoint-url", help="an emulator instead of AWS (tests)")


def target(args: argparse.Namespace, stage: Stage) -> Target:
    """AWS unless --endpoint-url: never a local endpoint left in the shell with real credentials."""
    where = argparse.Namespace(
        endpoint_url=args.endpoint_url,
        stack=stage.stack,
        profile=None if args.endpoint_url else args.profile,
        region=args.region,
        local_endpoint=None,
    )
    return Target(where)


def ensure_jwt_key(ssm, stage: Stage) -> str:
    """Create the stage's key when absent (never replace one: every token signed with it would stop working);
    refuse a short one, which anyone holding one token could find offline and then sign any."""
    try:
        key = ssm.get_parameter(Name=stage.jwt_parameter, WithDecryption=True)["Parameter"]["Value"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "ParameterNotFound":
            raise
        return _create_jwt_key(ssm, stage)
    if (size := len(key.encode())) < MIN_KEY_BYTES:
        raise WeakKey(
            f"the JWT key in SSM parameter {stage.jwt_parameter} is {size} bytes, under HS256's {MIN_KEY_BYTES}: "
            "nothing was deployed. Put a longer one there (and give it to whoever signs the tokens), or delete "
            "the parameter to have one created"
        )
    return f"JWT key: SSM parameter {stage.jwt_parameter} exists, kept"


def _create_jwt_key(ssm, stage: Stage) -> str:
    key = secrets.token_urlsafe(KEY_BYTES)
    description = f"HS256 key of the {stage.name} stage's API tokens (make deploy)"
    ssm.put_parameter(Name=stage.jwt_parameter, Value=key, Type="SecureString", Description=description)
    return f"JWT key: created SSM parameter {stage.jwt_parameter} (SecureString, {KEY_BYTES} random bytes)"


def outputs(target: Target) -> dict[str, str]:
    (stack,) = target.client("cloudformation").describe_stacks(StackName=target.stack)["Stacks"]
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def sam(command: str, args: argparse.Namespace, stage: Stage, *extra: str) -> None:
    """The SAM CLI (`--sam`: another command, as the tests' stand-in), on the stage's samconfig environment."""
    where = [*(["--profile", args.profile] if args.profile and not args.endpoint_url else [])]
    where += ["--region", args.region] if args.region else []
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_ENDPOINT_URL")}
    if args.endpoint_url:
        env["AWS_ENDPOINT_URL"] = args.endpoint_url
    argv = [*shlex.split(args.sam), command, "--config-env", stage.config_env, *where, *extra]
    print("$", shlex.join(argv), flush=True)
    subprocess.run(argv, cwd=ROOT, env=env, check=True)  # noqa: S603 - the SAM CLI, with our arguments


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make deploy", description=__doc__.splitlines()[0])
    add_arguments(parser)
    parser.add_argument("--sam", default=SAM, help="the SAM CLI command (default .venv-sam/bin/sam)")
    parser.epilog = "Other arguments go to `sam deploy` (SAM_ARGS), e.g. --no-confirm-changeset."
    args, sam_args = parser.parse_known_args(argv)
    try:
        stage = Stage.read(args.stage)
        where = target(args, stage)
        print(f"Deploying stage {stage.name}: stack {stage.stack} ({where.session.region_name or 'default region'})")
        print(ensure_jwt_key(where.client("ssm"), stage), flush=True)
        sam("build", args, stage)
        sam("deploy", args, stage, *sam_args)
        api = outputs(where)["ApiUrl"]
    except (NoTarget, WeakKey, BotoCoreError, ClientError) as error:
        print(f"make deploy: {error}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as error:
        print(f"make deploy: sam {error.cmd[len(shlex.split(args.sam))]} failed ({error.returncode})", file=sys.stderr)
        return 1
    print(f"API: {api}")
    print(f"Next: make smoke STAGE={stage.name} RECEIVER=https://<a public https receiver of yours>")
    return 0


if __name__ == "__main__":
    sys.exit(main())
