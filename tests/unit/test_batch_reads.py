"""BatchGetItem's UnprocessedKeys asked again within a bound (store.batch_get), by the delivery log and the
delivery function's read alike, against a hand-written client: nothing here sleeps."""

from types import SimpleNamespace

import pytest

from bluehooks.adapters.deliverylog import DeliveryLog
from bluehooks.adapters.store import (
    UNPROCESSED_BACKOFF_SECONDS,
    UNPROCESSED_TRIES,
    ItemRead,
    batch_get,
    read_together,
)
from bluehooks.errors import Busy

TABLE = "deliveries"


class Throttled:
    """A DynamoDB client whose BatchGetItem reads `per_call` of the keys asked (none: throttled forever)."""

    def __init__(self, per_call: int = 0):
        self.per_call = per_call
        self.asked: list[dict] = []

    def batch_get_item(self, RequestItems):
        self.asked.append(RequestItems)
        (table, request), *_ = RequestItems.items()
        keys = request["Keys"]
        read, left = keys[: self.per_call], keys[self.per_call :]
        return {
            "Responses": {table: [{**key, "found": True} for key in read]},
            "UnprocessedKeys": {table: {"Keys": left}} if left else {},  # as moto: the table's settings dropped
        }


def keys(count: int) -> list[dict[str, str]]:
    return [{"pk": "c#w", "sk": f"msg_{n:020d}"} for n in range(count)]


def test_keys_left_unread_forever_are_busy_after_a_bounded_number_of_calls_and_doubling_waits():
    client, waits = Throttled(), []
    with pytest.raises(Busy, match="3 item"):
        batch_get(client, {TABLE: {"Keys": keys(3), "ConsistentRead": True}}, sleep=waits.append)
    assert len(client.asked) == UNPROCESSED_TRIES
    assert len(waits) == UNPROCESSED_TRIES - 1
    assert all(0 <= wait <= UNPROCESSED_BACKOFF_SECONDS * 2**n for n, wait in enumerate(waits))
    assert all(asked[TABLE]["ConsistentRead"] for asked in client.asked)  # asked again as first asked


def test_a_read_that_comes_in_parts_is_asked_again_at_once_until_done():
    client, waits = Throttled(per_call=2), []
    found = batch_get(client, {TABLE: {"Keys": keys(7)}}, sleep=waits.append)
    assert [item["sk"] for item in found[TABLE]] == [key["sk"] for key in keys(7)]
    assert [len(asked[TABLE]["Keys"]) for asked in client.asked] == [7, 5, 3, 1] and waits == []


def test_the_delivery_functions_read_is_busy_too():
    """Busy, like any exception there, sends the record back with its attempt unused (delivery_batch)."""
    client, waits = Throttled(), []
    table = SimpleNamespace(name=TABLE, meta=SimpleNamespace(client=client))
    with pytest.raises(Busy):
        read_together(ItemRead(table, keys(1)[0], dict), sleep=waits.append)
    assert len(client.asked) == UNPROCESSED_TRIES and len(waits) == UNPROCESSED_TRIES - 1


def test_a_page_of_the_log_is_busy_too():
    client, waits = Throttled(), []
    entries = [{**key, "createdAt": "2026-01-01T00:00:00.000Z"} for key in keys(3)]
    table = SimpleNamespace(name=TABLE, meta=SimpleNamespace(client=client), query=lambda **_: {"Items": entries})
    with pytest.raises(Busy):
        DeliveryLog(table, 30, sleep=waits.append).page("c", "w", limit=50)
    assert len(client.asked) == UNPROCESSED_TRIES and len(waits) == UNPROCESSED_TRIES - 1
