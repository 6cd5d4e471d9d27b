"""AWS calls bounded by the invocation's remaining time: a record's calls never outlive its invocation.

Lambda kills an invocation at its timeout, and then the whole batch comes back, POSTs included.
botocore alone may spend (connect + read timeout) × attempts on one call, retries of throttles
and brownouts included, and a record makes several calls after its POST. So a record runs
`within` a deadline (the invocation's end, less what the handler needs to return), and a bounded
client sends an attempt (the first or a retry) only when a whole attempt still fits before it
(a retry's backoff, at most a few seconds with three attempts, comes out of the reserve);
otherwise the call fails with DeadlineReached, and the record is reported as a batch item failure
while the invocation still answers in time.
"""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_local = threading.local()


class DeadlineReached(Exception):
    """An AWS call that would not end before the invocation's deadline was not started."""


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """The calls this thread makes in the block must end within `seconds` from now."""
    before = getattr(_local, "deadline", None)
    _local.deadline = time.monotonic() + seconds
    try:
        yield
    finally:
        _local.deadline = before


def require(seconds: float, what: str) -> None:
    """Raise DeadlineReached unless `seconds` from now still end before this thread's deadline (if any)."""
    deadline = getattr(_local, "deadline", None)
    if deadline is not None and time.monotonic() + seconds > deadline:
        raise DeadlineReached(f"{what} may take {seconds:g} s: it would end after the deadline")


def bounded(client: Any) -> Any:
    """`client` (boto3), whose every attempt must fit the current thread's deadline, if it has one."""
    config = client.meta.config
    attempt_seconds = (config.connect_timeout or 60) + (config.read_timeout or 60)

    def check(**_: Any) -> None:
        require(attempt_seconds, "an attempt")

    # Before each attempt's request is sent, retries included; raised there, it is not retried.
    client.meta.events.register_first("before-send.*.*", check)
    return client
