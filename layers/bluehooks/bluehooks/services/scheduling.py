"""Waiting retries as delayed messages, never as in-flight ones.

A standard queue holds about 120,000 in-flight messages, and an in-flight message is one that
was received and not deleted. So a retry never waits by staying invisible: the attempt's
message is deleted, and the next attempt is sent as a new message, delayed. SQS delays a
message by at most 15 minutes, so a longer wait hops through RetryQueue, 15 minutes at a
time, until it is due; then it goes to DeliveryQueue, which thus only ever holds due work.
Delayed messages have no ceiling. The attempt number and the due time travel in the message
(`rules.outcome.decide` sets them).
"""

import math

from bluehooks.models import DeliveryMessage
from bluehooks.ports import DeadLetters, DeliveryQueue, outgoing
from bluehooks.timestamps import now, parse

MAX_DELAY_SECONDS = 900  # SQS DelaySeconds


class RetryScheduler:
    def __init__(self, delivery_queue: DeliveryQueue, retry_queue: DeliveryQueue, dead_letters: DeadLetters):
        self.delivery_queue = delivery_queue
        self.retry_queue = retry_queue
        self.dead_letters = dead_letters

    def wait(self, message: DeliveryMessage) -> None:
        """Send the message on towards its due time: to DeliveryQueue once within 15 minutes of it."""
        left = (parse(message.dueAt) - now()).total_seconds() if message.dueAt else 0
        queue = self.delivery_queue if left <= MAX_DELAY_SECONDS else self.retry_queue
        delay = min(MAX_DELAY_SECONDS, max(0, math.ceil(left)))
        queue.send([outgoing(message, delay)])

    def dead_letter(self, body: str, reason: str) -> None:
        """Keep a message that will not be delivered, with why, in DeliveryDLQ (it can be redriven)."""
        self.dead_letters.keep(body, reason)
