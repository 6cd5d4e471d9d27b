"""Whether a stored payload may still be sent to a webhook (DESIGN: tenant isolation).

A delivery is decided at fan-out, but sent later: at its attempts, and again at a retry or
recover. By then the webhook may have been narrowed (fewer events, fewer projects), and whoever
asks for a redelivery may see fewer projects than the company. A payload is sent only while the
webhook still subscribes to its event and project, and redelivered only to a caller who may see
that project. The webhook's filter is not applied again: it narrows what fans out, is no
security boundary (an undecidable filter delivers unfiltered), and a recover would run it over a
page of stored payloads inside one API request. Reasons never name the project: whoever reads
the log may be limited to other projects.
"""

from typing import Any

from bluehooks.models import Caller, WebhookFields
from bluehooks.models.catalog import PLATFORM_ONLY_EVENTS


def project_of(payload: dict[str, Any]) -> str | None:
    """The payload's project id as text (as the fan-out compares it), or None."""
    project = payload.get("project")
    return str(project["id"]) if isinstance(project, dict) and project.get("id") is not None else None


def unsubscribed(webhook: WebhookFields, event: str, payload: dict[str, Any]) -> str | None:
    """Why the webhook no longer subscribes to this payload, or None when it does.

    A WEBHOOK_TEST goes to its webhook whatever its events, but not outside its projects."""
    if event not in PLATFORM_ONLY_EVENTS and webhook.events and event not in webhook.events:
        return f"the webhook no longer subscribes to {event}"
    project = project_of(payload)
    if webhook.projectIds and project not in webhook.projectIds:
        return f"its project{'' if project else ' (none)'} is not among the webhook's projects"
    return None


def readable(caller: Caller, payload: dict[str, Any]) -> bool:
    """Whether the caller may see a logged delivery: a token limited to projects sees only theirs, also in
    the log of a webhook that was narrowed to them after it delivered other projects' events."""
    return caller.projects is None or project_of(payload) in caller.projects


def not_redeliverable(caller: Caller, webhook: WebhookFields, event: str, payload: dict[str, Any]) -> str | None:
    """Why this caller may not have this payload sent again to this webhook, or None when it may.

    The webhook's reason first: it holds for every caller, so the log reads the same whoever asked.
    (A token limited to projects sees only webhooks within them, so the second test is a backstop.)"""
    if why := unsubscribed(webhook, event, payload):
        return why
    if not readable(caller, payload):
        return "its project is outside the projects of the token that asked"
    return None
