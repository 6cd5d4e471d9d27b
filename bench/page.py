"""`make bench` writes its own page: each section's printed tables go into docs/benchmarks.md between
that section's marker comments, so that the numbers there are always a run's, never typed by hand."""

import io
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PAGE = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
# What shapes a run, shown with its tables (a short run says so).
SETTINGS = ("BENCH_ROUNDS", "BENCH_BURST", "BENCH_FANOUT_SIZES", "BENCH_COST_EVENTS", "BENCH_COLDSTART_RUNS")


class Tee(io.TextIOBase):
    """Writes through to the terminal and keeps a copy."""

    def __init__(self, terminal) -> None:
        self.terminal, self.kept = terminal, io.StringIO()

    def write(self, text: str) -> int:
        self.kept.write(text)
        return self.terminal.write(text)

    def flush(self) -> None:
        self.terminal.flush()


class Sections:
    """The output of each section run, by name."""

    def __init__(self) -> None:
        self.outputs: dict[str, str] = {}

    @contextmanager
    def section(self, name: str) -> Iterator[None]:
        terminal = sys.stdout
        sys.stdout = tee = Tee(terminal)
        try:
            yield
        finally:
            sys.stdout = terminal
        self.outputs[name] = tee.kept.getvalue()

    def write(self, page: Path = PAGE) -> None:
        """Replace each run section's block on the page; a section without its markers is an error."""
        text = page.read_text()
        settings = ", ".join(f"{name}={os.environ[name]}" for name in SETTINGS if name in os.environ)
        for name, output in self.outputs.items():
            marker = re.compile(rf"(<!-- bench:{name} -->\n).*?(<!-- /bench:{name} -->)", re.DOTALL)
            if not marker.search(text):
                raise SystemExit(f"{page.name} has no <!-- bench:{name} --> … <!-- /bench:{name} --> block")
            # A function's metric lines (EMF) reach stdout when a section turns metrics on: not the bench's.
            output = "\n".join(line for line in output.splitlines() if not line.startswith('{"_aws"'))
            heading = f"`python -m bench {name}`, {time.strftime('%Y-%m-%d')}" + (f" ({settings})" if settings else "")
            block = f"{heading}:\n\n```text\n{output.rstrip()}\n```\n"
            text = marker.sub(lambda found, block=block: found.group(1) + block + found.group(2), text)
        page.write_text(text)
