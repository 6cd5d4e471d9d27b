"""Independent verification of a delivery, as a receiver would do it (not the product's code)."""

import hashlib
import hmac

from standardwebhooks import Webhook


def assert_signed(secret: str, headers: dict[str, str], body: bytes) -> None:
    """Both signature schemes verify against the exact body bytes."""
    lower = {name.lower(): value for name, value in headers.items()}
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(lower["x-signature"], expected)
    Webhook(secret).verify(body, lower)  # raises WebhookVerificationError when wrong
