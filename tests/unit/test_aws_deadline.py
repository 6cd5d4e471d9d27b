"""AWS calls bounded by the invocation's remaining time (bluehooks.deadline), against a real loopback server."""

import threading

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from bluehooks.deadline import DeadlineReached, bounded, within
from devtools.receiver import Receiver

ATTEMPT = Config(connect_timeout=2, read_timeout=3, retries={"mode": "standard", "max_attempts": 3})


@pytest.fixture
def browned_out():
    """An SQS endpoint answering every attempt 500 (retried by botocore), and a bounded client of it."""
    receiver = Receiver()
    receiver.behave("/", status=500)
    client = boto3.client(
        "sqs",
        endpoint_url=receiver.url(""),
        region_name="us-east-1",
        config=ATTEMPT,
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    yield receiver, bounded(client)
    receiver.close()


def send(client) -> None:
    client.send_message(QueueUrl="http://q/1/q", MessageBody="m")


def test_without_a_deadline_botocore_makes_every_attempt(browned_out):
    receiver, client = browned_out
    with pytest.raises(ClientError):
        send(client)
    assert len(receiver.at("/")) > 1  # retried


def test_no_attempt_starts_that_would_end_after_the_deadline(browned_out):
    receiver, client = browned_out
    with within(4.9), pytest.raises(DeadlineReached):  # an attempt may take 2 + 3 s
        send(client)
    assert receiver.at("/") == []


def test_the_deadline_is_the_threads_own(browned_out):
    receiver, client = browned_out
    errors = []

    def other_thread() -> None:
        try:
            send(client)
        except Exception as exc:
            errors.append(exc)

    with within(1):
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
    assert [type(error) for error in errors] == [ClientError] and len(receiver.at("/")) > 1
