"""Suite-wide: the ``peer`` mark of ``tests/peers.py`` (a missing peer skips, or fails under CI),
and ``pytester`` for the test of that rule."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import peers
from tests.postgres import Postgres, running_postgres

pytest_plugins = ["pytester"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{peers.MARK}(why_missing): the test needs a real peer; why_missing is None when it is "
        "there (see tests/peers.py)",
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers(peers.MARK):
        peers.require(*mark.args)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """One real PostgreSQL server for this test process (started when a test first asks),
    not waiting for its disk (its tests kill engines, never it)."""
    with running_postgres(durable=False) as server:
        yield server
