"""The local stack for e2e tests: `make run`'s process, one per module, with the module's environment overrides.

A module sets STACK_ENV (e.g. {"RETRY_SCHEDULE": "0,1"}) and asks for `stack`; a test that needs a stack of
its own (a restart) calls `start_stack(**env)`. Every stack started is stopped when the module ends.
"""

from collections.abc import Callable, Iterator

import pytest

from tests.e2e.localstack import LocalStackProcess


@pytest.fixture(scope="module")
def start_stack() -> Iterator[Callable[..., LocalStackProcess]]:
    started: list[LocalStackProcess] = []

    def start(**env: str) -> LocalStackProcess:
        started.append(LocalStackProcess(**env))
        return started[-1]

    yield start
    for stack in started:
        stack.stop()


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest, start_stack: Callable[..., LocalStackProcess]) -> LocalStackProcess:
    return start_stack(**getattr(request.module, "STACK_ENV", {}))
