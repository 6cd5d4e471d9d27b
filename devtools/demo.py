"""`make demo`: the scenario of devtools.scenario, played against a local stack this process starts, and checked.

Webhooks with events, projects and a filter; a burst of Blue events; one receiver down for a while
(each delivery retried, then delivered), one down until its deliveries are dead (then recovered).
Every request is verified with receivers/python/blue_webhooks_verify.py. It prints a table of the
deliveries, the health changes and the recover, and exits 0 only when each is the expected one.
"""

import json
import logging
import socket
import sys
import threading
import time
import warnings
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3
import requests

from devstack.stack import Running, Settings, local_parameters
from devstack.token import DEFAULT_JWT_SECRET, mint, quiet_local_default
from devtools.apiclient import Api, ApiError
from devtools.loopback import Arrival, Loopback, verification_module
from devtools.scenario import EVENTS, WEBHOOKS, Seen, Tally, WebhookPlan, differences, matching

# Short enough for a demo: 5 attempts over about 6 s, a 2 s deadline (with 1 s, a stall of a loaded
# machine would turn a first try into a retry), an UNHEALTHY endpoint probed every second.
LOCAL = {"RETRY_SCHEDULE": "0,1,1,2,2", "DELIVERY_TIMEOUT_SECONDS": "2", "PROBE_INTERVAL_SECONDS": "1"}
DEADLINE_SECONDS = 60  # for the whole scenario, which takes about 20 s; a stage not reached by then is a difference
ARCHIVE = next(plan for plan in WEBHOOKS if plan.receiver == "dead")


class Clock:
    def __init__(self) -> None:
        self.started = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def say(self, line: str) -> None:
        print(f"[{self.elapsed():5.1f} s] {line}", flush=True)


class ScenarioReceiver:
    """One path per webhook, answering as its plan says; verifies every request's signatures."""

    def __init__(self, clock: Clock):
        self.clock = clock
        self.verifier = verification_module()
        self.secrets: dict[str, str] = {}  # path -> the webhook's secret
        self.up = {plan.path for plan in WEBHOOKS if plan.receiver == "up"}
        self.refused: dict[str, set[str]] = defaultdict(set)
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.loopback = Loopback(self.respond)

    def respond(self, arrival: Arrival) -> int:
        plan = next(plan for plan in WEBHOOKS if plan.path == arrival.path)
        verified = self.verified(arrival)
        delivery_id = arrival.headers.get("webhook-id", "")
        with self.lock:
            status = 200 if arrival.path in self.up else 500
            if status == 500 and plan.receiver == "down":
                self.refused[plan.key].add(delivery_id)
                if len(self.refused[plan.key]) == len(matching(plan)):
                    self.up.add(plan.path)
                    self.clock.say(f"{plan.name}: has refused each of its deliveries once (500); back up")
            record = json.loads(arrival.body)["currentValue"]["id"] if verified else "?"
            self.seen.append(Seen(plan.key, delivery_id, record, status, verified))
        return status if verified else 401

    def verified(self, arrival: Arrival) -> bool:
        try:
            self.verifier.verify(self.secrets[arrival.path], arrival.headers, arrival.body)
        except self.verifier.WebhookVerificationError:
            return False
        return True


class HealthWatch(threading.Thread):
    """Reads each webhook's status from the API four times a second and keeps every change."""

    def __init__(self, apis: dict[str, Api], ids: dict[str, str], clock: Clock):
        super().__init__(name="health-watch", daemon=True)
        self.apis, self.clock = apis, clock
        self.key_of = {webhook_id: key for key, webhook_id in ids.items()}
        self.changes: dict[str, list[tuple[float, str]]] = {key: [] for key in ids}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.25):
            for api in self.apis.values():
                try:
                    webhooks = api.call("GET", "/webhooks?limit=100")["items"]
                except (requests.RequestException, ApiError):  # a slow moment: the next read catches up
                    continue
                for webhook in webhooks:
                    history = self.changes[self.key_of[webhook["id"]]]
                    if not history or history[-1][1] != webhook["status"]:
                        history.append((self.clock.elapsed(), webhook["status"]))

    def statuses(self, key: str) -> list[str]:
        return [status for _, status in self.changes[key]]


