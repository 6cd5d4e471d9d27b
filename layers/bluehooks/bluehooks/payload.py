"""The delivery body: Blue's payload shape, as compact UTF-8 JSON."""

import json
from typing import Any

from bluehooks.models import EventDetail, Webhook


def event_payload(event: str, detail: EventDetail) -> dict[str, Any]:
    """Everything of the body but the webhook object, which is added per delivery."""
    refs = detail.model_dump(include={"company", "project", "user"})
    return {"event": event, **refs, "currentValue": detail.currentValue, "previousValue": detail.previousValue}


def delivery_body(payload: dict[str, Any], webhook: Webhook) -> bytes:
    body = {"event": payload["event"], "webhook": webhook.model_dump(exclude={"secret"})}
    body.update((name, value) for name, value in payload.items() if name != "event")
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
