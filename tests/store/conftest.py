"""A fresh store for each test, on each database the store runs on: a SQLite file under
``tmp_path`` and a database of its own on a real PostgreSQL server (``tests/postgres.py``).

``store`` is the open store; ``database`` opens (and reopens) the test's database, for tests
that close and open it again. ``db_path`` is the SQLite file alone, for tests of what only
SQLite has (its files, their modes, its journal)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from contactcenter.store import Store
from tests.postgres import database_for

BACKENDS = ("sqlite", "postgresql")


@dataclass(frozen=True)
class Database:
    """The test's database: a SQLite file, or a PostgreSQL URL with its keys file."""

    backend: str
    where: str
    keys: Path

    async def open(self, **kwargs: Any) -> Store:
        kwargs.setdefault("data_keys", self.keys)
        return await Store.open(self.where, **kwargs)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "center.db"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database(backend: str, db_path: Path, request: pytest.FixtureRequest) -> Database:
    where = database_for(request, backend) or str(db_path)
    return Database(backend, where, db_path.parent / "data-keys")


@pytest.fixture
async def store(database: Database) -> AsyncIterator[Store]:
    async with await database.open() as s:
        yield s
