"""Which subscribed webhooks an event goes to (after the index narrowed by company and type)."""

from typing import Any

from bluehooks import filters


def wants(entry: dict[str, Any], project_key: str | None, payload: dict[str, Any]) -> bool:
    """An enabled webhook for all projects or the event's project, whose filter (if any) the payload satisfies."""
    if not entry["enabled"]:
        return False
    if entry["projectIds"] and project_key not in entry["projectIds"]:
        return False
    # The filter is the costliest test, so it comes last and only for the index's candidates.
    pattern = entry.get("filter")
    return pattern is None or filters.matches(pattern, payload)
