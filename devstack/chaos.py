"""Faults on our side, for chaos tests: off unless CHAOS_RATE is set (never in a plain `make run`).

Each fault is one AWS really produces, injected into a function's own module copy:
- the delivery function crashes mid-batch: a record's work is done, then the record fails
  (so it comes back, and must not be delivered twice as a new attempt);
- SendMessageBatch fails part of a batch (entries reported in `Failed`, not sent);
- the fan-out dies after enqueuing part of an event's deliveries (Lambda retries the event).
"""

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from devstack.lambdas import root_of

log = logging.getLogger("devstack")


class InjectedFault(Exception):
    """A fault the chaos test asked for."""


@dataclass
class Chaos:
    rate: float
    seed: int = 0
    injected: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)  # noqa: S311 - fault injection, not crypto
        self._lock = threading.Lock()

    def strikes(self, fault: str) -> bool:
        with self._lock:
            if self._random.random() >= self.rate:
                return False
            self.injected[fault] = self.injected.get(fault, 0) + 1
        log.warning("chaos: %s", fault)
        return True

    def infect(self, function: str, handler: Callable) -> Callable:
        """Wire this function's faults into its root (its module copy's); returns the handler unchanged."""
        if function == "DeliveryFunction":
            deliverer = root_of(handler).deliverer
            deliverer.attempt = self._crashing(deliverer.attempt)
        elif function == "FanoutFunction":
            queue = root_of(handler).fanout.queue
            queue.sqs = _FlakySQS(queue.sqs, self)
        return handler

    def _crashing(self, attempt: Callable) -> Callable:
        def crash_after(message):
            outcome = attempt(message)
            if self.strikes("delivery crashed after its attempt"):
                raise InjectedFault("crashed mid-batch")
            return outcome

        return crash_after


class _FlakySQS:
    """An SQS client whose SendMessageBatch fails part of a batch, or dies after an earlier one."""

    def __init__(self, sqs, chaos: Chaos):
        self._sqs, self._chaos = sqs, chaos

    def __getattr__(self, name: str):
        return getattr(self._sqs, name)

    def send_message_batch(self, **request):
        entries = request["Entries"]
        if len(entries) > 1 and self._chaos.strikes("SendMessageBatch failed part of a batch"):
            failed, sent = entries[: len(entries) // 2], entries[len(entries) // 2 :]
            response = self._sqs.send_message_batch(**{**request, "Entries": sent})
            lost = [{"Id": e["Id"], "Code": "InternalError", "SenderFault": False} for e in failed]
            return {**response, "Failed": response.get("Failed", []) + lost}
        response = self._sqs.send_message_batch(**request)
        if self._chaos.strikes("fan-out died after enqueuing part of an event"):
            raise InjectedFault("died after enqueuing part of the event")
        return response
