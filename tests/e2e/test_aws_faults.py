"""AWS's faults injected by the emulator (devstack.faults), one at a time, and what the engine does under them."""

import uuid

import requests

from devtools.receiver import Receiver
from tests.e2e.localstack import LocalStackProcess
from tests.e2e.test_iam import SECRET, call, event, put_event, wait_until


def test_an_sqs_brownout_fails_the_record_not_the_batch_after_its_post():
    """Every SQS call of the functions answered 5 s late (past botocore's 3 s read timeout, so retried):
    after a failed POST, scheduling the next attempt would outlive the invocation. The record's calls stop
    at its deadline instead, and the invocation answers in time: no batch times out after its POSTs."""
    receiver = Receiver()
    stack = LocalStackProcess(
        WEBHOOKS_JWT_SECRET=SECRET, DELIVERY_TIMEOUT_SECONDS="1", RETRY_SCHEDULE="0,1", AWS_FAULT_LATENCY="sqs=1:5"
    )
    try:
        company = f"faults-{uuid.uuid4().hex[:8]}"
        call(stack, company, "POST", "/webhooks", url=receiver.behave("/down", 500), events=["TODO_CREATED"])
        put_event(stack, event(company))
        receiver.wait_for("/down", timeout=60)
        settled = ("DeadlineReached", "DeliveryFunction timed out")  # the record failed, or the whole invocation
        wait_until(lambda: any(what in stack.output() for what in settled), "the record settled", 60)
        faults = requests.get(f"{stack.aws}/_devstack/faults", timeout=10).json()
    finally:
        stack.stop()
        receiver.close()
    assert faults.get("sqs slow (5 s)", 0) > 0
    assert "DeliveryFunction timed out" not in stack.output()
    assert "DeadlineReached" in stack.output()
