"""moto's server, with the limits AWS enforces and moto does not: run as `python -m devstack.motoserver`.

SQS: a standard queue holds at most SQS_INFLIGHT_LIMIT in-flight messages (received, not yet
deleted; AWS: about 120,000); past it, ReceiveMessage fails with OverLimit for every consumer
of the queue, as on AWS. Tests scale the limit down to show what a design does when it is hit.
"""

import os
import sys

from moto.server import main
from moto.sqs.exceptions import SQSException
from moto.sqs.models import SQSBackend

INFLIGHT_LIMIT = int(os.environ.get("SQS_INFLIGHT_LIMIT", "120000"))


class InflightLimitReached(SQSException):
    def __init__(self, queue_name: str) -> None:
        super().__init__(
            "OverLimit", f"queue {queue_name} has reached its limit of {INFLIGHT_LIMIT} in-flight messages"
        )


_receive_message = SQSBackend.receive_message


def receive_message(self: SQSBackend, queue_name: str, *args, **kwargs):
    queue = self.get_queue(queue_name)
    if sum(1 for message in queue._messages if not message.visible) >= INFLIGHT_LIMIT:
        raise InflightLimitReached(queue_name)
    return _receive_message(self, queue_name, *args, **kwargs)


SQSBackend.receive_message = receive_message

if __name__ == "__main__":
    main(sys.argv[1:])