class Demo:
    def __init__(self, running: Running, clock: Clock):
        self.clock, self.bus = clock, running.stack.output("EventBusName")
        companies = sorted({plan.company for plan in WEBHOOKS})
        key = running.settings.jwt_secret
        self.apis = {
            company: Api(running.settings.api_url, mint(company, "u-admin", "ADMIN", key)) for company in companies
        }
        self.receiver = ScenarioReceiver(clock)
        self.ids: dict[str, str] = {}
        self.dead: dict[str, set[str]] = {}  # before the recover
        self.recovery: dict[str, Any] = {}
        self.differences: list[str] = []
        self.deadline = time.monotonic() + DEADLINE_SECONDS

    def run(self) -> None:
        since = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        self.create_webhooks()
        watch = HealthWatch(self.apis, self.ids, self.clock)
        watch.start()
        self.put_events()
        self.wait(
            f"{ARCHIVE.name}: every delivery dead", lambda: len(self.ids_in(ARCHIVE, "dead")) == len(matching(ARCHIVE))
        )
        self.dead = {plan.key: self.ids_in(plan, "dead") for plan in WEBHOOKS}
        self.recover(ARCHIVE, since)
        self.wait("every delivery delivered", self.settled)
        self.wait(f"{ARCHIVE.name}: HEALTHY again", lambda: watch.statuses(ARCHIVE.key)[-1:] == ["HEALTHY"])
        time.sleep(1)  # time for anything sent that should not have been to arrive
        watch.stop.set()
        watch.join()
        tallies = {plan.key: self.tally(plan) for plan in WEBHOOKS}
        print_table(tallies, self.receiver.seen)
        print_health(watch)
        self.differences += differences(tallies, self.receiver.seen, {key: watch.statuses(key) for key in self.ids})
        if self.recovery != {"queued": len(matching(ARCHIVE)), "remaining": False, "notSent": []}:
            self.differences.append(f"recover answered {self.recovery}, expected {len(matching(ARCHIVE))} queued")

    def create_webhooks(self) -> None:
        for plan in WEBHOOKS:
            fields = {"name": plan.name, "url": self.receiver.loopback.url(plan.path), **plan.fields}
            created = self.apis[plan.company].create_webhook(**fields)
            self.ids[plan.key] = created["id"]
            self.receiver.secrets[plan.path] = created["secret"]
            self.clock.say(f"webhook {plan.name!r} of {plan.company}: {describe(plan)}")

    def put_events(self) -> None:
        events = boto3.client("events")  # the stack points this process's clients at the emulator
        entries = [
            {
                "Source": "blue",
                "DetailType": event.type,
                "EventBusName": self.bus,
                "Detail": json.dumps(event.detail(n)),
            }
            for n, event in enumerate(EVENTS, 1)
        ]
        for start in range(0, len(entries), 10):  # PutEvents takes 10 entries a call
            if events.put_events(Entries=entries[start : start + 10])["FailedEntryCount"]:
                raise RuntimeError("PutEvents refused an event")
        self.clock.say(f"{len(EVENTS)} Blue events put on the bus {self.bus} (PutEvents)")

    def recover(self, plan: WebhookPlan, since: str) -> None:
        self.receiver.up.add(plan.path)
        self.clock.say(f"{plan.name}: back up; recovering its dead deliveries")
        self.recovery = self.apis[plan.company].recover(self.ids[plan.key], since)
        self.clock.say(
            f"POST /webhooks/{self.ids[plan.key]}/recover {json.dumps({'since': since})} -> {json.dumps(self.recovery)}"
        )

    def settled(self) -> bool:
        return all(len(self.ids_in(plan, "succeeded")) == len(matching(plan)) for plan in WEBHOOKS)

    def wait(self, what: str, done: Callable[[], bool]) -> None:
        while not done():
            if time.monotonic() > self.deadline:
                self.differences.append(f"not reached within the demo's {DEADLINE_SECONDS} s: {what}")
                return
            time.sleep(0.3)
        self.clock.say(what)

    def log(self, plan: WebhookPlan) -> list[dict[str, Any]]:
        return self.apis[plan.company].deliveries(self.ids[plan.key])

    def ids_in(self, plan: WebhookPlan, state: str) -> set[str]:
        return {delivery["deliveryId"] for delivery in self.log(plan) if delivery["state"] == state}

    def tally(self, plan: WebhookPlan) -> Tally:
        log, dead = self.log(plan), self.dead.get(plan.key, set())
        delivered = [d for d in log if d["state"] == "succeeded"]
        return Tally(
            deliveries=len(log),
            first_try=sum(1 for d in delivered if d["attemptCount"] == 1),
            retried=sum(1 for d in delivered if d["attemptCount"] > 1 and d["deliveryId"] not in dead),
            dead=len(dead),
            recovered=sum(1 for d in delivered if d["deliveryId"] in dead),
            not_matching=len(EVENTS) - len(log),
        )


