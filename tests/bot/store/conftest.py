"""Fixtures for the store tests: a database path in a fresh folder and a store opened on it, and the
same contract on every backend (``any_store``: TinyDB, and PostgreSQL in a fresh schema)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.store import Store
from bot.store.tinydb_store import TinyStore


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Nested, so every test also checks that missing parent folders are created."""
    return tmp_path / "state" / "papers.json"


@pytest.fixture
def store(db_path: Path) -> Iterator[TinyStore]:
    with TinyStore(db_path) as opened:
        yield opened


@dataclass
class Backend:
    """One backend's database: ``open()`` gives a new store on it (to test what a reopen shows)."""

    name: str
    open: Callable[[], Store]


@pytest.fixture(params=["tinydb", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, db_path: Path) -> Backend:
    if request.param == "tinydb":
        return Backend("tinydb", lambda: TinyStore(db_path))
    from bot.store.sql_store import SqlStore

    url = request.getfixturevalue("pg_url")
    return Backend("postgres", lambda: SqlStore(url))


@pytest.fixture
def any_store(backend: Backend) -> Iterator[Store]:
    opened = backend.open()
    yield opened
    opened.close()
