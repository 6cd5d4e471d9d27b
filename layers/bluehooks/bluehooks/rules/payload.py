"""The delivery body: Blue's payload shape, as compact UTF-8 JSON."""

import json
from typing import Any

from bluehooks import USER_AGENT
from bluehooks.models import EventDetail, SentRequest, Webhook

SIGNED = "(signed per attempt: not shown)"


def event_payload(event: str, detail: EventDetail) -> dict[str, Any]:
    """Everything of the body but the webhook object, which is added per delivery."""
    refs = detail.model_dump(include={"company", "project", "user"})
    return {"event": event, **refs, "currentValue": detail.currentValue, "previousValue": detail.previousValue}


def delivery_body(payload: dict[str, Any], webhook: Webhook) -> bytes:
    body = {"event": payload["event"], "webhook": webhook.model_dump(exclude={"secret"})}
    body.update((name, value) for name, value in payload.items() if name != "event")
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def sent_request(payload: dict[str, Any], webhook: Webhook, delivery_id: str, complete: bool) -> SentRequest:
    """The POST of a delivery as the log shows it: its headers (signatures and custom values hidden) and body."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Signature": SIGNED,
        "webhook-id": delivery_id,
        "webhook-timestamp": "(the attempt's time, in seconds)",
        "webhook-signature": SIGNED,
    }
    # Custom headers: their names only, like GET /webhooks/{id}.
    headers.update((name, "(hidden: write-only)") for name in webhook.headers)
    body = json.loads(delivery_body(payload, webhook))
    return SentRequest(url=webhook.url, headers=headers, body=body, bodyComplete=complete)
