"""`python -m bench coldstart`: each function's init time beside a bare boto3 init, measured in the same run.

A function's init is the import of its handler module (`app.py`): its imports and whatever it builds
at module level, boto3 clients included. Each is timed in a fresh interpreter, as Lambda starts it:
- the layer's packages only (those of layers/bluehooks/requirements.txt, linked from this venv);
- the layer and the function's folder on sys.path;
- the template's variables, resolved on a short-lived emulator;
- LAMBDA_TASK_ROOT, so that Powertools' Tracer is on and patches botocore, as on Lambda;
- AWS_ENDPOINT_URL on an unused loopback port: init makes no AWS call, and one would fail.

The floor is a fresh interpreter doing `import boto3, requests` and creating the boto3 clients and
resources the function created at init (recorded from the function's own import). Interpreter
start-up is in neither. `python -X importtime` then says where each function's extra time goes.

Then each function as `sam build` made it (.aws-sam/build: its folder and the layer's python/), with the
layer's .pyc files and without any (a pycache prefix on an empty folder), as Lambda's read-only /opt
would have it with a layer built without bytecode. Nothing is written: PYTHONDONTWRITEBYTECODE.
"""

import copy
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from importlib.metadata import distribution
from pathlib import Path

from devstack.emulator import Emulator
from devstack.samenv import environments
from devstack.stack import REGION, local_parameters, point_boto3_at
from devstack.template import ROOT, LocalStack, load_template
from devtools.receiver import free_port

RUNS = int(os.environ.get("BENCH_COLDSTART_RUNS", "15"))
BUILT_RUNS = int(os.environ.get("BENCH_COLDSTART_BUILT_RUNS", "5"))  # a run without bytecode takes ~1.5 s
TOP = 5  # packages shown per function
IMPORT_RUNS = 3
# Packages that come only with another one are counted as that one.
PACKAGE_OF = {
    "pydantic_core": "pydantic",
    "annotated_types": "pydantic",
    "typing_inspection": "pydantic",
    "wrapt": "aws_xray_sdk",
}
LAYER_REQUIREMENTS = ROOT / "layers/bluehooks/requirements.txt"
BUILD = ROOT / ".aws-sam/build"
BUILT_LAYER = BUILD / "DomainLayer/python"

# One interpreter's work. argv: mode, the layer's packages, JSON (sys.path entries, or the clients to make).
# It prints JSON: the seconds taken, those spent making clients and those in garbage collections, or the
# clients the function made. Under -X importtime the collector is off: a collection would count in whichever
# module it interrupted (one gen-2 collection takes ~15 ms); its time is reported on its own instead.
RUNNER = """
import gc, json, sys, time
mode, arg = sys.argv[1], json.loads(sys.argv[3])
collected = [0.0, 0.0]  # seconds in collections; the current one's start
def timed(phase, info):
    if phase == "start":
        collected[1] = time.process_time()
    else:
        collected[0] += time.process_time() - collected[1]
gc.callbacks.append(timed)
if "importtime" in sys._xoptions:
    gc.disable()
sys.path.insert(0, sys.argv[2])
if mode == "clients":  # untimed: which boto3 clients and resources the function makes at init
    import boto3.session
    made, depth, Session = [], [0], boto3.session.Session
    def recording(kind, make):
        def made_by(self, service, *args, **kwargs):
            if not depth[0]:  # a resource makes a client of its own
                made.append((kind, service))
            depth[0] += 1
            try:
                return make(self, service, *args, **kwargs)
            finally:
                depth[0] -= 1
        return made_by
    Session.client, Session.resource = recording("client", Session.client), recording("resource", Session.resource)
    sys.path[:0] = arg
    import app
    print(json.dumps(made))
    sys.exit()
started = clients = time.process_time()
if mode == "function":
    sys.path[:0] = arg
    import app
else:
    import boto3, requests
    clients = time.process_time()
    for kind, service in arg:
        getattr(boto3, kind)(service)
ended = time.process_time()
print(json.dumps({"seconds": ended - started, "clients": ended - clients, "gc": collected[0]}))
"""


