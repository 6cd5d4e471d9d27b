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

Limits, refused by `validate` so that one filter cannot slow the fan-out for everyone:

- MAX_BYTES = 4096: the pattern as compact UTF-8 JSON (EventBridge: 2048 characters, raisable to 4096).
- MAX_DEPTH = 10: field names on the way from the root to a leaf (`$or` does not count).
- MAX_VALUES = 100: leaf entries, counting each value listed inside `anything-but`.
- MAX_COMBINATIONS = 64: alternatives once every `$or` is multiplied out, as EventBridge compiles them.
- MAX_CONDITIONS = 512: fields summed over those alternatives. Each leaf compares the event's values once however
  many alternatives share it, but each alternative looks at its fields' matching values again, so a filter costs
  at most MAX_VALUES + PLACE_STEPS * MAX_CONDITIONS steps per event value on its paths, besides reading them.
- Bounds in `numeric` lie within ±5.0e9, the range EventBridge documents for numeric matching.
- A `cidr` prefix length is at most 31 (IPv4) or 127 (IPv6): event-ruler refuses /32 and /128.

Stricter than EventBridge on one point: a field given two conditions in one alternative (beside `$or` and inside
it, or as `a.b` beside `a: {b}`) is refused, where EventBridge silently keeps only the last.

Matching is a search only where fields share an array of objects, which must lend them one element: a field that
cannot hold fails before the search, fields sharing no array are searched apart, and the search goes field by
field, the most constrained first. Arrays can still encode hard puzzles (each array's element is a choice), so
the search has a budget, MAX_SEARCH_STEPS (about 0.1 s; an ordinary filter spends a few steps per event value).

All of a call's work is charged, before it is done, to a Budget (MAX_FILTER_STEPS unless the caller gives a
smaller share): a step is one node of the event read, one event value compared with one filter entry (a string
costing one more step per CHARS_PER_STEP characters), one search step, or PLACE_STEPS for each place an
alternative looks at (where a value sits: the array elements it sits in). A field that no value can reach fails
its alternative before any array is read, and the others are taken fewest values first, so one with nothing to
match fails it before the rest are compared. Past its budget `matches` raises FilterTooComplex rather than
guess; the fan-out then treats the webhook as matching and logs it (matching.py). That fails open, on purpose: a
filter only narrows a webhook's own events, it is not a security boundary, and one filter timing out the fan-out
would cost every webhook of the company the event.
"""

import ipaddress
import json
import math
import operator
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from typing import Any

MAX_BYTES = 4096
MAX_DEPTH = 10
MAX_VALUES = 100
MAX_COMBINATIONS = 64
MAX_CONDITIONS = 512
NUMERIC_LIMIT = 5.0e9
MAX_SEARCH_STEPS = 100_000
# One call's work at most: about 0.1 s of one core at the costliest steps, ~0.5 µs each (`python -m bench filters`).
MAX_FILTER_STEPS = 200_000
PLACE_STEPS = 4  # an alternative regroups each place its fields' values sit in four times (_narrowed, _independent)
CHARS_PER_STEP = 64  # a string compares at tens of characters per step: str.lower, find and == all read it

OR = "$or"
_OPERATORS = ("anything-but", "cidr", "equals-ignore-case", "exists", "numeric", "prefix", "suffix", "wildcard")
# event-ruler refuses these as field names inside $or, where they would read as operators put a level too high.
_RESERVED_IN_OR = frozenset(
    {
        *_OPERATORS,
        *("exact", "=", "<", "<=", ">", ">=", "regex", "not-wildcard", "not-equals-ignore-case"),
        *("date-after", "date-on-or-after", "date-before", "date-on-or-before", "in-date-range"),
        *("ip-address-in-range", "ip-address-not-in-range"),
    }
)
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}

Membership = tuple[tuple[int, int], ...]  # (array, index) for every event array a value sits in
Places = dict[tuple[int, ...], set[Membership]]  # memberships grouped by the arrays they sit in
_ABSENT = None  # the option of a field taking no value


class InvalidFilter(ValueError):
    """A filter we refuse; the message names where it is wrong and why, e.g. 'status: prefix must be a string'."""


class FilterTooComplex(Exception):
    """matches gave up: deciding this filter on this payload takes more than its budget (or MAX_SEARCH_STEPS)."""


class Budget:
    """Steps a call of matches may still spend, charged before the work they stand for is done.

    A budget may sit within another (a search within its call's budget): a charge counts against both.
    """

    def __init__(self, steps: int, within: "Budget | None" = None) -> None:
        self.steps, self.spent, self.within = steps, 0, within

    def charge(self, steps: int) -> None:
        if self.spent + steps > self.steps:
            raise FilterTooComplex(f"deciding this filter takes more than {self.steps} steps")
        if self.within is not None:
            self.within.charge(steps)
        self.spent += steps


# ---------------------------------------------------------------------------------------------------- validation


def validate(pattern: Any) -> None:
    """Raise InvalidFilter unless pattern is an event pattern we accept; `{}` is accepted and matches everything."""
    if not isinstance(pattern, dict):
        raise InvalidFilter(f"filter: must be a JSON object, not {_json_type(pattern)}")
    _check_size(pattern)
    if not pattern:
        return
    values, combinations = _check_object(pattern, "", 0, in_or=False)
    if values > MAX_VALUES:
        raise InvalidFilter(f"filter: {values} values and conditions; at most {MAX_VALUES} are allowed")
    if combinations > MAX_COMBINATIONS:
        raise InvalidFilter(f"filter: $or makes {combinations} combinations; at most {MAX_COMBINATIONS} are allowed")
    conditions = sum(map(len, _combinations(pattern, "", [{}], refuse_twice=True)))
    if conditions > MAX_CONDITIONS:
        raise InvalidFilter(
            f"filter: its {combinations} $or combinations hold {conditions} field conditions in all, each checked "
            f"against the event on its own; at most {MAX_CONDITIONS} are allowed (fewer fields beside $or, or "
            "fewer $or)"
        )


def _check_size(pattern: dict) -> None:
    try:
        text = json.dumps(pattern, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidFilter(f"filter: not a JSON document ({exc})") from None
    size = len(text.encode("utf-8", "replace"))
    if size > MAX_BYTES:
        raise InvalidFilter(f"filter: {size} bytes as JSON; at most {MAX_BYTES} are allowed")


def _check_object(obj: dict, where: str, depth: int, in_or: bool) -> tuple[int, int]:
    """(values, combinations) of a non-empty pattern object whose fields sit `depth` names below the root."""
    if not obj:
        raise InvalidFilter(f"{where or 'filter'}: empty objects are not allowed")
    values, combinations = 0, 1
    for key, value in obj.items():
        if key == OR:
            more, alternatives = _check_or(value, _join(where, OR), depth)
        else:
            more, alternatives = _check_field(key, value, where, depth + 1, in_or)
        values, combinations = values + more, combinations * alternatives
    return values, combinations


def _check_or(alternatives: Any, where: str, depth: int) -> tuple[int, int]:
    if not isinstance(alternatives, list) or len(alternatives) < 2:
        raise InvalidFilter(f"{where}: must be an array of at least 2 objects")
    values, combinations = 0, 0
    for index, alternative in enumerate(alternatives):
        if not isinstance(alternative, dict):
            raise InvalidFilter(f"{where}[{index}]: must be an object, not {_json_type(alternative)}")
        more, alternatives_here = _check_object(alternative, f"{where}[{index}]", depth, in_or=True)
        values, combinations = values + more, combinations + alternatives_here
    return values, combinations


def _check_field(key: Any, value: Any, where: str, depth: int, in_or: bool) -> tuple[int, int]:
    if not isinstance(key, str):
        raise InvalidFilter(f"{where or 'filter'}: field names must be strings, not {_json_type(key)}")
    here = _join(where, key)
    if in_or and key in _RESERVED_IN_OR:
        raise InvalidFilter(f"{here}: {key!r} is an operator name and cannot name a field inside $or")
    if depth > MAX_DEPTH:
        raise InvalidFilter(f"{here}: nested deeper than {MAX_DEPTH} field names")
    if isinstance(value, dict):
        return _check_object(value, here, depth, in_or)
    if isinstance(value, list):
        return _check_leaf(value, here), 1
    hint = f' (write [{{"{key}": ...}}] one level down)' if key in _OPERATORS else ""
    raise InvalidFilter(f"{here}: must be an array of values or an object, not {_json_type(value)}{hint}")


def _check_leaf(entries: list, where: str) -> int:
    if not entries:
        raise InvalidFilter(f"{where}: empty arrays are not allowed")
    return sum(_check_entry(entry, where) for entry in entries)


def _check_entry(entry: Any, where: str) -> int:
    if isinstance(entry, dict):
        return _check_operator(entry, where)
    if entry is None or isinstance(entry, str | int | float):
        return 1
    raise InvalidFilter(f"{where}: an entry must be a string, number, true, false, null or an operator object")


def _check_operator(entry: dict, where: str) -> int:
    if len(entry) != 1:
        raise InvalidFilter(f"{where}: an operator object needs exactly one key, not {sorted(map(str, entry))}")
    [(name, operand)] = entry.items()
    check = _OPERAND_CHECKS.get(name)
    if check is None:
        raise InvalidFilter(f"{where}: unknown operator {name!r}; known are {', '.join(_OPERATORS)}")
    return check(operand, f"{where}: {name}")


def _check_string(operand: Any, what: str) -> int:
    if not isinstance(operand, str):
        raise InvalidFilter(f"{what} must be a string")
    return 1


def _check_affix(operand: Any, what: str) -> int:
    """prefix and suffix take a string or {"equals-ignore-case": string}."""
    if isinstance(operand, dict) and list(operand) == ["equals-ignore-case"]:
        return _check_string(operand["equals-ignore-case"], f"{what} equals-ignore-case")
    if not isinstance(operand, str):
        raise InvalidFilter(f'{what} must be a string or {{"equals-ignore-case": string}}')
    return 1


def _check_wildcard(operand: Any, what: str) -> int:
    _check_string(operand, what)
    if problem := _wildcard_problem(operand):
        raise InvalidFilter(f"{what} {operand!r}: {problem}")
    return 1


def _check_exists(operand: Any, what: str) -> int:
    if not isinstance(operand, bool):
        raise InvalidFilter(f"{what} must be true or false")
    return 1


def _check_cidr(operand: Any, what: str) -> int:
    _check_string(operand, what)
    if problem := _cidr_problem(operand):
        raise InvalidFilter(f"{what} {operand!r}: {problem}")
    return 1


def _check_numeric(operand: Any, what: str) -> int:
    """EventBridge's grammar: ["=", n], ["<" or "<=", n], or [">" or ">=", n] optionally followed by an upper bound."""
    if not isinstance(operand, list) or not operand:
        raise InvalidFilter(f'{what} must be a non-empty array such as [">", 0, "<=", 5]')
    first, bounds = operand[0], operand[1::2]
    if not isinstance(first, str) or first not in _COMPARE:
        raise InvalidFilter(f"{what} operator {first!r} is not one of {', '.join(_COMPARE)}")
    for bound in bounds:
        if not _is_number(bound) or abs(bound) > NUMERIC_LIMIT:
            raise InvalidFilter(f"{what} bound {bound!r} is not a number between -5.0e9 and 5.0e9")
    if len(operand) == 4 and first in (">", ">=") and operand[2] in ("<", "<="):
        if bounds[0] >= bounds[1]:
            raise InvalidFilter(f"{what} lower bound {bounds[0]} must be below its upper bound {bounds[1]}")
    elif len(operand) != 2:
        raise InvalidFilter(f'{what} must read ["=", n], ["<", n], [">=", n] or [">", n, "<=", m] and the like')
    return 1


def _check_anything_but(operand: Any, what: str) -> int:
    if isinstance(operand, dict):
        return _check_anything_but_operator(operand, what)
    if _is_number(operand) or isinstance(operand, str):
        return 1
    if not isinstance(operand, list) or not operand:
        raise InvalidFilter(f"{what} must be a string, a number, a non-empty array of them, or an operator object")
    if not (all(isinstance(item, str) for item in operand) or all(_is_number(item) for item in operand)):
        raise InvalidFilter(f"{what} array must hold only strings or only numbers")
    return len(operand)


def _check_anything_but_operator(operand: dict, what: str) -> int:
    names = list(operand)
    if len(names) != 1 or names[0] not in _EXCLUDERS:
        raise InvalidFilter(f"{what} takes one of {', '.join(_EXCLUDERS)}, not {sorted(map(str, names))}")
    [(name, value)] = operand.items()
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(item, str) for item in values):
        raise InvalidFilter(f"{what} {name} must be a string or a non-empty array of strings")
    for item in values:
        if name in ("prefix", "suffix") and not item:
            raise InvalidFilter(f"{what} {name} must not be empty")
        if name == "wildcard" and (problem := _wildcard_problem(item)):
            raise InvalidFilter(f"{what} wildcard {item!r}: {problem}")
    return len(values)


