"""Scope at redelivery (DESIGN: tenant isolation): once a webhook is narrowed, no retry, recover, test or
waiting attempt sends it a stored payload of an event or project it left, whoever asks; the log says why.

The exact sequence of issue 15: an ADMIN narrows a webhook from every project to p1; a caller then
points it at a URL of theirs and asks for redeliveries. Real handlers, moto server, a real receiver.
"""

import json
from typing import Any

import boto3
import pytest

from devstack.lambdas import LambdaContext
from tests.integration.conftest import bus_event, token
from tests.integration.test_deliveries import create, delivery, drain

SECRET = "p2-confidential"
SINCE = {"since": "2000-01-01T00:00:00Z"}
NOT_AMONG = "its project is not among the webhook's projects"


def fan_out(handlers, company: str, project: str, event: str = "TODO_CREATED") -> str:
    """Put one event through the real fan-out; its event id."""
    sample = bus_event(company, event, project=project)
    handlers["fanout"](sample, LambdaContext("FanoutFunction"))
    return sample["detail"]["id"]


def delivery_ids(api, hook_id: str) -> dict[str, str]:
    """Event id → delivery id, from the log."""
    items = api("GET", f"/webhooks/{hook_id}/deliveries?limit=100")[1]["items"]
    return {item["eventId"]: item["deliveryId"] for item in items}


def projects_received(receiver, path: str) -> list[Any]:
    bodies = [json.loads(request.body) for request in receiver.at(path)]
    return sorted((body["project"] or {}).get("id") for body in bodies)


def queue_empty(url: str) -> bool:
    """Nothing visible, in flight or delayed: every waiting attempt has been received and settled."""
    names = [f"ApproximateNumberOfMessages{kind}" for kind in ("", "NotVisible", "Delayed")]
    attributes = boto3.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return all(attributes[name] == "0" for name in names)


def delivered_then_failed(api, company, handlers, receiver, delivery_poller) -> tuple[dict, dict, dict]:
    """A webhook of every project; per project one delivery that succeeded and one that failed once
    (its next attempt waiting a second). Returns the webhook and, per project, those deliveries' ids."""
    hook = create(api, receiver.behave("/before", status=200))
    delivered = {project: fan_out(handlers, company, project) for project in ("p1", SECRET)}
    drain(delivery_poller, lambda: len(receiver.at("/before")) == 2)
    receiver.behave("/before", status=500)
    failed = {project: fan_out(handlers, company, project) for project in ("p1", SECRET)}
    drain(delivery_poller, lambda: len(receiver.at("/before")) == 4)
    ids = delivery_ids(api, hook["id"])
    return hook, {p: ids[e] for p, e in delivered.items()}, {p: ids[e] for p, e in failed.items()}


WRITERS = [("OWNER", None), ("ADMIN", None), ("PROJECT_MANAGER", ["p1"]), ("PROJECT_MANAGER", None)]


@pytest.mark.parametrize(("role", "projects"), WRITERS, ids=["owner", "admin", "manager-of-p1", "manager"])
def test_after_a_narrowing_no_redelivery_sends_another_projects_payload(
    role, projects, api, company, handlers, receiver, delivery_poller, queues
):
    hook, delivered, failed = delivered_then_failed(api, company, handlers, receiver, delivery_poller)
    one = f"/webhooks/{hook['id']}"
    caller = token(company, role=role, sub="user-2", projects=projects)
    if projects:
        assert api("GET", one, token=caller)[0] == 404  # every project: not this manager's webhook, yet
    assert api("PATCH", one, {"projectIds": ["p1"]})[0] == 200  # the ADMIN narrows it
    status, changed = api("PATCH", one, {"url": receiver.url("/after")}, token=caller)
    assert (status, changed["url"]) == (200, receiver.url("/after"))

    if projects:  # the log of the narrowed webhook shows this manager only p1's deliveries
        listed = api("GET", f"{one}/deliveries?limit=100", token=caller)[1]["items"]
        assert {item["deliveryId"] for item in listed} == {delivered["p1"], failed["p1"]}
        assert api("GET", f"{one}/deliveries/{delivered[SECRET]}", token=caller)[0] == 404
        assert api("POST", f"{one}/deliveries/{delivered[SECRET]}/retry", token=caller)[0] == 404
    else:
        status, refused = api("POST", f"{one}/deliveries/{delivered[SECRET]}/retry", token=caller)
        assert status == 409 and NOT_AMONG in refused["message"] and SECRET not in refused["message"]
    assert api("POST", f"{one}/deliveries/{delivered['p1']}/retry", token=caller)[0] == 202
    status, recovery = api("POST", f"{one}/recover", SINCE, token=caller)
    assert (status, recovery["queued"]) == (202, 1)
    assert recovery["notSent"] == ([] if projects else [{"deliveryId": failed[SECRET], "reason": NOT_AMONG}])
    assert api("POST", f"{one}/test", token=caller)[0] == 202
    drain(delivery_poller, lambda: queue_empty(queues["DeliveryQueue"]))  # the waiting attempts too

    assert projects_received(receiver, "/after") == ["p1", "p1", "p1"]  # retried, recovered, test ping
    assert SECRET not in b"".join(request.body for request in receiver.at("/after")).decode()
    assert len(receiver.at("/before")) == 4  # nothing more to the old URL either
    dropped = delivery(api, hook["id"], failed[SECRET])
    assert (dropped["state"], dropped["reason"]) == ("dropped", f"not sent again: {NOT_AMONG}")
    assert delivery(api, hook["id"], delivered[SECRET])["state"] == "succeeded"  # its history stands
    assert delivery(api, hook["id"], failed["p1"])["state"] == "succeeded"


