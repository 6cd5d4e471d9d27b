"""Bearer-token authentication (pure: the key is passed in)."""

import time

import jwt
import pytest

from bluehooks.auth import AuthError, authenticate
from bluehooks.models import Caller

KEY = "k" * 32
CLAIMS = {"sub": "user-1", "company": "company-1", "role": "ADMIN"}


def bearer(claims=None, key=KEY, algorithm="HS256"):
    return "Bearer " + jwt.encode(CLAIMS if claims is None else claims, key, algorithm=algorithm)


def test_valid_token_gives_caller():
    caller = authenticate(bearer({**CLAIMS, "exp": int(time.time()) + 300}), KEY)
    assert isinstance(caller, Caller)
    assert (caller.sub, caller.company, caller.role) == ("user-1", "company-1", "ADMIN")


def test_scheme_is_case_insensitive():
    assert authenticate(bearer().replace("Bearer", "bearer"), KEY).company == "company-1"


@pytest.mark.parametrize("header", [None, "", "Bearer ", "Bearer    ", "Basic x", "Basic dXNlcjpwdw=="])
def test_missing_or_non_bearer_header_rejected(header):
    with pytest.raises(AuthError):
        authenticate(header, KEY)


def _refused(header):
    with pytest.raises(AuthError) as info:
        authenticate(header, KEY)
    assert KEY not in str(info.value)
    return info.value


def test_wrong_key_rejected():
    _refused(bearer(key="x" * 32))


def test_expired_token_rejected():
    _refused(bearer({**CLAIMS, "exp": int(time.time()) - 60}))


def test_alg_none_rejected():
    _refused("Bearer " + jwt.encode(CLAIMS, key=None, algorithm="none"))


def test_hs512_token_rejected():
    _refused(bearer(key=KEY * 2, algorithm="HS512"))


def test_hs512_token_with_same_key_rejected():
    _refused(bearer(algorithm="HS512"))


@pytest.mark.parametrize("missing", ["company", "sub", "role"])
def test_missing_claim_rejected(missing):
    _refused(bearer({name: value for name, value in CLAIMS.items() if name != missing}))


def test_bad_role_rejected():
    error = _refused(bearer({**CLAIMS, "role": "SUPERUSER"}))
    assert "role" in str(error)


def test_garbage_token_rejected():
    _refused("Bearer not.a.jwt")
