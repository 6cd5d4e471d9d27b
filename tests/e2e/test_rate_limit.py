"""rateLimit on the local stack (issue 20): a burst of 20 to a webhook limited to 2/s arrives over about 10 s,
no more than 3 in any second, each once, none counted as an attempt while it waits; the log shows it waiting."""

import json
import time
import uuid

import requests

from devstack.token import mint
from tests.e2e.test_local_stack import SECRET, create_webhook
from tests.integration.test_rate_limit import most_in_any_second

STACK_ENV = {"WEBHOOKS_JWT_SECRET": SECRET, "RETRY_SCHEDULE": "0,1,1", "DELIVERY_TIMEOUT_SECONDS": "2"}
BURST = 20


def put_burst(stack, company: str) -> None:
    detail = {"company": {"id": company}, "project": {"id": "p1"}, "user": {"id": "user-7"}}
    entries = [
        {
            "Source": "blue",
            "DetailType": "TODO_CREATED",
            "EventBusName": "blue-events",
            "Detail": json.dumps({**detail, "currentValue": {"title": f"imported {n}"}}),
        }
        for n in range(BURST)
    ]
    for start in range(0, BURST, 10):  # PutEvents takes 10 entries a call
        assert stack.client("events").put_events(Entries=entries[start : start + 10])["FailedEntryCount"] == 0


def log(stack, company: str, webhook_id: str) -> list[dict]:
    token = mint(company, "user-7", "ADMIN", SECRET)
    answer = requests.get(
        f"{stack.api}/webhooks/{webhook_id}/deliveries?limit=50",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


def test_a_burst_of_20_to_a_webhook_limited_to_2_a_second_is_spread_over_about_10_seconds(stack, receiver):
    company = f"rate-{uuid.uuid4().hex[:8]}"
    webhook = create_webhook(stack, company, receiver.url("/rate-limited"), rateLimit=2)
    put_burst(stack, company)
    seen_waiting: dict[str, dict] = {}
    deadline = time.monotonic() + 60
    while len(receiver.at("/rate-limited")) < BURST:
        assert time.monotonic() < deadline, f"{len(receiver.at('/rate-limited'))} of {BURST} arrived in 60 s"
        for item in log(stack, company, webhook["id"]):
            if item["state"] == "pending" and item["waitingUntil"]:
                seen_waiting.setdefault(item["deliveryId"], item)
        time.sleep(0.3)
    arrivals = sorted(request.at for request in receiver.at("/rate-limited"))
    assert 8.5 <= arrivals[-1] - arrivals[0] <= 20, arrivals  # slots 0.5 s apart: 9.5 s from first to last
    assert most_in_any_second(arrivals) <= 3, arrivals
    ids = [request.headers["webhook-id"] for request in receiver.at("/rate-limited")]
    assert len(set(ids)) == BURST  # each once
    # Meanwhile the log showed them waiting, as pending with when they go and why, with no attempt used.
    assert len(seen_waiting) >= BURST // 2, seen_waiting
    for item in seen_waiting.values():
        assert item["attemptCount"] == 0 and item["reason"] == f"rate limited: at {item['waitingUntil']}"
    time.sleep(1)
    final = log(stack, company, webhook["id"])
    assert len(final) == BURST
    assert {(item["state"], item["attemptCount"], item["waitingUntil"]) for item in final} == {("succeeded", 1, None)}