def test_after_a_narrowing_a_member_still_may_not_write(api, company, handlers, receiver, delivery_poller, queues):
    hook, delivered, _ = delivered_then_failed(api, company, handlers, receiver, delivery_poller)
    one = f"/webhooks/{hook['id']}"
    assert api("PATCH", one, {"projectIds": ["p1"]})[0] == 200
    member = token(company, role="MEMBER", sub="user-3")
    assert api("PATCH", one, {"url": receiver.url("/after")}, token=member)[0] == 403
    for path, body in (
        (f"{one}/deliveries/{delivered['p1']}/retry", None),
        (f"{one}/deliveries/{delivered[SECRET]}/retry", None),
        (f"{one}/recover", SINCE),
        (f"{one}/test", None),
    ):
        assert api("POST", path, body, token=member)[0] == 403, path
    drain(delivery_poller, lambda: queue_empty(queues["DeliveryQueue"]))
    assert receiver.at("/after") == []
    # p1's failed delivery used its two attempts left; the secret project's waiting one was dropped.
    assert projects_received(receiver, "/before") == ["p1"] * 4 + [SECRET] * 2


def test_after_its_events_are_narrowed_a_webhook_is_not_sent_the_others_again(
    api, company, handlers, receiver, delivery_poller, queues
):
    hook = create(api, receiver.url("/events"))
    comment = fan_out(handlers, company, "p1", event="COMMENT_CREATED")
    drain(delivery_poller, lambda: len(receiver.at("/events")) == 1)
    one = f"/webhooks/{hook['id']}"
    assert api("PATCH", one, {"events": ["TODO_CREATED"]})[0] == 200
    status, refused = api("POST", f"{one}/deliveries/{delivery_ids(api, hook['id'])[comment]}/retry")
    assert status == 409 and "no longer subscribes to COMMENT_CREATED" in refused["message"]
    assert api("POST", f"{one}/test")[0] == 202  # a test ping goes whatever the events
    drain(delivery_poller, lambda: len(receiver.at("/events")) == 2)
    assert [json.loads(request.body)["event"] for request in receiver.at("/events")] == [
        "COMMENT_CREATED",
        "WEBHOOK_TEST",
    ]


def test_a_delivery_queued_before_a_narrowing_is_dropped_at_its_attempt(
    api, company, handlers, receiver, delivery_poller, queues
):
    hook = create(api, receiver.url("/queued"))
    kept = fan_out(handlers, company, "p1")
    other_project = fan_out(handlers, company, SECRET)
    other_event = fan_out(handlers, company, "p1", event="COMMENT_CREATED")
    assert api("PATCH", f"/webhooks/{hook['id']}", {"projectIds": ["p1"], "events": ["TODO_CREATED"]})[0] == 200
    drain(delivery_poller, lambda: queue_empty(queues["DeliveryQueue"]))
    assert projects_received(receiver, "/queued") == ["p1"]
    assert json.loads(receiver.at("/queued")[0].body)["event"] == "TODO_CREATED"
    logged = {item["eventId"]: item for item in api("GET", f"/webhooks/{hook['id']}/deliveries")[1]["items"]}
    assert logged[kept]["state"] == "succeeded"
    assert (logged[other_project]["state"], logged[other_project]["reason"]) == ("dropped", f"not sent: {NOT_AMONG}")
    assert (logged[other_event]["state"], logged[other_event]["reason"]) == (
        "dropped",
        "not sent: the webhook no longer subscribes to COMMENT_CREATED",
    )