_OPERAND_CHECKS: dict[str, Callable[[Any, str], int]] = {
    "anything-but": _check_anything_but,
    "cidr": _check_cidr,
    "equals-ignore-case": _check_string,
    "exists": _check_exists,
    "numeric": _check_numeric,
    "prefix": _check_affix,
    "suffix": _check_affix,
    "wildcard": _check_wildcard,
}


def _wildcard_problem(text: str) -> str | None:
    """Why EventBridge would refuse this wildcard: `**`, or a backslash escaping anything but `*` or `\\`."""
    index = 0
    while index < len(text):
        pair = text[index : index + 2]
        if pair == "**":
            return f"consecutive * at position {index}"
        if text[index] == "\\":
            if pair not in ("\\*", "\\\\"):
                return f"invalid escape at position {index}; only \\* and \\\\ are allowed"
            index += 1
        index += 1
    return None


def _cidr_problem(text: str) -> str | None:
    address, slash, bits = text.partition("/")
    if not slash or "/" in bits:
        return "must be an address and a prefix length, such as 10.0.0.0/24"
    if not (bits.isascii() and bits.isdigit()):
        return "the prefix length must be a whole number"
    try:
        version = ipaddress.ip_address(address).version
    except ValueError:
        return f"{address!r} is not an IPv4 or IPv6 address"
    if "%" in address:
        return "a scoped IPv6 address cannot start a range"
    most = 31 if version == 4 else 127
    return f"the prefix length must be at most {most}" if int(bits) > most else None


