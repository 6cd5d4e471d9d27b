"""PATCH, rotate-secret, test pings and project scope, through the real ApiFunction handler on moto server."""

import base64
import json
import time

import boto3
import pytest
from botocore.exceptions import ClientError
from standardwebhooks.webhooks import Webhook as StandardWebhook
from standardwebhooks.webhooks import WebhookVerificationError

from bluehooks.adapters.store import webhook_key
from devstack.lambdas import root_of
from tests.hostile_urls import HOSTILE_URLS, LOOPBACK_URLS
from tests.integration.conftest import bus_event, queued, token
from tests.verify import verify_x_signature

PUBLIC = "https://93.184.216.34/hook"


def create(api, **fields):
    status, body = api("POST", "/webhooks", {"url": PUBLIC, **fields})
    assert status == 201, body
    return body


# -- PATCH -----------------------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent(api):
    created = create(api, name="CRM", events=["TODO_CREATED"], projectIds=["p1"])
    status, changed = api("PATCH", f"/webhooks/{created['id']}", {"name": "ERP", "projectIds": ["p2", "p1"]})
    assert status == 200, changed
    assert changed["name"] == "ERP" and changed["projectIds"] == ["p1", "p2"]
    assert changed["events"] == ["TODO_CREATED"] and changed["url"] == PUBLIC
    assert changed["secret"] is None and changed["updatedAt"] > created["updatedAt"]
    assert api("GET", f"/webhooks/{created['id']}")[1] == changed


def test_patch_moves_the_subscription_index_in_the_same_write(api, company, handlers, queues):
    from devstack.lambdas import LambdaContext

    created = create(api, events=["TODO_CREATED"])
    api("PATCH", f"/webhooks/{created['id']}", {"events": ["COMMENT_CREATED"]})
    handlers["fanout"](bus_event(company, "TODO_CREATED"), LambdaContext("FanoutFunction"))
    assert queued(queues["DeliveryQueue"]) == []
    handlers["fanout"](bus_event(company, "COMMENT_CREATED"), LambdaContext("FanoutFunction"))
    assert [m["webhookId"] for m in queued(queues["DeliveryQueue"])] == [created["id"]]


def test_patch_with_a_filter_reaches_the_index(api, company, handlers, queues):
    from devstack.lambdas import LambdaContext

    created = create(api, events=["TODO_CREATED"])
    pattern = {"currentValue": {"title": [{"prefix": "urgent"}]}}
    assert api("PATCH", f"/webhooks/{created['id']}", {"filter": pattern})[1]["filter"] == pattern
    handlers["fanout"](bus_event(company, currentValue={"title": "later"}), LambdaContext("FanoutFunction"))
    assert queued(queues["DeliveryQueue"]) == []
    handlers["fanout"](bus_event(company, currentValue={"title": "urgent: fix"}), LambdaContext("FanoutFunction"))
    assert len(queued(queues["DeliveryQueue"])) == 1


def test_an_invalid_filter_is_a_422_naming_the_problem(api):
    created = create(api)
    status, body = api("PATCH", f"/webhooks/{created['id']}", {"filter": {"currentValue": {"x": "not-a-list"}}})
    assert status == 422 and "filter" in body["message"] and "currentValue" in body["message"]
    status, body = api("POST", "/webhooks", {"url": PUBLIC, "filter": {"event": [{"numeric": [">", "x"]}]}})
    assert status == 422 and "numeric" in body["message"]


def test_a_filter_whose_or_copies_too_many_conditions_is_a_422_at_create_and_patch(api):
    # 64 alternatives of nine fields: each alternative looks at the event's values again, so their sum is bounded.
    pattern = {f"f{i}": [i] for i in range(3)} | {f"k{i}": {"$or": [{"a": [1]}, {"b": [2]}]} for i in range(6)}
    status, body = api("POST", "/webhooks", {"url": PUBLIC, "filter": pattern})
    assert status == 422 and "576 field conditions" in body["message"] and "at most 512" in body["message"]
    created = create(api)
    status, body = api("PATCH", f"/webhooks/{created['id']}", {"filter": pattern})
    assert status == 422 and "576 field conditions" in body["message"]


