"""Docker on this machine, for `sam local`: the engine (installed and started when absent), its bridge, a forward.

Debian's docker.io is installed with apt-get when no `dockerd` is on PATH; a `dockerd` is started
when none answers, and only that one is stopped afterwards. SAM's containers reach the host at
host.docker.internal, the docker0 bridge's gateway address; the local stack listens on 127.0.0.1
only, so `forward` relays one port from that bridge address, and from nowhere else, to loopback.
"""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

APT_PACKAGES = ("docker.io",)
# Our dockerd changes nothing of the host's firewall or routing: without its iptables rules (NAT, a
# FORWARD policy of DROP) and IP forwarding, a container reaches this machine's bridge address and
# nothing beyond it, which is all `sam local` needs here.
DOCKERD_FLAGS = ("--iptables=false", "--ip-forward=false")
SAM_LABEL = "sam.cli.container.type"  # on every container `sam local` starts (samcli's lambda_container.py)


class DockerUnavailable(RuntimeError):
    """Docker cannot run here; the message says why."""


def run(*command: str, timeout: float = 120, **kwargs) -> str:
    """The command's output; its error output in the exception when it fails."""
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False, **kwargs)
    if done.returncode != 0:
        raise subprocess.CalledProcessError(done.returncode, command, done.stdout, done.stderr)
    return done.stdout


def apt_install(*packages: str) -> None:
    """apt-get install, with one `apt-get update` before it when the package lists are missing or stale."""
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ("apt-get", "install", "-y", "-q", "--no-install-recommends", *packages)
    try:
        run(*install, timeout=600, env=environment)
    except subprocess.CalledProcessError:
        run("apt-get", "update", "-q", timeout=600, env=environment)
        try:
            run(*install, timeout=600, env=environment)
        except subprocess.CalledProcessError as exc:
            raise DockerUnavailable(f"apt-get install {' '.join(packages)} failed: {exc.stderr[-2000:]}") from exc


def install_engine() -> str:
    """Debian's docker.io when no dockerd is on PATH (once: the next run finds it)."""
    if shutil.which("dockerd"):
        return "present"
    if os.geteuid() != 0:
        raise DockerUnavailable("no dockerd on PATH, and installing docker.io needs root")
    apt_install(*APT_PACKAGES)
    return "installed docker.io"


def answers() -> bool:
    try:
        run("docker", "info", "--format", "{{.ServerVersion}}", timeout=20)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, FileNotFoundError):
        return False
    return True


@contextlib.contextmanager
def engine(log_dir: Path, timeout: float = 60) -> Iterator[str]:
    """A Docker engine that answers: the running one, else a dockerd of ours, stopped on leaving."""
    if answers():
        yield "already running"
        return
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / "dockerd.log"
    with log.open("w") as out:
        daemon = subprocess.Popen(
            ["dockerd", *DOCKERD_FLAGS], stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + timeout
        while not answers():
            if daemon.poll() is not None or time.monotonic() > deadline:
                raise DockerUnavailable(f"dockerd did not start (exit {daemon.poll()}): {log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield f"started dockerd (pid {daemon.pid}, log {log})"
    finally:
        stop(daemon)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL after 30 s: a daemon or server this run started."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def bridge_gateway(timeout: float = 30) -> str:
    """docker0's address on the host: where host.docker.internal (host-gateway) points in a container.

    A dockerd that has just started may answer before its bridge network has its address: asked again. One
    that found docker0 left by an earlier dockerd (stopped, e.g. by a test) keeps the bridge's address but names
    no gateway: the bridge's own IPv4 address is the gateway then."""
    deadline = time.monotonic() + timeout
    while True:
        config = json.loads(run("docker", "network", "inspect", "bridge", "--format", "{{json .IPAM.Config}}"))
        gateways = [entry["Gateway"] for entry in config or [] if ":" not in entry.get("Gateway", ":")]
        if gateways or (gateways := bridge_addresses()):
            return gateways[0]
        if time.monotonic() > deadline:
            raise DockerUnavailable(f"Docker's bridge network has no IPv4 gateway: {config}")
        time.sleep(0.5)


def bridge_addresses(bridge: str = "docker0") -> list[str]:
    """The bridge interface's IPv4 addresses (`ip -4 -o addr show dev docker0`: "... inet 172.17.0.1/16 ...")."""
    try:
        shown = run("ip", "-4", "-o", "addr", "show", "dev", bridge, timeout=10)
    except (OSError, subprocess.CalledProcessError):
        return []
    words = shown.split()
    return [words[at + 1].split("/")[0] for at, word in enumerate(words[:-1]) if word == "inet"]


def sam_containers() -> set[str]:
    return set(run("docker", "ps", "-aq", "--filter", f"label={SAM_LABEL}").split())


def remove_containers(ids: set[str]) -> int:
    """Remove these containers (SAM leaves warm ones behind when it is stopped)."""
    if ids:
        run("docker", "rm", "-f", *sorted(ids))
    return len(ids)


@contextlib.contextmanager
def forward(bind_address: str, target_port: int) -> Iterator[int]:
    """Relay connections to `bind_address`:<port> (yielded) to 127.0.0.1:`target_port`, until leaving.

    It binds the bridge address alone, never 0.0.0.0: only this machine's containers reach it, and
    it connects to loopback only."""
    listener = socket.create_server((bind_address, 0))
    listener.settimeout(0.5)
    stopping = threading.Event()

    def accept() -> None:
        while not stopping.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=_relay, args=(client, target_port), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stopping.set()
        thread.join(timeout=5)
        listener.close()


def _relay(client: socket.socket, target_port: int) -> None:
    try:
        upstream = socket.create_connection(("127.0.0.1", target_port), timeout=10)
    except OSError:
        client.close()
        return
    for sock in (client, upstream):
        sock.settimeout(None)

    def pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    back = threading.Thread(target=pump, args=(upstream, client), daemon=True)
    back.start()
    pump(client, upstream)
    back.join()
    client.close()
    upstream.close()
