"""Which subscribed webhooks an event goes to (after the index narrowed by company and type)."""

from typing import Any

from aws_lambda_powertools import Logger

from bluehooks import filters

logger = Logger(child=True)


def wants(entry: dict[str, Any], project_key: str | None, payload: dict[str, Any]) -> bool:
    """An enabled webhook for all projects or the event's project, whose filter (if any) the payload satisfies."""
    if not entry["enabled"]:
        return False
    if entry["projectIds"] and project_key not in entry["projectIds"]:
        return False
    # The filter is the costliest test, so it comes last and only for the index's candidates.
    pattern = entry.get("filter")
    try:
        return pattern is None or filters.matches(pattern, payload)
    except filters.FilterTooComplex:
        # A filter narrows a webhook's own events; it is no security boundary. Deciding would cost
        # more than the fan-out may spend, so the event goes to this webhook rather than nowhere.
        logger.warning("filter too complex to decide: delivered unfiltered", extra={"webhookId": entry["webhookId"]})
        return True
