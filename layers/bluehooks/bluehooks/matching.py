"""Which subscribed webhooks an event goes to (after the index narrowed by company and type)."""

from typing import Any


def wants(entry: dict[str, Any], project_key: str | None) -> bool:
    """An enabled webhook for all projects, or for the event's project."""
    if not entry["enabled"]:
        return False
    return not entry["projectIds"] or project_key in entry["projectIds"]
