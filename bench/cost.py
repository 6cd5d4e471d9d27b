"""`python -m bench cost`: the AWS calls one delivered event costs on the local stack, priced at AWS list prices.

N events (BENCH_COST_EVENTS, 200), each matching 1 and then 10 webhooks of one company, are put
on the bus and delivered to a loopback receiver. The emulator counts every call it serves
(devstack.motoserver) and the local Lambda runtime every invocation (devstack.lambdas); the
difference between a snapshot taken before and after is divided by the events. Left out,
because AWS bills them otherwise or not at all: the rule's tap queue (a local stand-in for
Lambda's own queue of asynchronous invocations) and empty long polls (a fixed cost per queue,
shown apart). Beside it, EventBridge API destinations doing the same work.
"""

import contextlib
import json
import logging
import math
import os
import time
from dataclasses import dataclass

import boto3
import requests

from devstack.emulator import difference
from devstack.lambdas import invocations
from devstack.stack import Running
from devstack.template import LocalStack
from devstack.token import mint
from devtools.receiver import Receiver

EVENTS = int(os.environ.get("BENCH_COST_EVENTS", "200"))
WEBHOOKS = (1, 10)
MEMORY_GB = 256 / 1024  # template.yaml Globals MemorySize
# Local durations are upper bounds (the emulator takes ~13 ms a call; all shares 2 cores): the
# table also prices each invocation at this assumed AWS duration.
AWS_SECONDS = 0.05
PLATFORM_LOG_BYTES = 300  # Lambda's START, END and REPORT lines per invocation (estimate), INFO to Lambda
# Lambda's sampling with Tracing Active, per function (not configurable): the first invocation of each
# second (the reservoir), then this share of the others.
XRAY_RESERVOIR, XRAY_RATE = 1, 0.05
# us-east-1 list prices (looked up 2026; free tiers ignored): dollars per so many units.
PRICE = {
    "event": (1.00, 1e6),  # EventBridge custom event (each 64 KB chunk)
    "api destination": (0.20, 1e6),  # EventBridge API destination invocation
    "lambda request": (0.20, 1e6),
    "GB-second": (0.0000166667, 1),  # x86_64
    "sqs request": (0.40, 1e6),  # standard queue, each 64 KB chunk of a request
    "RRU": (0.125, 1e6),  # DynamoDB on-demand read request unit (4 KB strongly consistent)
    "WRU": (0.625, 1e6),  # DynamoDB on-demand write request unit (1 KB)
    "kms request": (0.03, 1e4),
    "log byte": (0.50, 1e9),  # CloudWatch Logs standard ingestion, per GB
    "trace": (5.00, 1e6),  # X-Ray trace recorded
}
READS = {"GetItem", "Query", "BatchGetItem", "Scan", "TransactGetItems"}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


@dataclass
class Usage:
    """What `events` events, each to `webhooks` webhooks, cost: call rows, invocations, log bytes, seconds."""

    webhooks: int
    events: int
    calls: list[dict]
    invoked: dict[str, dict[str, float]]
    log_bytes: int
    seconds: float
    indexes: dict[str, int]  # table → global secondary indexes, each written again with the item
    item_bytes: dict[str, int]  # table → its largest item, by DynamoDB's rules, sizing a write's units
    index_bytes: dict[str, int]  # table → its largest index entry (what a projection keeps), likewise
    traces: float  # X-Ray traces Lambda would record, as the stack's EventTracing has it
    traces_if_active: float  # and with EventTracing=Active
    tracing: str
    platform_log_bytes: int  # per invocation, as the functions' SystemLogLevel keeps them

    def billed(self, service: str = "", actions: set[str] | None = None) -> list[dict]:
        """The rows AWS bills per event (no tap queue, no empty receive), of `service` and `actions` if given."""
        return [
            r
            for r in self.calls
            if not r["resource"].endswith("-tap")
            and r["detail"] != "empty"
            and r["service"] == (service or r["service"])
            and (actions is None or r["action"] in actions)
        ]

    def idle_polls(self) -> dict[str, int]:
        return {r["resource"]: r["count"] for r in self.calls if r["detail"] == "empty"}


