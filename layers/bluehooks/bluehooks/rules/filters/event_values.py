"""An event as filters read it: its scalar values by path, each with the array elements it sits in."""

from typing import Any

from bluehooks.rules.filters.budget import Budget
from bluehooks.rules.filters.expansion import joined

CHARS_PER_STEP = 64  # a string compares at tens of characters per step: str.lower, find and == all read it

Membership = tuple[tuple[int, int], ...]  # (array, index) for every event array a value sits in


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
                deeper = ((child, joined(where, key)) for key, child in node.items())
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
                    deeper = joined(where, key)
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
