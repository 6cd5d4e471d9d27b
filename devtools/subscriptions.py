"""Subscription index entries written straight to the table: as many webhooks as a scale test or a benchmark needs.

The entries are the store's own (`index_entries`), so they have exactly the shape the fan-out reads;
only the webhook items themselves are left out, which the fan-out never reads.
"""

from typing import Any

from bluehooks.adapters.store import index_entries
from bluehooks.models import StoredWebhook

CREATED_AT = "2026-01-01T00:00:00.000Z"


def subscribe(
    table, company: str, event: str, count: int, pattern: dict[str, Any] | None = None, first: int = 0
) -> list[str]:
    """Index `count` enabled webhooks of `company` to `event` (with `pattern` as filter); returns their ids."""
    ids = [f"wh_{number:024x}" for number in range(first, first + count)]
    with table.batch_writer() as batch:
        for webhook_id in ids:
            for entry in index_entries(webhook(company, webhook_id, event, pattern)):
                batch.put_item(Item=entry)
    return ids


def webhook(company: str, webhook_id: str, event: str, pattern: dict[str, Any] | None) -> StoredWebhook:
    return StoredWebhook(
        id=webhook_id,
        uid=webhook_id[3:],
        name="scale",
        url="https://93.184.216.34/hook",
        status="HEALTHY",
        enabled=True,
        events=[event],
        projectIds=[],
        filter=pattern,
        companyId=company,
        createdById="user-1",
        createdAt=CREATED_AT,
        updatedAt=CREATED_AT,
        sealedSecret=b"sealed",
    )
