"""The local stack as `make run` starts it (`python -m devstack`), in a subprocess, for e2e tests."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import boto3

from devtools.receiver import free_port

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
STACK_NAME = "blue-webhooks-local"
COUNTS = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"]


class LocalStackProcess:
    """Started with the given environment overrides; its output is read all along (a full pipe would stall it).

    API_PORT and AWS_PORT are free ports unless the overrides name them (a restart on the same ports)."""

    def __init__(self, **env: str):
        self.api_port, self.aws_port = int(env.pop("API_PORT", free_port())), int(env.pop("AWS_PORT", free_port()))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "devstack"],
            cwd=ROOT,
            env={**os.environ, "API_PORT": str(self.api_port), "AWS_PORT": str(self.aws_port), **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self.ready = self._ready_line(timeout=60)
        threading.Thread(target=self._read, daemon=True).start()

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def aws(self) -> str:
        return f"http://127.0.0.1:{self.aws_port}"

    def client(self, service: str, **credentials: str):
        """A client of the stack's emulator: any other key than a role's acts as the account's administrator."""
        credentials = {"aws_access_key_id": "x", "aws_secret_access_key": "x", **credentials}
        return boto3.client(service, endpoint_url=self.aws, region_name=REGION, **credentials)

    def wait_until_idle(self, timeout: float = 20) -> None:
        """Until no delivery is queued, in flight or waiting for its retry: after that, none reaches a receiver."""
        sqs = self.client("sqs")
        queues = [
            sqs.get_queue_url(QueueName=f"{STACK_NAME}-{name}")["QueueUrl"] for name in ("DeliveryQueue", "RetryQueue")
        ]
        deadline = time.monotonic() + timeout
        while any(
            int(count)
            for url in queues
            for count in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=COUNTS)["Attributes"].values()
        ):
            assert time.monotonic() < deadline, f"deliveries still queued after {timeout} s"
            time.sleep(0.1)

    def output(self) -> str:
        return "".join(self.lines)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            self.process.wait(timeout=15)

    def _ready_line(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            line = self.process.stdout.readline()
            self.lines.append(line)
            if "ready" in line:
                return line
        self.stop()
        raise AssertionError(f"the local stack did not start:\n{self.output()[-4000:]}")

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)
