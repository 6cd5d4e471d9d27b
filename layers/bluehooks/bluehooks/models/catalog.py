"""The event catalog: every event type a webhook can subscribe to."""

EVENT_TYPES: dict[str, str] = {
    # Records (the API calls them todos)
    "TODO_CREATED": "A record was created.",
    "TODO_UPDATED": "A record's fields were updated.",
    "TODO_DELETED": "A record was deleted.",
    "TODO_MOVED": "A record was moved to another list.",
    "TODO_NAME_CHANGED": "A record was renamed.",
    "TODO_DONE_STATUS_CHANGED": "A record was marked done or not done.",
    "TODO_DUE_DATE_CHANGED": "A record's start or due date changed.",
    "TODO_ASSIGNEE_ADDED": "A user was assigned to a record.",
    "TODO_ASSIGNEE_REMOVED": "A user was unassigned from a record.",
    "TODO_TAG_ADDED": "A tag was added to a record.",
    "TODO_TAG_REMOVED": "A tag was removed from a record.",
    "TODO_CUSTOM_FIELD_VALUE_CHANGED": "A custom field value of a record changed.",
    # Checklists
    "TODO_CHECKLIST_CREATED": "A checklist was added to a record.",
    "TODO_CHECKLIST_NAME_CHANGED": "A checklist was renamed.",
    "TODO_CHECKLIST_DELETED": "A checklist was deleted.",
    "TODO_CHECKLIST_ITEM_CREATED": "An item was added to a checklist.",
    "TODO_CHECKLIST_ITEM_DONE_STATUS_CHANGED": "A checklist item was checked or unchecked.",
    # Lists
    "TODO_LIST_CREATED": "A list was created in a project.",
    "TODO_LIST_DELETED": "A list was deleted.",
    "TODO_LIST_NAME_CHANGED": "A list was renamed.",
    # Comments
    "COMMENT_CREATED": "A comment was added.",
    "COMMENT_UPDATED": "A comment was edited.",
    "COMMENT_DELETED": "A comment was deleted.",
    # The platform itself
    "WEBHOOK_TEST": "A test ping sent on request to one webhook.",
}

# Sent by the platform to a single webhook only; never fanned out from the bus.
PLATFORM_ONLY_EVENTS = frozenset({"WEBHOOK_TEST"})


def unknown_event_types(names: list[str]) -> list[str]:
    """The names that are not in the catalog, in the order given."""
    return [name for name in names if name not in EVENT_TYPES]
