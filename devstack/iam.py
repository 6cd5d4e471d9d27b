"""IAM's policy language, as AWS evaluates identity-based policies: what the local stack enforces.

A request (one action on one resource, with its condition keys) is allowed when some statement
allows it and none denies it (an explicit Deny wins; no Allow is an implicit deny). Actions match
case-insensitively, resources case-sensitively, both with `*` and `?` wildcards. Conditions: the
String and Arn operators, with IfExists and the ForAllValues/ForAnyValue set operators. A policy
using anything else is refused when installed, never approximated.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
"""

import re
from dataclasses import dataclass, field
from typing import Any

_OPERATORS = {
    "StringEquals": lambda value, pattern: value == pattern,
    "StringNotEquals": lambda value, pattern: value != pattern,
    "StringEqualsIgnoreCase": lambda value, pattern: value.lower() == pattern.lower(),
    "StringLike": lambda value, pattern: _like(value, pattern),
    "StringNotLike": lambda value, pattern: not _like(value, pattern),
    "ArnEquals": lambda value, pattern: value == pattern,
    "ArnLike": lambda value, pattern: _like(value, pattern),
}
_NEGATED = {"StringNotEquals", "StringNotLike"}  # a value must differ from every pattern, not just one


class UnsupportedPolicy(ValueError):
    """A policy element the local stack cannot evaluate faithfully."""


@dataclass(frozen=True)
class Request:
    """What IAM evaluates for (part of) one call: e.g. a transaction is one request per item."""

    action: str  # "dynamodb:PutItem"
    resource: str  # an ARN, or "*" where the action takes none
    context: dict[str, list[str]] = field(default_factory=dict)  # condition keys, lower case


@dataclass(frozen=True)
class Grant:
    """One statement of one of a role's policies, and which policy (for the least-privilege record)."""

    policy: str
    statement: dict[str, Any]
    index: int = 0


def _like(value: str, pattern: str) -> bool:
    """IAM's wildcards: `*` any run of characters, `?` one (brackets mean themselves, unlike fnmatch)."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL) is not None


def _listed(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


def _matches_action(patterns: Any, action: str) -> bool:
    return any(_like(action.lower(), pattern.lower()) for pattern in _listed(patterns))


def _matches_resource(patterns: Any, resource: str) -> bool:
    return any(_like(resource, pattern) for pattern in _listed(patterns))


def check(statement: dict[str, Any]) -> None:
    """Refuse a statement this evaluator would get wrong."""
    if statement.get("Effect") not in ("Allow", "Deny"):
        raise UnsupportedPolicy(f"Effect must be Allow or Deny: {statement}")
    if "Principal" in statement or "NotPrincipal" in statement:
        raise UnsupportedPolicy(f"an identity-based policy names no principal: {statement}")
    for operator in statement.get("Condition", {}):
        if _operator(operator)[1] not in _OPERATORS:
            raise UnsupportedPolicy(f"condition operator {operator} is not evaluated locally")


def _operator(name: str) -> tuple[str, str, bool]:
    """('ForAllValues' | 'ForAnyValue' | '', base operator, IfExists)."""
    qualifier, _, rest = name.rpartition(":")
    if_exists = rest.endswith("IfExists")
    return qualifier, rest.removesuffix("IfExists"), if_exists


def _condition_holds(name: str, block: dict[str, Any], context: dict[str, list[str]]) -> bool:
    qualifier, operator, if_exists = _operator(name)
    test = _OPERATORS[operator]
    combine = all if operator in _NEGATED else any
    for key, patterns in block.items():
        values = context.get(key.lower())
        if qualifier == "ForAllValues":  # true for no values at all: IAM's documented trap
            holds = all(combine(test(value, pattern) for pattern in _listed(patterns)) for value in values or [])
        elif qualifier == "ForAnyValue":
            holds = any(combine(test(value, pattern) for pattern in _listed(patterns)) for value in values or [])
        elif not values:
            holds = if_exists
        else:
            holds = combine(test(values[0], pattern) for pattern in _listed(patterns))
        if not holds:
            return False
    return True


def applies(statement: dict[str, Any], request: Request) -> bool:
    """The statement covers the request: action, resource and every condition."""
    if "Action" in statement and not _matches_action(statement["Action"], request.action):
        return False
    if "NotAction" in statement and _matches_action(statement["NotAction"], request.action):
        return False
    if "Resource" in statement and not _matches_resource(statement["Resource"], request.resource):
        return False
    if "NotResource" in statement and _matches_resource(statement["NotResource"], request.resource):
        return False
    return all(_condition_holds(name, block, request.context) for name, block in statement.get("Condition", {}).items())


def decide(grants: list[Grant], request: Request) -> tuple[bool, list[Grant]]:
    """(allowed, the grants that decided): an explicit Deny wins over every Allow; else all the Allows."""
    covering = [grant for grant in grants if applies(grant.statement, request)]
    denying = [grant for grant in covering if grant.statement["Effect"] == "Deny"]
    return (not denying and bool(covering)), denying or covering
