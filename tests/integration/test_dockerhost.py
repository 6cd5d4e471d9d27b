"""devtools/dockerhost.py's own parts, without Docker: the bridge forward, and failing loudly when Docker cannot run."""

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from devtools import dockerhost

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def echo_port():
    """A loopback server that sends back what it reads, one connection at a time."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            with connection:
                while data := connection.recv(65536):
                    connection.sendall(data)

    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname()[1]
    server.close()


def test_the_forward_relays_to_loopback_and_listens_on_its_address_alone(echo_port):
    with dockerhost.forward("127.0.0.1", echo_port) as port:
        for size in (1, 300_000):  # more than one read, both ways
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.sendall(b"x" * size)
                sock.shutdown(socket.SHUT_WR)
                received = b""
                while chunk := sock.recv(65536):
                    received += chunk
            assert received == b"x" * size
        with pytest.raises(ConnectionRefusedError):  # bound to the one address it was given, not 0.0.0.0
            socket.create_connection(("127.0.0.2", port), timeout=5).close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


@pytest.fixture
def no_docker(tmp_path):
    """A PATH whose docker never answers and whose dockerd dies at once, as on a machine where it cannot run."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    scripts = {
        "docker": "echo 'Cannot connect to the Docker daemon' >&2; exit 1",
        "dockerd": "echo 'failed to start daemon: operation not permitted (no cgroups here)' >&2; exit 1",
    }
    for name, body in scripts.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:/usr/bin:/bin", "SAM_LOCAL_CACHE": str(tmp_path / "cache")}


def test_a_dockerd_that_cannot_start_is_reported_with_its_reason(no_docker, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", no_docker["PATH"])
    with pytest.raises(dockerhost.DockerUnavailable, match="no cgroups here"), dockerhost.engine(tmp_path, timeout=10):
        pytest.fail("an engine that never answered was used")


def test_sam_local_check_fails_with_the_reason_when_docker_cannot_run(no_docker):
    done = subprocess.run(
        [sys.executable, "-m", "devtools.samcheck"],
        cwd=ROOT,
        env=no_docker,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "sam-local-check FAILED: Docker cannot run here" in done.stderr and "no cgroups here" in done.stderr
    assert "passed" not in done.stdout


def test_an_interfaces_ipv4_address_is_read_from_it():
    # loopback stands in for docker0, which a dockerd stopped earlier leaves behind without a named gateway
    assert dockerhost.bridge_addresses("lo") == ["127.0.0.1"]
    assert dockerhost.bridge_addresses("no-such-bridge0") == []