def cost(running: Running) -> None:
    receiver = Receiver()
    try:
        usages = [measure(running, receiver, webhooks) for webhooks in WEBHOOKS]
    finally:
        receiver.close()
    print(f"AWS calls per event ({EVENTS} events; 1 and 10 matching webhooks each)")
    print(calls_table(usages))
    print("\ncost per million events, us-east-1 list prices, beside EventBridge API destinations doing the same")
    print(price_table(usages), flush=True)


# -- measuring ---------------------------------------------------------------------------------


def measure(running: Running, receiver: Receiver, webhooks: int) -> Usage:
    company, path = f"bench-cost-{webhooks}", f"/cost-{webhooks}"
    create_webhooks(running, company, receiver.url(path), webhooks)
    events = boto3.client("events")
    put_events(events, company, 1)  # warm every function, and the secrets' cache, once
    receiver.wait_for(path, webhooks, timeout=60)
    quiet(running)
    calls_before, invoked_before, started = running.emulator.calls(), invocations.snapshot(), time.monotonic()
    invoked_at = time.monotonic()
    with LogBytes() as logs:
        put_events(events, company, EVENTS)
        arrived = receiver.wait_for(path, webhooks * (EVENTS + 1), timeout=600)
        quiet(running)
    if len(arrived) < webhooks * (EVENTS + 1):
        raise RuntimeError(f"only {len(arrived) - webhooks} of {webhooks * EVENTS} deliveries arrived")
    calls = difference(calls_before, running.emulator.calls())  # before the bench's own scans below
    sampled = sum(map(sampled_traces, invocations.started_since(invoked_at).values()))
    tracing = running.stack.parameter("EventTracing")
    sizes = largest_items(running)
    return Usage(
        webhooks,
        EVENTS,
        calls,
        invocations.since(invoked_before),
        logs.count,
        time.monotonic() - started,
        global_indexes(running),
        {table: size for table, (size, _) in sizes.items()},
        {table: index for table, (_, index) in sizes.items()},
        # Disabled and PassThrough: the bench's PutEvents carries no trace header, so nothing is traced.
        sampled if tracing == "Active" else 0,
        sampled,
        tracing,
        platform_log_bytes(running),
    )


def sampled_traces(starts: list[float]) -> float:
    """The traces one function's invocations make as Lambda samples them (expected): in each second,
    the reservoir's first invocations, then XRAY_RATE of the rest. Every invocation of an SQS or
    EventBridge source starts a trace of its own (a producer's is linked, not continued)."""
    per_second: dict[int, int] = {}
    for at in starts:
        per_second[int(at)] = per_second.get(int(at), 0) + 1
    return sum(min(n, XRAY_RESERVOIR) + XRAY_RATE * max(0, n - XRAY_RESERVOIR) for n in per_second.values())


def platform_log_bytes(running: Running) -> int:
    """Lambda's START, END and REPORT lines are INFO: a SystemLogLevel of WARN drops them."""
    logging_config = running.stack.template["Globals"]["Function"].get("LoggingConfig", {})
    return 0 if logging_config.get("SystemLogLevel", "INFO") == "WARN" else PLATFORM_LOG_BYTES


def global_indexes(running: Running) -> dict[str, int]:
    stack = running.stack
    return {
        stack.ref(logical_id): len(stack.resolve(resource["Properties"].get("GlobalSecondaryIndexes", [])))
        for logical_id, resource in stack.template["Resources"].items()
        if resource["Type"] == "AWS::DynamoDB::Table"
    }


def largest_items(running: Running) -> dict[str, tuple[int, int]]:
    """Each table's largest item (of the first 200), and its largest index entry: every write is billed
    on the item's whole size, and on the entry's for each index it writes."""
    dynamodb, sizes = boto3.client("dynamodb"), {}
    for logical_id, resource in running.stack.template["Resources"].items():
        if resource["Type"] == "AWS::DynamoDB::Table":
            table, properties = running.stack.ref(logical_id), running.stack.resolve(resource["Properties"])
            items = dynamodb.scan(TableName=table, Limit=200)["Items"]
            entries = [
                index_entry(item, properties, index)
                for item in items
                for index in properties.get("GlobalSecondaryIndexes", [])
            ]
            sizes[table] = (max(map(item_size, items), default=0), max(map(item_size, entries), default=0))
    return sizes


