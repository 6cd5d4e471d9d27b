"""`$or` multiplied out: a pattern as the flat {path: entries} alternatives EventBridge compiles it to."""

from bluehooks.rules.filters.errors import InvalidFilter

OR = "$or"


def expand(
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
                for combination in expand(alternative, where, [dict(c) for c in combinations], refuse_twice)
            ]
        elif isinstance(value, dict):
            combinations = expand(value, joined(where, key), combinations, refuse_twice)
        else:
            path = joined(where, key)
            if refuse_twice and any(path in combination for combination in combinations):
                raise InvalidFilter(f"{path}: named twice; EventBridge would keep only the last, so merge them")
            for combination in combinations:
                combination[path] = value
    return combinations


def joined(where: str, key: str) -> str:
    """A field's path: the keys on the way to it, joined with dots."""
    return f"{where}.{key}" if where else key
