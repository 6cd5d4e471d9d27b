"""`make bench`: latency and throughput of the local stack, and signing cost, against their floors.

- event → receiver: PutEvents on the local bus until the signed POST arrives at a loopback
  receiver, against the floor of a plain POST of the same body from this process.
- burst: N events put at once, until all N deliveries arrived.
- signing: both signature headers for a 4 KiB body, against one bare HMAC-SHA256.
"""

import json
import os
import statistics
import sys
import time
import timeit
import warnings

import boto3
import requests

from devstack.stack import Running, Settings
from devstack.token import mint
from tests.receiver import Receiver, free_port

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "40"))
BURST = int(os.environ.get("BENCH_BURST", "200"))


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered) * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms"


def put(events, company: str, index: int) -> None:
    detail = {"company": {"id": company}, "project": {"id": "p1"}, "currentValue": {"n": index, "title": "x" * 512}}
    events.put_events(
        Entries=[
            {
                "Source": "blue",
                "DetailType": "TODO_CREATED",
                "EventBusName": "blue-events",
                "Detail": json.dumps(detail),
            }
        ]
    )


def event_to_receiver(running: Running, receiver: Receiver, events) -> None:
    token = mint("bench", "u", "ADMIN", running.settings.jwt_secret)
    url = receiver.url("/bench")
    created = requests.post(
        f"{running.settings.api_url}/webhooks",
        json={"url": url, "events": ["TODO_CREATED"]},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    created.raise_for_status()
    put(events, "bench", -1)  # warm every function once
    receiver.wait_for("/bench", 1)

    latencies = []
    for index in range(ROUNDS):
        before = len(receiver.at("/bench"))
        started = time.time()
        put(events, "bench", index)
        latencies.append(receiver.wait_for("/bench", before + 1)[-1].at - started)

    body = receiver.at("/bench")[-1].body
    floor = []
    with requests.Session() as session:
        for _ in range(ROUNDS):
            started = time.time()
            session.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=10)
            floor.append(receiver.at("/bench")[-1].at - started)
    ratio = statistics.median(latencies) / statistics.median(floor)
    print(f"event → receiver ({ROUNDS} events)   {percentiles(latencies)}")
    print(f"floor: direct POST              {percentiles(floor)}   ratio {ratio:.1f}x")

    before = len(receiver.at("/bench"))
    started = time.time()
    for index in range(BURST):
        put(events, "bench", index)
    arrived = receiver.wait_for("/bench", before + BURST, timeout=120)
    elapsed = arrived[-1].at - started
    print(f"burst of {BURST} events            all delivered in {elapsed:5.2f} s = {BURST / elapsed:6.1f} events/s")


def signing() -> None:
    import hashlib
    import hmac

    from bluehooks.signing import generate_secret, signature_headers

    secret, body = generate_secret(), os.urandom(4096)
    number = 20000
    ours = timeit.timeit(lambda: signature_headers([secret], "msg_x", 1700000000, body), number=number) / number
    floor = timeit.timeit(lambda: hmac.new(secret.encode(), body, hashlib.sha256).digest(), number=number) / number
    print(
        f"signing 4 KiB (both schemes)    {ours * 1e6:7.1f} µs   floor: one HMAC {floor * 1e6:5.1f} µs   "
        f"ratio {ours / floor:.1f}x"
    )


def main() -> None:
    warnings.filterwarnings("ignore")
    import logging

    logging.disable(logging.WARNING)
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    sys.path.insert(0, "layers/bluehooks")
    signing()
    running = Running(Settings.from_env({**os.environ, "API_PORT": str(free_port()), "AWS_PORT": str(free_port())}))
    receiver = Receiver()
    try:
        event_to_receiver(running, receiver, boto3.client("events"))
    finally:
        receiver.close()
        running.stop()


if __name__ == "__main__":
    main()
