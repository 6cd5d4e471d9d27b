"""The chaos ledger: many events, misbehaving receivers, faults on our side and AWS's (throttles, brownouts,
duplicate receives and invocations, devstack.faults); nothing lost, nothing misdelivered, no batch timed out.

Short in `make test`; `make chaos` runs it long (CHAOS_EVENTS=2000). Each (event, matching webhook)
pair must be received, answered 2xx and verified at least once, or end `dead`/`dropped` in the
delivery log with its reason. No webhook may receive an event it does not match. Duplicates are
counted, and must carry the delivery's one webhook-id.
"""

import json
import os
import random
import time
from collections import Counter, defaultdict

import pytest
import requests

from devstack.token import mint
from tests.chaos_receiver import ChaosReceiver
from tests.e2e.localstack import LocalStackProcess
from tests.verify import assert_signed

SECRET = "chaos-jwt-secret-chaos-jwt-secret"
EVENTS = int(os.environ.get("CHAOS_EVENTS", "60"))  # 60: every kind of fault still shows (make chaos: 2000)
COMPANIES = 3
TYPES = ["TODO_CREATED", "TODO_UPDATED", "COMMENT_CREATED", "TODO_DELETED"]
PROJECTS = ["p1", "p2", "p3"]
PRIORITIES = ["low", "medium", "high"]
# Each company's webhooks: (events, projectIds, filter, enabled); the last one answers 410 in company 0.
SUBSCRIPTIONS = [
    ([], [], None, True),
    (["TODO_CREATED"], [], None, True),
    (["TODO_CREATED", "COMMENT_CREATED"], ["p1"], None, True),
    ([], ["p2"], None, True),
    ([], [], {"currentValue": {"priority": ["high"]}}, True),
    (["COMMENT_CREATED"], [], {"currentValue": {"priority": [{"anything-but": "low"}]}}, True),
    ([], [], None, False),
    ([], [], None, True),
]


# AWS's own faults, injected by the emulator into the functions' calls (devstack.faults).
AWS_FAULTS = {
    "AWS_FAULT_THROTTLE_RATE": "0.02",
    "AWS_FAULT_LATENCY": "dynamodb=0.01:2,sqs=0.01:2,kms=0.02:2,events=0.02:2",
    # Duplicates often enough that each kind shows in the short run too (the ledger asserts it does).
    "AWS_FAULT_SQS_DUPLICATE_RATE": "0.05",
    "AWS_FAULT_EVENTBRIDGE_DUPLICATE_RATE": "0.1",
    "AWS_FAULT_STALE_READ_SECONDS": "0.3",  # replicas behind (delivery's webhook and log reads)
    "AWS_FAULT_SEED": "5",
}


def matches(subscription, event: dict) -> bool:
    """The test's own reading of the rules (not the product's code)."""
    events, projects, pattern, enabled = subscription
    priority = event["currentValue"]["priority"]
    wanted = pattern is None or (priority == "high" if "high" in json.dumps(pattern) else priority != "low")
    return (
        enabled
        and (not events or event["type"] in events)
        and (not projects or event["project"] in projects)
        and wanted
    )


@pytest.fixture(scope="module")
def chaos():
    gone = frozenset({"/c0/w7"})
    receiver = ChaosReceiver(seed=11, hang_seconds=3, gone_paths=gone)
    stack = LocalStackProcess(
        WEBHOOKS_JWT_SECRET=SECRET,
        RETRY_SCHEDULE="0,1,1,2,2",
        DELIVERY_TIMEOUT_SECONDS="1",
        PROBE_INTERVAL_SECONDS="1",
        ASYNC_RETRY_DELAY_SECONDS="0.5",
        CHAOS_RATE="0.05",
        CHAOS_SEED="7",
        **AWS_FAULTS,
    )
    yield stack, receiver
    stack.stop()
    receiver.close()


def create_webhooks(stack, receiver) -> dict[tuple[int, int], dict]:
    webhooks = {}
    for company in range(COMPANIES):
        headers = {"Authorization": f"Bearer {mint(f'chaos-{company}', 'u1', 'ADMIN', SECRET)}"}
        for index, (events, projects, pattern, enabled) in enumerate(SUBSCRIPTIONS):
            body = {"url": receiver.url(f"/c{company}/w{index}"), "events": events, "projectIds": projects}
            body.update(filter=pattern, enabled=enabled)
            answer = requests.post(f"{stack.api}/webhooks", json=body, headers=headers, timeout=10)
            assert answer.status_code == 201, answer.text
            webhooks[company, index] = {**answer.json(), "headers": headers}
    return webhooks


def put_events(stack) -> list[dict]:
    rng = random.Random(3)
    events = [
        {
            "ref": f"e{n}",
            "company": n % COMPANIES,
            "type": rng.choice(TYPES),
            "project": rng.choice(PROJECTS),
            "currentValue": {"ref": f"e{n}", "priority": rng.choice(PRIORITIES)},
        }
        for n in range(EVENTS)
    ]
    bus = stack.client("events")
    for start in range(0, len(events), 10):
        entries = [
            {
                "Source": "blue",
                "DetailType": event["type"],
                "EventBusName": "blue-events",
                "Detail": json.dumps(
                    {
                        "id": f"chaos-{event['ref']}",
                        "company": {"id": f"chaos-{event['company']}"},
                        "project": {"id": event["project"]},
                        "user": {"id": "u1"},
                        "currentValue": event["currentValue"],
                        "previousValue": None,
                    }
                ),
            }
            for event in events[start : start + 10]
        ]
        assert bus.put_events(Entries=entries)["FailedEntryCount"] == 0
    return events


