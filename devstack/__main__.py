"""`python -m devstack` (what `make run` starts): the whole system on this machine, in the foreground."""

import logging
import os
import signal
import sys

from devstack import samenv
from devstack.ports import PortTaken
from devstack.quickstart import quickstart
from devstack.stack import Running, Settings
from devstack.token import quiet_local_default


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for noisy in ("werkzeug", "botocore.credentials", "botocore.configprovider"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    settings = Settings.from_env(dict(os.environ))
    quiet_local_default(settings.jwt_secret)
    try:
        running = Running(settings)
    except PortTaken as taken:  # one line, no traceback: which port, and the variable to set
        print(taken, file=sys.stderr)
        sys.exit(1)
    if env_file := samenv.publish(running.stack, settings.aws_port, os.environ):
        logging.getLogger("devstack").info("wrote %s for sam local (--env-vars); make sam-env rewrites it", env_file)
    allowed = running.stack.parameter("AllowPrivateTargets") == "true"
    if allowed:
        logging.getLogger("devstack").warning(
            "ALLOW_PRIVATE_TARGETS=true: webhooks may target loopback addresses (local use only)"
        )
    if running.chaos:
        logging.getLogger("devstack").warning("CHAOS_RATE=%s: faults are injected on our side", running.chaos.rate)
    print(running.ready_line(), flush=True)
    print(quickstart(settings, running.stack.output("EventBusName")), flush=True)
    for stop_signal in (signal.SIGINT, signal.SIGTERM):  # Ctrl-C, or a supervisor
        signal.signal(stop_signal, lambda *_: running.stop_event.set())
    while not running.stop_event.wait(timeout=1):
        pass
    print("stopping…", flush=True)
    running.stop()
    if running.chaos:
        print(f"chaos injected: {running.chaos.injected}", flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
