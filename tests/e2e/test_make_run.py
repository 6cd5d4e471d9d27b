"""`make run`'s own output: a taken port is one line naming it and its variable, another program's emulator is
never provisioned into, and a client that closes its connection leaves no traceback."""

import json
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from devstack import ports
from devstack.apigateway import make_server
from devstack.emulator import Emulator
from tests.e2e.localstack import ROOT


class Squatter:
    """Another program on a port (LocalStack, say): it answers 200 to anything and remembers what it got."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        squatter = self

        class Handler(BaseHTTPRequestHandler):
            def answer(self) -> None:
                squatter.requests.append(f"{self.command} {self.path}")
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = b'{"status": "running"}'
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = answer

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def squatters():
    started = [Squatter(), Squatter()]
    yield started
    for squatter in started:
        squatter.close()


def test_taken_ports_are_one_line_naming_each_port_and_its_variable(squatters):
    api, aws = squatters
    env = {"API_PORT": str(api.port), "AWS_PORT": str(aws.port), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "devstack"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert f"{api.port} (API_PORT)" in line and f"{aws.port} (AWS_PORT)" in line and "make run" in line
    assert aws.requests == [] and api.requests == []  # nothing asked of either


def test_the_one_line_offers_free_ports():
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        with pytest.raises(ports.PortTaken) as taken:
            ports.check({"API_PORT": port, "AWS_PORT": ports.free_port()})
    message = str(taken.value)
    assert f"port {port} (API_PORT) taken" in message and "AWS_PORT" not in message.split("run e.g.")[0]
    offered = int(message.split("API_PORT=")[-1].split()[0])
    assert ports.is_free(offered) and offered != port


def test_an_emulator_it_did_not_start_is_refused_and_never_called(squatters):
    """The race the check cannot close: the port is taken after it. The squatter answers every request with a
    200, as LocalStack would; the stack must notice that its own emulator is not the one answering."""
    squatter = squatters[0]
    with pytest.raises(ports.PortTaken, match=f"{squatter.port} \\(AWS_PORT\\)"):
        Emulator(squatter.port)
    assert not any(request.startswith("POST") for request in squatter.requests)


class BigAnswer:
    """A stand-in for the API function's pool: an answer large enough that a closed client breaks the write."""

    def invoke(self, event: dict) -> dict:
        return {"statusCode": 200, "body": json.dumps({"items": "x" * 4_000_000})}


def test_a_client_closing_its_connection_leaves_no_traceback(capfd):
    server = make_server("127.0.0.1", 0, BigAnswer())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for _ in range(3):
            client = socket.create_connection(server.server_address)
            client.sendall(b"GET /webhooks HTTP/1.1\r\nHost: x\r\n\r\n")
            client.recv(1024)  # the answer has begun
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            client.close()  # a reset, as a closed browser tab
        with socket.create_connection(server.server_address) as client:  # still serving
            client.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert client.recv(64).startswith(b"HTTP/1.1 200")
    finally:
        server.shutdown()
        server.server_close()
    assert "Traceback" not in capfd.readouterr().err
