"""Least privilege, checked by running: the template's grants, which calls of a run used them, and
which of those calls each grant is needed for (the grant removed, the call is denied)."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from devstack.iam import Grant, Request, applies, decide


@dataclass(frozen=True)
class Unit:
    """One grant of the template: for a statement the template writes, one action on one resource;
    for a SAM policy template or a policy SAM generates, the whole policy (SAM chose its actions)."""

    key: str  # the role's access key
    policy: str
    index: int | None = None
    action: str | None = None
    resource: str | None = None

    def covers(self, use: dict[str, Any]) -> bool:
        if (use["key"], use["policy"]) != (self.key, self.policy):
            return False
        return self.action is None or (use["index"] == self.index and applies(self.statement(), _request(use)))

    def statement(self) -> dict[str, Any]:
        return {"Effect": "Allow", "Action": self.action, "Resource": self.resource}


def _listed(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


def _request(use: dict[str, Any]) -> Request:
    return Request(**use["request"])


def units(roles: dict[str, dict[str, Any]]) -> Iterator[Unit]:
    """Every grant the template gives (AWS's managed policies are not the template's)."""
    for key, role in roles.items():
        for policy in dict.fromkeys(grant["policy"] for grant in role["grants"]):
            if policy in role["managed"]:
                continue
            if policy not in role["inline"]:
                yield Unit(key, policy)
                continue
            for grant in role["grants"]:
                if grant["policy"] == policy:
                    statement = grant["statement"]
                    for action in _listed(statement["Action"]):
                        for resource in _listed(statement["Resource"]):
                            yield Unit(key, policy, grant["index"], action, resource)


def without(role: dict[str, Any], unit: Unit) -> list[Grant]:
    """The role's grants with `unit` taken out (a statement split into its other actions and resources)."""
    grants = []
    for grant in role["grants"]:
        if grant["policy"] != unit.policy:
            grants.append(Grant(**grant))
        elif unit.action is not None:
            statement = grant["statement"]
            for action in _listed(statement["Action"]):
                for resource in _listed(statement["Resource"]):
                    if (grant["index"], action, resource) != (unit.index, unit.action, unit.resource):
                        grants.append(Grant(unit.policy, {**statement, "Action": action, "Resource": resource}))
    return grants


def unused(answer: dict[str, Any]) -> set[Unit]:
    """The grants that allowed none of the run's calls."""
    return {unit for unit in units(answer["roles"]) if not any(unit.covers(use) for use in answer["used"])}


def unneeded(answer: dict[str, Any]) -> set[Unit]:
    """The grants whose removal denies none of the run's calls (another grant allows each of them)."""
    found = set()
    for unit in units(answer["roles"]):
        grants = without(answer["roles"][unit.key], unit)
        calls = [_request(use) for use in answer["used"] if use["key"] == unit.key]
        if all(decide(grants, call)[0] for call in calls):
            found.add(unit)
    return found
