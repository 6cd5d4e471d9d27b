"""The management API through the real ApiFunction handler, on DynamoDB and SSM in moto server."""

import re

import pytest

from tests.integration.conftest import PARAMETERS, sample, token


def create(api, **fields):
    return api("POST", "/webhooks", {"url": "https://93.184.216.34/hook", **fields})


def test_create_returns_the_webhook_and_its_secret_once(api, company):
    status, created = create(api, name="CRM", events=["TODO_CREATED", "COMMENT_CREATED"], projectIds=["p1"])
    assert status == 201
    assert created["secret"].startswith("whsec_")
    assert created["companyId"] == company
    assert created["createdById"] == "user-1"
    assert created["status"] == "HEALTHY" and created["enabled"] is True
    assert created["metadata"] == {"events": ["COMMENT_CREATED", "TODO_CREATED"], "projectIds": ["p1"]}

    status, fetched = api("GET", f"/webhooks/{created['id']}")
    assert status == 200
    assert fetched["secret"] is None
    assert {**fetched, "secret": created["secret"]} == created


def test_given_secret_is_kept(api):
    status, created = create(api, secret="my-own-secret-123")
    assert status == 201 and created["secret"] == "my-own-secret-123"


def test_company_comes_from_the_token_never_the_body(api, company):
    status, body = create(api, companyId="someone-else")
    assert status == 422 and "companyId" in body["message"]


def test_list_paginates_with_a_cursor(api):
    ids = [create(api)[1]["id"] for _ in range(3)]
    status, first = api("GET", "/webhooks?limit=2")
    assert status == 200 and [w["id"] for w in first["items"]] == ids[:2]
    assert all(w["secret"] is None for w in first["items"])
    status, second = api("GET", f"/webhooks?limit=2&cursor={first['nextCursor']}")
    assert [w["id"] for w in second["items"]] == ids[2:]
    assert second["nextCursor"] is None or api("GET", f"/webhooks?cursor={second['nextCursor']}")[1]["items"] == []


@pytest.mark.parametrize("cursor", ["garbage", "d2hfMDAwMDAwMDAwMDAw", "%00"])
def test_a_forged_cursor_is_a_400(api, cursor):
    status, body = api("GET", f"/webhooks?cursor={cursor}")
    assert status == 400 and "cursor" in body["message"]


def test_another_company_sees_nothing(api, handlers):
    created = create(api)[1]
    stranger = token("another-company")
    assert api("GET", f"/webhooks/{created['id']}", token=stranger)[0] == 404
    assert api("DELETE", f"/webhooks/{created['id']}", token=stranger)[0] == 404
    assert api("GET", "/webhooks", token=stranger)[1]["items"] == []
    assert api("GET", f"/webhooks/{created['id']}")[0] == 200


def test_delete_then_gone(api):
    created = create(api)[1]
    assert api("DELETE", f"/webhooks/{created['id']}") == (204, None)
    assert api("GET", f"/webhooks/{created['id']}")[0] == 404
    assert api("DELETE", f"/webhooks/{created['id']}")[0] == 404


def test_per_company_limit_is_a_409_and_delete_frees_a_slot(api):
    limit = int(PARAMETERS["MaxWebhooksPerCompany"])
    made = [create(api) for _ in range(limit)]
    assert {status for status, _ in made} == {201}
    status, body = create(api)
    assert status == 409 and f"at most {limit}" in body["message"]
    api("DELETE", f"/webhooks/{made[0][1]['id']}")
    assert create(api)[0] == 201


def test_members_read_but_do_not_write(api, company):
    member = token(company, role="MEMBER")
    assert api("GET", "/webhooks", token=member)[0] == 200
    status, body = api("POST", "/webhooks", {"url": "https://93.184.216.34/"}, token=member)
    assert status == 403 and "MEMBER" in body["message"]
    created = create(api)[1]
    assert api("DELETE", f"/webhooks/{created['id']}", token=member)[0] == 403


def test_a_project_limited_token_creates_only_for_its_projects(api, company):
    limited = token(company, role="PROJECT_MANAGER", projects=["p1"])
    assert api("POST", "/webhooks", {"url": "https://93.184.216.34/", "projectIds": ["p1"]}, token=limited)[0] == 201
    assert api("POST", "/webhooks", {"url": "https://93.184.216.34/", "projectIds": ["p2"]}, token=limited)[0] == 403
    assert api("POST", "/webhooks", {"url": "https://93.184.216.34/"}, token=limited)[0] == 403


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Basic dXNlcjpwdw==", "Bearer not-a-jwt", "Bearer " + token("c", role="GOD")],
)
def test_no_or_bad_token_is_a_401(handlers, company, authorization):
    from devstack.apigateway import proxy_event
    from devstack.lambdas import LambdaContext

    headers = {"Authorization": authorization} if authorization else {}
    response = handlers["api"](proxy_event("GET", "/webhooks", headers, b"", "test"), LambdaContext("ApiFunction"))
    assert response["statusCode"] == 401
    assert "message" in response["body"]


