"""The comparison operators of an event pattern: whether one filter entry holds for one event value."""

import ipaddress
import math
import operator
from collections.abc import Callable
from functools import lru_cache
from typing import Any

OPERATORS = ("anything-but", "cidr", "equals-ignore-case", "exists", "numeric", "prefix", "suffix", "wildcard")
COMPARE: dict[str, Callable[[float, float], bool]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def entry_matches(entry: Any, value: Any) -> bool:
    if isinstance(entry, dict):
        [(name, operand)] = entry.items()
        return _MATCHERS[name](operand, value)
    return _same(entry, value)


def _same(expected: Any, value: Any) -> bool:
    """Equal as JSON text: 5 is not 5.0, true is not 1, 0.0 is not -0.0 (JSON's types are Python's exactly)."""
    if expected != value or type(expected) is not type(value):
        return False
    return not isinstance(value, float) or math.copysign(1, expected) == math.copysign(1, value)


def is_number(value: Any) -> bool:
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
        return not any(EXCLUDERS[name](item, value) for item in excluded)
    if isinstance(operand, list):
        return not any(_same(item, value) for item in operand)
    return not _same(operand, value)


def _numeric(operand: list, value: Any) -> bool:
    if not is_number(value):
        return False
    # validate allows one comparison or two: ["<", 5] or [">", 0, "<=", 5]
    holds = COMPARE[operand[0]](value, operand[1])
    return holds and (len(operand) == 2 or COMPARE[operand[2]](value, operand[3]))


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
    """A present value satisfies exists: true; exists: false is an absence, settled by the search (search._holds)."""
    return operand


EXCLUDERS: dict[str, Callable[[Any, Any], bool]] = {
    "prefix": _prefix,
    "suffix": _suffix,
    "equals-ignore-case": _equals_ignore_case,
    "wildcard": _wildcard,
}
_MATCHERS: dict[str, Callable[[Any, Any], bool]] = {
    **EXCLUDERS,
    "anything-but": _anything_but,
    "cidr": _cidr,
    "exists": _exists,
    "numeric": _numeric,
}