def test_reenabling_resets_the_failure_streak(api, company, stack):
    created = create(api)
    table = boto3.resource("dynamodb").Table(stack.ref("WebhooksTable"))
    key = {"pk": f"COMPANY#{company}", "sk": f"WEBHOOK#{created['id']}"}
    table.update_item(
        Key=key,
        UpdateExpression="SET enabled = :f, #s = :u, consecutiveFailures = :n, disabledReason = :r",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":f": False, ":u": "UNHEALTHY", ":n": 9, ":r": "FAILING"},
    )
    status, changed = api("PATCH", f"/webhooks/{created['id']}", {"enabled": True})
    assert status == 200
    assert (changed["enabled"], changed["status"], changed["disabledReason"]) == (True, "HEALTHY", None)
    assert table.get_item(Key=key)["Item"]["consecutiveFailures"] == 0


def test_clearing_the_name_names_it_after_its_host(api):
    created = create(api, name="CRM")
    assert api("PATCH", f"/webhooks/{created['id']}", {"name": None})[1]["name"] == "93.184.216.34"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"enabled": None}, "enabled"),
        ({"events": ["NOPE"]}, "NOPE"),
        ({"secret": "new-secret-123456"}, "secret"),
        ({"companyId": "other"}, "companyId"),
        ({"url": "ftp://93.184.216.34/"}, "scheme"),
    ],
)
def test_patch_refuses_bad_fields(api, body, words):
    created = create(api)
    status, answer = api("PATCH", f"/webhooks/{created['id']}", body)
    assert status in (400, 422) and words in answer["message"]


# This stack allows loopback targets (its receivers are local); the unit tests refuse those too.
@pytest.mark.parametrize(
    ("url", "refusal", "why"), [hostile for hostile in HOSTILE_URLS if hostile[0] not in LOOPBACK_URLS]
)
def test_hostile_urls_are_refused_at_create_and_at_patch(api, url, refusal, why):
    status, body = api("POST", "/webhooks", {"url": url})
    assert status in (400, 422) and refusal in body["message"], (url, why, body)
    created = create(api)
    status, body = api("PATCH", f"/webhooks/{created['id']}", {"url": url})
    assert status in (400, 422) and refusal in body["message"], (url, why, body)
    assert api("GET", f"/webhooks/{created['id']}")[1]["url"] == PUBLIC


# -- roles and project scope -------------------------------------------------------------------


def test_members_cannot_change_anything(api, company):
    member = token(company, role="MEMBER")
    created = create(api)
    for method, path, body in [
        ("PATCH", f"/webhooks/{created['id']}", {"name": "x"}),
        ("POST", f"/webhooks/{created['id']}/rotate-secret", None),
        ("POST", f"/webhooks/{created['id']}/test", None),
        ("DELETE", f"/webhooks/{created['id']}", None),
    ]:
        status, answer = api(method, path, body, token=member)
        assert status == 403 and "MEMBER" in answer["message"], (method, path)


def test_a_project_limited_token_sees_only_webhooks_within_its_projects(api, company):
    inside = create(api, projectIds=["p1"])
    everywhere = create(api)
    partly = create(api, projectIds=["p1", "p2"])
    limited = token(company, role="PROJECT_MANAGER", projects=["p1"])
    assert [w["id"] for w in api("GET", "/webhooks", token=limited)[1]["items"]] == [inside["id"]]
    for hidden in (everywhere, partly):
        path = f"/webhooks/{hidden['id']}"
        for method, route, body in [
            ("GET", path, None),
            ("PATCH", path, {"name": "x"}),
            ("POST", f"{path}/rotate-secret", None),
            ("POST", f"{path}/test", None),
            ("DELETE", path, None),
        ]:
            assert api(method, route, body, token=limited)[0] == 404, (method, route)
    assert api("GET", f"/webhooks/{everywhere['id']}")[0] == 200  # still there for the whole company
    assert api("GET", f"/webhooks/{inside['id']}", token=limited)[0] == 200


def test_a_project_limited_token_cannot_move_a_webhook_out_of_its_scope(api, company):
    limited = token(company, role="PROJECT_MANAGER", projects=["p1"])
    created = create(api, projectIds=["p1"])
    for projects in (["p2"], [], ["p1", "p2"]):
        status, body = api("PATCH", f"/webhooks/{created['id']}", {"projectIds": projects}, token=limited)
        assert status == 403 and "projects" in body["message"]
    assert api("GET", f"/webhooks/{created['id']}")[1]["projectIds"] == ["p1"]


