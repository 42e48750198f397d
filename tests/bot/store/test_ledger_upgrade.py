"""Upgrading a schema-1 database (the ledger inside the TinyDB file, as release aa97646 wrote it) to
schema 2 (the ledger in SQLite beside it): nothing lost, a backup kept, one log line, and a crash in
the middle simply upgrades again on the next start."""

from __future__ import annotations

import json
import logging
import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.errors import StoreError
from bot.models import ChannelConfig, RunRecord, RunState
from bot.store.base import SCHEMA_VERSION
from bot.store.sqlite_ledger import ledger_path_for
from bot.store.tinydb_store import TinyStore

V1 = Path(__file__).with_name("fixtures") / "papers-bot-v1.json"


@pytest.fixture
def v1_db(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "papers-bot.json"
    path.parent.mkdir()
    shutil.copyfile(V1, path)
    return path


def v1_contents() -> tuple[list[ChannelConfig], list[RunRecord], dict[str, dict[str, str | None]]]:
    """What the schema-1 file holds, read straight from its JSON."""
    data: dict[str, Any] = json.loads(V1.read_bytes())
    channels = [ChannelConfig.from_doc(doc) for doc in data["channels"].values()]
    runs = [RunRecord.from_doc(doc) for doc in data["runs"].values()]
    posted = {doc["channel_id"]: doc["keys"] for doc in data["posted"].values()}
    return channels, runs, posted


def test_the_fixture_is_a_year_of_ledger_as_schema_1_wrote_it() -> None:
    data = json.loads(V1.read_bytes())
    assert list(data["meta"].values()) == [{"schema_version": 1}]
    _, runs, posted = v1_contents()
    assert len(runs) == 360 and sum(len(keys) for keys in posted.values()) > 1000


def test_a_schema_1_database_is_upgraded_with_nothing_lost(v1_db: Path, caplog: pytest.LogCaptureFixture) -> None:
    channels, runs, posted = v1_contents()
    caplog.set_level(logging.INFO, logger="bot.store.tinydb_store")

    with TinyStore(v1_db) as store:
        assert store.schema_version == SCHEMA_VERSION == 2
        assert store.channels() == channels  # settings, filters, history and last_day as they were
        assert store.runs() == sorted(runs, key=lambda r: (r.local_date, r.claimed_at.timestamp(), r.channel_id))
        for channel_id, keys in posted.items():
            assert store.posted_keys(channel_id) == set(keys)
        assert store.posted_ledger() == {
            c: {k: date.fromisoformat(d) if d else None for k, d in keys.items()} for c, keys in posted.items()
        }
        assert [r.state for r in store.open_runs("C000000000")] == [RunState.CLAIMED]  # cut off mid-post
        assert [r.unsent for r in store.open_runs("C000000002")] == [("2601.21199",)]  # owes a continuation
        last = runs[-1]
        assert not store.claim_run(last.replace(state=RunState.CLAIMED, run_id="again"))  # never twice a day

    data = json.loads(v1_db.read_bytes())
    assert "runs" not in data and "posted" not in data
    assert list(data["meta"].values()) == [{"schema_version": 2}]
    backup = v1_db.with_name("papers-bot.json.schema1.bak")
    assert backup.read_bytes() == V1.read_bytes()
    assert ledger_path_for(v1_db).exists()
    [line] = [r.getMessage() for r in caplog.records if "upgraded" in r.getMessage()]
    assert "from schema 1 to 2: 360 runs and" in line and "papers-bot.json.schema1.bak" in line


def test_a_crash_during_the_upgrade_leaves_schema_1_and_the_next_start_finishes_it(
    v1_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    channels, runs, _ = v1_contents()
    original = v1_db.read_bytes()

    def crash(self: object, chunks: list[bytes]) -> None:
        raise OSError(5, "Input/output error")

    with monkeypatch.context() as patch:  # the ledger is copied, then writing the new settings file fails
        patch.setattr("bot.store.tinydb_store.AtomicJSONStorage._replace_with", crash)
        with pytest.raises(StoreError, match="Input/output error"):
            TinyStore(v1_db)
    assert v1_db.read_bytes() == original

    with TinyStore(v1_db) as store:  # upgraded again from the intact schema-1 file: no duplicates
        assert store.schema_version == 2
        assert len(store.runs()) == len(runs)
        assert store.channels() == channels


def test_a_database_upgraded_keeps_posting_where_it_left_off(v1_db: Path) -> None:
    with TinyStore(v1_db) as store:
        before = store.get_channel("C000000001")
        assert before is not None and before.last_day is not None
        day = date(2026, 5, 6)
        record = RunRecord(
            "C000000001", day, RunState.CLAIMED, "after-upgrade", datetime(2026, 5, 6, 9, 30, tzinfo=UTC)
        )
        assert store.claim_run(record)
        store.finish_run(record.replace(state=RunState.POSTED, days=(day,), paper_keys=("2605.00001",)))
        assert store.get_channel("C000000001").last_day == day
        assert "2605.00001" in store.posted_keys("C000000001")
    with TinyStore(v1_db) as reopened:
        assert reopened.get_channel("C000000001").last_day == day
