"""Verify a Blue webhook delivery: one file, Python's standard library only. Copy it into your app.

    from blue_webhooks_verify import WebhookVerificationError, verify

    try:
        event = verify(secret, request.headers, raw_body)  # the body's bytes, before any JSON parsing
    except WebhookVerificationError as error:
        ...  # answer 401 and do not act on it

Two schemes sign every delivery, both over the exact body bytes:
- Standard Webhooks: `webhook-signature: v1,<base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}">`,
  key = the base64-decoded part after `whsec_`. During a secret rotation the header holds one
  signature per secret, space-separated; one matching signature is enough. The timestamp bounds
  replays: it must be within `tolerance` seconds of now.
- Blue's `X-Signature`: hex HMAC-SHA256 of the body, key = the secret string's UTF-8 bytes. It has no
  timestamp, and during a rotation it is signed with the new secret only.

Every comparison is constant-time. Delivery is at-least-once: deduplicate on `webhook-id`.
"""

import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["DEFAULT_TOLERANCE_SECONDS", "WebhookVerificationError", "verify", "verify_standard", "verify_x_signature"]

DEFAULT_TOLERANCE_SECONDS = 300
SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")  # ASCII digits only; 12 keep any arithmetic on it exact


class WebhookVerificationError(Exception):
    """The delivery is not authentic (or not fresh): answer 401 and do not act on it.

    The only exception a request can cause; ValueError and TypeError mean a programming error
    (no secret, an empty one, a decoded body)."""


def verify(
    secret: str | Iterable[str],
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    x_signature: bool = True,
    now: float | None = None,
) -> Any:
    """Check both schemes and return the parsed JSON payload; raise WebhookVerificationError otherwise.

    `secret` may be several secrets (yours during your own rotation): a scheme passes when any of them
    verifies it. `x_signature=False` checks the Standard Webhooks signature alone, e.g. while you still
    hold only the previous secret during a rotation (X-Signature is signed with the new one only)."""
    secrets = _secrets(secret)
    lower = _lower(headers)
    verify_standard(secrets, lower, body, tolerance=tolerance, now=now)
    if x_signature:
        verify_x_signature(secrets, lower, body)
    try:
        return json.loads(body)
    except ValueError as exc:  # signed by Blue, so not expected; still never a crash in the caller
        raise WebhookVerificationError("the body is not JSON") from exc


def verify_standard(
    secret: str | Iterable[str],
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> None:
    """Standard Webhooks v1: a fresh timestamp and one matching signature among the space-separated ones."""
    secrets = _secrets(secret)
    if not tolerance >= 0:  # NaN would accept any timestamp
        raise ValueError(f"tolerance must be seconds >= 0, not {tolerance!r}")
    lower = _lower(headers)
    msg_id, stamp, signatures = (
        _header(lower, name) for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
    )
    if not _UNIX_SECONDS.fullmatch(stamp):
        raise WebhookVerificationError("webhook-timestamp is not unix seconds")
    age = (time.time() if now is None else now) - int(stamp)
    if abs(age) > tolerance:
        raise WebhookVerificationError(f"webhook-timestamp is {age:+.0f} s from now (tolerance {tolerance} s)")
    signed = _utf8(f"{msg_id}.{stamp}.") + _raw(body)
    expected = [b"v1," + base64.b64encode(hmac.new(_standard_key(s), signed, hashlib.sha256).digest()) for s in secrets]
    if not _any_match(expected, signatures.split()):
        raise WebhookVerificationError("no webhook-signature matches this secret and body")


def verify_x_signature(secret: str | Iterable[str], headers: Mapping[str, str], body: bytes) -> None:
    """Blue's scheme: hex HMAC-SHA256 of the body (no timestamp: prefer verify(), which bounds replays)."""
    secrets = _secrets(secret)
    sent = _header(_lower(headers), "x-signature")
    expected = [hmac.new(s.encode(), _raw(body), hashlib.sha256).hexdigest().encode() for s in secrets]
    if not _any_match(expected, sent.split()):
        raise WebhookVerificationError("X-Signature does not match this secret and body")


def _secrets(secret: str | Iterable[str]) -> list[str]:
    """An empty key would let anyone sign (e.g. an unset environment variable): refuse it."""
    secrets = [secret] if isinstance(secret, str) else list(secret)
    if not secrets or not all(isinstance(s, str) and s and _standard_key(s) for s in secrets):
        raise ValueError("no secret, or an empty one, to verify with")
    return secrets


def _lower(headers: Mapping[str, str]) -> dict[str, object]:
    """Header names are case-insensitive; frameworks hand them over in any case."""
    return {name.lower(): value for name, value in headers.items() if isinstance(name, str)}


def _header(headers: dict[str, object], name: str) -> str:
    value = headers.get(name)
    if not value:
        raise WebhookVerificationError(f"missing header {name}")
    if not isinstance(value, str):  # e.g. a list of repeated headers: ambiguous, so refused
        raise WebhookVerificationError(f"header {name} is not one string")
    return value


def _utf8(text: str) -> bytes:
    """Header text as bytes; never fails (a lone surrogate from a lenient parser just does not match)."""
    return text.encode("utf-8", "surrogatepass")


def _raw(body: bytes) -> bytes:
    if not isinstance(body, bytes | bytearray | memoryview):  # a decoded or parsed body is not the signed bytes
        raise TypeError("pass the raw body bytes, before any decoding or JSON parsing")
    return bytes(body)


def _standard_key(secret: str) -> bytes:
    if secret.startswith(SECRET_PREFIX):
        try:
            return base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
        except ValueError:  # binascii.Error, or non-ASCII: then the secret is used as it is, as Blue signs
            pass
    return secret.encode()


def _any_match(expected: list[bytes], sent: list[str]) -> bool:
    """Constant-time per comparison, and every pair compared (no early exit on the first match)."""
    found = False
    for candidate in sent:
        for value in expected:
            found |= hmac.compare_digest(value, _utf8(candidate))
    return found