def test_other_companies_get_404_on_every_new_route(api):
    created = create(api)
    stranger = token("another-company")
    path = f"/webhooks/{created['id']}"
    for method, route, body in [
        ("PATCH", path, {"name": "x"}),
        ("POST", f"{path}/rotate-secret", None),
        ("POST", f"{path}/test", None),
    ]:
        assert api(method, route, body, token=stranger)[0] == 404


# -- secrets: rotation, test pings ----------------------------------------------------------------


def deliver_test(api, webhook_id, delivery_poller, receiver, path):
    status, answer = api("POST", f"/webhooks/{webhook_id}/test")
    assert status == 202 and answer["event"] == "WEBHOOK_TEST"
    before = len(receiver.at(path))
    delivery_poller.poll_once()
    received = receiver.wait_for(path, before + 1)[-1]
    assert received.headers["webhook-id"] == answer["deliveryId"]
    return received


def verifies(secret: str, received) -> bool:
    try:
        StandardWebhook(secret).verify(received.body, received.headers)
    except WebhookVerificationError:
        return False
    return True


def test_a_test_ping_goes_through_the_normal_path_whatever_the_events(api, receiver, delivery_poller, queues):
    created = create(api, url=receiver.url("/ping"), events=["TODO_CREATED"])
    received = deliver_test(api, created["id"], delivery_poller, receiver, "/ping")
    body = json.loads(received.body)
    assert body["event"] == "WEBHOOK_TEST" and body["webhook"]["id"] == created["id"]
    assert verifies(created["secret"], received)
    assert verify_x_signature(created["secret"], received.body, received.headers["X-Signature"])


def test_rotation_signs_with_both_secrets_for_the_overlap_then_only_the_new(
    api, company, stack, receiver, delivery_poller, queues
):
    created = create(api, url=receiver.url("/rotating"))
    old = created["secret"]
    status, rotated = api("POST", f"/webhooks/{created['id']}/rotate-secret")
    assert status == 200 and rotated["secret"].startswith("whsec_") and rotated["secret"] != old
    assert api("GET", f"/webhooks/{created['id']}")[1]["secret"] is None
    during = deliver_test(api, created["id"], delivery_poller, receiver, "/rotating")
    assert verifies(old, during) and verifies(rotated["secret"], during)
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert verify_x_signature(rotated["secret"], during.body, during.headers["X-Signature"])
    # The overlap, passed without waiting for it: the old secret's end moved to a second ago.
    table = boto3.resource("dynamodb").Table(stack.ref("WebhooksTable"))
    table.update_item(
        Key=webhook_key(company, created["id"]),
        UpdateExpression="SET previousSecretExpiresAt = :t",
        ExpressionAttributeValues={":t": int(time.time()) - 1},
    )
    after = deliver_test(api, created["id"], delivery_poller, receiver, "/rotating")
    assert verifies(rotated["secret"], after) and not verifies(old, after)


def test_rotation_can_end_the_old_secret_at_once(api, receiver, delivery_poller, queues):
    created = create(api, url=receiver.url("/cut"))
    chosen = "whsec_" + base64.b64encode(b"my next secret, chosen by me").decode()
    status, rotated = api(
        "POST", f"/webhooks/{created['id']}/rotate-secret", {"secret": chosen, "keepPreviousSecret": False}
    )
    assert status == 200 and rotated["secret"] == chosen
    received = deliver_test(api, created["id"], delivery_poller, receiver, "/cut")
    assert verifies(chosen, received) and not verifies(created["secret"], received)


# -- bad input, limits, contention ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"[" * 20_000 + b"]" * 20_000, "nested"),
        (b'{"url": ' + b"9" * 5_000 + b"}", "not valid JSON"),
        (b'{"url": "\\ud800"}', "surrogate"),
        (b"{not json", "not valid JSON"),
    ],
)
def test_hostile_bodies_are_a_400_before_and_after_authentication(api, raw, words):
    status, body = api("POST", "/webhooks", raw)
    assert status == 400 and words in body["message"]
    assert api("POST", "/webhooks", raw, token="forged")[0] == 401


