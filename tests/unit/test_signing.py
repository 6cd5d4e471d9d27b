"""Signing: the Standard Webhooks test vector, cross-checks with the reference library, rotation."""

import base64
import hashlib
import hmac
import time

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from bluehooks.rules.signing import SECRET_PREFIX, generate_secret, signature_headers, standard_signature, x_signature

# Published test vector of the Standard Webhooks specification.
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

BODY = '{"event":"TODO_CREATED","text":"héllo ✓"}'.encode()


def test_standard_signature_matches_published_vector():
    assert standard_signature(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE


def test_signature_headers_carry_published_vector():
    headers = signature_headers([VECTOR_SECRET], VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY)
    assert headers["webhook-signature"] == VECTOR_SIGNATURE
    assert headers["webhook-id"] == VECTOR_ID
    assert headers["webhook-timestamp"] == str(VECTOR_TIMESTAMP)


def test_reference_library_verifies_headers():
    secret = generate_secret()
    headers = signature_headers([secret], "msg_abc", int(time.time()), BODY)
    assert Webhook(secret).verify(BODY, headers) is not None


def test_reference_library_rejects_other_secret():
    headers = signature_headers([generate_secret()], "msg_abc", int(time.time()), BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(BODY, headers)


def test_reference_library_rejects_tampered_body():
    secret = generate_secret()
    headers = signature_headers([secret], "msg_abc", int(time.time()), BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace(b"TODO", b"TADA"), headers)


@pytest.mark.parametrize("secret", ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "plain-secret-ünïcode"])
def test_x_signature_is_hex_hmac_of_body_keyed_by_secret_text(secret):
    expected = hmac.new(secret.encode(), BODY, hashlib.sha256).hexdigest()
    assert x_signature(secret, BODY) == expected
    assert signature_headers([secret], "msg_abc", 1, BODY)["X-Signature"] == expected


def test_unprefixed_secret_uses_its_utf8_bytes_as_standard_key():
    secret = "plain-secret-ünïcode"
    headers = signature_headers([secret], "msg_abc", int(time.time()), BODY)
    assert Webhook(secret.encode()).verify(BODY, headers) is not None
    signed = b"msg_abc." + headers["webhook-timestamp"].encode() + b"." + BODY
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).digest()
    assert headers["webhook-signature"] == "v1," + base64.b64encode(digest).decode()


def test_rotation_headers_carry_one_standard_signature_per_secret_and_x_signature_of_the_new():
    current, previous = generate_secret(), generate_secret()
    now = int(time.time())
    headers = signature_headers([current, previous], "msg_rot", now, BODY)

    assert headers["X-Signature"] == hmac.new(current.encode(), BODY, hashlib.sha256).hexdigest()

    std_sigs = headers["webhook-signature"].split(" ")
    assert len(std_sigs) == 2
    for secret, signature in zip([current, previous], std_sigs, strict=True):
        assert Webhook(secret).verify(BODY, {**headers, "webhook-signature": signature}) is not None
    # Receivers holding either secret verify the full header.
    for secret in (current, previous):
        assert Webhook(secret).verify(BODY, headers) is not None


def test_generate_secret_shape_and_uniqueness():
    first, second = generate_secret(), generate_secret()
    assert first != second
    for secret in (first, second):
        assert secret.startswith(SECRET_PREFIX)
        raw = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
        assert len(raw) == 32
