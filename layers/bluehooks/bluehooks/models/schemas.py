"""What a receiver gets for each event type: a JSON Schema (2020-12) of the delivery body, and an example.

The body is Blue's shape (DESIGN, delivery contract): the event's name, the webhook object (no
secret), the company, project and user references, and the entity before and after the change.
`currentValue` and `previousValue` are the entity as the host app sends it: the schema names Blue's
fields and leaves room for more (a receiver should ignore what it does not know).
"""

import json
from functools import cache
from pathlib import Path
from typing import Any

from bluehooks.models import Webhook
from bluehooks.models.catalog import EVENT_TYPES

DIALECT = "https://json-schema.org/draft/2020-12/schema"
# Each kind of entity's fields (JSON Schema properties) and an example; and the example webhook.
ENTITIES: dict[str, dict[str, Any]] = json.loads((Path(__file__).parent / "entities.json").read_text("utf-8"))


def entity_of(event: str) -> str:
    """The kind of entity an event's currentValue holds (checked longest prefix first)."""
    for prefix, kind in (
        ("TODO_CHECKLIST_ITEM_", "checklist item"),
        ("TODO_CHECKLIST_", "checklist"),
        ("TODO_LIST_", "list"),
        ("TODO_", "record"),
        ("COMMENT_", "comment"),
    ):
        if event.startswith(prefix):
            return kind
    return "ping"


def _reference() -> dict[str, Any]:
    return {"type": ["object", "null"], "properties": {"id": {"type": ["string", "integer"]}}, "required": ["id"]}


@cache
def _webhook_schema() -> dict[str, Any]:
    """The webhook object without its secret, self-contained (no $defs: it is embedded in other documents)."""
    schema = Webhook.model_json_schema()
    definitions = schema.pop("$defs", {})
    for name, field in schema["properties"].items():
        if "$ref" in field:
            schema["properties"][name] = definitions[field["$ref"].rsplit("/", 1)[-1]]
    schema["properties"].pop("secret")
    schema["required"] = [name for name in schema["required"] if name != "secret"]
    return schema


def delivery_schema(event: str) -> dict[str, Any]:
    """The JSON Schema of the body a receiver gets for `event`."""
    entity = {"type": "object", "properties": ENTITIES[entity_of(event)]["fields"]}
    before = (
        {"type": "null"}
        if event.endswith("_CREATED") or event == "WEBHOOK_TEST"
        else {"anyOf": [entity, {"type": "null"}]}
    )
    return {
        "$schema": DIALECT,
        "title": event,
        "description": EVENT_TYPES[event],
        "type": "object",
        "properties": {
            "event": {"const": event},
            "webhook": _webhook_schema(),
            "company": {**_reference(), "type": "object"},
            "project": _reference(),
            "user": _reference(),
            # A deletion may carry what was deleted, or nothing.
            "currentValue": {"anyOf": [entity, {"type": "null"}]} if event.endswith("_DELETED") else entity,
            "previousValue": before,
        },
        "required": ["event", "webhook", "company", "project", "user", "currentValue", "previousValue"],
    }


def example(event: str) -> dict[str, Any]:
    """A body of `event` as a receiver gets it (valid against delivery_schema(event))."""
    entity = ENTITIES[entity_of(event)]["example"]
    changed = {**entity, "updatedAt": "2026-12-02T10:00:00.000Z"} if "updatedAt" in entity else entity
    created = event.endswith("_CREATED") or event == "WEBHOOK_TEST"
    return {
        "event": event,
        "webhook": ENTITIES["webhook"]["example"],
        "company": {"id": "company-5678"},
        "project": {"id": "project-91011"},
        "user": {"id": "user-1213"},
        "currentValue": changed,
        "previousValue": None if created else entity,
    }
