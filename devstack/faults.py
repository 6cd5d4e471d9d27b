"""AWS's own faults, injected by the emulator into the functions' calls: off unless a knob is set.

`make run` sets none; the chaos ledger (tests/e2e/test_chaos.py, `make chaos`) sets them all.
- AWS_FAULT_THROTTLE_RATE: this share of the calls the functions' roles make fails throttled, as
  each service throttles (DynamoDB ProvisionedThroughputExceededException, SQS RequestThrottled,
  the others ThrottlingException); botocore retries them with backoff, as on AWS.
- AWS_FAULT_LATENCY: brownouts, "service=rate:seconds,...": that share of a service's calls is
  answered that many seconds late.
- AWS_FAULT_SQS_DUPLICATE_RATE: this share of the messages an event source receives is received
  again by another consumer (SQS delivers at least once): the message turns visible at once.
- AWS_FAULT_EVENTBRIDGE_DUPLICATE_RATE: this share of the events a rule hands to a function is
  invoked twice (EventBridge delivers at least once), the same for a rule's tap.
- AWS_FAULT_STALE_READ_SECONDS: an eventually consistent GetItem or BatchGetItem answers each item as
  it was that many seconds ago, as a replica that has not caught up may (devstack.motoserver).
AWS_FAULT_SEED seeds them. GET /_devstack/faults answers the faults injected so far, by kind.
"""

import json
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable

# botocore retries each of these as a throttle (botocore/retries/standard.py, _THROTTLED_ERROR_CODES).
THROTTLES = {
    "dynamodb": ("ProvisionedThroughputExceededException", "com.amazonaws.dynamodb.v20120810#"),
    "sqs": ("RequestThrottled", "com.amazonaws.sqs#"),
}
THROTTLE = ("ThrottlingException", "com.amazon.coral.availability#")
FAULTS_PATH = "/_devstack/faults"


def _latencies(spec: str) -> dict[str, tuple[float, float]]:
    """ "dynamodb=0.05:2,sqs=0.1:1" → {service: (rate, seconds)}."""
    latencies = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        service, _, value = part.partition("=")
        rate, _, seconds = value.partition(":")
        latencies[service.strip()] = (float(rate), float(seconds))
    return latencies


class Faults:
    def __init__(self, env: dict[str, str]) -> None:
        self.throttle_rate = float(env.get("AWS_FAULT_THROTTLE_RATE", 0))
        self.latency = _latencies(env.get("AWS_FAULT_LATENCY", ""))
        self.sqs_duplicate_rate = float(env.get("AWS_FAULT_SQS_DUPLICATE_RATE", 0))
        self.eventbridge_duplicate_rate = float(env.get("AWS_FAULT_EVENTBRIDGE_DUPLICATE_RATE", 0))
        self.stale_read_seconds = float(env.get("AWS_FAULT_STALE_READ_SECONDS", 0))
        self._random = random.Random(int(env.get("AWS_FAULT_SEED", 0)))  # noqa: S311 - faults, not secrets
        self._lock = threading.Lock()
        self.injected: Counter[str] = Counter()

    def strikes(self, rate: float, kind: str) -> bool:
        if rate <= 0:
            return False
        with self._lock:
            if self._random.random() >= rate:
                return False
            self.injected[kind] += 1
        return True

    def count(self, kind: str) -> None:
        """A fault that follows from a knob rather than chance (a stale read)."""
        with self._lock:
            self.injected[kind] += 1

    def throttle(self, service: str, start_response) -> list[bytes] | None:
        """A throttled answer for this call of a function's role, or None."""
        if not self.strikes(self.throttle_rate, f"{service} throttled"):
            return None
        code, namespace = THROTTLES.get(service, THROTTLE)
        headers = [("Content-Type", "application/x-amz-json-1.0")]
        if service == "sqs":
            headers.append(("x-amzn-query-error", f"{code};Sender"))
        start_response("400 Bad Request", headers)
        return [json.dumps({"__type": namespace + code, "message": "Rate exceeded"}).encode()]

    def brownout(self, service: str) -> None:
        rate, seconds = self.latency.get(service, (0, 0))
        if self.strikes(rate, f"{service} slow ({seconds:g} s)"):
            time.sleep(seconds)

    def duplicates(self, queue_name: str, messages: list) -> None:
        """Messages an event source received that another consumer receives too: visible again at once."""
        tap = queue_name.endswith("-tap")
        rate = self.eventbridge_duplicate_rate if tap else self.sqs_duplicate_rate
        kind = "EventBridge invoked twice" if tap else "SQS received twice"
        for message in messages:
            if self.strikes(rate, kind):
                message.change_visibility(0)

    def answer(self, start_response) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "application/json")])
        with self._lock:
            return [json.dumps(dict(self.injected)).encode()]


class StaleReads:
    """Each item's versions written in the last `seconds` (AWS_FAULT_STALE_READ_SECONDS; devstack.motoserver
    serves eventually consistent reads from them): a read answers the version before the first of them."""

    def __init__(self, seconds: float, count: Callable[[str], None], clock: Callable[[], float] = time.monotonic):
        self.seconds, self.count, self.clock = seconds, count, clock
        self.lock = threading.Lock()
        self.writes: dict[str, list[tuple[float, object]]] = {}  # item → (when written, the item before)

    @staticmethod
    def _name(table_name: str, key: dict) -> str:
        return table_name + json.dumps(key, sort_keys=True)

    def written(self, table_name: str, key: dict, before: object) -> None:
        now = self.clock()
        with self.lock:
            kept = [w for w in self.writes.get(self._name(table_name, key), []) if w[0] > now - self.seconds]
            self.writes[self._name(table_name, key)] = [*kept, (now, before)]
            if len(self.writes) > 10_000:  # items not written lately are read as they are: forget them
                self.writes = {name: w for name, w in self.writes.items() if w[-1][0] > now - self.seconds}

    def read(self, table_name: str, key: dict, current: object) -> object:
        horizon = self.clock() - self.seconds
        with self.lock:
            since = [before for at, before in self.writes.get(self._name(table_name, key), []) if at > horizon]
        if not since:
            return current
        self.count("dynamodb stale read")
        return since[0]


faults = Faults(dict(os.environ))
