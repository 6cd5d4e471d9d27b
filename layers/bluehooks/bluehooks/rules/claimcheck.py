"""Payloads too large to travel whole, kept in S3 (PayloadBucket): messages and log items carry a key.

EventBridge accepts events of up to 1 MB (since January 2026), and a payload escaped as ASCII JSON
(SQS refuses some characters) can be several times that: more than an SQS message (1 MiB) or a
DynamoDB item (400 KB) holds. So a payload over INLINE_BYTES is written once (adapters.s3, zlib-compressed)
before anything that refers to it is queued or logged: delivery messages and log items then
carry its key, and the log item keeps only the payload's head (its project, for the scope
checks). Objects expire after the delivery log's retention (the bucket's lifecycle rule), and a
log item that refers to one expires with it (deliverylog).
"""

import base64
import hashlib
from typing import Any

# A payload up to this size (as ASCII-escaped JSON) travels whole, as it did when EventBridge's limit
# was 256 KB: compressed, it fits a log item with room for its attempts; ten fit a few batches.
INLINE_BYTES = 256 * 1024


def payload_key(*identity: str) -> str:
    """Stable per payload's identity (company, event type, event id): a fan-out's retry writes the same object."""
    digest = hashlib.sha256("\0".join(identity).encode()).digest()
    return "payloads/" + base64.b32encode(digest[:20]).decode().lower()


def head(payload: dict[str, Any]) -> dict[str, Any]:
    """What the log keeps of a payload held in S3: enough to say whose it is (bluehooks.rules.scope)."""
    return {name: payload[name] for name in ("event", "company", "project") if name in payload}


class PayloadGone(LookupError):
    """The payload's object is gone (expired): the delivery cannot be made."""