# ------------------------------------------------------------------------------------------------------ matching


def matches(pattern: dict | None, payload: "dict | EventValues", budget: Budget | None = None) -> bool:
    """Whether the payload satisfies the (validated) pattern; None and {} match everything.

    Give the payload's EventValues when several filters are matched against one event: each path is read once.
    Raises FilterTooComplex, having done no work past it, when deciding would cost more than the budget
    (MAX_FILTER_STEPS when none is given) or the search more than MAX_SEARCH_STEPS (see the module docstring).
    """
    if not pattern:
        return True
    budget = budget or Budget(MAX_FILTER_STEPS)
    event = payload if isinstance(payload, EventValues) else EventValues(payload)
    combinations = _combinations(pattern, "", [{}])  # at most MAX_CONDITIONS fields: bounded by the pattern
    leaves = _Leaves(event, budget)
    search = Budget(MAX_SEARCH_STEPS, within=budget)  # one for the whole call, however many alternatives $or makes
    return any(_combination_holds(combination, leaves, search) for combination in combinations)


def _combinations(
    obj: dict, where: str, combinations: list[dict[str, list]], refuse_twice: bool = False
) -> list[dict[str, list]]:
    """Multiply out $or into flat {path: entries} alternatives, as EventBridge compiles a pattern.

    EventBridge keeps the last of two conditions on one path (a field beside $or and inside it, or `a.b` beside
    `a: {b}`), silently dropping the other; validate refuses such a pattern rather than guess which was meant.
    """
    for key, value in obj.items():
        if key == OR:
            combinations = [
                combination
                for alternative in value
                for combination in _combinations(alternative, where, [dict(c) for c in combinations], refuse_twice)
            ]
        elif isinstance(value, dict):
            combinations = _combinations(value, _join(where, key), combinations, refuse_twice)
        else:
            path = _join(where, key)
            if refuse_twice and any(path in combination for combination in combinations):
                raise InvalidFilter(f"{path}: named twice; EventBridge would keep only the last, so merge them")
            for combination in combinations:
                combination[path] = value
    return combinations


