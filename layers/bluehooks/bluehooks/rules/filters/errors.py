"""The two ways a filter is turned away: refused when a webhook is saved, or undecided within its budget."""


class InvalidFilter(ValueError):
    """A filter we refuse; the message names where it is wrong and why, e.g. 'status: prefix must be a string'."""


class FilterTooComplex(Exception):
    """matches gave up: deciding this filter on this payload takes more than its budget (or MAX_SEARCH_STEPS)."""
