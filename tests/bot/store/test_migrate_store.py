"""``migrate-store``: TinyDB → PostgreSQL → TinyDB loses nothing, and refuses to overwrite data."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.cli import main
from bot.errors import StoreError
from bot.models import (
    FilterChange,
    PaperLinks,
    PaperRef,
    PaperWatch,
    RunRecord,
    RunState,
    SavedPaper,
    Signal,
    SignalKind,
)
from bot.store.migrate import copy_store, open_any
from bot.store.tinydb_store import TinyStore

pytestmark = pytest.mark.postgres


def fill(store: TinyStore) -> None:
    for n in range(30):
        store.update_channel(
            f"C{n:03d}",
            lambda c, n=n: c.replace(
                subscribed=n % 3 != 0,
                filter_text=f"topic{n}",
                history=(FilterChange("U1", "2024-05-01T00:00:00+00:00", f"set: topic{n}"),),
            ),
        )
    for n, state in enumerate([RunState.CLAIMED, RunState.POSTED, RunState.NOTHING, RunState.FAILED] * 5):
        record = RunRecord(f"C{n:03d}", date(2024, 5, 1 + n % 9), RunState.CLAIMED, f"r{n}", datetime.now(UTC))
        store.claim_run(record)
        if state == RunState.FAILED:
            store.fail_run(record.replace(error="ratelimited"))
            store.claim_run(record.replace(run_id=f"r{n}b"))
            store.fail_run(record.replace(run_id=f"r{n}b"))
        elif state != RunState.CLAIMED:
            days = (date(2024, 4, 30 - n % 4), date(2024, 4, 30))
            store.finish_run(record.replace(state=state, days=days, paper_keys=(f"k{n}", f"k{n + 1}", "shared")))
    store.prune(date(2024, 5, 3))  # pruned runs leave posted keys behind: those must travel too
    seen = datetime(2024, 5, 2, 14, tzinfo=UTC)
    store.save_paper_watches(  # follow-up state: a copy must neither forget a baseline nor re-announce
        PaperWatch(f"T{n % 2}", f"k{n}", seen, date(2024, 5, 2), PaperLinks("https://github.com/o/r", n), ("code",))
        for n in range(5)
    )
    # The team layer (issue 16): reading lists, signals, the bot's one-paper messages.
    at = datetime(2026, 8, 21, 9, 0, tzinfo=UTC)
    for n in range(5):
        paper = PaperRef(f"2608.{n:05d}", f"Paper {n}", ("Łukasz Müller", "Ada"), date(2026, 8, 1))
        store.save_paper(SavedPaper("T1", f"U{n % 2}", paper, at, at if n % 2 else None))
        store.add_signal(Signal("T1", "C001", f"U{n}", SignalKind.REACTION, paper, at, "fire"))
        store.remember_message("T1", "C001", f"1700000000.00010{n}", paper)


def snapshot(location: str) -> tuple[object, ...]:
    with open_any(location) as store:
        channels = store.channels()
        team = (
            store.saved_papers("T1", "U0") + store.saved_papers("T1", "U1"),
            store.signals("T1", since=datetime(2020, 1, 1, tzinfo=UTC)),
            [store.message_paper("T1", "C001", f"1700000000.00010{n}") for n in range(5)],
        )
        posted = {c.channel_id: store.posted_keys(c.channel_id) for c in channels}
        return channels, store.runs(), posted, store.all_paper_watches(), team


def test_tinydb_to_postgres_and_back_loses_nothing(tmp_path: Path, pg_url: str) -> None:
    source = tmp_path / "db.json"
    with TinyStore(source) as store:
        fill(store)
    original = snapshot(str(source))
    assert any(original[2].values()) and any(r.state == RunState.FAILED and r.attempts == 2 for r in original[1])
    assert len(original[3]) == 5

    report = copy_store(str(source), pg_url)
    assert (report.channels, report.runs) == (len(original[0]), len(original[1]))  # type: ignore[arg-type]
    assert (report.saved, report.signals) == (5, 5)
    assert snapshot(pg_url) == original

    back = tmp_path / "export.json"
    copy_store(pg_url, str(back))
    assert snapshot(str(back)) == original
    assert back.read_bytes() != b""


def test_a_non_empty_destination_is_refused(tmp_path: Path, pg_url: str) -> None:
    source = tmp_path / "db.json"
    with TinyStore(source) as store:
        fill(store)
    copy_store(str(source), pg_url)
    with pytest.raises(StoreError, match="not empty"):
        copy_store(str(source), pg_url)


def test_the_command_line_copies_and_reports_counts(
    tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "db.json"
    with TinyStore(source) as store:
        store.update_channel("C1", lambda c: c.replace(subscribed=True))
    url = pg_url.replace("postgresql+psycopg://", "postgres://")  # the Heroku spelling works too
    assert main(["migrate-store", "--from", str(source), "--to", url]) == 0
    assert "Copied and verified 1 channels, 0 runs, 0 posted paper keys" in capsys.readouterr().out
    assert main(["migrate-store", "--from", str(source), "--to", url]) == 2
    assert "not empty" in capsys.readouterr().err