def test_a_token_signed_with_another_key_is_a_401(api, company):
    import jwt

    forged = jwt.encode({"sub": "u", "company": company, "role": "OWNER"}, "x" * 32, algorithm="HS256")
    assert api("GET", "/webhooks", token=forged)[0] == 401


def test_an_unauthenticated_bad_body_is_a_401_not_a_422(api):
    assert api("POST", "/webhooks", b"{not json", token="nope")[0] == 401


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b'{"url": "\xff\xfe"}', 400, "UTF-8"),
        (b"[]", 422, "body"),
        ({"url": 5}, 422, "url"),
        ({"url": "https://93.184.216.34/", "events": ["NO_SUCH_EVENT"]}, 422, "NO_SUCH_EVENT"),
        ({"url": "https://93.184.216.34/", "enabled": "yes please"}, 422, "enabled"),
        ({"url": "https://93.184.216.34/", "secret": "short"}, 422, "secret"),
        ({"url": "ftp://93.184.216.34/"}, 400, "scheme"),
        ({"url": "http://169.254.169.254/latest/meta-data/"}, 400, "not a public address"),
        ({"url": "http://10.0.0.8/"}, 400, "not a public address"),
        ({"url": "http://[::ffff:10.0.0.8]/"}, 400, "not a public address"),
        ({"url": "https://nonexistent.invalid/"}, 400, "does not resolve"),
        (b'{"url": "https://93.184.216.34/", "name": "' + b"x" * 70000 + b'"}', 413, "exceeds"),
    ],
)
def test_bad_input_gets_a_clear_4xx(api, body, status, words):
    got, response = api("POST", "/webhooks", body)
    assert got == status
    assert words in response["message"]


def test_a_non_json_content_type_is_a_415(api):
    status, body = api(
        "POST", "/webhooks", b"url=https://x", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert status == 415 and "application/json" in body["message"]


def test_unknown_routes_and_ids_are_404(api):
    assert api("GET", "/nope")[0] == 404
    assert api("GET", "/webhooks/not-an-id")[0] == 404
    assert api("GET", "/webhooks/wh_000000000000000000000000")[0] == 404


def test_public_routes_and_catalog(api):
    assert api("GET", "/health", token="none") == (200, {"status": "ok", "version": "0.1.0"})
    status, catalog = api("GET", "/event-types")
    names = {entry["name"] for entry in catalog}
    assert status == 200 and {"TODO_CREATED", "COMMENT_DELETED", "WEBHOOK_TEST"} <= names
    assert all(entry["description"] for entry in catalog)


def test_an_unknown_route_is_a_json_404_naming_it(api):
    assert api("GET", "/nowhere") == (404, {"message": "no route GET /nowhere"})


def test_openapi_document_lists_every_route(api):
    status, document = api("GET", "/openapi.json", token="none")
    assert status == 200 and document["openapi"].startswith("3.")
    assert {"/webhooks", "/webhooks/{webhook_id}", "/event-types", "/health"} <= set(document["paths"])
    assert "WebhookCreate" in document["components"]["schemas"]


def test_every_operation_in_the_openapi_document_has_a_sample_and_every_sample_is_a_route(api, handlers):
    """events/api-*.json against the document the handler serves, not against the list they were made from."""
    from devstack.lambdas import LambdaContext
    from devtools import samples

    document = api("GET", "/openapi.json", token="none")[1]
    operations = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    requests = {name: event for name, event in samples.committed().items() if name.startswith("api-")}
    sampled = {name: documented(operations, event["httpMethod"], event["path"]) for name, event in requests.items()}
    assert operations - set(sampled.values()) == set(), "an operation with no sample: add it to devtools/samples.py"
    # The rest are outside the document on purpose (/openapi.json, /docs, /console): the handler must answer them.
    for name in (name for name, operation in sampled.items() if operation is None):
        response = handlers["api"](requests[name], LambdaContext("ApiFunction"))
        assert response["statusCode"] == 200, (name, response["body"][:200])


def documented(operations: set[tuple[str, str]], method: str, path: str) -> tuple[str, str] | None:
    """The OpenAPI operation a request for method and path reaches ({webhook_id} matches any one segment)."""
    return next(
        (
            (verb, template)
            for verb, template in operations
            if verb == method and re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), path)
        ),
        None,
    )


def test_the_sample_event_is_a_valid_create(handlers):
    from devstack.lambdas import LambdaContext

    event = sample("api-create-webhook.json")
    # The sample's token is signed with the local default key; sign it with this stack's.
    event["headers"]["Authorization"] = f"Bearer {token('company-sample')}"
    response = handlers["api"](event, LambdaContext("ApiFunction"))
    assert response["statusCode"] == 201