def describe(plan: WebhookPlan) -> str:
    events = ", ".join(plan.fields.get("events", [])) or "every event"
    projects = ", ".join(plan.fields.get("projectIds", [])) or "every project"
    pattern = f", filter {json.dumps(plan.fields['filter'])}" if "filter" in plan.fields else ""
    return f"{events} in {projects}{pattern}; receiver {plan.receiver}"


def print_table(tallies: dict[str, Tally], seen: list[Seen]) -> None:
    rows = [
        ("webhook", "deliveries", "1st try", "retried", "dead", "recovered", "not matching", "requests", "verified")
    ]
    for plan in WEBHOOKS:
        tally, requests = tallies[plan.key], [s for s in seen if s.webhook == plan.key]
        verified = sum(1 for s in requests if s.verified)
        counts = (tally.deliveries, tally.first_try, tally.retried, tally.dead, tally.recovered, tally.not_matching)
        mark = "✓" if verified == len(requests) else "✗"
        rows.append((plan.name, *map(str, counts), str(len(requests)), f"{verified} {mark}"))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    print(f"\nDeliveries of {len(EVENTS)} events, from the delivery log (GET /webhooks/{{id}}/deliveries)")
    for row in rows:
        cells = [cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)]
        print("  " + "  ".join(cells))
    print(
        "  retried: delivered after failed attempts; dead: before the recover; recovered: dead, then delivered;\n"
        "  not matching: events it did not get (type, project, filter, company); requests: as received, "
        "verified with receivers/python/blue_webhooks_verify.py"
    )


def print_health(watch: HealthWatch) -> None:
    print("\nHealth changes (GET /webhooks: status, seconds since start)")
    for plan in WEBHOOKS:
        steps = [f"{status} ({at:.1f} s)" for at, status in watch.changes[plan.key]]
        print(f"  {plan.name.ljust(max(len(p.name) for p in WEBHOOKS))}  {' → '.join(steps)}")


def quiet_functions(running: Running) -> None:
    """The functions' INFO lines would bury the demo's own: only their warnings and errors show."""
    service = running.stack.function_environment(running.stack.api_function())["POWERTOOLS_SERVICE_NAME"]
    for handler in logging.getLogger(service).handlers:  # the child loggers propagate to these
        handler.setLevel(logging.WARNING)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    quiet_local_default(DEFAULT_JWT_SECRET)  # the demo's stack runs with the local default key
    warnings.filterwarnings("ignore", message="No application metrics")  # Powertools, metrics off locally
    clock = Clock()
    running = Running(Settings(api_port=free_port(), aws_port=free_port(), parameters=local_parameters(LOCAL)))
    quiet_functions(running)
    clock.say(
        f"local stack up: API {running.settings.api_url}, retries after {LOCAL['RETRY_SCHEDULE']} s, "
        f"{LOCAL['DELIVERY_TIMEOUT_SECONDS']} s deadline"
    )
    demo = Demo(running, clock)
    try:
        demo.run()
    finally:
        demo.receiver.loopback.close()
        running.stop()
    if demo.differences:
        print("\nNOT as expected:\n  " + "\n  ".join(demo.differences))
        return 1
    print(f"\nEvery outcome as expected ({clock.elapsed():.1f} s).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
