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
- Bounds in `numeric` lie within ±5.0e9, the range EventBridge documents for numeric matching.
- A `cidr` prefix length is at most 31 (IPv4) or 127 (IPv6): event-ruler refuses /32 and /128.

Stricter than EventBridge on one point: a field given two conditions in one alternative (beside `$or` and inside
it, or as `a.b` beside `a: {b}`) is refused, where EventBridge silently keeps only the last.
"""

import ipaddress
import json
import math
import operator
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from itertools import count
from typing import Any

MAX_BYTES = 4096
MAX_DEPTH = 10
MAX_VALUES = 100
MAX_COMBINATIONS = 64
NUMERIC_LIMIT = 5.0e9

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


class InvalidFilter(ValueError):
    """A filter we refuse; the message names where it is wrong and why, e.g. 'status: prefix must be a string'."""


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
    _combinations(pattern, "", [{}], refuse_twice=True)


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


def matches(pattern: dict | None, payload: dict) -> bool:
    """Whether the payload satisfies the (validated) pattern; None and {} match everything."""
    if not pattern:
        return True
    combinations = _combinations(pattern, "", [{}])
    fields = _flatten(payload, {path for combination in combinations for path in combination})
    return any(_combination_holds(combination, fields) for combination in combinations)


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


def _flatten(payload: dict, paths: set[str]) -> dict[str, list[tuple[Any, Membership]]]:
    """The payload's scalar values on the wanted paths, each with the array elements it sits in."""
    prefixes = {path[:index] for path in paths for index, char in enumerate(path) if char == "."}
    found: dict[str, list[tuple[Any, Membership]]] = defaultdict(list)
    arrays = count()

    def walk(node: Any, path: str, membership: Membership) -> None:
        if isinstance(node, dict):
            for key, child in node.items():
                deeper = _join(path, key)
                if deeper in paths or deeper in prefixes:
                    walk(child, deeper, membership)
        elif isinstance(node, list):
            array = next(arrays)
            for index, item in enumerate(node):
                walk(item, path, (*membership, (array, index)))
        elif path in paths:
            found[path].append((node, membership))

    walk(payload, "", ())
    return found


def _combination_holds(combination: dict[str, list], fields: dict[str, list[tuple[Any, Membership]]]) -> bool:
    """Some choice of one value per field (or its absence, where allowed) that never splits an event array."""
    choices = []
    for path, entries in combination.items():
        values = fields.get(path, [])
        picks = {membership for value, membership in values if any(_entry_matches(e, value) for e in entries)}
        absent_ok = {"exists": False} in entries
        if not picks and not absent_ok:
            return False
        choices.append((picks, values if absent_ok else None))
    return _assign(_only_shared_arrays(choices), {}, [])


def _only_shared_arrays(choices: list) -> list:
    """Forget arrays only one field touches, so fields in independent arrays do not multiply the search."""
    touching = Counter(array for picks, absent in choices for array in _arrays_of(picks, absent))
    shared = {array for array, fields in touching.items() if fields > 1}
    narrowed = [({tuple(p for p in pick if p[0] in shared) for pick in picks}, absent) for picks, absent in choices]
    return [(_by_arrays(picks), absent) for picks, absent in sorted(narrowed, key=lambda choice: len(choice[0]))]


def _by_arrays(picks: set[Membership]) -> dict[tuple[int, ...], set[Membership]]:
    """Picks grouped by the arrays they sit in, so a pick those arrays already pin down is a lookup, not a scan."""
    grouped: dict[tuple[int, ...], set[Membership]] = defaultdict(set)
    for pick in picks:
        grouped[tuple(array for array, _ in pick)].add(pick)
    return grouped


def _arrays_of(picks: set[Membership], absent: list | None) -> set[int]:
    memberships = [*picks, *(membership for _, membership in absent or ())]
    return {array for membership in memberships for array, _ in membership}


def _assign(choices: list, chosen: dict[int, int], absent: list) -> bool:
    if not choices:
        return not any(_fits(chosen, membership) for values in absent for _, membership in values)
    (picks, absent_values), rest = choices[0], choices[1:]
    for pick in _fitting(picks, chosen):
        if _assign(rest, {**chosen, **dict(pick)}, absent):
            return True
    return absent_values is not None and _assign(rest, chosen, [*absent, absent_values])


def _fitting(picks: dict[tuple[int, ...], set[Membership]], chosen: dict[int, int]) -> Iterator[Membership]:
    for arrays, group in picks.items():
        if all(array in chosen for array in arrays):
            pinned = tuple((array, chosen[array]) for array in arrays)
            if pinned in group:
                yield pinned
        else:
            yield from (pick for pick in group if _fits(chosen, pick))


def _fits(chosen: dict[int, int], membership: Membership) -> bool:
    return all(chosen.get(array, index) == index for array, index in membership)


def _entry_matches(entry: Any, value: Any) -> bool:
    if isinstance(entry, dict):
        [(name, operand)] = entry.items()
        return _MATCHERS[name](operand, value)
    return _same(entry, value)


def _same(expected: Any, value: Any) -> bool:
    """Equal as JSON text: 5 is not 5.0, true is not 1, 0.0 is not -0.0."""
    if _kind(expected) != _kind(value) or expected != value:
        return False
    return not isinstance(value, float) or math.copysign(1, expected) == math.copysign(1, value)


def _kind(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return repr(value)
    return "str" if isinstance(value, str) else type(value).__name__


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


def _wildcard_segments(operand: str) -> list[str]:
    """The literal pieces between unescaped stars."""
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
    excluded = operand if isinstance(operand, list) else [operand]
    return not any(_same(item, value) for item in excluded)


def _numeric(operand: list, value: Any) -> bool:
    if not _is_number(value):
        return False
    return all(_COMPARE[op](value, bound) for op, bound in zip(operand[::2], operand[1::2], strict=True))


def _cidr(operand: str, value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    network = ipaddress.ip_network(operand, strict=False)
    return address.version == network.version and address in network


def _exists(operand: bool, value: Any) -> bool:
    """A present value satisfies exists: true; exists: false is an absence, settled in _combination_holds."""
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
