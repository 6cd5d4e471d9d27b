"""The delivery engine's benches (`python -m bench engine`), each beside its floor measured in the same run.

- batch wall time, 10 and 100 records, against 0 ms, 100 ms and trickling receivers: the
  DeliveryFunction handler on the local stack, against the slowest single request alone;
- CPU per delivered message: the handler, against a bare pooled urllib3 loop POSTing the same bodies;
- a hanging endpoint with 1,000 queued deliveries: delivery time it consumes per minute, against
  what it would take without the circuit breaker.
"""

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import boto3
import requests
import urllib3

from devstack.lambdas import LambdaContext, load_handler, root_of
from devstack.stack import Running
from devstack.token import mint
from devtools.hostile_receiver import HostileReceiver
from devtools.receiver import Receiver

HANG_WINDOW_SECONDS = 60
HANGING_QUEUED = 1000


def engine(running: Running) -> None:
    receiver, hostile = Receiver(), HostileReceiver()
    try:
        handler = _handler(running)
        targets = {
            "0 ms": receiver.behave("/zero"),
            "100 ms": receiver.behave("/slow", delay=0.1),
            "trickling": hostile.url("/trickle"),
        }
        print("batch of N (all at once)     receiver      batch wall    floor: slowest single request   ratio")
        for size in (10, 100):
            for kind, url in targets.items():
                print(_batch_row(running, handler, size, kind, url), flush=True)
        print(_cpu_row(running, handler, receiver.behave("/cpu")), flush=True)
        print(_hanging_row(running, hostile.url("/hang")), flush=True)
    finally:
        receiver.close()
        hostile.close()


def _handler(running: Running):
    path, name = running.stack.handler_path("DeliveryFunction")
    return load_handler(path, name, running.stack.layer_paths("DeliveryFunction"))


def _webhook(running: Running, company: str, url: str) -> dict:
    token = mint(company, "u", "ADMIN", running.settings.jwt_secret)
    created = requests.post(
        f"{running.settings.api_url}/webhooks",
        json={"url": url},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    created.raise_for_status()
    return created.json()


def _records(webhook: dict, count: int) -> list[dict]:
    records = []
    for n in range(count):
        message = {
            "deliveryId": f"msg_{uuid.uuid4().hex}",
            "webhookId": webhook["id"],
            "companyId": webhook["companyId"],
            "eventId": f"evt-{n}",
            "event": "TODO_CREATED",
            "payload": {"event": "TODO_CREATED", "company": {"id": webhook["companyId"]}, "currentValue": {"n": n}},
        }
        records.append(
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "bench",
                "body": json.dumps(message),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:bench",
                "awsRegion": "us-east-1",
            }
        )
    return records


def _invoke(handler, records: list[dict], running: Running) -> float:
    root_of(handler).records = ThreadPoolExecutor(max_workers=len(records))  # a pool the size of the batch
    context = LambdaContext("DeliveryFunction", timeout_seconds=900)
    started = time.perf_counter()
    handler({"Records": records}, context)
    return time.perf_counter() - started


def _batch_row(running: Running, handler, size: int, kind: str, url: str) -> str:
    webhook = _webhook(running, f"bench-batch-{size}-{kind}-{uuid.uuid4().hex[:6]}", url)
    wall = _invoke(handler, _records(webhook, size), running)
    from bluehooks.outbound import pinned_session, post
    from bluehooks.targets import TargetPolicy

    session = pinned_session(TargetPolicy(allow_http=True, allow_loopback=True))
    timeout = running.stack.resolve({"Ref": "DeliveryTimeoutSeconds"})
    started = time.perf_counter()
    post(session, url, b"{}", {"Content-Type": "application/json"}, float(timeout))
    single = time.perf_counter() - started
    return f"batch of {size:<4}                {kind:<10} {wall * 1000:9.0f} ms   {single * 1000:9.0f} ms" + (
        f"                       {wall / single:5.1f}x"
    )


def _cpu_row(running: Running, handler, url: str) -> str:
    webhook = _webhook(running, f"bench-cpu-{uuid.uuid4().hex[:6]}", url)
    rounds, size = 10, 10
    _invoke(handler, _records(webhook, size), running)  # warm: KMS, pools
    started = time.process_time()
    for _ in range(rounds):
        _invoke(handler, _records(webhook, size), running)
    ours = (time.process_time() - started) / (rounds * size)
    pool = urllib3.PoolManager(maxsize=size)
    body = json.dumps(json.loads(_records(webhook, 1)[0]["body"])).encode()
    started = time.process_time()
    for _ in range(rounds * size):
        pool.request("POST", url, body=body, headers={"Content-Type": "application/json"})
    floor = (time.process_time() - started) / (rounds * size)
    return (
        f"CPU per delivered message      {ours * 1000:6.2f} ms   floor: bare pooled urllib3 POST {floor * 1000:6.3f} ms"
        f"   ratio {ours / floor:5.1f}x  (ours includes the log, health and KMS calls to the emulator)"
    )


def _hanging_row(running: Running, url: str) -> str:
    """1,000 deliveries queued for a hanging endpoint; the stack's own pollers deliver for two minutes."""
    webhook = _webhook(running, f"bench-hang-{uuid.uuid4().hex[:6]}", url)
    sqs = boto3.client("sqs")
    queue = running.stack.ref("DeliveryQueue")
    records = _records(webhook, HANGING_QUEUED)
    for start in range(0, len(records), 10):
        entries = [{"Id": str(i), "MessageBody": r["body"]} for i, r in enumerate(records[start : start + 10])]
        sqs.send_message_batch(QueueUrl=queue, Entries=entries)
    time.sleep(HANG_WINDOW_SECONDS)
    first, first_attempts = _delivery_seconds(running, webhook)
    time.sleep(HANG_WINDOW_SECONDS)
    total, attempts = _delivery_seconds(running, webhook)
    timeout = float(running.stack.resolve({"Ref": "DeliveryTimeoutSeconds"}))
    without = HANGING_QUEUED * timeout
    return (
        f"hanging endpoint, {HANGING_QUEUED} queued: delivery time 1st min {first:5.1f} s ({first_attempts} attempts),"
        f" 2nd min {total - first:5.1f} s ({attempts - first_attempts} attempts)\n"
        f"floor: without the breaker every delivery takes its {timeout:g} s: {without:,.0f} s of delivery time"
        f"   ratio {without / max(total - first, 0.001):,.0f}x less per minute, once the circuit is open"
    )


def _delivery_seconds(running: Running, webhook: dict) -> tuple[float, int]:
    token = mint(webhook["companyId"], "u", "ADMIN", running.settings.jwt_secret)
    headers, spent, attempts, cursor = {"Authorization": f"Bearer {token}"}, 0.0, 0, None
    while True:
        query = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        url = f"{running.settings.api_url}/webhooks/{webhook['id']}/deliveries"
        page = requests.get(url, params=query, headers=headers, timeout=30).json()
        for item in page["items"]:
            one = requests.get(f"{url}/{item['deliveryId']}", headers=headers, timeout=30).json()
            spent += sum((attempt["durationMs"] or 0) for attempt in one["attempts"]) / 1000
            attempts += len(one["attempts"])
        if not (cursor := page["nextCursor"]):
            return spent, attempts
