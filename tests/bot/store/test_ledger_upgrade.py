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
from bot.models import ChannelConfig, PaperRef, RunKind, RunRecord, RunState, SavedPaper, Signal
from bot.store.base import SCHEMA_VERSION
from bot.store.sqlite_ledger import LEDGER_VERSION, ledger_path_for
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
        assert store.posted_ledger() == {  # schema 1's channels have no workspace: ""
            ("", c): {k: date.fromisoformat(d) if d else None for k, d in keys.items()} for c, keys in posted.items()
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


# The SQLite ledger before workspaces joined its keys (ledger version 0), as the previous release wrote it.
_LEDGER_V0 = """
CREATE TABLE runs (channel_id TEXT NOT NULL, kind TEXT NOT NULL, period TEXT NOT NULL, local_date TEXT NOT NULL,
    team_id TEXT NOT NULL, open INTEGER NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (channel_id, kind, period)) WITHOUT ROWID;
CREATE INDEX runs_open ON runs (channel_id) WHERE open = 1;
CREATE INDEX runs_by_date ON runs (local_date);
CREATE TABLE posted (channel_id TEXT NOT NULL, paper_key TEXT NOT NULL, day TEXT,
    PRIMARY KEY (channel_id, paper_key)) WITHOUT ROWID;
CREATE TABLE progress (channel_id TEXT PRIMARY KEY, last_day TEXT NOT NULL) WITHOUT ROWID;
"""


def test_a_ledger_from_before_workspaces_keeps_everything_under_each_channels_workspace(tmp_path: Path) -> None:
    import sqlite3
    from datetime import UTC, datetime

    from bot.store.sqlite_ledger import LEDGER_VERSION, ledger_path_for

    db = tmp_path / "papers-bot.json"
    with TinyStore(db) as store:  # the settings, as the previous release left them (schema 2)
        store.update_channel("C1", lambda c: c.replace(subscribed=True), team_id="T1")
        store.update_channel("C2", lambda c: c.replace(subscribed=True))  # stored before teams were recorded
    ledger = ledger_path_for(db)
    ledger.unlink()
    run = RunRecord("C1", date(2026, 8, 20), RunState.POSTED, "r1", datetime(2026, 8, 20, 9, tzinfo=UTC))
    with sqlite3.connect(ledger) as conn:
        conn.executescript(_LEDGER_V0)
        conn.execute(
            "INSERT INTO runs VALUES (?, 'digest', '2026-08-20', '2026-08-20', '', 0, ?)",
            ("C1", json.dumps(run.to_doc())),
        )
        conn.executemany("INSERT INTO posted VALUES (?, ?, '2026-08-20')", [("C1", "2608.00001"), ("C2", "2608.00002")])
        conn.executemany("INSERT INTO progress VALUES (?, '2026-08-20')", [("C1",), ("C2",)])
    conn.close()

    with TinyStore(db) as store:
        assert store.posted_keys("C1", team_id="T1") == {"2608.00001"}
        assert store.posted_keys("C2") == {"2608.00002"}  # no workspace known yet: adopted at start-up
        one = store.get_channel("C1", team_id="T1")
        assert one is not None and one.last_day == date(2026, 8, 20)
        upgraded = store.get_run("C1", date(2026, 8, 20), team_id="T1")
        assert upgraded is not None and upgraded.run_id == "r1" and upgraded.team_id == "T1"
        assert not store.claim_run(upgraded.replace(state=RunState.CLAIMED, run_id="again"))  # still once a day
        assert store.adopt_unowned("T1") == 1
        assert store.posted_keys("C2", team_id="T1") == {"2608.00002"}
    with sqlite3.connect(ledger) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LEDGER_VERSION
    conn.close()


# The embedded store as main wrote it before issue 15 (fixtures/make_main_ledger.py, run at 72510e6): its
# ledger at user_version 2, the version that meant "the team layer on channel keys" there.
MAIN = Path(__file__).with_name("fixtures") / "papers-bot-main.json"
MAIN_LEDGER = MAIN.with_name("papers-bot-main.ledger.sqlite3")


@pytest.fixture
def main_db(tmp_path: Path) -> Path:
    path = tmp_path / "papers-bot.json"
    shutil.copyfile(MAIN, path)
    shutil.copyfile(MAIN_LEDGER, ledger_path_for(path))
    return path


def _layout(ledger: Path) -> tuple[int, dict[str, list[str]]]:
    import sqlite3

    conn = sqlite3.connect(ledger)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = [name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        keys = {t: [row[1] for row in conn.execute(f"PRAGMA table_info({t})") if row[5]] for t in tables}
    finally:
        conn.close()
    return version, keys


def test_a_ledger_main_wrote_at_its_version_2_keeps_everything_under_its_workspace(main_db: Path) -> None:
    """Main's version 2 (the team layer on channel keys) is upgraded, not taken for a newer layout: the
    ledger's keys gain the workspace, its runs of every kind stay once-only, and the follow-up watch,
    reading list, signals and one-paper message, keyed by workspace already, are untouched."""
    version, keys = _layout(ledger_path_for(main_db))
    assert version == 2 and keys["runs"] == ["channel_id", "kind", "period"]  # the fixture is what main wrote

    with TinyStore(main_db) as store:
        version, keys = _layout(ledger_path_for(main_db))
        assert version == LEDGER_VERSION
        assert keys["runs"] == ["team_id", "channel_id", "kind", "period"]
        assert keys["posted"] == ["team_id", "channel_id", "paper_key"]
        assert {"workspaces", "paper_watches", "saved", "signals", "paper_messages"} <= set(keys)

        # C1 recorded its workspace: its ledger is under it at once; C2's waits for adoption.
        assert store.posted_keys("C1", team_id="T0MAIN") == {"2608.00001", "2608.00002", "2608.00003"}
        assert store.get_channel("C1", team_id="T0MAIN").last_day == date(2026, 8, 20)  # type: ignore[union-attr]
        recap = store.get_entry("C1", RunKind.RECAP, "2026-W34", team_id="T0MAIN")
        reply = store.get_entry("C1", RunKind.FOLLOW_UP, "2608.00001/code", team_id="T0MAIN")
        assert recap is not None and recap.state == RunState.POSTED and recap.ts == ("1700000009.000100",)
        assert reply is not None and reply.state == RunState.POSTED
        assert not store.claim_run(recap.replace(state=RunState.CLAIMED, run_id="again"))  # still once a week
        assert store.posted_keys("C2") == {"2608.00001", "2608.00002", "2608.00003"}

        watch = store.paper_watches([("T0MAIN", "2608.00001")])[("T0MAIN", "2608.00001")]
        assert watch.baseline == ("models",) and [item for item, _ in watch.appeared] == ["code"]
        page, total, unread = store.reading_list("T0MAIN", "U1", offset=0, limit=10)
        assert [s.key for s in page] == ["2608.00001", "2608.00002"] and (total, unread) == (2, 1)
        assert page[0].paper.authors == ("Ada Lovelace", "Alan Turing")
        assert store.save_counts("T0MAIN", ["2608.00001"]) == {"2608.00001": 1}
        since = datetime(2026, 8, 1, tzinfo=UTC)
        assert [(c, p.key, n) for c, p, n in store.signal_counts("T0MAIN", since=since)] == [("C1", "2608.00001", 2)]
        assert store.message_paper("T0MAIN", "C1", "1700000000.000100") == PaperRef(
            "2608.00001", "A paper the team saved", ("Ada Lovelace", "Alan Turing"), date(2026, 8, 18)
        )

        # Single-token start-up adopts what has no workspace; what had one stays where it was.
        assert store.adopt_unowned("T0MAIN") == 1
        assert store.posted_keys("C2", team_id="T0MAIN") == {"2608.00001", "2608.00002", "2608.00003"}
        assert store.get_run("C2", date(2026, 8, 20), team_id="T0MAIN") is not None
        assert store.get_run("C2", date(2026, 8, 20)) is None

    with TinyStore(main_db) as again:  # a second open changes nothing
        assert _layout(ledger_path_for(main_db))[0] == LEDGER_VERSION
        assert again.reading_list("T0MAIN", "U1", offset=0, limit=10)[1] == 2
        assert len(again.runs()) == 8


def test_a_ledger_with_workspace_keys_but_no_team_layer_gains_the_empty_tables(tmp_path: Path) -> None:
    """Version 1 (issue 15's branch before the merge: workspace keys, no follow-up or team tables)."""
    import sqlite3

    db = tmp_path / "papers-bot.json"
    with TinyStore(db) as store:
        store.update_channel("C1", lambda c: c.replace(subscribed=True), team_id="T1")
        run = RunRecord("C1", date(2026, 8, 20), RunState.CLAIMED, "r1", datetime(2026, 8, 20, 9, tzinfo=UTC))
        store.claim_run(run.replace(team_id="T1"))
    conn = sqlite3.connect(ledger_path_for(db))
    with conn:
        for table in ("paper_watches", "saved", "signals", "paper_messages"):
            conn.execute(f"DROP TABLE {table}")
        conn.execute("PRAGMA user_version = 1")
    conn.close()

    with TinyStore(db) as store:
        assert store.get_run("C1", date(2026, 8, 20), team_id="T1") is not None
        at = datetime(2026, 8, 21, tzinfo=UTC)
        assert store.save_paper(SavedPaper("T1", "U1", PaperRef("2608.00001"), at))
        assert store.add_signal(Signal("T1", "C1", "U1", "save", PaperRef("2608.00001"), at))
    assert _layout(ledger_path_for(db))[0] == LEDGER_VERSION


def test_a_ledger_from_a_newer_release_is_refused_in_one_line(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "papers-bot.json"
    with TinyStore(db):
        pass
    conn = sqlite3.connect(ledger_path_for(db))
    conn.execute(f"PRAGMA user_version = {LEDGER_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match=r"newer than this release's \(3\); run a newer papers-bot"):
        TinyStore(db)
    conn = sqlite3.connect(ledger_path_for(db))
    assert conn.execute("PRAGMA user_version").fetchone()[0] == LEDGER_VERSION + 1  # left as it was
    conn.close()
