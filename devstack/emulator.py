"""The AWS emulator: moto in server mode (with AWS's SQS in-flight ceiling), in a process of its own."""

import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from devstack import ports

PID_PATH = "/_devstack/pid"  # the emulator's process id (devstack.motoserver): whose emulator answers


class Emulator:
    def __init__(self, port: int, env: dict[str, str] | None = None):
        self.port, self.url = port, f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "devstack.motoserver", "-H", "127.0.0.1", "-p", str(port)],
            env={**os.environ, **(env or {})},
            cwd=Path(__file__).resolve().parent.parent,  # where `devstack` is importable
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches the stack, which stops the emulator last
            preexec_fn=_die_with_parent,  # runs before exec, while the child has one thread
        )
        self._wait_until_up()

    def _wait_until_up(self, timeout: float = 30) -> None:
        """Until our own process answers: whatever else answers on the port is never provisioned into."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                if not ports.is_free(self.port):
                    raise ports.taken({"AWS_PORT": self.port})
                raise RuntimeError(f"the AWS emulator exited with {self.process.returncode}")
            try:
                if requests.get(f"{self.url}{PID_PATH}", timeout=1).json() == self.process.pid:
                    return
            except (requests.ConnectionError, requests.JSONDecodeError):
                pass  # not up yet, or another program's answer while ours fails to listen
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the AWS emulator did not answer on {self.url} within {timeout:g} s")

    def calls(self) -> list[dict]:
        """The AWS calls it served so far, by service, action, queue or table (devstack.motoserver)."""
        return calls(self.url)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def calls(url: str) -> list[dict]:
    """The call counts of the emulator at `url`."""
    response = requests.get(f"{url}/_devstack/calls", timeout=10)
    response.raise_for_status()
    return response.json()


def difference(before: list[dict], after: list[dict]) -> list[dict]:
    """The rows of `after` that grew, less what they held in `before`."""
    key = ("service", "action", "resource", "detail")
    earlier = {tuple(r[k] for k in key): r for r in before}
    rows = []
    for row in after:
        old = earlier.get(tuple(row[k] for k in key), {})
        grown = {k: v - old.get(k, 0) for k, v in row.items() if k not in key}
        if grown["count"]:
            rows.append({**{k: row[k] for k in key}, **grown})
    return rows


def _die_with_parent() -> None:
    """Linux: the emulator gets SIGTERM if the stack dies without stopping it (kill -9)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
