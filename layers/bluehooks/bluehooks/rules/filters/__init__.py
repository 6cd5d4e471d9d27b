"""Record filters: EventBridge event patterns, checked when a webhook is saved and matched at fan-out.

A filter is an Amazon EventBridge event pattern, matched against a delivery's payload: the body without its
`webhook` part (`event`, `company`, `project`, `user`, `currentValue`, `previousValue`). The semantics are the
AWS documentation's ("Event pattern syntax", "Comparison operators", "Arrays in event patterns", "Matching null
values and empty strings") and, where it is silent, those of the engine it documents, aws/event-ruler:

- A leaf is an array of entries; it matches when any entry matches any of the event's values there.
- Arrays in the event are crushed out: every element is a value of the field, and objects in an array lend their
  fields to the array's path; but one match never takes fields from two elements of the same array.
- Only scalars are values. An object, `{}` and `[]` are not, so `exists` sees leaves only and a missing field, a
  field holding an object and an empty array all satisfy `{"exists": false}`; `[null]` needs a present null.
- Exact values compare by their JSON text, as documented: 5 and 5.0 differ, true is not 1. Only `numeric`
  compares numbers by value. (A parsed document has lost its text, so 3.0e2 and 300.0 cannot be told apart.)
- Keys join with dots, as documented: `{"a": {"b": [1]}}` and `{"a.b": [1]}` name the same field.
- `anything-but` passes any present value it does not name, null and other types included; never a missing one.
- `exists: false` inside an array of objects means no value in the elements the rest of the match used.

The modules, one idea each: validation (the limits and refusals), expansion (`$or` multiplied out), event_values
(the event read by path), operators (one entry against one value), search (matching an alternative over the
event's arrays) and budget (what a call may cost).
"""

from bluehooks.rules.filters.budget import MAX_FILTER_STEPS, Budget
from bluehooks.rules.filters.errors import FilterTooComplex, InvalidFilter
from bluehooks.rules.filters.event_values import CHARS_PER_STEP, EventValues
from bluehooks.rules.filters.expansion import OR
from bluehooks.rules.filters.search import MAX_SEARCH_STEPS, PLACE_STEPS, matches
from bluehooks.rules.filters.validation import (
    MAX_BYTES,
    MAX_COMBINATIONS,
    MAX_CONDITIONS,
    MAX_DEPTH,
    MAX_VALUES,
    validate,
)

__all__ = [
    "CHARS_PER_STEP",
    "MAX_BYTES",
    "MAX_COMBINATIONS",
    "MAX_CONDITIONS",
    "MAX_DEPTH",
    "MAX_FILTER_STEPS",
    "MAX_SEARCH_STEPS",
    "MAX_VALUES",
    "OR",
    "PLACE_STEPS",
    "Budget",
    "EventValues",
    "FilterTooComplex",
    "InvalidFilter",
    "matches",
    "validate",
]
