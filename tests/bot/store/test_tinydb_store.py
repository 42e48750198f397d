"""TinyStore: what it stores, what a reopened file shows, and what survives threads and SIGKILL."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.errors import StoreError, StoreLockedError
from bot.models import ChannelConfig, FilterChange, RunRecord, RunState
from bot.store import ledger_rules, tinydb_store
from bot.store.base import SCHEMA_VERSION
from bot.store.sqlite_ledger import ledger_path_for
from bot.store.tinydb_store import TinyStore

REPO = Path(__file__).resolve().parents[3]
D1, D2, D3 = date(2024, 5, 6), date(2024, 5, 7), date(2024, 5, 8)


def claimed(channel_id: str = "C1", local_date: date = D2, run_id: str = "run-1", **changes: Any) -> RunRecord:
    record = RunRecord(channel_id, local_date, RunState.CLAIMED, run_id, datetime(2024, 5, 7, 9, 0, tzinfo=UTC))
    return record.replace(**changes)


def posted(record: RunRecord, days: tuple[date, ...], keys: tuple[str, ...]) -> RunRecord:
    return record.replace(state=RunState.POSTED, days=days, paper_keys=keys, ts=("1715072400.000100",))


def raw(path: Path) -> dict[str, Any]:
    return json.loads(path.read_bytes())


def ledger_rows(db_path: Path, query: str) -> list[tuple[Any, ...]]:
    """What the SQLite ledger beside the settings file holds, read by a connection of its own."""
    with contextlib.closing(sqlite3.connect(ledger_path_for(db_path))) as conn:
        return conn.execute(query).fetchall()


def subscribe(store: TinyStore, channel_id: str = "C1", **changes: Any) -> ChannelConfig:
    return store.update_channel(channel_id, lambda c: c.replace(subscribed=True, **changes))


FULL_CONFIG = ChannelConfig(
    channel_id="C1",
    team_id="T1",
    subscribed=True,
    paused_reason="is_archived",
    post_time="07:30",
    timezone="Asia/Kolkata",
    weekdays=(0, 2, 4),
    max_papers=3,
    min_upvotes=5,
    filter_text='"diffusion" OR llm',
    post_format="compact",
    last_day=D1,
    subscribed_by="U1",
    created_at="2024-05-01T00:00:00+00:00",
    updated_at="2024-05-02T00:00:00+00:00",
    history=(FilterChange("U1", "2024-05-01T00:00:00+00:00", "set: llm"),),
)


# ----- round trips --------------------------------------------------------------------------------


def test_channel_config_round_trips_through_the_file(db_path: Path) -> None:
    with TinyStore(db_path) as store:
        assert store.update_channel("C1", lambda _: FULL_CONFIG, team_id="T1") == FULL_CONFIG

    with TinyStore(db_path) as reopened:
        assert reopened.get_channel("C1", team_id="T1") == FULL_CONFIG
        assert reopened.channels() == [FULL_CONFIG]
    assert [doc["channel_id"] for doc in raw(db_path)["channels"].values()] == ["C1"]


def test_run_record_round_trips_through_the_file(db_path: Path) -> None:
    record = posted(claimed(error="", attempts=1), (D1, D2), ("2405.00001", "2405.00002"))
    with TinyStore(db_path) as store:
        assert store.claim_run(claimed())
        store.finish_run(record)

    with TinyStore(db_path) as reopened:
        assert reopened.get_run("C1", D2) == record
        assert reopened.runs() == [record]
        assert reopened.posted_keys("C1") == {"2405.00001", "2405.00002"}
        assert reopened.get_channel("C1").last_day == D2


def test_memory_store_works_without_touching_the_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with TinyStore(None) as store:
        subscribe(store)
        assert store.claim_run(claimed())
        store.finish_run(posted(claimed(), (D1,), ("2405.00001",)))
        assert store.get_channel("C1").last_day == D1
        assert store.posted_keys("C1") == {"2405.00001"}
        assert store.schema_version == SCHEMA_VERSION
    assert list(tmp_path.iterdir()) == []


# ----- update_channel -----------------------------------------------------------------------------


def test_update_channel_creates_a_missing_channel_from_defaults(store: TinyStore, db_path: Path) -> None:
    seen: list[ChannelConfig] = []

    def change(config: ChannelConfig) -> ChannelConfig:
        seen.append(config)
        return config.replace(subscribed=True, subscribed_by="U1")

    stored = store.update_channel("C1", change)

    assert seen == [ChannelConfig("C1")]
    assert stored == ChannelConfig("C1", subscribed=True, subscribed_by="U1")
    assert store.get_channel("C1") == stored
    assert raw(db_path)["channels"]["1"]["subscribed_by"] == "U1"


def test_a_raising_change_writes_nothing(store: TinyStore, db_path: Path) -> None:
    subscribe(store, filter_text="llm")
    before = db_path.read_bytes()

    def boom(config: ChannelConfig) -> ChannelConfig:
        raise RuntimeError("user typed nonsense")

    with pytest.raises(RuntimeError, match="nonsense"):
        store.update_channel("C1", boom)
    with pytest.raises(RuntimeError):
        store.update_channel("C2", boom)

    assert db_path.read_bytes() == before
    assert store.get_channel("C1").filter_text == "llm"
    assert store.get_channel("C2") is None


def test_an_unchanged_config_is_not_rewritten(store: TinyStore, db_path: Path) -> None:
    subscribe(store)
    mtime = db_path.stat().st_mtime_ns
    assert store.update_channel("C1", lambda c: c) == store.get_channel("C1")
    assert db_path.stat().st_mtime_ns == mtime


# ----- the run ledger -----------------------------------------------------------------------------


def test_a_failed_run_is_replaced_and_attempts_count_up(store: TinyStore, db_path: Path) -> None:
    assert store.claim_run(claimed())
    store.fail_run(claimed(error="ratelimited"))
    assert store.get_run("C1", D2).state == RunState.FAILED
    assert store.get_run("C1", D2).error == "ratelimited"

    assert store.claim_run(claimed(run_id="run-2"))
    assert store.get_run("C1", D2).run_id == "run-2"
    assert store.get_run("C1", D2).attempts == 2

    store.fail_run(claimed(run_id="run-2"))  # the caller's record still says attempts=1
    assert store.get_run("C1", D2).attempts == 2
    assert store.claim_run(claimed(run_id="run-3"))
    store.finish_run(posted(claimed(run_id="run-3"), (D1,), ("2405.00001",)))

    final = store.get_run("C1", D2)
    assert (final.state, final.run_id, final.attempts) == (RunState.POSTED, "run-3", 3)
    assert len(store.runs("C1")) == 1
    assert "runs" not in raw(db_path)  # the ledger lives in SQLite beside the settings file
    assert ledger_rows(db_path, "SELECT json_extract(doc, '$.attempts') FROM runs") == [(3,)]


def test_finish_run_adds_posted_keys_and_advances_last_day(store: TinyStore, db_path: Path) -> None:
    subscribe(store, last_day=D1)
    store.claim_run(claimed())
    store.finish_run(posted(claimed(), (D2, D1), ("2405.00001", "2405.00002")))

    assert store.posted_keys("C1") == {"2405.00001", "2405.00002"}
    assert store.get_channel("C1").last_day == D2
    assert store.get_channel("C1").subscribed  # the rest of the channel is kept
    assert ledger_rows(db_path, "SELECT channel_id, paper_key, day FROM posted ORDER BY paper_key") == [
        ("C1", "2405.00001", "2024-05-07"),
        ("C1", "2405.00002", "2024-05-07"),
    ]


def test_posted_keys_accumulate_and_keep_their_first_day(store: TinyStore, db_path: Path) -> None:
    store.claim_run(claimed(local_date=D2))
    store.finish_run(posted(claimed(local_date=D2), (D1,), ("a",)))
    store.claim_run(claimed(local_date=D3))
    store.finish_run(posted(claimed(local_date=D3), (D2,), ("a", "b")))

    assert store.posted_keys("C1") == {"a", "b"}
    assert ledger_rows(db_path, "SELECT paper_key, day FROM posted ORDER BY paper_key") == [
        ("a", "2024-05-06"),
        ("b", "2024-05-07"),
    ]


def test_the_ledger_never_rewrites_the_settings_file(store: TinyStore, db_path: Path) -> None:
    subscribe(store, last_day=D1)
    commits, before = store._storage.commits, db_path.read_bytes()

    store.claim_run(claimed())
    store.finish_run(posted(claimed(), (D3,), ("2405.00001",)))
    store.claim_run(claimed(local_date=D3))
    store.fail_run(claimed(local_date=D3))
    store.prune(D2)

    assert store._storage.commits == commits and db_path.read_bytes() == before
    assert store.get_channel("C1").last_day == D3  # from the ledger
    store.close()
    with TinyStore(db_path) as reopened:
        assert reopened.get_channel("C1").last_day == D3
        assert [c.last_day for c in reopened.channels()] == [D3]


def test_a_failed_ledger_write_leaves_all_or_nothing(
    store: TinyStore, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    subscribe(store, last_day=D1)
    store.claim_run(claimed())

    def broken(current: date | None, record: RunRecord) -> date | None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:  # fails after the run and the posted keys were written
        patch.setattr(ledger_rules, "advanced_last_day", broken)
        with pytest.raises(OSError, match="No space left"):
            store.finish_run(posted(claimed(), (D3,), ("2405.00001",)))

    assert store.get_run("C1", D2).state == RunState.CLAIMED
    assert store.posted_keys("C1") == set()
    assert store.get_channel("C1").last_day == D1

    store.finish_run(posted(claimed(), (D3,), ("2405.00001",)))  # the store still works afterwards
    assert store.posted_keys("C1") == {"2405.00001"} and store.get_channel("C1").last_day == D3


def test_prune_drops_old_runs_but_keeps_posted_keys(store: TinyStore, db_path: Path) -> None:
    for day in (D1, D2, D3):
        store.claim_run(claimed(local_date=day))
        store.finish_run(posted(claimed(local_date=day), (day,), (f"k-{day}",)))

    assert store.prune(D3) == 2
    assert store.prune(D3) == 0
    assert [r.local_date for r in store.runs()] == [D3]
    assert store.get_run("C1", D1) is None
    assert len(store.posted_keys("C1")) == 3
    assert store.claim_run(claimed(local_date=D1))  # a pruned date is free again (prune only very old dates)

    store.close()
    with TinyStore(db_path) as reopened:
        assert [r.local_date for r in reopened.runs()] == [D1, D3]


# ----- the process lock ---------------------------------------------------------------------------


def test_a_second_store_on_the_same_file_is_refused_until_the_first_closes(db_path: Path) -> None:
    first = TinyStore(db_path)
    with pytest.raises(StoreLockedError, match=r"already using .*papers\.json.*post twice"):
        TinyStore(db_path)
    first.close()

    with TinyStore(db_path) as second:
        assert second.schema_version == SCHEMA_VERSION


def test_another_process_is_refused_while_the_store_is_open(store: TinyStore, db_path: Path) -> None:
    code = (
        "import sys\nfrom bot.errors import StoreLockedError\nfrom bot.store.tinydb_store import TinyStore\n"
        "try:\n    TinyStore(sys.argv[1])\nexcept StoreLockedError:\n    sys.exit(3)\n"
    )
    result = subprocess.run([sys.executable, "-c", code, str(db_path)], cwd=REPO, env=_child_env(), timeout=30)
    assert result.returncode == 3


def test_a_closed_store_refuses_calls_and_close_is_idempotent(db_path: Path) -> None:
    store = TinyStore(db_path)
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.get_channel("C1")


# ----- damaged files and schema versions ------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [b'{"channels": {"1": {"channel_id": "C1"', b"", b"\xff\xfe garbage", b"[1, 2, 3]", b'{"channels": [1]}'],
    ids=["truncated", "empty", "binary", "a-list", "not-tinydb"],
)
def test_a_damaged_file_is_refused_and_left_untouched(db_path: Path, content: bytes) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(content)

    with pytest.raises(StoreError, match="left untouched") as refused:
        TinyStore(db_path)

    assert str(db_path) in str(refused.value)
    assert "\n" not in str(refused.value)
    assert db_path.read_bytes() == content
    with pytest.raises(StoreError) as again:  # the lock was released: a retry sees the same problem
        TinyStore(db_path)
    assert not isinstance(again.value, StoreLockedError)


def test_stale_temp_files_of_this_database_are_removed_at_open(db_path: Path) -> None:
    with TinyStore(db_path) as store:
        subscribe(store)
    stale = [db_path.parent / f".{db_path.name}.k1ll3d.tmp", db_path.parent / f".{db_path.name}.x.tmp"]
    for tmp in stale:
        tmp.write_text('{"half": ')
    unrelated = db_path.parent / ".other.json.k1ll3d.tmp"
    unrelated.write_text("keep me")

    with TinyStore(db_path) as reopened:
        assert reopened.get_channel("C1") is not None

    assert not any(tmp.exists() for tmp in stale)
    assert unrelated.read_text() == "keep me"


def test_a_new_database_is_stamped_with_the_schema_version(store: TinyStore, db_path: Path) -> None:
    assert store.schema_version == SCHEMA_VERSION
    assert list(raw(db_path)["meta"].values()) == [{"schema_version": SCHEMA_VERSION}]


def _write_db(path: Path, version: int, channels: dict[str, Any] | None = None) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"meta": {"1": {"schema_version": version}}, "channels": channels or {}}
    path.write_text(json.dumps(data))
    return path.read_bytes()


def test_a_database_from_a_newer_papers_bot_is_refused(db_path: Path) -> None:
    content = _write_db(db_path, SCHEMA_VERSION + 1)
    with pytest.raises(StoreError, match="newer papers-bot"):
        TinyStore(db_path)
    assert db_path.read_bytes() == content


def test_an_older_database_is_migrated_in_one_write(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tinydb_store, "SCHEMA_VERSION", 3)

    def rename_field(data: dict[str, Any]) -> None:
        for doc in data["channels"].values():
            doc["filter_text"] = doc.pop("query")

    monkeypatch.setitem(tinydb_store.MIGRATIONS, 2, rename_field)
    _write_db(db_path, 2, {"1": {"channel_id": "C1", "query": "llm"}})

    with TinyStore(db_path) as store:
        assert store.schema_version == 3
        assert store.get_channel("C1").filter_text == "llm"
        assert store._storage.commits == 1
        store.update_channel("C1", lambda c: c.replace(subscribed=True))  # indexes survived the rewrite

    data = raw(db_path)
    assert list(data["meta"].values()) == [{"schema_version": 3}]
    assert data["channels"]["1"]["filter_text"] == "llm"
    assert "query" not in data["channels"]["1"]


def test_an_older_database_without_a_migration_is_refused(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tinydb_store, "SCHEMA_VERSION", 3)
    content = _write_db(db_path, 2)
    with pytest.raises(StoreError, match="cannot upgrade"):
        TinyStore(db_path)
    assert db_path.read_bytes() == content


def test_data_without_a_schema_version_is_refused(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_text(json.dumps({"channels": {"1": {"channel_id": "C1"}}}))
    with pytest.raises(StoreError, match="no schema version"):
        TinyStore(db_path)


# ----- the cached encoding matches the data ---------------------------------------------------------


def test_the_file_always_equals_the_state_the_store_serves(store: TinyStore, db_path: Path) -> None:
    rng = random.Random(7)
    for step in range(150):
        channel_id = f"C{rng.randrange(12)}"
        day = date(2024, 5, 1 + rng.randrange(20))
        action = rng.randrange(4)
        if action == 0:
            store.update_channel(channel_id, lambda c, s=step: c.replace(filter_text=f"t{s}"))
        elif action == 1:
            store.claim_run(claimed(channel_id, day, run_id=f"r{step}"))
        elif action == 2 and store.get_run(channel_id, day):
            store.finish_run(posted(claimed(channel_id, day), (day,), (f"k{step}",)))
        elif action == 3:
            store.prune(date(2024, 5, 1 + rng.randrange(20)))
        assert raw(db_path) == store._storage.read()

    expected = (
        store.channels(),
        store.runs(),
        {c.channel_id: store.posted_keys(c.channel_id) for c in store.channels()},
    )
    store.close()
    with TinyStore(db_path) as reopened:
        reopened_ids = [c.channel_id for c in reopened.channels()]
        assert (reopened.channels(), reopened.runs(), {c: reopened.posted_keys(c) for c in reopened_ids}) == expected


def test_in_place_tinydb_updates_are_blocked(store: TinyStore) -> None:
    """The incremental encoder would write stale JSON for a document edited in place."""
    subscribe(store)
    with pytest.raises(TypeError, match="replace-only"):
        store._tables["channels"].update({"subscribed": False}, doc_ids=[1])
    assert store.get_channel("C1").subscribed


# ----- threads -----------------------------------------------------------------------------------


def test_fifty_threads_updating_one_channel_lose_nothing(store: TinyStore, db_path: Path) -> None:
    threads_n = 50
    barrier = threading.Barrier(threads_n)
    errors: list[BaseException] = []

    def add(n: int) -> None:
        def change(config: ChannelConfig) -> ChannelConfig:
            entry = FilterChange(f"U{n}", "2024-05-07T09:00:00+00:00", f"added t{n}")
            return config.replace(filter_text=f"{config.filter_text} t{n}".strip(), history=(*config.history, entry))

        try:
            barrier.wait()
            store.update_channel("C1", change)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(n,)) for n in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    expected = {f"t{n}" for n in range(threads_n)}
    assert errors == []
    stored = store.get_channel("C1")
    assert set(stored.filter_text.split()) == expected
    assert {h.summary.removeprefix("added ") for h in stored.history} == expected
    assert set(raw(db_path)["channels"]["1"]["filter_text"].split()) == expected


def test_threads_mixing_every_operation_keep_the_ledger_consistent(store: TinyStore) -> None:
    def worker(n: int) -> None:
        channel_id = f"C{n % 5}"
        subscribe(store, channel_id)
        record = claimed(channel_id, D2, run_id=f"r{n}")
        if store.claim_run(record):
            store.finish_run(posted(record, (D1,), (f"k{n}",)))
        store.posted_keys(channel_id)
        store.runs()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    runs = store.runs()
    assert sorted(r.channel_id for r in runs) == [f"C{i}" for i in range(5)]  # exactly one claim won each
    for run in runs:
        assert run.state == RunState.POSTED
        assert store.posted_keys(run.channel_id) == set(run.paper_keys)


# ----- crash safety ------------------------------------------------------------------------------

CHILD = """
import sys
from datetime import UTC, date, datetime
from bot.models import RunRecord, RunState
from bot.store.tinydb_store import TinyStore

