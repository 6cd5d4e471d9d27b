"""The customers' verification module (receivers/python/blue_webhooks_verify.py) against the product's own signer.

The headers come from bluehooks.rules.signing, exactly as DeliveryFunction sends them; the Standard
Webhooks reference library checks the same headers, so the module and the reference agree.
"""

import json
import time

import pytest
from standardwebhooks import Webhook

from bluehooks.rules.signing import generate_secret, signature_headers
from devtools.loopback import verification_module

bwv = verification_module()
BODY = json.dumps({"event": "TODO_CREATED", "company": {"id": "acme"}, "currentValue": {"title": "é"}}).encode()
MSG_ID = "msg_0123456789abcdef01234567"


def signed(secrets: list[str], body: bytes = BODY, at: int | None = None) -> dict[str, str]:
    return signature_headers(secrets, MSG_ID, int(time.time()) if at is None else at, body)


def test_a_good_delivery_verifies_and_returns_its_payload():
    secret = generate_secret()
    headers = signed([secret])
    assert bwv.verify(secret, headers, BODY) == json.loads(BODY)
    Webhook(secret).verify(BODY, {name.lower(): value for name, value in headers.items()})  # the reference agrees


def test_header_names_are_case_insensitive_and_a_plain_secret_works():
    secret = "my own secret, not whsec_"
    headers = {name.upper(): value for name, value in signed([secret]).items()}
    assert bwv.verify(secret, headers, bytearray(BODY))["event"] == "TODO_CREATED"


@pytest.mark.parametrize("tampered", [BODY + b" ", BODY.replace(b"acme", b"acmf"), b""])
def test_a_tampered_body_is_refused(tampered):
    secret = generate_secret()
    with pytest.raises(bwv.WebhookVerificationError, match="webhook-signature"):
        bwv.verify(secret, signed([secret]), tampered)
    with pytest.raises(bwv.WebhookVerificationError, match="X-Signature"):
        bwv.verify_x_signature(secret, signed([secret]), tampered)


def test_the_wrong_secret_is_refused():
    headers = signed([generate_secret()])
    with pytest.raises(bwv.WebhookVerificationError, match="no webhook-signature matches"):
        bwv.verify(generate_secret(), headers, BODY)


@pytest.mark.parametrize("skew", [-301, 301, -3600])
def test_a_timestamp_outside_the_tolerance_is_refused(skew):
    secret, now = generate_secret(), int(time.time())
    headers = signed([secret], at=now + skew)
    with pytest.raises(bwv.WebhookVerificationError, match="tolerance 300 s"):
        bwv.verify(secret, headers, BODY, now=now)  # `now` fixed: a slow machine would bring +301 within 300
    assert bwv.verify(secret, headers, BODY, tolerance=4000, now=now)  # the same request, with a wider tolerance


@pytest.mark.parametrize("stamp", ["yesterday", "9" * 400, "9" * 5000, "1.7e9", " 1700000000", "١٧٠٠٠٠٠٠٠٠", "-1"])
def test_a_timestamp_not_in_unix_seconds_is_refused(stamp):
    secret = generate_secret()
    headers = {**signed([secret]), "webhook-timestamp": stamp}
    with pytest.raises(bwv.WebhookVerificationError, match=r"^webhook-timestamp is not unix seconds$"):
        bwv.verify(secret, headers, BODY)


@pytest.mark.parametrize(
    "hostile",
    [{"webhook-id": "\udcff"}, {"webhook-id": "\ud800"}, {"webhook-signature": ["v1,x"]}, {"X-Signature": b"ab"}],
)
def test_odd_header_values_are_refused_with_the_documented_error(hostile):
    secret = generate_secret()
    with pytest.raises(bwv.WebhookVerificationError):
        bwv.verify(secret, {**signed([secret]), **hostile}, BODY)


@pytest.mark.parametrize("secret", ["", "whsec_", ["k-12345678", ""]])
def test_an_empty_key_is_a_programming_error_not_a_pass(secret):
    """An unset environment variable must not turn into a key anyone can sign with."""
    with pytest.raises(ValueError, match="empty"):
        bwv.verify(secret, signed(["whsec_"]), BODY)


def test_a_nan_tolerance_is_refused():
    secret = generate_secret()
    with pytest.raises(ValueError, match="tolerance"):
        bwv.verify(secret, signed([secret], at=0), BODY, tolerance=float("nan"))


def test_during_a_rotation_either_secret_verifies_the_standard_signature():
    new, old = generate_secret(), generate_secret()
    headers = signed([new, old])
    assert len(headers["webhook-signature"].split()) == 2
    assert bwv.verify(new, headers, BODY)
    assert bwv.verify([new, old], headers, BODY)
    assert bwv.verify(old, headers, BODY, x_signature=False)
    bwv.verify_standard(old, headers, BODY)
    with pytest.raises(bwv.WebhookVerificationError, match="X-Signature"):  # signed with the new secret only
        bwv.verify(old, headers, BODY)
    with pytest.raises(bwv.WebhookVerificationError, match="webhook-signature"):
        bwv.verify(generate_secret(), headers, BODY, x_signature=False)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature", "X-Signature"])
def test_a_missing_header_is_named(missing):
    secret = generate_secret()
    headers = {name: value for name, value in signed([secret]).items() if name != missing}
    with pytest.raises(bwv.WebhookVerificationError, match=f"missing header {missing.lower()}"):
        bwv.verify(secret, headers, BODY)


def test_garbage_signatures_are_refused_without_a_crash():
    secret = generate_secret()
    headers = {**signed([secret]), "webhook-signature": "v1,ünïcode v2,xyz ,", "X-Signature": "\udcff"}
    with pytest.raises(bwv.WebhookVerificationError):
        bwv.verify(secret, headers, BODY)
    with pytest.raises(bwv.WebhookVerificationError, match="X-Signature"):
        bwv.verify_x_signature(secret, headers, BODY)


def test_a_decoded_body_is_a_programming_error_not_a_verdict():
    secret = generate_secret()
    with pytest.raises(TypeError, match="raw body bytes"):
        bwv.verify(secret, signed([secret]), BODY.decode())
    with pytest.raises(ValueError, match="no secret"):
        bwv.verify([], signed([secret]), BODY)