class EventValues:
    """A payload's scalar values by path, each with the array elements it sits in, read once per path.

    An array is numbered by where it sits (its keys and indexes from the root), so values read for two paths at
    different times agree on the arrays they share. Reading charges the budget of the filter that first needs
    the path a step for every key and element of each container on the way, before looking at them.
    """

    def __init__(self, payload: dict) -> None:
        self.payload = payload
        self._values: dict[str, list[tuple[Any, Membership]]] = {}
        self._weights: dict[str, int] = {}
        self._reaches: dict[str, bool] = {}
        self._arrays: dict[tuple, int] = {}

    def on(self, path: str, budget: Budget) -> list[tuple[Any, Membership]]:
        if path not in self._values:
            self._values[path] = self._read(path, budget)
        return self._values[path]

    def reaches(self, path: str, budget: Budget) -> bool:
        """False when no value can sit on the path, found without reading arrays: a dict on the way lacks it."""
        if path not in self._reaches:
            self._reaches[path] = self._probe(path, budget)
        return self._reaches[path]

    def _probe(self, path: str, budget: Budget) -> bool:
        prefixes = {path[:index] for index, char in enumerate(path) if char == "."}
        frontier: list[tuple[Any, str]] = [(self.payload, "")]
        while frontier:
            node, where = frontier.pop()
            if isinstance(node, list) or (where == path and not isinstance(node, dict)):
                return True  # a value, or an array that may hold some
            if isinstance(node, dict):
                budget.charge(len(node))
                deeper = ((child, _join(where, key)) for key, child in node.items())
                frontier.extend((child, at) for child, at in deeper if at == path or at in prefixes)
        return False

    def weight(self, path: str, budget: Budget) -> int:
        """Steps to compare the path's values with one entry: one a value, and one per CHARS_PER_STEP of a string."""
        if path not in self._weights:
            values = self.on(path, budget)
            self._weights[path] = sum(1 + len(v) // CHARS_PER_STEP if isinstance(v, str) else 1 for v, _ in values)
        return self._weights[path]

    def _read(self, path: str, budget: Budget) -> list[tuple[Any, Membership]]:
        prefixes = {path[:index] for index, char in enumerate(path) if char == "."}
        found: list[tuple[Any, Membership]] = []

        def walk(node: Any, where: str, position: tuple, membership: Membership) -> None:
            if isinstance(node, dict | list):
                budget.charge(len(node))
            if isinstance(node, dict):
                for key, child in node.items():
                    deeper = _join(where, key)
                    if deeper == path or deeper in prefixes:
                        walk(child, deeper, (*position, key), membership)
            elif isinstance(node, list):
                array = self._arrays.setdefault(position, len(self._arrays))
                for index, item in enumerate(node):
                    walk(item, where, (*position, index), (*membership, (array, index)))
            elif where == path:
                found.append((node, membership))

        walk(self.payload, "", (), ())
        return found


# ------------------------------------------------------------------------ one alternative: a search over arrays
#
# An alternative holds when each of its fields takes a matching value (or, where {"exists": false} allows, has
# none) and no event array gives two fields different elements. `pins` maps each array to the element the values
# chosen so far sit in. A field is absent when each of its values sits in an element some array pins elsewhere.
# Pins only grow, so a value whose arrays are all pinned where it sits stays present: its field cannot be absent.


@dataclass(frozen=True, eq=False)
class _Field:
    """One path of an alternative, as the search sees it: places grouped by the arrays they sit in."""

    picks: Places  # where its matching values sit
    present: Places | None  # where any of its values sits when it may be absent; None when it may not


class _Leaves:
    """One call's view of the event: each leaf's matching values, compared once however many alternatives $or
    copied the leaf into; the comparisons are charged before they are made."""

    def __init__(self, event: EventValues, budget: Budget) -> None:
        self.event, self.budget = event, budget
        self._picks: dict[tuple[str, int], set[Membership]] = {}

    def values(self, path: str) -> list[tuple[Any, Membership]]:
        return self.event.on(path, self.budget)

    def reaches(self, path: str) -> bool:
        return self.event.reaches(path, self.budget)

    def picks(self, path: str, entries: list) -> set[Membership]:
        """Where the path's values matching one of the entries sit; a leaf is one list, shared by its copies."""
        key = (path, id(entries))
        if key not in self._picks:
            self.budget.charge(self.event.weight(path, self.budget) * _check_leaf(entries, path))
            self._picks[key] = {membership for value, membership in self.values(path) if _leaf_matches(entries, value)}
        return self._picks[key]


def _leaf_matches(entries: list, value: Any) -> bool:
    return any(_entry_matches(entry, value) for entry in entries)


def _combination_holds(combination: dict[str, list], leaves: _Leaves, search: Budget) -> bool:
    """Whether the payload's values on the alternative's paths satisfy it, searching only where they must.

    Fields with the fewest values come first: one with nothing to match fails the alternative before the others
    are compared (a field no event value reaches costs nothing).
    """
    if any({"exists": False} not in entries and not leaves.reaches(path) for path, entries in combination.items()):
        return False  # a field no value reaches, before reading the others' values
    wanted = []
    for path, entries in sorted(combination.items(), key=lambda item: len(leaves.values(item[0]))):
        values, picks = leaves.values(path), leaves.picks(path, entries)
        if {"exists": False} not in entries:
            if not picks:
                return False  # no value and no absence: fails before any search
            wanted.append((picks, None))
        elif values:
            wanted.append((picks, {membership for _, membership in values}))
        # else it is absent whatever the other fields choose, so it needs no search
    leaves.budget.charge(PLACE_STEPS * sum(len(picks) + len(present or ()) for picks, present in wanted))
    searched = _narrowed(wanted)
    if any(not field.picks and field.present is None for field in searched):
        return False  # no value and no absence: fails before any search
    # A field alone in its arrays holds by any of its picks, checked above; other groups need a search each.
    groups = sorted(_independent(searched), key=len)  # the cheap ones first, in case one fails
    return all(_holds(group, {}, [], search) for group in groups if len(group) > 1)


def _narrowed(wanted: list[tuple[set[Membership], set[Membership] | None]]) -> list[_Field]:
    """Each field's places, keeping only the arrays through which another field can conflict with it.

    A pick keeps the arrays other fields pick in or must be absent from. A present value keeps only the arrays
    other fields pick in, since its own field pins none while absent; a value left in none of them is present
    whatever the others choose, so its field cannot be absent (decided here, before any search).
    """
    picking = [_arrays_of(picks) for picks, _ in wanted]
    touching = [arrays | _arrays_of(present or set()) for arrays, (_, present) in zip(picking, wanted, strict=True)]
    picked_by, touched_by = Counter(chain(*picking)), Counter(chain(*touching))
    searched = []
    for (picks, present), own_picking, own_touching in zip(wanted, picking, touching, strict=True):
        shared = {array for array in own_touching if touched_by[array] > 1}
        pinnable = {array for array in own_touching if picked_by[array] > (array in own_picking)}
        places = None if present is None else _grouped(_kept(present, pinnable))
        searched.append(_Field(_grouped(_kept(picks, shared)), None if places and () in places else places))
    return searched


def _arrays_of(memberships: set[Membership]) -> set[int]:
    return {array for membership in memberships for array, _ in membership}


def _kept(memberships: set[Membership], arrays: set[int]) -> set[Membership]:
    return {tuple(place for place in membership if place[0] in arrays) for membership in memberships}


def _grouped(memberships: set[Membership]) -> Places:
    grouped: Places = defaultdict(set)
    for membership in memberships:
        grouped[tuple(array for array, _ in membership)].add(membership)
    return dict(grouped)


def _independent(fields: list[_Field]) -> list[list[_Field]]:
    """Fields split into groups that share no array: each group is searched alone, so groups do not multiply."""
    parent = list(range(len(fields)))

    def root(index: int) -> int:
        while parent[index] != index:
            index = parent[index]
        return index

    first_to_touch: dict[int, int] = {}
    for index, field in enumerate(fields):
        for array in {array for arrays in [*field.picks, *(field.present or ())] for array in arrays}:
            parent[root(index)] = root(first_to_touch.setdefault(array, index))
    groups: dict[int, list[_Field]] = defaultdict(list)
    for index, field in enumerate(fields):
        groups[root(index)].append(field)
    return list(groups.values())


def _holds(pending: list[_Field], pins: dict[int, int], absent: list[_Field], budget: Budget) -> bool:
    """Whether the pending fields can all hold beside the pins, the absent fields staying absent.

    Depth first, always on the field with the fewest options left (none fails at once, one is forced), so a
    conflict shows as early as the pins allow.
    """
    budget.charge(1)
    if any(_pinned_present(field.present, pins, budget) for field in absent):
        return False
    if not pending:  # arrays still unpinned may give any element, so a value fitting the pins is present
        return not any(_any_fitting(field.present, pins, budget) for field in absent)
    field, options = _most_constrained(pending, pins, budget)
    rest = [other for other in pending if other is not field]
    for option in options:
        if option is _ABSENT:
            if _holds(rest, pins, [*absent, field], budget):
                return True
        elif _holds(rest, pins | dict(option), absent, budget):
            return True
    return False


def _most_constrained(pending: list[_Field], pins: dict[int, int], budget: Budget) -> tuple[_Field, list]:
    best: tuple[_Field, list] | None = None
    for field in pending:
        options = _options(field, pins, budget)
        if best is None or len(options) < len(best[1]):
            best = (field, options)
        if len(options) <= 1:
            break
    assert best is not None
    return best


def _options(field: _Field, pins: dict[int, int], budget: Budget) -> list[Membership | None]:
    """The field's picks that fit the pins, then absence if it is allowed and still possible."""
    options: list[Membership | None] = list(_fitting(field.picks, pins, budget))
    if field.present is not None and not _pinned_present(field.present, pins, budget):
        options.append(_ABSENT)
    return options


def _fitting(places: Places, pins: dict[int, int], budget: Budget) -> Iterator[Membership]:
    """The places in elements the pins allow; where the pins name every array of a group, one lookup."""
    for arrays, group in places.items():
        if all(array in pins for array in arrays):
            budget.charge(1 + len(arrays))
            pinned = tuple((array, pins[array]) for array in arrays)
            if pinned in group:
                yield pinned
        else:
            budget.charge(1 + len(arrays) * len(group))
            yield from (membership for membership in group if _fits(pins, membership))


def _any_fitting(places: Places | None, pins: dict[int, int], budget: Budget) -> bool:
    return any(True for _ in _fitting(places or {}, pins, budget))


def _pinned_present(places: Places | None, pins: dict[int, int], budget: Budget) -> bool:
    """Some value sits where every one of its arrays is pinned: present however the search goes on."""
    for arrays, group in (places or {}).items():
        budget.charge(1 + len(arrays))
        if all(array in pins for array in arrays) and tuple((array, pins[array]) for array in arrays) in group:
            return True
    return False


def _fits(pins: dict[int, int], membership: Membership) -> bool:
    return all(pins.get(array, index) == index for array, index in membership)


def _entry_matches(entry: Any, value: Any) -> bool:
    if isinstance(entry, dict):
        [(name, operand)] = entry.items()
        return _MATCHERS[name](operand, value)
    return _same(entry, value)


def _same(expected: Any, value: Any) -> bool:
    """Equal as JSON text: 5 is not 5.0, true is not 1, 0.0 is not -0.0 (JSON's types are Python's exactly)."""
    if expected != value or type(expected) is not type(value):
        return False
    return not isinstance(value, float) or math.copysign(1, expected) == math.copysign(1, value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _prefix(operand: str | dict, value: Any) -> bool:
    if not isinstance(value, str):
        return False
    if isinstance(operand, dict):
        return value.lower().startswith(operand["equals-ignore-case"].lower())
    return value.startswith(operand)


def _suffix(operand: str | dict, value: Any) -> bool:
    if not isinstance(value, str):
        return False
    if isinstance(operand, dict):
        return value.lower().endswith(operand["equals-ignore-case"].lower())
    return value.endswith(operand)


def _equals_ignore_case(operand: str, value: Any) -> bool:
    return isinstance(value, str) and value.lower() == operand.lower()


def _wildcard(operand: str, value: Any) -> bool:
    """`*` spans any characters (newlines too); matched segment by segment, leftmost first, so never backtracks."""
    if not isinstance(value, str):
        return False
    segments = _wildcard_segments(operand)
    if len(segments) == 1:
        return value == segments[0]
    first, *middle, last = segments
    start, end = len(first), len(value) - len(last)
    if end < start or not (value.startswith(first) and value.endswith(last)):
        return False
    for segment in middle:
        found = value.find(segment, start, end)
        if found < 0:
            return False
        start = found + len(segment)
    return True


@lru_cache(maxsize=1024)
def _wildcard_segments(operand: str) -> list[str]:
    """The literal pieces between unescaped stars (read once per entry; callers do not change the list)."""
    segments, escaped = [""], False
    for char in operand:
        if escaped or char not in "*\\":
            segments[-1] += char
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            segments.append("")
    return segments


def _anything_but(operand: Any, value: Any) -> bool:
    """Any present value not excluded: other types, null included (a missing field has no value to pass)."""
    if isinstance(operand, dict):
        [(name, excluded)] = operand.items()
        excluded = excluded if isinstance(excluded, list) else [excluded]
        return not any(_EXCLUDERS[name](item, value) for item in excluded)
    if isinstance(operand, list):
        return not any(_same(item, value) for item in operand)
    return not _same(operand, value)


def _numeric(operand: list, value: Any) -> bool:
    if not _is_number(value):
        return False
    # validate allows one comparison or two: ["<", 5] or [">", 0, "<=", 5]
    holds = _COMPARE[operand[0]](value, operand[1])
    return holds and (len(operand) == 2 or _COMPARE[operand[2]](value, operand[3]))


def _cidr(operand: str, value: Any) -> bool:
    address = _address(value) if isinstance(value, str) else None
    if address is None:
        return False
    network = _network(operand)
    return address.version == network.version and address in network


@lru_cache(maxsize=4)  # a value meets a leaf's entries one after the other; few kept, as values may be long
def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


@lru_cache(maxsize=1024)
def _network(operand: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """Parsed once per filter entry, not once per event value it is compared with."""
    return ipaddress.ip_network(operand, strict=False)


def _exists(operand: bool, value: Any) -> bool:
    """A present value satisfies exists: true; exists: false is an absence, settled by the search (_holds)."""
    return operand


_EXCLUDERS: dict[str, Callable[[Any, Any], bool]] = {
    "prefix": _prefix,
    "suffix": _suffix,
    "equals-ignore-case": _equals_ignore_case,
    "wildcard": _wildcard,
}
_MATCHERS: dict[str, Callable[[Any, Any], bool]] = {
    **_EXCLUDERS,
    "anything-but": _anything_but,
    "cidr": _cidr,
    "exists": _exists,
    "numeric": _numeric,
}


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _json_type(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    names = {dict: "an object", list: "an array", str: "a string", int: "a number", float: "a number"}
    return names.get(type(value), type(value).__name__)