store = TinyStore(sys.argv[1])
pad = "x" * int(sys.argv[2])
i = len(store.channels())
print("ready", flush=True)
while True:
    cid = f"C{i:06d}"
    store.update_channel(cid, lambda c: c.replace(subscribed=True, filter_text=pad))
    record = RunRecord(cid, date(2024, 5, 7), RunState.CLAIMED, f"r{i}", datetime.now(UTC))
    store.claim_run(record)
    store.finish_run(record.replace(state=RunState.POSTED, days=(date(2024, 5, 6),), paper_keys=(f"k{i}",)))
    print(i, flush=True)
    i += 1
"""


def _child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}


def _run_and_kill(db_path: Path, rng: random.Random) -> list[int]:
    """Start a writer, SIGKILL it a few ms into its writes; return the writes it reported done."""
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db_path), str(rng.choice([10, 2_000, 20_000]))],
        cwd=REPO,
        env=_child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    watchdog = threading.Timer(20, proc.kill)  # a hung child fails the test instead of hanging it
    watchdog.start()
    try:
        assert proc.stdout is not None
        ready = proc.stdout.readline()
        assert ready == b"ready\n", proc.stderr.read() if proc.stderr else ready
        time.sleep(rng.uniform(0.005, 0.060))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        out = proc.stdout.read().decode()
    finally:
        watchdog.cancel()
        watchdog.join()
        proc.kill()
        proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    assert proc.returncode == -signal.SIGKILL
    return [int(line) for line in out.splitlines(keepends=True) if line.endswith("\n")]


def _assert_holds(db_path: Path, done: list[int]) -> None:
    raw(db_path)  # parses, whatever the moment of the kill
    with TinyStore(db_path) as store:
        for i in done:
            cid = f"C{i:06d}"
            assert store.get_channel(cid) is not None, cid
            assert store.get_run(cid, date(2024, 5, 7)).state == RunState.POSTED, cid
            assert f"k{i}" in store.posted_keys(cid), cid
            assert store.get_channel(cid).last_day == date(2024, 5, 6), cid
    assert list(db_path.parent.glob("*.tmp")) == []


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_sigkill_at_random_moments_never_loses_a_completed_write(db_path: Path) -> None:
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    with TinyStore(db_path) as store:  # some bulk, so a write takes long enough to be interrupted
        for n in range(40):
            store.update_channel(f"BULK{n}", lambda c: c.replace(filter_text="y" * 20_000))

    done: list[int] = []
    torn_temp_files = 0
    started = time.monotonic()
    for _ in range(30):
        if time.monotonic() - started > 15:
            break
        done += _run_and_kill(db_path, rng)
        torn_temp_files += bool(list(db_path.parent.glob("*.tmp")))
        _assert_holds(db_path, done)

    assert done, f"the writer never finished a write (seed {seed})"
    assert done == sorted(set(done)), f"each reported write is new (seed {seed})"
    print(f"crash test: seed {seed}, {len(done)} writes completed, {torn_temp_files} kills left a temp file")


@pytest.fixture(autouse=True)
def _no_leaked_threads() -> Iterator[None]:
    before = threading.active_count()
    yield
    assert threading.active_count() <= before
