"""`python -m ops tail`: a webhook's deliveries (or all of a company's) as they happen, until Ctrl-C or --for.

Each poll reads the deliveries created lately (the log's ByCreated index, as DeliveryLog.page
reads it) and reads again each delivery not yet settled (GetItem). So every attempt shows, of
the deliveries created while it runs and of those already waiting for a retry when it started;
a retry or recover of a delivery that had settled before it started does not (the index is by
creation time).
"""

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from bluehooks.deliverylog import DeliveryLog, LoggedDelivery
from bluehooks.models import DeliveryAttempt
from bluehooks.store import WebhookStore
from bluehooks.timestamps import iso, now
from ops import show
from ops.target import Target

SETTLED = frozenset({"succeeded", "dead", "dropped"})
# createdAt is stamped before its write lands, and clocks differ a little: the last seconds are read again.
OVERLAP = timedelta(seconds=30)
PAGE = 100

Key = tuple[str, str]  # (webhook id, delivery id)


@dataclass(frozen=True)
class Seen:
    run: int
    attempts: int
    state: str


class Follower:
    def __init__(self, log: DeliveryLog, company_id: str, webhook_ids: Callable[[], list[str]]):
        self.log, self.company_id, self.webhook_ids = log, company_id, webhook_ids
        self.seen: dict[Key, Seen] = {}
        self.unsettled: set[Key] = set()

    def start(self) -> int:
        """Take note of what is already there (not shown) and of what waits for a retry; returns how many wait."""
        for webhook_id in self.webhook_ids():
            waiting, _ = self.log.page(self.company_id, webhook_id, PAGE, states=("failed", "pending"))
            for delivery in [*waiting, *self._created_lately(webhook_id)]:
                self._changes(delivery)
        return len(self.unsettled)

    def poll(self) -> list[str]:
        """One line per attempt (or change of state) since the last poll, in time order."""
        latest = {(d.webhookId, d.deliveryId): d for w in self.webhook_ids() for d in self._created_lately(w)}
        for key in self.unsettled - latest.keys():
            if delivery := self.log.get(self.company_id, *key):
                latest[key] = delivery
        return [text for _, text in sorted(line for d in latest.values() for line in self._changes(d))]

    def _created_lately(self, webhook_id: str) -> list[LoggedDelivery]:
        since, found, cursor = iso(now() - OVERLAP), [], None
        while True:
            page, cursor = self.log.page(self.company_id, webhook_id, PAGE, cursor, since=since)
            found += page
            if cursor is None:
                return found

    def _changes(self, delivery: LoggedDelivery) -> list[tuple[str, str]]:
        key = (delivery.webhookId, delivery.deliveryId)
        before = self.seen.get(key)
        self.seen[key] = Seen(delivery.run, delivery.attemptCount, delivery.state)
        (self.unsettled.discard if delivery.state in SETTLED else self.unsettled.add)(key)
        if before == self.seen[key]:
            return []
        head = f"{delivery.webhookId}  {delivery.deliveryId}  {delivery.event}"
        new = delivery.attempts[before.attempts if before else 0 :]
        lines = [(a.at, f"{a.at}  {head}  {_attempt(a, delivery, a is delivery.attempts[-1])}") for a in new]
        if not new:  # queued (a new delivery, or a new run), or dropped: no attempt
            reason = f": {delivery.reason}" if delivery.reason else ""
            queued = f"queued (run {delivery.run})" if delivery.state == "pending" else delivery.state
            lines.append((delivery.updatedAt, f"{delivery.updatedAt}  {head}  {queued}{reason}"))
        return lines


def _attempt(attempt: DeliveryAttempt, delivery: LoggedDelivery, last: bool) -> str:
    text = f"attempt {attempt.attempt} (run {attempt.run}): {show.result(attempt)}"
    if attempt.nextRetryAt:
        return f"{text} → retry at {attempt.nextRetryAt}"
    if last:
        return f"{text} → {delivery.state}" + (f": {delivery.reason}" if delivery.reason else "")
    return text


def company_webhooks(store: WebhookStore, company_id: str) -> list[str]:
    ids, cursor = [], None
    while True:
        page, cursor = store.page(company_id, PAGE, cursor, lambda webhook: True)
        ids += [webhook.id for webhook in page]
        if cursor is None:
            return ids


def add_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser("tail", help="follow deliveries as they happen", description=__doc__)
    parser.add_argument("--company", required=True, help="the company id")
    parser.add_argument("--webhook", help="only this webhook (default: every webhook of the company)")
    parser.add_argument("--for", dest="seconds", type=float, help="stop after this many seconds (default: Ctrl-C)")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls (default 1)")
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace, target: Target) -> int:
    store = target.store()
    webhooks = (lambda: [args.webhook]) if args.webhook else (lambda: company_webhooks(store, args.company))
    follower = Follower(target.log(), args.company, webhooks)
    waiting = follower.start()
    scope = f"webhook {args.webhook}" if args.webhook else f"every webhook of {args.company}"
    waiting_now = show.count(waiting, "delivery", "deliveries")
    print(f"following {scope} ({target.describe()}); {waiting_now} waiting for a retry; Ctrl-C stops", flush=True)
    deadline = time.monotonic() + args.seconds if args.seconds is not None else None
    try:
        while deadline is None or time.monotonic() < deadline:
            for line in follower.poll():
                print(line, flush=True)
            time.sleep(args.interval if deadline is None else max(0, min(args.interval, deadline - time.monotonic())))
    except KeyboardInterrupt:
        pass
    return 0
