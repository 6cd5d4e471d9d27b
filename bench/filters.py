"""`python -m bench filters`: the worst a company's filters cost one event, per KB of event, beside json.loads.

The security review's filters (bluehooks.rules.filters, matching): anything-but of 80 values on an array of tags beside
six $or pairs (64 alternatives), in two kinds: one whose $or never holds (`never`), one whose $or holds so that
every tag meets the 80 values (`costly`); and the costliest steps found (`wildcard`: long strings against 100
wildcards that scan them). Each against events of one array of tags, 16 KB to EventBridge's 1 MB.

- before: the fan-out's old algorithm, reproduced here (every $or alternative compared every value of its paths
  with every entry of their leaves, unbounded), for one webhook; at the larger sizes it takes minutes, so only
  up to BENCH_FILTERS_BEFORE_KB (default 64). It is linear in the event: its per-KB figure holds beyond.
- after: `matching.sift` for a whole company of WEBHOOKS such webhooks (MaxWebhooksPerCompany's default), all of
  one kind, as the fan-out runs it: steps spent, time, and the webhooks delivered unfiltered.
- floor: json.loads of the event, which the Lambda runtime does before the handler sees it.
"""

import json
import os
import time
from collections.abc import Callable
from typing import Any

from bluehooks.models import Subscription
from bluehooks.rules import filters
from bluehooks.rules.filters import expansion, operators
from bluehooks.rules.matching import MAX_EVENT_STEPS, Sifted, sift

SIZES_KB = [int(size) for size in os.environ.get("BENCH_FILTERS_SIZES_KB", "16,64,256,1000").split(",")]
BEFORE_KB = int(os.environ.get("BENCH_FILTERS_BEFORE_KB", "64"))
WEBHOOKS = 100
TAGS = [f"tag-{i:02}" for i in range(80)]


def review_filter(or_holds: bool) -> dict[str, Any]:
    field = "k" if or_holds else "absent"
    pairs = {f"{field}{i}": {"$or": [{"a": [f"x{i}"]}, {"b": [f"y{i}"]}]} for i in range(6)}
    return {"currentValue": {"tags": [{"anything-but": {"equals-ignore-case": TAGS}}], **pairs}}


def shared_array() -> dict[str, Any]:
    fields = {name: [{"anything-but": "0"}] for name in "xyz"}
    pairs = {f"k{i}": {"$or": [{"a": [f"x{i}"]}, {"b": [f"y{i}"]}]} for i in range(5)}
    return {"currentValue": {"tags": fields, **pairs}, "company": {"id": [{"exists": False}]}}


def repeat(items: list, width: int) -> Callable[[int], list]:
    """KB -> `items` repeated to fill so many KB, `width` bytes of JSON each time."""
    return lambda kb: items * (kb * 1024 // width)


# kind: (webhook number -> its filter, KB -> the event's tags)
KINDS: dict[str, tuple[Callable[[int], dict], Callable[[int], list]]] = {
    "never": (lambda _: review_filter(False), repeat(TAGS, 80 * 11)),
    "costly": (lambda _: review_filter(True), repeat(TAGS, 80 * 11)),
    # Long strings that each of 100 wildcards scans to its end.
    "wildcard": (
        lambda _: {"currentValue": {"tags": [{"wildcard": f"*b{i}*a"} for i in range(100)]}},
        repeat(["a" * 250], 253),
    ),
    # A path of its own for each webhook into arrays of arrays: each reads all of them again.
    "arrays": (lambda n: {"currentValue": {"tags": {f"z{n}": ["x"]}}}, repeat([[[[1]]]], 10)),
    # Fields of one array of objects in each of 32 alternatives, which all fail on a field that must be absent.
    "alternatives": (lambda _: shared_array(), repeat([{"x": "1", "y": "2", "z": "3"}], 28)),
    "cidr": (
        lambda _: {"currentValue": {"tags": [{"cidr": f"2001:db8:{i:x}::/48"} for i in range(100)]}},
        repeat(["2001:db9:1234:5678::1"], 24),
    ),
}


def event(tags: list) -> dict[str, Any]:
    current = {"tags": tags, **{f"k{i}": {"a": f"x{i}"} for i in range(6)}}
    return {"event": "TODO_CREATED", "company": {"id": "c"}, "project": {"id": "p1"}, "currentValue": current}


def before(pattern: dict, payload: dict) -> None:
    """The old matcher's comparisons: each alternative, each of its paths, each value, each entry of the leaf."""
    combinations = expansion.expand(pattern, "", [{}])
    paths = {path for combination in combinations for path in combination}
    values = {path: filters.EventValues(payload).on(path, filters.Budget(10**12)) for path in paths}
    for combination in combinations:
        for path, entries in combination.items():
            for value, _ in values[path]:
                any(operators.entry_matches(entry, value) for entry in entries)


def seconds(call: Callable[[], Any]) -> float:
    started = time.process_time()  # CPU time: the machine is shared, and this work is all CPU
    call()
    return time.process_time() - started


def filters_bench() -> None:
    print(
        f"filters: worst case of one event, per KB (before: 1 webhook; after: {WEBHOOKS} webhooks of one company)\n"
        "kind      event   floor json.loads   before: 1 webhook      after: all webhooks           steps  unfiltered"
    )
    for kb in SIZES_KB:
        for kind in KINDS:
            print(row(kind, kb), flush=True)


def row(kind: str, kb: int) -> str:
    pattern, tags = KINDS[kind]
    payload = event(tags(kb))
    text = json.dumps(payload)
    size = len(text) / 1024
    floor = min(seconds(lambda: json.loads(text)) for _ in range(3))
    entries = [
        Subscription(webhookId=f"wh_{n}", enabled=True, projectIds=[], filter=pattern(n)) for n in range(WEBHOOKS)
    ]
    for webhook in entries:
        filters.validate(webhook.filter)
    old = seconds(lambda: before(pattern(0), payload)) if kb <= BEFORE_KB else None
    sifted: list[Sifted] = []
    new = seconds(lambda: sifted.append(sift(entries, "p1", payload)))
    assert sifted[0].steps <= MAX_EVENT_STEPS
    was = f"{old:7.2f} s {old / size * 1000:7.1f} ms/KB" if old is not None else f"{'(too slow)':>22}"
    return (
        f"{kind:9} {size:5.0f} KB  {floor * 1e6 / size:6.1f} µs/KB    {was}   "
        f"{new:6.3f} s {new / size * 1000:7.2f} ms/KB  {sifted[0].steps:9}  {len(sifted[0].undecided):10}"
    )
