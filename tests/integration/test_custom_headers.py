"""A webhook's own headers: refused with the reason, sealed at rest, names only in answers, values on the wire.

Every value in these tests is unique and searched for everywhere it must not be: answers, the
table (as text and as hex), the queue, the logs (message and every extra field).
"""

import json
import os
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest

from devstack.lambdas import LambdaContext
from tests.integration.conftest import bus_event, queued, token
from tests.integration.test_delivery import CONTRACT_HEADERS
from tests.integration.test_engine import TRACED_DELIVERY
from tests.xray import run_traced

URL = "https://93.184.216.34/"  # public: the URL check passes, and nothing here is delivered to it
KIB = 1024


def value() -> str:
    """A value found nowhere else, and found as itself in any text it leaks into (JSON, repr: nothing to escape)."""
    return f"k-{uuid.uuid4().hex}"


def awkward(size: int) -> str:
    """A value of `size` characters full of what JSON and repr escape, and of inner spaces."""
    return (f'v-{uuid.uuid4().hex}"\\ ' * (size // 36 + 1))[: size - 1] + "!"


REFUSALS = [
    # (headers, what the 422's message says)
    ({"Host": "a"}, "reserved"),
    ({"content-type": "text/plain"}, "reserved"),
    ({"CONTENT-LENGTH": "1"}, "reserved"),
    ({"Transfer-Encoding": "chunked"}, "reserved"),
    ({"Connection": "close"}, "reserved"),
    ({"User-Agent": "mine"}, "reserved"),
    ({"x-signature": "forged"}, "reserved"),
    ({"webhook-id": "msg_1"}, "reserved"),
    ({"Webhook-Signature": "v1,x"}, "reserved"),
    ({"webhook-anything": "x"}, "reserved"),
    ({"Upgrade": "websocket"}, "reserved"),
    ({"Expect": "100-continue"}, "reserved"),
    ({"": "x"}, "RFC 9110 token"),
    ({"X Api": "x"}, "RFC 9110 token"),
    ({"X-Api:": "x"}, "RFC 9110 token"),
    ({"X-Api\r\nInjected": "x"}, "RFC 9110 token"),
    ({"X-Clé": "x"}, "RFC 9110 token"),
    ({"X-(comment)": "x"}, "RFC 9110 token"),
    ({"X-" + "a" * 255: "x"}, "RFC 9110 token"),
    ({"X-Api": "a\r\nInjected: yes"}, "control characters"),
    ({"X-Api": "a\nb"}, "control characters"),
    ({"X-Api": "a\x00b"}, "control characters"),
    ({"X-Api": "a\tb"}, "control characters"),
    ({"X-Api": "a\x7fb"}, "control characters"),
    ({"X-Api": "a\x85b"}, "control characters"),
    ({"X-Api": "café"}, "printable ASCII"),
    ({"X-Api": " padded"}, "printable ASCII"),
    ({"X-Api": "padded "}, "printable ASCII"),
    ({"X-Api": "a" * (KIB + 1)}, "over 1024 bytes"),
    ({"X-Api": 5}, "valid string"),
    ({"X-Api": None}, "valid string"),
    ({"X-Api": "a", "x-api": "b"}, "given twice"),
    ({f"X-H{n}": "a" for n in range(21)}, "at most 20"),
]


@pytest.mark.parametrize(("headers", "words"), REFUSALS, ids=[words for _, words in REFUSALS])
def test_create_and_patch_refuse_with_the_reason(api, headers, words):
    status, answer = api("POST", "/webhooks", {"url": URL, "headers": headers})
    assert (status, words in answer["message"]) == (422, True), answer
    webhook = api("POST", "/webhooks", {"url": URL, "headers": {"X-Kept": "kept"}})[1]
    status, answer = api("PATCH", f"/webhooks/{webhook['id']}", {"headers": headers})
    assert (status, words in answer["message"]) == (422, True), answer
    assert api("GET", f"/webhooks/{webhook['id']}")[1]["headers"] == ["X-Kept"]


def test_a_refusal_names_the_header_never_its_value(api):
    secret = value()
    status, answer = api("POST", "/webhooks", {"url": URL, "headers": {"Authorization": secret + "\n"}})
    assert status == 422 and "Authorization" in answer["message"]
    assert secret not in json.dumps(answer)


def test_headers_must_be_an_object(api):
    for headers in (["X-Api: a"], "X-Api: a"):
        assert api("POST", "/webhooks", {"url": URL, "headers": headers})[0] == 422


def test_the_most_there_may_be_are_accepted(api, stack, company):
    """20 headers, 18 of them with the longest name and value: more than one KMS seal holds, and at most 7."""
    headers = {"X-" + "n" * 252 + f"{n:02}": awkward(KIB) for n in range(18)} | {"Authorization": "k", "X-Empty": ""}
    status, webhook = api("POST", "/webhooks", {"url": URL, "headers": headers})
    assert status == 201, webhook
    assert len(webhook["headers"]) == 20 and max(map(len, webhook["headers"])) == 256
    key = {"pk": f"COMPANY#{company}", "sk": f"WEBHOOK#{webhook['id']}"}
    item = boto3.resource("dynamodb").Table(stack.ref("WebhooksTable")).get_item(Key=key)["Item"]
    assert 2 <= len(item["sealedHeaders"]) <= 7


def test_answers_show_names_only_and_the_table_holds_no_value(api, stack):
    values = {"Authorization": value(), "x-route": value(), "X-Tenant": value()}
    created = api("POST", "/webhooks", {"url": URL, "headers": values})[1]
    answers = [
        created,
        api("GET", f"/webhooks/{created['id']}")[1],
        api("GET", "/webhooks")[1],
        api("PATCH", f"/webhooks/{created['id']}", {"name": "renamed"})[1],
        api("POST", f"/webhooks/{created['id']}/rotate-secret")[1],
    ]
    assert created["headers"] == ["Authorization", "x-route", "X-Tenant"]  # as sent, in case-blind order
    assert all(answer["headers"] == created["headers"] for answer in answers[1::2])  # GET, PATCH, rotate
    patched = {"X-Tenant": value()}
    answers.append(api("PATCH", f"/webhooks/{created['id']}", {"headers": patched})[1])
    values |= {"patched": patched["X-Tenant"]}
    at_rest = repr(boto3.resource("dynamodb").Table(stack.ref("WebhooksTable")).scan()["Items"])
    assert created["id"] in at_rest and "X-Tenant" in at_rest  # the names are there, in the clear
    for secret in values.values():
        assert secret not in json.dumps(answers)
        assert secret not in at_rest and secret.encode().hex() not in at_rest


def test_the_subscription_index_holds_neither_names_nor_values(api, stack):
    """The fan-out reads only the index, and has no KMS grant: nothing of the headers is there."""
    created = api("POST", "/webhooks", {"url": URL, "headers": {"X-Index-Probe": value()}})[1]
    items = boto3.resource("dynamodb").Table(stack.ref("WebhooksTable")).scan()["Items"]
    entries = [item for item in items if item.get("webhookId") == created["id"]]
    assert entries and not any("X-Index-Probe" in repr(entry) or "sealedHeaders" in entry for entry in entries)


def test_patch_replaces_the_whole_set_and_null_or_empty_clears_it(api):
    webhook = api("POST", "/webhooks", {"url": URL, "headers": {"X-A": "a", "X-B": "b"}})[1]
    path = f"/webhooks/{webhook['id']}"
    assert api("PATCH", path, {"headers": {"X-C": "c"}})[1]["headers"] == ["X-C"]
    assert api("PATCH", path, {"enabled": False})[1]["headers"] == ["X-C"]  # not sent: kept
    assert api("PATCH", path, {"headers": None})[1]["headers"] == []
    assert api("PATCH", path, {"headers": {"X-D": "d"}})[1]["headers"] == ["X-D"]
    assert api("PATCH", path, {"headers": {}})[1]["headers"] == []


def deliver(handlers, company, delivery_poller, receiver, path: str) -> dict:
    handlers["fanout"](bus_event(company), LambdaContext("FanoutFunction"))
    assert delivery_poller.poll_once(wait_seconds=1) == 1
    return receiver.wait_for(path)[-1].headers


def test_a_delivery_sends_them_beside_the_contract_headers(api, handlers, company, delivery_poller, receiver):
    values = {f"X-N{n}": awkward(KIB) for n in range(19)} | {"Authorization": "Bearer " + value()}
    webhook = api("POST", "/webhooks", {"url": receiver.url("/h"), "headers": values})[1]
    got = deliver(handlers, company, delivery_poller, receiver, "/h")
    assert {name.lower() for name in got} == CONTRACT_HEADERS | {name.lower() for name in values}
    assert {name: got[name] for name in values} == values

    api("PATCH", f"/webhooks/{webhook['id']}", {"headers": {"X-Only": "one"}})
    got = deliver(handlers, company, delivery_poller, receiver, "/h")
    assert {name.lower() for name in got} == CONTRACT_HEADERS | {"x-only"} and got["X-Only"] == "one"

    api("PATCH", f"/webhooks/{webhook['id']}", {"headers": None})
    assert {name.lower() for name in deliver(handlers, company, delivery_poller, receiver, "/h")} == CONTRACT_HEADERS


def test_no_value_in_logs_or_queues(api, handlers, company, delivery_poller, receiver, queues, all_logs):
    values = {"Authorization": value(), "X-Route": value()}
    webhook = api("POST", "/webhooks", {"url": receiver.url("/l"), "headers": values})[1]
    api("PATCH", f"/webhooks/{webhook['id']}", {"headers": values | {"X-Bad": "\n" + values["X-Route"]}})
    api("POST", f"/webhooks/{webhook['id']}/test")
    handlers["fanout"](bus_event(company), LambdaContext("FanoutFunction"))
    bodies = json.dumps(queued(queues["DeliveryQueue"]))
    delivery_poller.poll_once(wait_seconds=1)
    assert len(receiver.wait_for("/l", count=2)) == 2
    logs = "".join(repr(record.__dict__) for record in all_logs.records)  # message and every extra field
    assert webhook["id"] in logs and webhook["id"] in bodies  # both were really written
    for secret in values.values():
        assert secret not in logs and secret not in bodies


def test_xray_records_no_value(api, receiver, queues):
    """DeliveryFunction as Lambda runs it with tracing on: the value goes out, and not to the X-Ray daemon."""
    secret = value()
    webhook = api("POST", "/webhooks", {"url": receiver.url("/traced"), "headers": {"X-Api-Key": secret}})[1]
    api("POST", f"/webhooks/{webhook['id']}/test")
    queue, endpoint = queues["DeliveryQueue"], os.environ["AWS_ENDPOINT_URL"]
    _, recorded = run_traced("functions/delivery", "DeliveryFunction", TRACED_DELIVERY, endpoint, queue)
    assert receiver.wait_for("/traced")[0].headers["X-Api-Key"] == secret
    assert not any(secret in datagram for datagram in recorded)


class Echo(BaseHTTPRequestHandler):
    """A receiver that answers 401 with the request's headers in its body, as many error pages do."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        body = json.dumps({"error": "unauthorized", "got": dict(self.headers)}).encode()
        self.send_response(401)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def echo():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_a_receiver_echoing_them_shows_no_value_in_the_log(api, handlers, company, delivery_poller, echo):
    """A MEMBER reads the log but may not see the values: the response excerpt hides them, as sent and as JSON."""
    values = {"Authorization": "Bearer " + value(), "X-Awkward": awkward(64)}
    webhook = api("POST", "/webhooks", {"url": echo, "headers": values})[1]
    handlers["fanout"](bus_event(company), LambdaContext("FanoutFunction"))
    assert delivery_poller.poll_once(wait_seconds=1) == 1
    member = token(company, role="MEMBER")
    (listed,) = api("GET", f"/webhooks/{webhook['id']}/deliveries", token=member)[1]["items"]
    shown = api("GET", f"/webhooks/{webhook['id']}/deliveries/{listed['deliveryId']}", token=member)[1]
    (attempt,) = shown["attempts"]
    assert attempt["statusCode"] == 401 and '"got"' in attempt["responseExcerpt"]  # the echo was logged
    for secret in values.values():
        assert secret not in json.dumps(shown) and json.dumps(secret)[1:-1] not in json.dumps(shown)


def test_the_delivery_log_shows_the_request_with_names_and_never_a_value(
    api, handlers, company, delivery_poller, receiver
):
    """GET /webhooks/{id}/deliveries/{deliveryId}: the request we sent, each custom header by name, its value hidden."""
    values = {"Authorization": "Bearer " + value(), "X-Route": value()}
    webhook = api("POST", "/webhooks", {"url": receiver.url("/shown"), "headers": values})[1]
    delivery_id = api("POST", f"/webhooks/{webhook['id']}/test")[1]["deliveryId"]
    delivery_poller.poll_once(wait_seconds=1)
    assert {name: receiver.wait_for("/shown")[0].headers[name] for name in values} == values  # really sent

    status, answer = api("GET", f"/webhooks/{webhook['id']}/deliveries/{delivery_id}")
    assert status == 200 and answer["state"] == "succeeded", answer
    shown = answer["request"]["headers"]
    assert {name: shown[name] for name in values} == dict.fromkeys(values, "(hidden: write-only)")
    listed = api("GET", f"/webhooks/{webhook['id']}/deliveries")[1]
    for secret in values.values():
        assert secret not in json.dumps(answer) and secret not in json.dumps(listed)
