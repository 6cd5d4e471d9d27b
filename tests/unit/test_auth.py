"""Bearer-token authentication (pure: the key is passed in). Every forged token class is refused."""

import base64
import json
import time

import jwt
import pytest

from bluehooks.auth import authenticate
from bluehooks.errors import Unauthenticated
from bluehooks.models import Caller

KEY = "k" * 32
CLAIMS = {"sub": "user-1", "company": "company-1", "role": "ADMIN"}


def claims(**changes):
    issued = int(time.time())
    merged = {**CLAIMS, "iat": issued, "exp": issued + 300, **changes}
    return {name: value for name, value in merged.items() if value is not None}


def bearer(payload=None, key=KEY, algorithm="HS256", headers=None):
    return "Bearer " + jwt.encode(claims() if payload is None else payload, key, algorithm=algorithm, headers=headers)


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def refused(header, **options):
    with pytest.raises(Unauthenticated) as info:
        authenticate(header, KEY, **options)
    assert KEY not in str(info.value)
    return str(info.value)


def test_valid_token_gives_caller():
    caller = authenticate(bearer(), KEY)
    assert isinstance(caller, Caller)
    assert (caller.sub, caller.company, caller.role, caller.projects) == ("user-1", "company-1", "ADMIN", None)


def test_scheme_is_case_insensitive():
    assert authenticate(bearer().replace("Bearer", "bearer"), KEY).company == "company-1"


def test_numeric_ids_are_compared_as_text():
    assert authenticate(bearer(claims(company=42)), KEY).company == "42"


@pytest.mark.parametrize("header", [None, "", "Bearer ", "Bearer    ", "Basic x", "Basic dXNlcjpwdw=="])
def test_missing_or_non_bearer_header_rejected(header):
    assert "bearer" in refused(header).lower()


def test_a_token_without_exp_is_refused():
    assert "exp" in refused(bearer(claims(exp=None)))


def test_expired_token_rejected():
    assert "expired" in refused(bearer(claims(exp=int(time.time()) - 60)))


def test_a_token_not_yet_valid_is_refused():
    refused(bearer(claims(nbf=int(time.time()) + 600)))


def test_wrong_key_rejected():
    refused(bearer(key="x" * 32))


def test_an_empty_key_verifies_nothing():
    unsigned_with_empty_key = f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64(claims())}."
    for key in ("", KEY):
        with pytest.raises(Unauthenticated):
            authenticate("Bearer " + unsigned_with_empty_key, key)


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_alg_none_in_any_case_rejected(alg):
    unsigned = f"{_b64({'alg': alg, 'typ': 'JWT'})}.{_b64(claims())}."
    refused("Bearer " + unsigned)
    refused("Bearer " + unsigned + "c2lnbmF0dXJl")


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_other_hmac_algorithms_rejected_even_with_the_right_key(algorithm):
    refused(bearer(algorithm=algorithm))


def test_tampered_payload_rejected():
    header, _, signature = bearer()[len("Bearer ") :].split(".")
    forged = f"{header}.{_b64(claims(role='OWNER', company='someone-else'))}.{signature}"
    refused("Bearer " + forged)


def test_truncated_signature_rejected():
    token = bearer()
    refused(token[:-4])
    refused(token.rsplit(".", 1)[0] + ".")


@pytest.mark.parametrize("missing", ["company", "sub", "role"])
def test_missing_claim_rejected(missing):
    assert missing in refused(bearer(claims(**{missing: None})))


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("company", ""),
        ("sub", ""),
        ("company", ["c1"]),
        ("company", {"id": "c1"}),
        ("sub", True),
        ("role", "SUPERUSER"),
        ("role", 1),
        ("projects", "p1"),
        ("projects", [""]),
        ("exp", "tomorrow"),
    ],
)
def test_empty_or_mistyped_claims_rejected(claim, value):
    message = refused(bearer(claims(**{claim: value})))
    assert claim in message or {"sub": "subject", "exp": "expiration"}[claim] in message.lower()


def test_garbage_token_rejected():
    refused("Bearer not.a.jwt")


def test_issuer_and_audience_are_checked_when_configured():
    options = {"issuer": "blue", "audience": "webhooks"}
    assert authenticate(bearer(claims(iss="blue", aud="webhooks")), KEY, **options).sub == "user-1"
    refused(bearer(claims(aud="webhooks")), **options)
    refused(bearer(claims(iss="blue")), **options)
    refused(bearer(claims(iss="evil", aud="webhooks")), **options)
    refused(bearer(claims(iss="blue", aud="other")), **options)


def test_a_token_without_iat_is_refused():
    assert "iat" in refused(bearer(claims(iat=None)))


@pytest.mark.parametrize(
    ("claim", "value"),
    [("exp", 10**30), ("exp", 1e30), ("exp", "9999999999"), ("iat", "1700000000"), ("iat", True), ("exp", True)],
)
def test_exp_and_iat_must_be_numbers_within_the_lifetime(claim, value):
    assert claim in refused(bearer(claims(**{claim: value}))) or "within" in refused(bearer(claims(**{claim: value})))


def test_the_lifetime_is_bounded_by_the_setting():
    issued = int(time.time())
    day = bearer(claims(iat=issued, exp=issued + 86400))
    assert authenticate(day, KEY).sub == "user-1"
    assert "within 86400 s" in refused(bearer(claims(iat=issued, exp=issued + 86401)))
    assert "within 600 s" in refused(day, max_lifetime_seconds=600)
