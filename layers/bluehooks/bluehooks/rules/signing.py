"""Signatures of outgoing deliveries: Blue's X-Signature and Standard Webhooks' v1.

Both sign the exact body bytes. During a secret rotation webhook-signature carries one
signature per secret, space-separated, so receivers holding either secret verify (Standard
Webhooks' rule); X-Signature, Blue's single-value header, is signed with the new secret.
"""

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def standard_key(secret: str) -> bytes:
    """Standard Webhooks key: base64 after 'whsec_', else the secret's UTF-8 bytes."""
    if secret.startswith(SECRET_PREFIX):
        try:
            return base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
        except ValueError:
            pass
    return secret.encode()


def x_signature(secret: str, body: bytes) -> str:
    """Blue's scheme: hex HMAC-SHA256 of the body, key = the secret's UTF-8 bytes."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def standard_signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(standard_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_headers(secrets_: list[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The signing headers for one attempt; secrets_ is the current secret, then any older one."""
    return {
        "X-Signature": x_signature(secrets_[0], body),
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(standard_signature(s, msg_id, timestamp, body) for s in secrets_),
    }