class Function:
    """One function of the template, as Lambda would start it here."""

    def __init__(self, stack: LocalStack, logical_id: str, env: dict[str, str], packages: Path):
        handler, _ = stack.handler_path(logical_id)
        self.logical_id = logical_id
        self.name = handler.parent.name
        self.folder = handler.parent
        self.packages = str(packages)
        self.paths = [str(path) for path in (*stack.layer_paths(logical_id), self.folder)]
        self.env = {
            "PATH": os.environ.get("PATH", ""),
            **env,
            "LAMBDA_TASK_ROOT": str(self.folder),
            "AWS_LAMBDA_FUNCTION_NAME": logical_id,
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
            "_HANDLER": stack.functions()[logical_id]["Handler"],
        }
        self.clients: list[list[str]] = json.loads(self.run("clients").stdout)
        self.collections: dict[str, list[float]] = {"function": [], "bare": []}  # GC seconds of each timed run

    def as_built(self, bytecode: bool, empty: Path) -> "Function":
        """This function from .aws-sam/build, with the layer's .pyc files or with none (`empty` holds none)."""
        built = copy.copy(self)
        built.folder = BUILD / self.logical_id
        built.packages = str(BUILT_LAYER)
        built.paths = [str(built.folder)]
        built.collections = {"function": [], "bare": []}
        built.env = {**self.env, "LAMBDA_TASK_ROOT": str(built.folder), "PYTHONDONTWRITEBYTECODE": "1"}
        if not bytecode:  # bytecode is then looked for there only
            built.env["PYTHONPYCACHEPREFIX"] = str(empty)
        return built

    def run(self, mode: str, *flags: str) -> subprocess.CompletedProcess:
        arg = self.clients if mode == "bare" else self.paths
        done = subprocess.run(
            # -S: no site-packages, only the layer's (PyJWT, say, finds no cryptography there, nor on Lambda)
            [sys.executable, "-S", *flags, "-c", RUNNER, mode, self.packages, json.dumps(arg)],
            env=self.env,
            cwd=self.folder,  # /var/task on Lambda
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            raise RuntimeError(f"{self.name} {mode} failed:\n{done.stderr[-2000:]}")
        return done

    def seconds(self, mode: str) -> float:
        timed = json.loads(self.run(mode).stdout)
        self.collections[mode].append(timed["gc"])
        return timed["seconds"]

    def costs(self, mode: str) -> Counter:
        """Microseconds in each package's own module bodies (-X importtime), each module's least of
        IMPORT_RUNS runs, without garbage collection; the bare run's clients count as `app`, as a function's do
        (in its app.py). The timed runs' garbage collections (median) count as `gc`."""
        least: dict[str, int] = {}
        for _ in range(IMPORT_RUNS):
            done = self.run(mode, "-X", "importtime")
            seen = {"app": round(json.loads(done.stdout)["clients"] * 1e6)} if mode == "bare" else {}
            for line in done.stderr.splitlines():
                own, _, module = (part.strip() for part in line.partition("import time:")[2].split("|"))
                if own.isdigit():
                    seen[module] = int(own)
            least = {module: min(us, least.get(module, us)) for module, us in seen.items()}
        costs: Counter = Counter({"gc": round(statistics.median(self.collections[mode]) * 1e6)})
        for module, us in least.items():
            top = module.split(".")[0]
            costs[PACKAGE_OF.get(top, top)] += us
        return costs


def layer_packages(folder: Path) -> Path:
    """A folder holding only what `sam build` puts in the layer: links to those packages in this venv."""
    for line in LAYER_REQUIREMENTS.read_text().splitlines():
        name = re.split(r"[\s\[=<>;#]", line.strip(), maxsplit=1)[0]
        if name:
            dist = distribution(name)
            tops = {file.parts[0] for file in dist.files or ()} - {"..", "__pycache__", "bin"}
            for top in tops:
                if not top.endswith(".data") and not (folder / top).exists():
                    (folder / top).symlink_to(Path(dist.locate_file(top)))
    return folder


def functions(packages: Path) -> list[Function]:
    """Every function of the template; their resources are made on an emulator that lives only for this."""
    emulator = Emulator(free_port())
    try:
        point_boto3_at(emulator.url)
        stack = LocalStack(load_template(), local_parameters(os.environ), REGION).provision()
        unused = f"http://127.0.0.1:{free_port()}"  # nothing listens there
        envs = environments(stack, unused, {})  # no local flags: tracing on, as on Lambda
    finally:
        emulator.stop()
    return [Function(stack, logical_id, envs[logical_id], packages) for logical_id in stack.functions()]


def coldstart() -> None:
    with tempfile.TemporaryDirectory() as folder:
        measured = functions(layer_packages(Path(folder)))
        print(
            f"cold start: CPU ms, {RUNS} fresh interpreters each   init: median, min   "
            "floor: bare boto3+requests   ratio: medians, mins"
        )
        for function in measured:
            print(row(function), flush=True)
        print(
            f"what each init spends beyond the bare one: the top {TOP} packages (-X importtime, own module bodies,"
            " collector off), gc: garbage collections (timed runs, median)"
        )
        for function in measured:
            extra = function.costs("function")
            extra.subtract(function.costs("bare"))
            print(f"{function.name:9}", ", ".join(f"{name} {us / 1000:.0f} ms" for name, us in extra.most_common(TOP)))
        bytecode_gain(measured, Path(folder) / "no-bytecode")  # a pycache prefix where nothing is


def bytecode_gain(measured: list[Function], empty: Path) -> None:
    """Each function's init from the built artefacts, with the layer's bytecode and without."""
    if not BUILT_LAYER.is_dir():
        print("built layer: none (.aws-sam/build); `make template` or `make build` builds it")
        return
    compiled = sum(1 for _ in BUILT_LAYER.rglob("*.pyc"))
    print(
        f"built layer ({compiled} .pyc files, as of the last sam build): init, CPU ms, median of {BUILT_RUNS}   "
        "with its .pyc   without any   saved"
    )
    for function in measured:
        with_pyc, without = function.as_built(True, empty), function.as_built(False, empty)
        fast, slow = [], []
        for _ in range(BUILT_RUNS):
            fast.append(with_pyc.seconds("function"))
            slow.append(without.seconds("function"))
        fast_ms, slow_ms = statistics.median(fast) * 1000, statistics.median(slow) * 1000
        print(
            f"{function.name:9}{fast_ms:28.0f} ms {slow_ms:11.0f} ms",
            f"{slow_ms - fast_ms:6.0f} ms ({slow_ms / fast_ms:.1f}x)",
        )


def row(function: Function) -> str:
    inits, bares = [], []
    for _ in range(RUNS):  # interleaved, so that a busy moment slows both
        inits.append(function.seconds("function"))
        bares.append(function.seconds("bare"))
    init, bare = statistics.median(inits), statistics.median(bares)
    clients = ", ".join(service for _, service in function.clients)
    return (
        f"{function.name:9} ({clients})".ljust(42)
        + f"{init * 1000:5.0f} ms {min(inits) * 1000:5.0f} ms    {bare * 1000:5.0f} ms {min(bares) * 1000:5.0f} ms"
        + f"{init / bare:10.2f}x {min(inits) / min(bares):5.2f}x"
    )
