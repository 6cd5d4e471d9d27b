"""Run a function's handler as Lambda runs it with active tracing, and read what it sends the X-Ray daemon."""

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRACE_ID = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


def run_traced(function_dir: str, function_name: str, script: str, *args: str) -> tuple[str, list[str]]:
    """Run `script` (python -c) as if in Lambda with tracing on; its stdout, and every datagram the tracer sent."""
    daemon = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    daemon.bind(("127.0.0.1", 0))
    daemon.settimeout(0.5)
    env = {
        **os.environ,
        "LAMBDA_TASK_ROOT": str(ROOT / function_dir),
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "_X_AMZN_TRACE_ID": TRACE_ID,
        "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{daemon.getsockname()[1]}",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "POWERTOOLS_TRACE_DISABLED": "false",
        "PYTHONPATH": str(ROOT),  # devstack; the layer is installed, and load_handler adds it as /opt/python
    }
    run = subprocess.run(
        [sys.executable, "-c", script, *args], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    recorded = []
    while True:
        try:
            recorded.append(daemon.recv(65536).decode())
        except TimeoutError:
            break
    daemon.close()
    assert any("lambda_handler" in datagram for datagram in recorded), recorded  # the tracer did record
    return run.stdout, recorded
