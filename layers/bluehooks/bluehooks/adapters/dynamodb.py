"""Items of several DynamoDB tables read in one call: a delivery's webhook and its log item.

One BatchGetItem, strongly consistent, costs the read units of a GetItem per item but one round
trip and one call, where two GetItems were two of each."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

UNPROCESSED_TRIES = 4  # DynamoDB leaves keys unread under throttling; each try after a short backoff


@dataclass(frozen=True)
class ItemRead:
    table: Any  # a boto3 Table resource; every read of one call shares its client
    key: dict[str, Any]
    parse: Callable[[dict[str, Any]], Any]


def read_together(*reads: ItemRead) -> list[Any]:
    """Each read's item, parsed, or None where there is none, in the reads' order."""
    client, wanted = reads[0].table.meta.client, {}
    for read in reads:
        wanted.setdefault(read.table.name, {"Keys": [], "ConsistentRead": True})["Keys"].append(read.key)
    found: dict[str, list[dict[str, Any]]] = {}
    for attempt in range(UNPROCESSED_TRIES):
        answer = client.batch_get_item(RequestItems=wanted)
        for table, items in answer["Responses"].items():
            found.setdefault(table, []).extend(items)
        if not (wanted := answer.get("UnprocessedKeys")):
            break
        time.sleep(0.05 * 2**attempt)
    else:
        raise RuntimeError(f"DynamoDB left {sum(len(t['Keys']) for t in wanted.values())} key(s) unread")
    return [_parsed(read, found.get(read.table.name, [])) for read in reads]


def _parsed(read: ItemRead, items: list[dict[str, Any]]) -> Any:
    item = next((item for item in items if all(item.get(k) == v for k, v in read.key.items())), None)
    return read.parse(item) if item else None
