"""One build-and-package run for the module's tests: as `sam deploy` packages, three times."""

from dataclasses import dataclass
from pathlib import Path

import pytest

from devstack.emulator import Emulator
from devtools.receiver import free_port
from tests.infrastructure.deploy import SAM, Project

# A file of the layer only: no function's own code changes with it.
LAYER_FILE = Path("layers/bluehooks/bluehooks/timestamps.py")


@dataclass(frozen=True)
class Packaged:
    first: Path  # the project as it is
    again: Path  # built and packaged again, nothing changed
    layer_changed: Path  # one byte added to a layer file


@pytest.fixture(scope="session")
def packaged(tmp_path_factory) -> Packaged:
    if not SAM.exists():
        pytest.fail("no SAM CLI (.venv-sam): run `make template` first (make test does)")
    emulator = Emulator(free_port())
    try:
        project = Project(tmp_path_factory.mktemp("project"), emulator.url, "sam-artifacts")
        first, again = project.package(), project.package()
        with (project.directory / LAYER_FILE).open("a") as layer_file:
            layer_file.write("\n")
        yield Packaged(first, again, project.package())
    finally:
        emulator.stop()
