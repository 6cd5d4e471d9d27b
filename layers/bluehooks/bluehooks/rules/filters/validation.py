"""Which filters a webhook may be saved with: `validate`, its refusals with reasons, and the limits it keeps.

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
"""

import ipaddress
import json
from collections.abc import Callable
from typing import Any

from bluehooks.rules.filters.errors import InvalidFilter
from bluehooks.rules.filters.expansion import OR, expand, joined
from bluehooks.rules.filters.operators import COMPARE, EXCLUDERS, OPERATORS, is_number

MAX_BYTES = 4096
MAX_DEPTH = 10
MAX_VALUES = 100
MAX_COMBINATIONS = 64
MAX_CONDITIONS = 512
NUMERIC_LIMIT = 5.0e9

# event-ruler refuses these as field names inside $or, where they would read as operators put a level too high.
_RESERVED_IN_OR = frozenset(
    {
        *OPERATORS,
        *("exact", "=", "<", "<=", ">", ">=", "regex", "not-wildcard", "not-equals-ignore-case"),
        *("date-after", "date-on-or-after", "date-before", "date-on-or-before", "in-date-range"),
        *("ip-address-in-range", "ip-address-not-in-range"),
    }
)


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
    conditions = sum(map(len, expand(pattern, "", [{}], refuse_twice=True)))
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
            more, alternatives = _check_or(value, joined(where, OR), depth)
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
    here = joined(where, key)
    if in_or and key in _RESERVED_IN_OR:
        raise InvalidFilter(f"{here}: {key!r} is an operator name and cannot name a field inside $or")
    if depth > MAX_DEPTH:
        raise InvalidFilter(f"{here}: nested deeper than {MAX_DEPTH} field names")
    if isinstance(value, dict):
        return _check_object(value, here, depth, in_or)
    if isinstance(value, list):
        return check_leaf(value, here), 1
    hint = f' (write [{{"{key}": ...}}] one level down)' if key in OPERATORS else ""
    raise InvalidFilter(f"{here}: must be an array of values or an object, not {_json_type(value)}{hint}")


def check_leaf(entries: list, where: str) -> int:
    """A leaf's values and conditions, as MAX_VALUES counts them (search charges a leaf's comparisons by it)."""
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
        raise InvalidFilter(f"{where}: unknown operator {name!r}; known are {', '.join(OPERATORS)}")
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
    if not isinstance(first, str) or first not in COMPARE:
        raise InvalidFilter(f"{what} operator {first!r} is not one of {', '.join(COMPARE)}")
    for bound in bounds:
        if not is_number(bound) or abs(bound) > NUMERIC_LIMIT:
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
    if is_number(operand) or isinstance(operand, str):
        return 1
    if not isinstance(operand, list) or not operand:
        raise InvalidFilter(f"{what} must be a string, a number, a non-empty array of them, or an operator object")
    if not (all(isinstance(item, str) for item in operand) or all(is_number(item) for item in operand)):
        raise InvalidFilter(f"{what} array must hold only strings or only numbers")
    return len(operand)


def _check_anything_but_operator(operand: dict, what: str) -> int:
    names = list(operand)
    if len(names) != 1 or names[0] not in EXCLUDERS:
        raise InvalidFilter(f"{what} takes one of {', '.join(EXCLUDERS)}, not {sorted(map(str, names))}")
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


def _json_type(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    names = {dict: "an object", list: "an array", str: "a string", int: "a number", float: "a number"}
    return names.get(type(value), type(value).__name__)
