"""`python -m ops pending`: a webhook's deliveries waiting for a retry, and its health.

A waiting retry is a delivery in state `failed` (its next attempt is a delayed message); the
log is read as the API's `?status=failed` reads it (DeliveryLog.page), newest first.
"""

import argparse

from bluehooks.adapters.deliverylog import DeliveryLog
from bluehooks.models import LoggedDelivery
from ops import show
from ops.target import Target

PAGE = 100


def waiting(log: DeliveryLog, company_id: str, webhook_id: str, limit: int, since: str | None) -> list[LoggedDelivery]:
    """Up to `limit` failed deliveries, newest first, following the log's pages to its end."""
    found: list[LoggedDelivery] = []
    cursor = None
    while len(found) < limit:
        page, cursor = log.page(company_id, webhook_id, min(PAGE, limit - len(found)), cursor, ("failed",), None, since)
        found += page
        if cursor is None:
            break
    return found


def line(delivery: LoggedDelivery) -> str:
    last = delivery.attempts[-1] if delivery.attempts else None
    tried = f"attempt {last.attempt} of run {last.run}: {show.result(last)}" if last else "no attempt yet"
    attempts = show.count(delivery.attemptCount, "attempt")
    return (
        f"{delivery.deliveryId}  {delivery.event}  created {delivery.createdAt}  {attempts}  "
        f"last {tried}  next retry {show.when(delivery.nextRetryAt)}"
    )


def add_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser("pending", help="a webhook's deliveries waiting for a retry", description=__doc__)
    parser.add_argument("--company", required=True, help="the webhook's company id")
    parser.add_argument("--webhook", required=True, help="the webhook's id (wh_...)")
    parser.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    parser.add_argument("--since", help="only deliveries created at or after this ISO time (reads less of the log)")
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace, target: Target) -> int:
    webhook = target.store().get(args.company, args.webhook)
    print(show.health(webhook) if webhook else f"webhook {args.webhook} of {args.company}: not found (deleted?)")
    found = waiting(target.log(), args.company, args.webhook, args.limit, args.since)
    for delivery in found:
        print(line(delivery))
    more = " (the limit: there may be more)" if len(found) == args.limit else ""
    print(f"{show.count(len(found), 'delivery', 'deliveries')} waiting for a retry{more}", flush=True)
    return 0
