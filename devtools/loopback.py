"""A webhook receiver on loopback for `make demo` and `make listen`, and the customers' verification module."""

import importlib.util
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType

from devstack.template import ROOT

RECEIVERS = ROOT / "receivers" / "python"
VERIFY_MODULE = "blue_webhooks_verify"
MAX_BODY = 2**20  # a delivery is far smaller; anything else on this machine may POST here too


def verification_module() -> ModuleType:
    """receivers/python/blue_webhooks_verify.py, loaded as a customer's copy is: a standalone file, not a package.

    Loaded from its path once, and kept as `blue_webhooks_verify` (as an import would), without adding
    receivers/python to everyone's sys.path."""
    if loaded := sys.modules.get(VERIFY_MODULE):
        return loaded
    spec = importlib.util.spec_from_file_location(VERIFY_MODULE, RECEIVERS / f"{VERIFY_MODULE}.py")
    module = sys.modules[VERIFY_MODULE] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Arrival:
    """One POST as it arrived: the raw body bytes, which is what signatures cover."""

    path: str
    headers: dict[str, str]
    body: bytes
    at: float


class Loopback:
    """Hands each POST to `respond`, answers the status it returns; serves until close()."""

    def __init__(self, respond: Callable[[Arrival], int], port: int = 0):
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = self.headers.get("Content-Length", "0")
                if not length.isascii() or not length.isdigit() or int(length) > MAX_BODY:
                    status, self.close_connection = 413, True  # unread: the connection cannot be reused
                else:
                    body = self.rfile.read(int(length))
                    status = respond(Arrival(self.path, dict(self.headers.items()), body, time.time()))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:  # the tools print their own lines
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, name="loopback", daemon=True).start()

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
