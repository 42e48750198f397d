"""Fixtures for the store tests: a database path in a fresh folder and a store opened on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.store.tinydb_store import TinyStore


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Nested, so every test also checks that missing parent folders are created."""
    return tmp_path / "state" / "papers.json"


@pytest.fixture
def store(db_path: Path) -> Iterator[TinyStore]:
    with TinyStore(db_path) as opened:
        yield opened