def index_entry(item: dict, table: dict, index: dict) -> dict:
    """What an index keeps of an item: the table's and the index's keys, and what it projects."""
    projection = index["Projection"]
    if projection["ProjectionType"] == "ALL":
        return item
    keys = {key["AttributeName"] for key in table["KeySchema"] + index["KeySchema"]}
    kept = keys | set(projection.get("NonKeyAttributes", []))
    return {name: value for name, value in item.items() if name in kept}


def item_size(item: dict) -> int:
    """An item's size as DynamoDB bills it: each attribute's name and value."""
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def value_size(value: dict) -> int:
    """A typed value's size: strings and binaries by their bytes, numbers by about half their digits,
    lists and maps 3 bytes plus 1 per element (and a map's names)."""
    ((kind, content),) = value.items()
    if kind in ("S", "B"):
        return len(content.encode() if isinstance(content, str) else content)
    if kind == "N":
        return len(content.strip("-").replace(".", "").lstrip("0")) // 2 + 1
    if kind == "L":
        return 3 + sum(1 + value_size(element) for element in content)
    if kind == "M":
        return 3 + sum(1 + len(name.encode()) + value_size(element) for name, element in content.items())
    if kind in ("SS", "NS", "BS"):
        return sum(value_size({kind[0]: element}) for element in content)
    return 1  # BOOL, NULL


def create_webhooks(running: Running, company: str, url: str, count: int) -> None:
    token = mint(company, "u", "ADMIN", running.settings.jwt_secret)
    for _ in range(count):
        requests.post(
            f"{running.settings.api_url}/webhooks",
            json={"url": url, "events": ["TODO_CREATED"]},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).raise_for_status()


def put_events(events, company: str, count: int) -> None:
    """`count` TODO_CREATED events of `company`, ten to a PutEvents call (AWS bills each entry)."""
    entries = [
        {
            "Source": "blue",
            "DetailType": "TODO_CREATED",
            "EventBusName": os.environ["EVENT_BUS_NAME"],
            "Detail": json.dumps(
                {"company": {"id": company}, "project": {"id": "p1"}, "currentValue": {"n": n, "title": "x" * 512}}
            ),
        }
        for n in range(count)
    ]
    for start in range(0, count, 10):
        if events.put_events(Entries=entries[start : start + 10])["FailedEntryCount"]:
            raise RuntimeError("PutEvents refused an entry")


