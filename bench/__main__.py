"""`make bench`: latency and throughput of the local stack, and signing cost, against their floors.

- event → receiver: PutEvents on the local bus until the signed POST arrives at a loopback
  receiver, against the floor of a plain POST of the same body from this process.
- burst: N events put at once, until all N deliveries arrived.
- signing: both signature headers for a 4 KiB body, against one bare HMAC-SHA256.
- filters: the worst a company's filters cost one event, per KB, before and after the budget, beside json.loads
  (bench/filters.py).
- fan-out: one event to 1, 100, 1,000 and 10,000 matching webhooks, with and without filters:
  items read, SQS calls and time per event, against the floor of the same SendMessageBatch
  calls made bare, in the same run.

- engine: batch wall time, CPU per message and a hanging endpoint's cost (bench/engine.py).
- cost: AWS calls per delivered event and their price per million events (bench/cost.py).
- coldstart: each function's init beside a bare boto3 init, in fresh interpreters (bench/coldstart.py).

`python -m bench fanout` runs one section (signing, filters, coldstart, delivery, fanout, cost, engine); no
argument runs all; `--page` writes each section's tables into docs/benchmarks.md (bench/page.py), as
`make bench` does.
The stack runs with a 2 s delivery deadline and retries an hour apart, so that the benches' own
failed attempts do not come back while they measure.
"""

import argparse
import json
import os
import statistics
import sys
import threading
import time
import timeit
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

import boto3
import requests

from bench.coldstart import coldstart
from bench.cost import cost
from bench.engine import engine
from bench.page import PAGE, Sections
from devstack.stack import Running, Settings
from devstack.token import mint
from devtools.receiver import Receiver, free_port

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "40"))
BURST = int(os.environ.get("BENCH_BURST", "200"))
FANOUT_SIZES = [int(size) for size in os.environ.get("BENCH_FANOUT_SIZES", "1,100,1000,10000").split(",")]
FANOUT_FILTER = {"project": {"id": ["p1"]}, "currentValue": {"title": [{"prefix": "x"}]}}  # the events match it
SECTIONS = ("signing", "filters", "coldstart", "delivery", "fanout", "cost", "engine")


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
    hops = aws_hops(events, body)
    floor = []
    with requests.Session() as session:
        for _ in range(ROUNDS):
            started = time.time()
            session.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=10)
            floor.append(receiver.at("/bench")[-1].at - started)
    ratio = statistics.median(latencies) / statistics.median(floor)
    print(f"event → receiver ({ROUNDS} events)   {percentiles(latencies)}")
    print(f"floor: direct POST              {percentiles(floor)}   ratio {ratio:.1f}x")
    ratio = statistics.median(latencies) / statistics.median(hops)
    print(f"floor: PutEvents + SendMessage  {percentiles(hops)}   ratio {ratio:.1f}x")

    before = len(receiver.at("/bench"))
    started = time.time()
    for index in range(BURST):
        put(events, "bench", index)
    arrived = receiver.wait_for("/bench", before + BURST, timeout=120)
    elapsed = arrived[-1].at - started
    print(f"burst of {BURST} events            all delivered in {elapsed:5.2f} s = {BURST / elapsed:6.1f} events/s")


def aws_hops(events, body: bytes) -> list[float]:
    """The AWS calls an event must make at the least, made directly: one PutEvents (a source no rule
    matches, so nothing follows it) and one SendMessage of the delivery's body, each round trip timed."""
    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName="bench-floor")["QueueUrl"]
    entry = {"Source": "bench.floor", "DetailType": "FLOOR", "EventBusName": "blue-events", "Detail": "{}"}
    hops = []
    try:
        for _ in range(ROUNDS):
            started = time.time()
            events.put_events(Entries=[entry])
            sqs.send_message(QueueUrl=queue, MessageBody=body.decode())
            hops.append(time.time() - started)
    finally:
        sqs.delete_queue(QueueUrl=queue)
    return hops


def signing() -> None:
    import hashlib
    import hmac

    from bluehooks.rules.signing import generate_secret, signature_headers

    secret, body = generate_secret(), os.urandom(4096)
    number = 20000
    ours = timeit.timeit(lambda: signature_headers([secret], "msg_x", 1700000000, body), number=number) / number
    floor = timeit.timeit(lambda: hmac.new(secret.encode(), body, hashlib.sha256).digest(), number=number) / number
    print(
        f"signing 4 KiB (both schemes)    {ours * 1e6:7.1f} µs   floor: one HMAC {floor * 1e6:5.1f} µs   "
        f"ratio {ours / floor:.1f}x"
    )


def fanout(running: Running) -> None:
    """The fan-out's domain code for one event, on the emulator, beside the bare SendMessageBatch calls it made."""
    from devtools.subscriptions import subscribe

    table = boto3.resource("dynamodb").Table(running.stack.ref("WebhooksTable"))
    floor_sqs = boto3.client("sqs")  # a client of its own: its calls are not counted
    print("fan-out of one event          items read  SQS calls  time/event   floor: bare SendMessageBatch  ratio")
    for size in FANOUT_SIZES:
        for pattern in (None, FANOUT_FILTER):
            company = f"bench-fanout-{size}-{'filtered' if pattern else 'plain'}"
            subscribe(table, company, "TODO_CREATED", size, pattern)
            print(fanout_row(running, floor_sqs, company, size, pattern), flush=True)


