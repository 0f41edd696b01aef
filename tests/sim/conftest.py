"""Shared fixtures: one process pool of two workers for the whole planner suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sim.replications import Runner


@pytest.fixture(scope="session")
def runner() -> Iterator[Runner]:
    with Runner(workers=2) as r:
        yield r