def final_states(stack, webhook: dict) -> dict[str, tuple[str, str | None]]:
    """eventId → (state, reason) of every delivery in the webhook's log."""
    states, cursor = {}, None
    while True:
        query = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        page = requests.get(
            f"{stack.api}/webhooks/{webhook['id']}/deliveries", params=query, headers=webhook["headers"], timeout=10
        ).json()
        states.update({d["eventId"]: (d["state"], d["reason"]) for d in page["items"]})
        if not (cursor := page["nextCursor"]):
            return states


@pytest.mark.timeout(3600)
def test_every_matching_pair_is_delivered_or_accounted_for(chaos):
    stack, receiver = chaos
    webhooks = create_webhooks(stack, receiver)
    events = put_events(stack)
    expected = {
        (event["ref"], webhooks[event["company"], index]["id"])
        for event in events
        for index, subscription in enumerate(SUBSCRIPTIONS)
        if matches(subscription, event)
    }
    by_id = {webhook["id"]: webhook for webhook in webhooks.values()}

    delivered, unexpected, ids, seen = Counter(), [], defaultdict(set), [0]

    def ledger():
        """Add the receipts that came since the last look (verified now, within the signatures' 5 minutes)."""
        fresh = receiver.receipts[seen[0] :]
        seen[0] += len(fresh)
        for receipt in fresh:
            body = json.loads(receipt.body)
            pair = (body["currentValue"]["ref"], body["webhook"]["id"])
            if pair not in expected:
                unexpected.append(pair)
            if receipt.answered in ("ok", "204"):
                assert_signed(by_id[pair[1]]["secret"], receipt.headers, receipt.body)
                delivered[pair] += 1
                ids[pair].add(receipt.headers["webhook-id"])
        return delivered, unexpected, ids

    gone = webhooks[0, len(SUBSCRIPTIONS) - 1]

    def unaccounted_for(missing):
        states = {webhook_id: final_states(stack, by_id[webhook_id]) for webhook_id in {w for _, w in missing}}
        # Events put after the 410 disabled a webhook no longer match it: the fan-out queues nothing for them.
        disabled = requests.get(f"{stack.api}/webhooks/{gone['id']}", headers=gone["headers"], timeout=10).json()
        no_log = (
            ("skipped", "webhook disabled (GONE) before the event") if disabled["disabledReason"] == "GONE" else None
        )
        settled = {
            pair: states[pair[1]].get(f"chaos-{pair[0]}", no_log if pair[1] == gone["id"] else None) or ("?", None)
            for pair in missing
        }
        for pair, settlement in settled.items():
            states[pair[1]].setdefault(f"chaos-{pair[0]}", settlement)
        ended = ("dead", "dropped", "skipped")
        return {pair for pair, (state, reason) in settled.items() if state not in ended or not reason}, states

    # Plus DeliveryQueue's visibility timeout (template.yaml, 180 s): a record whose requeue and backoff both
    # failed (throttles, brownouts) comes back only then, as on AWS; a green run ends as soon as all is accounted for.
    deadline = time.monotonic() + max(180, EVENTS * 1.5) + 180
    while True:
        delivered, unexpected, ids = ledger()
        missing = expected - set(delivered)
        unaccounted, states = unaccounted_for(missing)
        if not unaccounted or time.monotonic() > deadline:
            break
        print(f"chaos: {len(delivered)}/{len(expected)} delivered, {len(unaccounted)} in progress", flush=True)
        time.sleep(3)
    ended = Counter(states[w][f"chaos-{ref}"][0] for ref, w in missing if (ref, w) not in unaccounted)
    duplicates = sum(count - 1 for count in delivered.values())
    totals = {
        "events": len(events),
        "matching pairs": len(expected),
        "delivered": len(delivered),
        "dead": ended["dead"],
        "dropped": ended["dropped"],
        "skipped (disabled before the event)": ended["skipped"],
        "lost": len(unaccounted),  # neither delivered nor dead, dropped or skipped with its reason
        "misdelivered": len(unexpected),
        "duplicates": duplicates,
        "receipts": len(receiver.receipts),
        "answers": dict(Counter(r.answered for r in receiver.receipts)),
        "faults injected": dict(Counter(_faults(stack.output()))),
        "AWS faults injected": requests.get(f"{stack.aws}/_devstack/faults", timeout=10).json(),
        "batches timed out": stack.output().count("DeliveryFunction timed out after"),
    }
    print("chaos ledger:", json.dumps(totals))
    for ref, webhook_id in sorted(unaccounted):
        print(f"chaos: unaccounted for: {ref} → {webhook_id}, as logged: {states[webhook_id].get(f'chaos-{ref}')}")
    assert not unexpected, unexpected[:5]
    assert not unaccounted, sorted(unaccounted)[:10]
    assert all(len(webhook_ids) == 1 for webhook_ids in ids.values())  # a duplicate carries the same webhook-id
    assert ended["dead"] + ended["dropped"] + ended["skipped"] + len(delivered) == len(expected)
    assert totals["faults injected"]  # faults were injected on our side
    kinds = " ".join(totals["AWS faults injected"])
    assert all(kind in kinds for kind in ("throttled", "slow", "SQS received twice", "EventBridge invoked twice"))
    assert totals["batches timed out"] == 0  # AWS calls are bounded by the invocation's time (bluehooks.deadline)


def _faults(output: str) -> list[str]:
    return [line.split("chaos: ", 1)[1].strip() for line in output.splitlines() if "devstack WARNING chaos: " in line]
