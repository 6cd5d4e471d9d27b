"""Local Lambda runtime: load a handler module per instance and invoke it like Lambda does.

Each instance is a separate import of the function's module, as each Lambda execution
environment is, so module-level state (clients, resolvers, batch processors) is never
shared by two invocations running at the same time. Each runs in a Sandbox of its own
(devstack.sandbox): its AWS calls are signed as the function's role, and once Lambda would have
killed it (its timeout) none of its calls leaves the process any more.
"""

import importlib.util
import inspect
import queue
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devstack import sandbox as sandboxes
from devstack.sandbox import Sandbox, inside, run_in


@dataclass
class LambdaContext:
    function_name: str
    timeout_seconds: float = 30
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:local:123456789012:function:{self.function_name}"

    @property
    def function_version(self) -> str:
        return "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000))


def load_handler(path: Path, function: str, layer_paths: list[Path]) -> Callable:
    """A fresh copy of the handler's module, named as Lambda names it and kept out of sys.modules
    (so each copy is independent)."""
    for folder in (*layer_paths, path.parent):  # as /opt/python and /var/task are on Lambda's path
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, function)


def root_of(handler: Callable) -> Any:
    """The composition root the handler's module built (bluehooks.roots): the one seam into a loaded function,
    for tests, benches and the chaos mode to observe its services or wrap its clients."""
    return inspect.unwrap(handler).__globals__["root"]


class Invocations:
    """Every invocation of this process's functions, by function: count, errors, and seconds run
    (what Lambda bills as duration), and when each started (what X-Ray's sampling goes by). A counter
    shared by all pools, so that a bench can diff it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[str, dict[str, float]] = {}
        self.starts: dict[str, list[float]] = {}  # time.monotonic()

    def add(self, function: str, seconds: float, failed: bool) -> None:
        with self.lock:
            self.starts.setdefault(function, []).append(time.monotonic() - seconds)
            row = self.counts.setdefault(function, {"invocations": 0, "errors": 0, "seconds": 0.0})
            row["invocations"] += 1
            row["errors"] += failed
            row["seconds"] += seconds

    def snapshot(self) -> dict[str, dict[str, float]]:
        with self.lock:
            return {function: dict(row) for function, row in self.counts.items()}

    def started_since(self, moment: float) -> dict[str, list[float]]:
        """Each function's invocations that started at `moment` (time.monotonic()) or later: when."""
        with self.lock:
            return {function: [at for at in starts if at >= moment] for function, starts in self.starts.items()}

    def since(self, before: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        """What each function invoked since `before` (a snapshot) did: only those invoked."""
        return {
            function: {key: value - before.get(function, {}).get(key, 0) for key, value in row.items()}
            for function, row in self.snapshot().items()
            if row["invocations"] > before.get(function, {}).get("invocations", 0)
        }


invocations = Invocations()


class FunctionTimedOut(Exception):
    """The invocation ran past the function's timeout: Lambda would have killed it."""


class FunctionPool:
    """Up to `instances` concurrent invocations of one function, each on its own module copy.

    As on Lambda, an invocation that outlives the function's timeout fails, whatever it goes on
    to do: its result is thrown away and its execution environment (the module copy) replaced.
    """

    def __init__(
        self,
        name: str,
        path: Path,
        function: str,
        layer_paths: list[Path],
        instances: int,
        timeout: float,
        prepare: Callable[[str, Callable], Callable] | None = None,
        access_key: str | None = None,
    ):
        self.name = name
        self.timeout = timeout
        prepare = prepare or (lambda _name, handler: handler)
        self._prepare = lambda: prepare(name, load_handler(path, function, layer_paths))
        self.access_key = access_key  # the function's role's (devstack.roles): its calls act as the role
        sandboxes.install()
        self._idle: queue.Queue[tuple[Callable, Sandbox]] = queue.Queue()
        for _ in range(instances):
            self._idle.put(self._load())

    def _load(self) -> tuple[Callable, Sandbox]:
        """A new instance: its module imported inside its sandbox (import-time clients and threads are its own)."""
        with inside(Sandbox(self.name, self.access_key)) as sandbox:
            return self._prepare(), sandbox

    def roots(self) -> list[Any]:
        """The composition roots of the instances not running now (root_of), for tests to observe or wrap."""
        return [root_of(handler) for handler, _ in list(self._idle.queue)]

    def invoke(self, event: dict[str, Any], request_id: str | None = None) -> Any:
        """One invocation; the retries of an asynchronous invocation share its request id."""
        handler, sandbox = self._idle.get()
        context = LambdaContext(self.name, self.timeout)
        if request_id:
            context.aws_request_id = request_id
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                outcome["result"] = handler(event, context)
            except BaseException as exc:  # handed to the caller, as Lambda reports a function error
                outcome["error"] = exc

        worker = run_in(sandbox, threading.Thread(target=run, name=f"{self.name}-invocation", daemon=True))
        worker.join(self.timeout)
        if worker.is_alive():
            sandbox.freeze()  # from now on its calls fail; the copy is abandoned, as Lambda kills its environment
        invocations.add(self.name, time.monotonic() - context.started, not sandbox.alive or "error" in outcome)
        if not sandbox.alive:
            self._idle.put(self._load())
            raise FunctionTimedOut(f"{self.name} timed out after {self.timeout:g} s")
        self._idle.put((handler, sandbox))
        if "error" in outcome:
            raise outcome["error"]
        return outcome["result"]
