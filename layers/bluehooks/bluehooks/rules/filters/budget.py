"""What deciding one filter may cost: the Budget every step of matching is charged to, before it is taken.

A step is one node of the event read, one event value compared with one filter entry (a string costing one more
step per CHARS_PER_STEP characters), one search step, or PLACE_STEPS for each place an alternative looks at
(where a value sits: the array elements it sits in). Past its budget a call raises FilterTooComplex rather than
guess.
"""

from bluehooks.rules.filters.errors import FilterTooComplex

# One call's work at most: about 0.1 s of one core at the costliest steps, ~0.5 µs each (`python -m bench filters`).
MAX_FILTER_STEPS = 200_000


class Budget:
    """Steps a call of matches may still spend, charged before the work they stand for is done.

    A budget may sit within another (a search within its call's budget): a charge counts against both.
    """

    def __init__(self, steps: int, within: "Budget | None" = None) -> None:
        self.steps, self.spent, self.within = steps, 0, within

    def charge(self, steps: int) -> None:
        if self.spent + steps > self.steps:
            raise FilterTooComplex(f"deciding this filter takes more than {self.steps} steps")
        if self.within is not None:
            self.within.charge(steps)
        self.spent += steps
