"""Every forged cursor, of every JSON type, on every list route, is a 4xx (never a 5xx)."""

import base64
import json
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

PUBLIC = "https://93.184.216.34/hook"
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
# A position's own keys, with values of every type, so the checks past the shape are reached too.
POSITIONS = st.fixed_dictionaries({"sk": JSON | st.just("msg_" + "a" * 26), "createdAt": JSON})


def encoded(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.fixture
def routes(api):
    status, hook = api("POST", "/webhooks", {"url": PUBLIC})
    assert status == 201
    return ["/webhooks", f"/webhooks/{hook['id']}/deliveries"]


@pytest.mark.parametrize(
    "created_at",
    [0, 1.5, True, False, None, [], ["2020-01-01T00:00:00.000Z"], {}, {"a": 1}, "", "2020-13-01T00:00:00.000Z"],
)
def test_a_position_with_a_created_at_of_any_other_type_is_a_400(api, routes, created_at):
    cursor = encoded({"sk": "msg_" + "a" * 26, "createdAt": created_at})
    for route in routes:
        status, body = api("GET", f"{route}?cursor={cursor}")
        assert status == 400 and "cursor" in body["message"], (route, status, body)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=JSON | POSITIONS, raw=st.text(min_size=1, max_size=40))
def test_any_cursor_is_a_4xx(api, routes, value, raw):
    for route in routes:
        for cursor in (encoded(value), quote(raw, safe="")):
            status, body = api("GET", f"{route}?cursor={cursor}")
            assert 400 <= status < 500 and body["message"], (route, cursor, status, body)
