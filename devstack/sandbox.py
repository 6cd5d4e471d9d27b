"""Execution environments in one process: who a function's calls act as, and that a killed one acts no more.

Every function instance of the local runtime runs in a Sandbox: the threads of its invocations,
and every thread those start, carry it. Its AWS calls are signed with its role's access key
(whatever client or session made them), so the emulator evaluates them against the role. When
Lambda would kill the invocation (its timeout), the sandbox is frozen: from that moment every
call it makes, to AWS or over HTTP, fails at the socket, as a frozen and discarded environment's
would never leave it.
"""

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from botocore.credentials import Credentials
from botocore.signers import RequestSigner

_ATTRIBUTE = "_devstack_sandbox"


class SandboxFrozen(ConnectionError):
    """A call from an invocation that Lambda has already killed."""


@dataclass
class Sandbox:
    function: str
    access_key: str | None = None  # its role's; None: the local stack's own credentials
    alive: bool = True
    credentials: Credentials | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if self.access_key:
            self.credentials = Credentials(self.access_key, "testing", "testing")

    def freeze(self) -> None:
        self.alive = False

    def check(self) -> None:
        if not self.alive:
            raise SandboxFrozen(f"{self.function}: the invocation timed out; Lambda froze its execution environment")


def current() -> Sandbox | None:
    return getattr(threading.current_thread(), _ATTRIBUTE, None)


@contextmanager
def inside(sandbox: Sandbox) -> Iterator[Sandbox]:
    """Run the block (e.g. a module's import) in `sandbox`, on this thread."""
    thread = threading.current_thread()
    before = getattr(thread, _ATTRIBUTE, None)
    setattr(thread, _ATTRIBUTE, sandbox)
    try:
        yield sandbox
    finally:
        setattr(thread, _ATTRIBUTE, before)


def run_in(sandbox: Sandbox, thread: threading.Thread) -> threading.Thread:
    """Start `thread` in `sandbox` (rather than in its starter's)."""
    setattr(thread, _ATTRIBUTE, sandbox)
    thread.start()
    return thread


# -- the hooks, installed once in the local runtime's process ----------------------------------

_start = threading.Thread.start
_get_auth_instance = RequestSigner.get_auth_instance


def _start_inheriting(self: threading.Thread) -> None:
    """A thread started in a sandbox (a pool's worker, an event loop's executor) is in it too."""
    if not hasattr(self, _ATTRIBUTE):
        setattr(self, _ATTRIBUTE, current())
    _start(self)


def _signed_as_role(self: RequestSigner, *args, request_credentials=None, **kwargs):
    sandbox = current()
    if sandbox is not None:
        sandbox.check()
        request_credentials = request_credentials or sandbox.credentials
    return _get_auth_instance(self, *args, request_credentials=request_credentials, **kwargs)


def _checked(method):
    def call(self, *args, **kwargs):
        if (sandbox := current()) is not None:
            sandbox.check()
        return method(self, *args, **kwargs)

    return call


def install() -> None:
    """Idempotent: the process's threads inherit sandboxes, signing and sockets honour them."""
    if threading.Thread.start is _start_inheriting:
        return
    threading.Thread.start = _start_inheriting
    RequestSigner.get_auth_instance = _signed_as_role
    RequestSigner.get_auth = _signed_as_role
    for name in ("connect", "connect_ex", "send", "sendall", "recv", "recv_into"):
        setattr(socket.socket, name, _checked(getattr(socket.socket, name)))
