"""Independent verification of a delivery, as a receiver would do it (not the product's code)."""

import hashlib
import hmac

from standardwebhooks import Webhook


def verify_x_signature(secret: str, body: bytes, header: str) -> bool:
    """Blue's scheme, as in the seed's Node sample: hex HMAC-SHA256 of the body."""
    return hmac.compare_digest(header, hmac.new(secret.encode(), body, hashlib.sha256).hexdigest())


def assert_signed(secret: str, headers: dict[str, str], body: bytes) -> None:
    """Both signature schemes verify against the exact body bytes."""
    lower = {name.lower(): value for name, value in headers.items()}
    assert verify_x_signature(secret, body, lower["x-signature"])
    Webhook(secret).verify(body, lower)  # raises WebhookVerificationError when wrong