def test_the_content_type_is_case_insensitive(api):
    status, _ = api("POST", "/webhooks", {"url": PUBLIC}, headers={"Content-Type": "APPLICATION/JSON; charset=UTF-8"})
    assert status == 201


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/jsonx",
        "",
        "application/json; charset=utf-16",
        'application/json; charset="latin-1"',
        "application/json;charset=UTF-8;charset=utf-32",
        "application/json; charset = utf-16",
    ],
)
def test_every_415_has_a_message(api, content_type):
    status, body = api("POST", "/webhooks", b'{"url": "x"}', headers={"Content-Type": content_type})
    assert status == 415 and "application/json" in body["message"]


def test_a_token_without_exp_is_a_401(api, company):
    status, body = api("GET", "/webhooks", token=token(company, exp=None))
    assert status == 401 and "exp" in body["message"]


def conflicting(times: int, real):
    """transact_write_items that is cancelled by concurrent transactions `times` times, then real."""
    calls = []

    def transact(**kwargs):
        calls.append(kwargs)
        if len(calls) <= times:
            error = {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"}
            reasons = [{"Code": "TransactionConflict"}, {"Code": "None"}]
            raise ClientError({"Error": error, "CancellationReasons": reasons}, "TransactWriteItems")
        return real(**kwargs)

    return transact, calls


@pytest.mark.parametrize(("conflicts", "status"), [(2, 201), (99, 503)])
def test_conflicting_concurrent_writes_are_retried_then_a_503_with_retry_after(
    handlers, company, monkeypatch, conflicts, status
):
    from devstack.apigateway import proxy_event
    from devstack.lambdas import LambdaContext

    client = root_of(handlers["api"]).webhooks.store.client
    transact, calls = conflicting(conflicts, client.transact_write_items)
    monkeypatch.setattr(client, "transact_write_items", transact)
    headers = {"Authorization": f"Bearer {token(company)}", "Content-Type": "application/json"}
    event = proxy_event("POST", "/webhooks", headers, json.dumps({"url": PUBLIC}).encode(), "test")
    response = handlers["api"](event, LambdaContext("ApiFunction"))
    assert response["statusCode"] == status and len(calls) == min(conflicts + 1, 5)
    if status == 503:
        headers = {**response.get("headers", {}), **response.get("multiValueHeaders", {})}
        assert headers["Retry-After"] in ("1", ["1"]) and "retry" in json.loads(response["body"])["message"]


# -- documentation --------------------------------------------------------------------------------


def test_swagger_ui_and_the_document_cover_the_new_routes(handlers):
    from devstack.apigateway import proxy_event
    from devstack.lambdas import LambdaContext

    page = handlers["api"](proxy_event("GET", "/docs", {}, b"", "test"), LambdaContext("ApiFunction"))
    assert page["statusCode"] == 200 and "SwaggerUIBundle" in page["body"]
    document = json.loads(
        handlers["api"](proxy_event("GET", "/openapi.json", {}, b"", "test"), LambdaContext("ApiFunction"))["body"]
    )
    paths = document["paths"]
    assert {"patch", "get", "delete"} <= set(paths["/webhooks/{webhook_id}"])
    assert "post" in paths["/webhooks/{webhook_id}/rotate-secret"] and "post" in paths["/webhooks/{webhook_id}/test"]


def test_who_may_not_write_learns_nothing_from_the_url_check(api, company):
    member = token(company, role="MEMBER")
    created = create(api)
    for webhook_id in (created["id"], "wh_000000000000000000000000"):
        status, body = api("PATCH", f"/webhooks/{webhook_id}", {"url": "http://10.0.0.1/"}, token=member)
        assert status == 403 and "10.0.0.1" not in body["message"]
    assert api("PATCH", "/webhooks/wh_000000000000000000000000", {"url": "http://10.0.0.1/"})[0] == 404


def test_try_it_out_calls_the_api_where_the_docs_are_served(handlers):
    """Swagger UI sends "Try it out" to the document's server: the stage's prefix on AWS's own URL, none locally."""
    from devstack.apigateway import proxy_event
    from devstack.lambdas import LambdaContext

    def servers(event):
        answer = handlers["api"](event, LambdaContext("ApiFunction"))
        return [server["url"] for server in json.loads(answer["body"])["servers"]]

    local = proxy_event("GET", "/docs?format=json", {}, b"", "local")
    on_aws = {**local, "requestContext": {**local["requestContext"], "path": "/Prod/docs", "stage": "Prod"}}
    assert servers(local) == ["/"]
    assert servers(on_aws) == ["/Prod"]
