"""`python -m ops redrive-deliveries`: DeliveryDLQ's deliveries queued again, each in a new run with fresh attempts.

What DeliveryDLQ holds (bluehooks.services.scheduling.dead_letter, and the queues' redrive policy):
- a delivery that used every attempt (`reason`: "no attempt left after N");
- one that failed too often for our own reasons, or that the redrive policy moved after 10
  receives (no `reason`): its attempt unused;
- a poison body, not a delivery message (`reason`: "poison message: ...").

Each message is weighed against the delivery log (bluehooks.rules.redrive: `settled` as the
delivery function judges it, `queued` as the API's retry and recover do):
- its delivery is pending in this run or a newer one, queued lately and not yet attempted (a
  retry or recover, or a redrive whose queueing failed): kept; a later run finds it attempted
  (done), or pending for longer than the API's recover allows (STALE_PENDING: its queueing
  failed) and redrives it;
- a newer run exists (the delivery was retried or recovered since), or it was delivered: done,
  the message is deleted and nothing is sent;
- its webhook was deleted: nothing can deliver it; the message is deleted;
- its webhook is disabled: kept (delivering would only record it `dropped`); re-enable it and
  run again;
- a poison body: kept, with its reason;
- otherwise the delivery starts a new run (DeliveryLog.start_run, conditional on the run it was
  read in, so a concurrent recover is never doubled) and is queued at attempt 1, with the same
  delivery id (the webhook-id receivers deduplicate on). The message is deleted only then.
"""

import argparse
from dataclasses import dataclass, field
from typing import Literal

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from bluehooks.adapters.deliverylog import DeliveryLog
from bluehooks.adapters.store import WebhookStore
from bluehooks.models import DeliveryMessage, LoggedDelivery
from bluehooks.ports import NotQueued
from bluehooks.rules.redrive import weigh
from bluehooks.services.scheduling import RetryScheduler
from bluehooks.timestamps import now
from ops.queues import Message, attribute, drain
from ops.target import Target

Action = Literal["redrive", "done", "drop", "keep", "skip"]
VERBS = {"redrive": "redriven", "done": "done", "drop": "dropped", "keep": "kept", "skip": "skipped"}


@dataclass(frozen=True)
class Verdict:
    action: Action
    why: str
    message: DeliveryMessage | None = None
    delivery: LoggedDelivery | None = None  # redrive: the logged delivery that starts a new run


@dataclass
class Tally:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys([*VERBS.values(), "failed"], 0))
    held: list[Message] = field(default_factory=list)

    def line(self) -> str:
        counted = ", ".join(f"{verb} {count}" for verb, count in self.counts.items())
        return f"{counted}; left in the queue {len(self.held)}"


class Redrive:
    def __init__(self, store: WebhookStore, log: DeliveryLog, scheduler: RetryScheduler, webhook_id: str | None = None):
        self.store, self.log, self.scheduler = store, log, scheduler
        self.webhook_id = webhook_id  # only this webhook's messages; the others are kept untouched

    def weigh(self, raw: Message) -> Verdict:
        reason = attribute(raw, "reason") or "moved by the queue's redrive policy"
        try:
            message = DeliveryMessage.model_validate_json(raw["Body"])
        except ValidationError:
            return Verdict("keep", f"{raw['MessageId']}: not a delivery message ({reason[:200]})")
        if self.webhook_id and message.webhookId != self.webhook_id:
            return Verdict("skip", "another webhook's", message)
        logged = self.log.get(message.companyId, message.webhookId, message.deliveryId)
        webhook = self.store.get(message.companyId, message.webhookId)
        action, why = weigh(message, logged, webhook, reason, now())
        return Verdict(action, why, message, logged if action == "redrive" else None)

    def carry_out(self, verdict: Verdict) -> bool:
        """Act on a verdict; True when the DLQ message may be deleted (its redelivery is queued)."""
        if verdict.action in ("done", "drop"):
            return True
        if verdict.action != "redrive":
            return False
        delivery, message = verdict.delivery, verdict.message
        if delivery is None:  # never attempted, so never logged: logged now, as the API logs what it queues
            fresh = message.model_copy(update={"attempt": 1, "dueAt": None, "infraRetries": 0})
            if not self.log.record(fresh, "pending"):
                return True  # a newer run owns it
            self.scheduler.wait(fresh)
            return True
        if not self.log.start_run(delivery):
            raise Changed("it changed meanwhile (retried or recovered?); run again to see")
        try:
            self.scheduler.wait(delivery.message())
        except (BotoCoreError, ClientError, NotQueued) as exc:
            raise Changed(
                f"run {delivery.run} started but not queued ({exc}); it is redriven once it is stale"
            ) from exc
        return True


class Changed(Exception):
    """The delivery moved on between reading and starting a new run: nothing was queued."""


def handle(redrive: Redrive, raw: Message, tally: Tally, dry_run: bool) -> bool:
    """Weigh one message and act on it (or, dry, only say how); True when it may be deleted."""
    label = raw["MessageId"]
    try:
        verdict = redrive.weigh(raw)
        label, verb = _label(verdict), VERBS[verdict.action]
        if verdict.action == "skip" or dry_run:
            tally.counts[verb] += 1
            if dry_run and verdict.action != "skip":
                print(f"would be {verb} {label}", flush=True)
            return False
        delete = redrive.carry_out(verdict)
    except Exception as exc:  # one message's failure (a hostile body, an AWS error) must not stop the others'
        tally.counts["failed"] += 1
        print(f"failed   {label}: {type(exc).__name__}: {exc}"[:2000], flush=True)
        return False
    tally.counts[verb] += 1
    print(f"{verb:<8} {label}", flush=True)
    return delete


def _label(verdict: Verdict) -> str:
    message = verdict.message
    if message is None:
        return verdict.why
    return f"{message.deliveryId} {message.event} webhook {message.webhookId} run {message.run}: {verdict.why}"


def redrive_queue(sqs, queue_url: str, redrive: Redrive, dry_run: bool = False, wait_seconds: int = 1) -> Tally:
    tally = Tally()
    tally.held = drain(sqs, queue_url, lambda raw: handle(redrive, raw, tally, dry_run), wait_seconds)
    return tally


def add_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "redrive-deliveries", help="queue DeliveryDLQ's deliveries again, in a new run each", description=__doc__
    )
    parser.add_argument("--webhook", help="only this webhook's deliveries (the others stay in the queue)")
    parser.add_argument("--dry-run", action="store_true", help="say what would happen to each message; change nothing")
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace, target: Target) -> int:
    queue_url = target.names.delivery_dlq_url
    redrive = Redrive(target.store(), target.log(), target.scheduler(), args.webhook)
    print(f"{'dry run: ' if args.dry_run else ''}redriving {queue_url} ({target.describe()})", flush=True)
    tally = redrive_queue(target.client("sqs"), queue_url, redrive, args.dry_run)
    print(f"{'would be: ' if args.dry_run else ''}{tally.line()}", flush=True)
    return 1 if tally.counts["failed"] else 0
