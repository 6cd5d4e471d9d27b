"""Matching a validated filter against a payload: each `$or` alternative, searched over the event's arrays.

Matching is a search only where fields share an array of objects, which must lend them one element: a field that
cannot hold fails before the search, fields sharing no array are searched apart, and the search goes field by
field, the most constrained first. Arrays can still encode hard puzzles (each array's element is a choice), so
the search has a budget, MAX_SEARCH_STEPS (about 0.1 s; an ordinary filter spends a few steps per event value).

All of a call's work is charged, before it is done, to a Budget (MAX_FILTER_STEPS unless the caller gives a
smaller share; budget.py says what a step is). A field that no value can reach fails its alternative before any
array is read, and the others are taken fewest values first, so one with nothing to match fails it before the
rest are compared. Past its budget `matches` raises FilterTooComplex rather than guess; the fan-out then treats
the webhook as matching and logs it (rules.matching). That fails open, on purpose: a filter only narrows a webhook's
own events, it is not a security boundary, and one filter timing out the fan-out would cost every webhook of the
company the event.
"""

from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from typing import Any

from bluehooks.rules.filters.budget import MAX_FILTER_STEPS, Budget
from bluehooks.rules.filters.event_values import EventValues, Membership
from bluehooks.rules.filters.expansion import expand
from bluehooks.rules.filters.operators import entry_matches
from bluehooks.rules.filters.validation import check_leaf

MAX_SEARCH_STEPS = 100_000
PLACE_STEPS = 4  # an alternative regroups each place its fields' values sit in four times (_narrowed, _independent)

Places = dict[tuple[int, ...], set[Membership]]  # memberships grouped by the arrays they sit in
_ABSENT = None  # the option of a field taking no value


def matches(pattern: dict | None, payload: dict | EventValues, budget: Budget | None = None) -> bool:
    """Whether the payload satisfies the (validated) pattern; None and {} match everything.

    Give the payload's EventValues when several filters are matched against one event: each path is read once.
    Raises FilterTooComplex, having done no work past it, when deciding would cost more than the budget
    (MAX_FILTER_STEPS when none is given) or the search more than MAX_SEARCH_STEPS (see the module docstring).
    """
    if not pattern:
        return True
    budget = budget or Budget(MAX_FILTER_STEPS)
    event = payload if isinstance(payload, EventValues) else EventValues(payload)
    combinations = expand(pattern, "", [{}])  # at most MAX_CONDITIONS fields: bounded by the pattern
    leaves = _Leaves(event, budget)
    search = Budget(MAX_SEARCH_STEPS, within=budget)  # one for the whole call, however many alternatives $or makes
    return any(_combination_holds(combination, leaves, search) for combination in combinations)


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
            self.budget.charge(self.event.weight(path, self.budget) * check_leaf(entries, path))
            self._picks[key] = {membership for value, membership in self.values(path) if _leaf_matches(entries, value)}
        return self._picks[key]


def _leaf_matches(entries: list, value: Any) -> bool:
    return any(entry_matches(entry, value) for entry in entries)


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
