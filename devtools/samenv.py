"""`make sam-env` (`python -m devtools.samenv`): env.json for sam local, from the environments a running local
stack published (devstack.samenv)."""

import argparse
import os
import sys
from pathlib import Path

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from devstack.samenv import (
    DUMMY_CREDENTIAL,
    EMULATOR_URL,
    ENV_FILE,
    REGION,
    container_url,
    for_containers,
    published,
    write,
)
from devstack.template import ROOT


def fetch(aws_port: int, stack_name: str = "blue-webhooks-local") -> dict[str, dict[str, str]]:
    """The environments a running local stack published (its emulator on loopback, `aws_port`)."""
    return published(boto3.client("ssm", region_name=REGION, **_client_access(aws_port)), stack_name)


def _client_access(aws_port: int) -> dict[str, str]:
    return {
        "endpoint_url": f"http://127.0.0.1:{aws_port}",
        "aws_access_key_id": DUMMY_CREDENTIAL,
        "aws_secret_access_key": DUMMY_CREDENTIAL,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Write env.json for sam local from the running local stack.")
    parser.add_argument("--aws-port", type=int, default=int(os.environ.get("AWS_PORT", 4566)))
    parser.add_argument("--output", default=os.environ.get(ENV_FILE) or "env.json", help="default: env.json")
    parser.add_argument(
        "--emulator-url", help=f"AWS_ENDPOINT_URL in the file (default: ${EMULATOR_URL}, else the Docker host)"
    )
    args = parser.parse_args()
    try:
        host = fetch(args.aws_port)
    except (BotoCoreError, ClientError) as exc:
        sys.exit(f"no local stack on 127.0.0.1:{args.aws_port} ({exc}); start it with `make run`")
    url = args.emulator_url or container_url(args.aws_port, os.environ)
    path = write(for_containers(host, url), Path(args.output))
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    print(f"{shown}: {len(host)} functions, AWS_ENDPOINT_URL {url}")


if __name__ == "__main__":
    main()