def quiet(running: Running, interval: float = 1.5, timeout: float = 60) -> None:
    """Until a whole interval passes with no invocation and no call but empty receives: work has settled."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        calls, invoked = running.emulator.calls(), invocations.snapshot()
        time.sleep(interval)
        busy = [r for r in difference(calls, running.emulator.calls()) if r["detail"] != "empty"]
        if not busy and not invocations.since(invoked):
            return
    raise RuntimeError(f"the local stack was still busy after {timeout:g} s")


class LogBytes:
    """Counts what the functions log at INFO (Powertools' JSON lines) and print (EMF metrics), as
    CloudWatch Logs would ingest it; the bench keeps both quiet otherwise."""

    def __init__(self) -> None:
        self.count = 0
        self.logger = logging.getLogger(os.environ.get("POWERTOOLS_SERVICE_NAME", "blue-webhooks"))

    def write(self, text: str) -> int:
        self.count += len(text.encode())
        return len(text)

    def flush(self) -> None:
        pass

    def __enter__(self) -> "LogBytes":
        self.saved = (logging.root.manager.disable, self.logger.level, os.environ.get("POWERTOOLS_METRICS_DISABLED"))
        self.streams = [h.setStream(self) for h in self.logger.handlers if isinstance(h, logging.StreamHandler)]
        logging.disable(logging.NOTSET)
        self.logger.setLevel(logging.INFO)
        os.environ["POWERTOOLS_METRICS_DISABLED"] = "false"  # read at each flush
        self.stdout = contextlib.redirect_stdout(self)
        self.stdout.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.stdout.__exit__(*exc)
        disabled, level, metrics = self.saved
        logging.disable(disabled)
        self.logger.setLevel(level)
        os.environ.pop("POWERTOOLS_METRICS_DISABLED", None)
        if metrics is not None:
            os.environ["POWERTOOLS_METRICS_DISABLED"] = metrics
        stream_handlers = [h for h in self.logger.handlers if isinstance(h, logging.StreamHandler)]
        for handler, stream in zip(stream_handlers, self.streams, strict=True):
            handler.setStream(stream)


# -- reporting ---------------------------------------------------------------------------------


def per_event(value: float, usage: Usage) -> str:
    return f"{value / usage.events:8.3f}"


def calls_table(usages: list[Usage]) -> str:
    """One line per kind of call: calls per event for each webhook count, with what a call carries."""
    kinds: dict[tuple, list[str]] = {}
    for index, usage in enumerate(usages):
        for row in usage.billed():
            label = (row["service"], row["action"], _short(row["resource"]), row["detail"])
            kinds.setdefault(label, [""] * len(usages))[index] = _cell(row, usage)
        for function, row in usage.invoked.items():
            cell = f"{per_event(row['invocations'], usage)} ({row['seconds'] / row['invocations'] * 1000:.0f} ms each)"
            kinds.setdefault(("lambda", "Invoke", function, ""), [""] * len(usages))[index] = cell
    header = f"{'service':8} {'action':25} {'queue / table / function':24}" + "".join(
        f"{f'{u.webhooks} webhook(s)':>30}" for u in usages
    )
    lines = [header]
    for (service, action, name, detail), cells in sorted(kinds.items()):
        action = f"{action} ({detail})" if detail else action
        lines.append(f"{service:8} {action:25} {name:24}" + "".join(f"{c:>30}" for c in cells))
    for usage in usages:
        idle = ", ".join(f"{_short(q)} {n / usage.seconds:.1f}/s" for q, n in usage.idle_polls().items())
        lines.append(f"not per event ({usage.webhooks} webhook(s), {usage.seconds:.0f} s): empty long polls {idle}")
    return "\n".join(lines)


def _cell(row: dict, usage: Usage) -> str:
    """Calls per event, with the items a call carried and, for DynamoDB, the bytes that size its units."""
    notes = [f"{row['items'] / row['count']:.1f} each"] if row["items"] != row["count"] else []
    if row["service"] == "dynamodb" and row["action"] in READS:
        notes.append(f"{row['bytes_out'] / row['items']:.0f} B read")
    elif row["service"] == "dynamodb":
        notes.append(f"item ≤ {usage.item_bytes.get(row['resource'], 0)} B")
    return per_event(row["count"], usage) + (f" ({', '.join(notes)})" if notes else "")


def _short(name: str) -> str:
    return name.removeprefix(f"{LocalStack.name}-")


def charges(usage: Usage) -> list[tuple[str, float, str, str]]:
    """(what, quantity per event, unit, price key): each billed dimension of one event."""
    invoked = sum(row["invocations"] for row in usage.invoked.values())
    by = usage.billed
    quantities = [
        ("EventBridge PutEvents", sum(r["items"] for r in by("events", {"PutEvents"})), "events", "event"),
        ("Lambda requests", invoked, "invocations", "lambda request"),
        ("Lambda duration", sum(r["seconds"] for r in usage.invoked.values()) * MEMORY_GB, "GB-s", "GB-second"),
        ("SQS requests", sum(_chunks(r, 65536) for r in by("sqs")), "requests", "sqs request"),
        ("DynamoDB reads", sum(_read_units(r) for r in by("dynamodb", READS)), "RRU", "RRU"),
        (
            "DynamoDB writes, with GSIs",
            sum(_write_units(r, usage) for r in by("dynamodb", WRITES)),
            "WRU",
            "WRU",
        ),
        ("KMS", sum(r["count"] for r in by("kms")), "requests", "kms request"),
        ("CloudWatch Logs", usage.log_bytes + usage.platform_log_bytes * invoked, "bytes", "log byte"),
        (f"X-Ray (EventTracing={usage.tracing})", usage.traces, "traces", "trace"),
    ]
    return [(what, quantity / usage.events, unit, price) for what, quantity, unit, price in quantities]


def _chunks(row: dict, chunk: int) -> float:
    """Requests as billed: each call at least one, one more per `chunk` bytes carried either way."""
    return row["count"] * max(1, math.ceil(max(row["bytes_in"], row["bytes_out"]) / row["count"] / chunk))


def _read_units(row: dict) -> float:
    """4 KB of what a read returned per unit, halved when eventually consistent, doubled in a transaction; a
    batch read is billed per item it read (each at least a unit), the others per call."""
    reads = row["items"] if row["action"] in ("BatchGetItem", "TransactGetItems") else row["count"]
    units = reads * max(1, math.ceil(row["bytes_out"] / reads / 4096))
    return units * (2 if row["action"].startswith("Transact") else 1 if row["detail"] == "consistent" else 0.5)


def _write_units(row: dict, usage: Usage) -> float:
    """1 KB per unit of the table's largest item, for each item written, and of its largest index entry for
    each global index; doubled in a transaction. An upper bound: DynamoDB writes an index entry again only
    when an attribute it keeps changed, and our items are written once per delivery when it goes well."""
    size = usage.item_bytes.get(row["resource"]) or row["bytes_in"] / row["items"]  # several tables: the request
    entry = usage.index_bytes.get(row["resource"], 0)
    units = max(1, math.ceil(size / 1024)) + usage.indexes.get(row["resource"], 0) * max(1, math.ceil(entry / 1024))
    return row["items"] * units * (2 if row["action"].startswith("Transact") else 1)


def price_table(usages: list[Usage]) -> str:
    lines = []
    for usage in usages:
        lines.append(f"{usage.webhooks} webhook(s) per event: per event × list price = $ per million events")
        total = 0.0
        for what, quantity, unit, price in charges(usage):
            dollars, per = PRICE[price]
            per_million = quantity * dollars / per * 1e6
            total += per_million
            price = f"${_money(dollars)} per {_amount(per) or unit}"
            lines.append(f"  {what:30} {quantity:10.3f} {unit:11} × {price:22} = {per_million:7.2f}")
        floor = sum(PRICE[k][0] * n for k, n in (("event", 1), ("api destination", usage.webhooks)))
        lines.append(
            f"  {'total':30} {'':47}   {total:7.2f}   floor: API destinations, 1 event × $1.00 + "
            f"{usage.webhooks} × $0.20 = {floor:.2f}, ratio {total / floor:.1f}x"
        )
        assumed = f"total at {AWS_SECONDS * 1000:.0f} ms per invocation (assumed on AWS)"
        lines.append(f"  {assumed:78}   {_at_aws_duration(usage, total):7.2f}")
        if usage.tracing != "Active":
            traced = usage.traces_if_active / usage.events * PRICE["trace"][0] / PRICE["trace"][1] * 1e6
            invoked = sum(row["invocations"] for row in usage.invoked.values()) / usage.events
            active = f"with EventTracing=Active: {usage.traces_if_active / usage.events:.3f} traces per event"
            lines.append(f"  {active:78} + {traced:7.2f}  (Lambda's sampling, at this run's rate;")
            lines.append(f"  {'':78}   {'':7}  below 1 invocation/s per function every one: + {invoked * 5:.2f})")
    return "\n".join(lines)


def _at_aws_duration(usage: Usage, total: float) -> float:
    """The total with every invocation lasting AWS_SECONDS instead of its local duration."""
    invoked = sum(row["invocations"] for row in usage.invoked.values())
    local = sum(row["seconds"] for row in usage.invoked.values())
    dollars, per = PRICE["GB-second"]
    return total + (invoked * AWS_SECONDS - local) * MEMORY_GB * dollars / per * 1e6 / usage.events


def _money(dollars: float) -> str:
    """At least cents, and every significant digit after: 1.00, 0.125, 0.0000166667."""
    digits = f"{dollars:.10f}".rstrip("0")
    return digits + "0" * max(0, 2 - len(digits.split(".")[1]))


def _amount(per: float) -> str:
    return {1e9: "GB", 1e6: "M", 1e4: "10k", 1: ""}[per]