def fanout_row(running: Running, floor_sqs, company: str, size: int, pattern: dict | None) -> str:
    from bluehooks.roots.fanout import FanoutSettings, build

    sqs, dynamodb = boto3.client("sqs"), boto3.resource("dynamodb")
    queue = sqs.create_queue(QueueName=company)["QueueUrl"]
    calls = Calls(dynamodb.meta.client, sqs)
    settings = FanoutSettings.from_env(running.stack.function_environment("FanoutFunction"))
    engine = build(settings.model_copy(update={"delivery_queue_url": queue}), Counted(dynamodb, sqs)).fanout
    rounds = max(1, min(5, 2000 // size))
    try:
        with kept_short(queue):
            # Accepting the event (validation, the payload built and serialized once) is part of its fan-out.
            times = [timed(lambda n=n: engine.fan_out(bench_event(company, n))) for n in range(rounds)]
            floor = sum(timed(partial(floor_sqs.send_message_batch, QueueUrl=queue, Entries=b)) for b in calls.batches)
    finally:
        calls.stop()
        sqs.delete_queue(QueueUrl=queue)
    per_event, floor_per_event = statistics.median(times), floor / rounds
    return (
        f"{size:6} webhooks, {'filters   ' if pattern else 'no filters'}  {calls.items // rounds:9}  "
        f"{len(calls.batches) // rounds:9}  {per_event * 1000:8.1f} ms   {floor_per_event * 1000:8.1f} ms"
        f"{'':20}{per_event / floor_per_event:5.2f}x"
    )


@contextmanager
def kept_short(queue: str) -> Iterator[None]:
    """Empties the queue all along, as DeliveryFunction's pollers would: the emulator's SendMessage
    slows down with the queue's length (moto counts the queue for every message sent)."""
    sqs, stop = boto3.client("sqs"), threading.Event()

    def purge() -> None:
        while not stop.wait(0.02):
            sqs.purge_queue(QueueUrl=queue)

    purger = threading.Thread(target=purge, daemon=True)
    purger.start()
    try:
        yield
    finally:
        stop.set()
        purger.join()


class Counted:
    """The AWS a root is built on (bluehooks.roots.aws): these DynamoDB and SQS clients, which Calls counts."""

    def __init__(self, dynamodb, sqs):
        self.dynamodb, self.sqs = dynamodb, sqs

    def client(self, service_name: str, **kwargs):
        return self.sqs if service_name == "sqs" else boto3.client(service_name, **kwargs)

    def resource(self, service_name: str, **kwargs):
        return self.dynamodb


class Calls:
    """Counts what the fan-out's clients do: the items its Query calls read, and the batches it sent."""

    def __init__(self, dynamodb, sqs):
        self.items = 0
        self.batches: list[list[dict]] = []
        self.hooks = [
            (dynamodb, "after-call.dynamodb.Query", self._query),
            (sqs, "before-parameter-build.sqs.SendMessageBatch", self._batch),
        ]
        for client, event, hook in self.hooks:
            client.meta.events.register(event, hook)

    def stop(self) -> None:
        for client, event, hook in self.hooks:
            client.meta.events.unregister(event, hook)

    def _query(self, parsed, **_) -> None:
        self.items += parsed.get("ScannedCount", 0)

    def _batch(self, params, **_) -> None:
        self.batches.append(params["Entries"])


def bench_event(company: str, number: int):
    from bluehooks.models import EventDetail
    from bluehooks.services.fanout import accept

    detail = {"company": {"id": company}, "project": {"id": "p1"}, "currentValue": {"n": number, "title": "x" * 512}}
    return accept(f"bench-{company}-{number}", "TODO_CREATED", EventDetail.model_validate(detail))


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Latency, throughput, cost and cold start of the local stack, each beside its floor.",
    )
    parser.add_argument("sections", nargs="*", metavar="section", help=f"any of {', '.join(SECTIONS)} (default: all)")
    parser.add_argument("--page", action="store_true", help=f"write each section's tables into {PAGE.name}")
    parsed = parser.parse_args(argv)
    unknown = [name for name in parsed.sections if name not in SECTIONS]
    if unknown:
        parser.error(f"no section {', '.join(unknown)}: choose from {', '.join(SECTIONS)}")
    parsed.sections = parsed.sections or list(SECTIONS)
    return parsed


def main() -> None:
    parsed = arguments(sys.argv[1:])
    sections, page = parsed.sections, Sections()
    warnings.filterwarnings("ignore")
    import logging

    logging.disable(logging.WARNING)
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"  # the handlers it loads would print EMF lines
    os.environ["MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR"] = "false"  # kept_short purges often
    os.environ.setdefault("DELIVERY_TIMEOUT_SECONDS", "2")
    os.environ.setdefault("RETRY_SCHEDULE", "0,3600,3600")
    from bench.filters import filters_bench

    # Pure CPU first; coldstart before the stack starts, whose pollers would share the CPU.
    for name, run in (("signing", signing), ("filters", filters_bench), ("coldstart", coldstart)):
        if name in sections:
            with page.section(name):
                run()
    if set(sections) & {"delivery", "fanout", "cost", "engine"}:
        on_the_stack(sections, page)
    if parsed.page:
        page.write()
        print(f"wrote {', '.join(page.outputs)} into {PAGE}")


def on_the_stack(sections: list[str], page: Sections) -> None:
    running = Running(Settings.from_env({**os.environ, "API_PORT": str(free_port()), "AWS_PORT": str(free_port())}))
    receiver = Receiver()
    runs = {
        "delivery": lambda: event_to_receiver(running, receiver, boto3.client("events")),
        "fanout": lambda: fanout(running),
        "cost": lambda: cost(running),  # before engine, whose hanging endpoint keeps the stack busy
        "engine": lambda: engine(running),
    }
    try:
        for name, run in runs.items():
            if name in sections:
                with page.section(name):
                    run()
    finally:
        receiver.close()
        running.stop()


if __name__ == "__main__":
    main()
