"""`python -m ops tail`: a webhook's deliveries (or all of a company's) as they happen, until Ctrl-C or --for.

Each poll reads the deliveries created lately (the log's ByCreated index, as DeliveryLog.page
reads it) and reads again the deliveries not yet settled (GetItem). So every attempt shows, of
the deliveries created while it runs and of those already waiting for a retry when it started;
a retry or recover of a delivery that had settled before it started does not (the index is by
creation time).

It reads the partitions the delivery function writes, so each poll's reads are bounded: a
waiting delivery is read again only once its retry is due and at most every RECHECK_SECONDS,
READS_PER_POLL of them at most; the company's webhooks are listed every WEBHOOKS_EVERY seconds;
a webhook's recent deliveries are read CREATED_PAGES pages at most; polls are MIN_INTERVAL apart.
"""

import argparse
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from bluehooks.adapters.deliverylog import DeliveryLog
from bluehooks.adapters.store import WebhookStore
from bluehooks.models import DeliveryAttempt, LoggedDelivery
from bluehooks.timestamps import iso, now, parse
from ops import show
from ops.target import Target

SETTLED = frozenset({"succeeded", "dead", "dropped"})
# createdAt is stamped before its write lands, and clocks differ a little: the last seconds are read again.
OVERLAP = timedelta(seconds=30)
PAGE = 100
CREATED_PAGES = 10  # a webhook's deliveries created in the last OVERLAP read per poll: 1,000 at most
READS_PER_POLL = 50
RECHECK_SECONDS = 2.0
WEBHOOKS_EVERY = 30.0
MIN_INTERVAL = 0.25

Key = tuple[str, str]  # (webhook id, delivery id)


@dataclass(frozen=True)
class Seen:
    run: int
    attempts: int
    state: str


class Follower:
    def __init__(self, log: DeliveryLog, company_id: str, webhook_ids: Callable[[], list[str]]):
        self.log, self.company_id, self._list_webhooks = log, company_id, webhook_ids
        self.seen: dict[Key, Seen] = {}
        self.unsettled: dict[Key, float] = {}  # not settled yet → when to read it again (epoch seconds)
        self._webhooks: list[str] = []
        self._listed_at = -WEBHOOKS_EVERY

    def webhook_ids(self) -> list[str]:
        if time.monotonic() - self._listed_at >= WEBHOOKS_EVERY:
            self._webhooks, self._listed_at = self._list_webhooks(), time.monotonic()
        return self._webhooks

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
        moment = time.time()
        due = sorted((when, key) for key, when in self.unsettled.items() if when <= moment and key not in latest)
        for _, key in due[:READS_PER_POLL]:
            if delivery := self.log.get(self.company_id, *key):
                latest[key] = delivery
            else:  # deleted with its webhook, or expired: nothing more will happen to it
                del self.unsettled[key]
        return [text for _, text in sorted(line for d in latest.values() for line in self._changes(d))]

    def _created_lately(self, webhook_id: str) -> list[LoggedDelivery]:
        since, found, cursor = iso(now() - OVERLAP), [], None
        for _ in range(CREATED_PAGES):
            page, cursor = self.log.page(self.company_id, webhook_id, PAGE, cursor, since=since)
            found += page
            if cursor is None:
                break
        return found

    def _changes(self, delivery: LoggedDelivery) -> list[tuple[str, str]]:
        key = (delivery.webhookId, delivery.deliveryId)
        before = self.seen.get(key)
        self.seen[key] = Seen(delivery.run, delivery.attemptCount, delivery.state)
        if delivery.state in SETTLED:
            self.unsettled.pop(key, None)
        else:  # nothing happens to a failed delivery before its next retry
            retry = parse(delivery.nextRetryAt).timestamp() if delivery.nextRetryAt else 0.0
            self.unsettled[key] = max(retry, time.time() + RECHECK_SECONDS)
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
    parser.add_argument(
        "--interval", type=float, default=1.0, help=f"seconds between polls (default 1, at least {MIN_INTERVAL})"
    )
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
    # Ctrl-C stops it also when it was started with SIGINT ignored (as a script's background job is).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        while deadline is None or time.monotonic() < deadline:
            for line in follower.poll():
                print(line, flush=True)
            interval = max(MIN_INTERVAL, args.interval)
            time.sleep(interval if deadline is None else max(0, min(interval, deadline - time.monotonic())))
    except KeyboardInterrupt:
        pass
    return 0
