"""The shape every JSON document we accept must have: API bodies, producer events, queue messages.

One depth limit and one character rule for the whole path, so that what the API or the
fan-out accepts can always be queued (SQS refuses U+FFFE, U+FFFF and lone surrogates) and
delivered (a receiver's parser must not be the first to choke on it).
"""

import json
import math
import re
from typing import Any

MAX_DEPTH = 32  # objects and arrays nested in each other, counting the outermost one
# Characters SQS refuses in a message body, and that UTF-8 cannot encode (lone surrogates).
_UNREPRESENTABLE = re.compile("[\ud800-\udfff\ufffe\uffff]")


class UnacceptableJson(ValueError):
    """A document we refuse; the message says why, without repeating the document."""


def loads(text: str | bytes) -> Any:
    """json.loads that refuses, with a clear reason, what would crash or mislead later stages."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise UnacceptableJson(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # JSONDecodeError, and integers beyond Python's digit limit
        raise UnacceptableJson(f"not valid JSON: {_first_line(exc)}") from None
    check(value)
    return value


def check(value: Any) -> None:
    """Raise UnacceptableJson if value is nested too deeply or holds an unrepresentable character."""
    if reason := refusal(value):
        raise UnacceptableJson(reason)


def refusal(value: Any) -> str | None:
    """Why value cannot travel through the system as JSON, or None when it can. Iterative: no recursion."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            if depth > MAX_DEPTH:
                return f"JSON nested deeper than {MAX_DEPTH} levels"
            for key, item in node.items():
                if isinstance(key, str) and _UNREPRESENTABLE.search(key):
                    return "a key holds a lone surrogate, U+FFFE or U+FFFF"
                stack.append((item, depth + 1))
        elif isinstance(node, list):
            if depth > MAX_DEPTH:
                return f"JSON nested deeper than {MAX_DEPTH} levels"
            stack.extend((item, depth + 1) for item in node)
        elif isinstance(node, str) and _UNREPRESENTABLE.search(node):
            return "a string holds a lone surrogate, U+FFFE or U+FFFF"
        elif isinstance(node, float) and not math.isfinite(node):
            return "a number is NaN or infinite"
    return None


def dumps_ascii(value: Any) -> str:
    """Compact JSON with every non-ASCII character escaped: what we write to SQS."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200]
