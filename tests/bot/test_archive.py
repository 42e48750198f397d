"""The archive of fetched day lists: files on disk, reloading, ranking and concurrent use."""

from __future__ import annotations

import json
import os
import threading
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.feed.archive import Archive, archive_dir_for
from bot.feed.hf import DayFeed, HFClient
from bot.feed.papers import Paper, parse_daily_list
from bot.search.query import tokenize
from tests.conftest import load_shared_json
from tests.fakes import FakeHF, make_day

DAY = date(2026, 8, 21)


def paper(key: str, title: str, **changes: Any) -> Paper:
    fields: dict[str, Any] = {"id": key, "title": title, "abstract": "", "upvotes": 1, "day": DAY}
    fields.update(changes)
    return Paper(**fields)


def test_dir_sits_next_to_the_database() -> None:
    assert archive_dir_for("data/papers-bot.json") == Path("data/papers-bot.archive")
    assert archive_dir_for("/var/lib/bot/state") == Path("/var/lib/bot/state.archive")
    assert archive_dir_for("") is None and archive_dir_for(":memory:") is None


def test_tokens_fold_case_plurals_and_skip_stopwords() -> None:
    assert tokenize("The Diffusion MODELS of Agents") == ["diffusion", "model", "agent"]
    assert tokenize("Ünïcode 模型 café") == ["ünïcode", "模型", "café"]


def test_papers_are_read_back_one_line_at_a_time_after_a_restart(tmp_path: Path) -> None:
    day_list = [paper(f"2608.{i:05d}", f"Paper {i}", abstract=f"About topic{i}.") for i in range(50)]
    Archive(tmp_path).record_day(DAY, day_list)
    reopened = Archive(tmp_path, cached_days=0)
    assert reopened.get("2608.00042") == day_list[42]
    assert [p.key for p in reopened.search("topic7")] == ["2608.00007"]
    assert reopened.get("2608.99999") is None


def test_a_day_is_written_once_and_survives_a_restart(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "a")
    day_list = [paper("2608.00001", "Reward models for RLHF", ai_keywords=("RLHF",), authors=("Ann Lee",))]
    assert archive.record_day(DAY, day_list) is True
    path = tmp_path / "a" / "2026-08-21.jsonl"
    written = path.stat().st_mtime_ns
    os.utime(path, ns=(1, 1))
    assert archive.record_day(DAY, list(day_list)) is False  # unchanged: not rewritten
    assert path.stat().st_mtime_ns == 1 != written
    assert archive.record_day(DAY, [paper("2608.00001", "Reward models for RLHF", upvotes=9)]) is True
    header, first = (json.loads(line) for line in path.read_text().splitlines())
    assert header == {"day": "2026-08-21"} and first["upvotes"] == 9
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["2026-08-21.jsonl"]  # no temp files left

    reopened = Archive(tmp_path / "a")
    assert len(reopened) == 1 and reopened.get("2608.00001v2").upvotes == 9
    assert [p.key for p in reopened.search("rlhf reward")] == ["2608.00001"]


def test_background_loading_keeps_days_recorded_meanwhile(tmp_path: Path) -> None:
    Archive(tmp_path).record_day(DAY, [paper("2608.00001", "Old version")])
    archive = Archive(tmp_path, background=True)
    archive.record_day(DAY, [paper("2608.00001", "New version")])
    assert archive.wait_loaded(5)
    assert archive.get("2608.00001").title == "New version" and archive.search("old") == []


def test_memory_archive_touches_no_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    archive = Archive(None)
    archive.record_day(DAY, [paper("2608.00001", "Something")])
    assert archive.search("something")[0].key == "2608.00001"
    assert list(tmp_path.iterdir()) == []


def test_empty_days_are_not_kept(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    assert archive.record_day(date(2026, 8, 22), []) is False
    assert list(tmp_path.iterdir()) == []


def test_unreadable_files_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "2026-08-20.jsonl").write_bytes(b"\xff\xfe not json at all")
    (tmp_path / "notes.jsonl").write_text('{"day": "x"}\n{"id": "2608.00001", "title": "Not a day file"}\n')
    lines = ['{"day": "2026-08-21"}', '{"id": "2608.00002", "title": "Kept"}', '{"title": "no id"}', '{"id": "26']
    (tmp_path / "2026-08-21.jsonl").write_text("\n".join(lines))
    archive = Archive(tmp_path)
    assert len(archive) == 1 and archive.get("2608.00002").title == "Kept"


def test_ranking_all_words_first_title_over_abstract_then_upvotes() -> None:
    archive = Archive()
    archive.record_day(
        DAY,
        [
            paper("2608.00001", "Speculative decoding for LLMs", upvotes=1),
            paper("2608.00002", "Faster inference", abstract="We use speculative decoding.", upvotes=50),
            paper("2608.00003", "Speculative execution", upvotes=99),
            paper("2608.00004", "Decoding speculative drafts at scale", upvotes=5),
        ],
    )
    keys = [p.key for p in archive.search("speculative decoding")]
    assert keys[:2] == ["2608.00001", "2608.00004"]  # title phrase match beats upvotes
    assert keys[2] == "2608.00002"  # both words, but only in the abstract
    assert keys[3] == "2608.00003"  # one word only, last
    assert archive.search("nothing matches this") == []
    assert [p.key for p in archive.search("speculative", limit=1)] == ["2608.00003"]


def test_authors_keywords_and_ids_are_searchable_and_keys_restrict() -> None:
    archive = Archive()
    archive.record_day(
        DAY,
        [
            paper("2608.00001", "A", authors=("Yann LeCun",)),
            paper("2608.00002", "B", ai_keywords=("world models",)),
            paper("2608.00003", "C world model"),
        ],
    )
    assert [p.key for p in archive.search("lecun")] == ["2608.00001"]
    assert {p.key for p in archive.search("world model")} == {"2608.00002", "2608.00003"}
    assert [p.key for p in archive.search("world model", keys={"2608.00003"})] == ["2608.00003"]
    assert archive.search("2608.00002")[0].key == "2608.00002"


def test_a_paper_on_several_days_is_found_once_in_its_newest_version() -> None:
    archive = Archive()
    archive.record_day(date(2026, 8, 20), [paper("2608.00001", "Old title", upvotes=3)])
    archive.record_day(date(2026, 8, 21), [paper("2608.00001", "New title", upvotes=30)])
    assert [p.title for p in archive.search("title")] == ["New title"]
    archive.record_day(date(2026, 8, 21), [paper("2608.00009", "Other")])  # the day's list changed
    assert [p.title for p in archive.search("title")] == ["Old title"]
    assert archive.search("new") == []


def test_re_recorded_days_are_compacted_without_losing_anything(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    archive.record_day(date(2026, 8, 20), [paper("2608.00009", "Steady neighbour")])
    for votes in range(1200):  # each changed list replaces the indexed versions
        archive.record_day(DAY, [paper("2608.00001", "Changing votes", upvotes=votes), paper("2608.00002", "Other")])
    assert len(archive) == 3 and archive.get("2608.00001").upvotes == 1199
    assert [p.key for p in archive.search("changing votes")] == ["2608.00001"]
    assert [p.key for p in archive.search("steady neighbour")] == ["2608.00009"]
    assert len(archive._doc_key) < 1100  # compacted, not 2,400 documents


def test_concurrent_recording_and_searching_is_safe() -> None:
    archive = Archive()
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for d in range(20):
                day = date(2026, 1 + n, 1 + d)
                archive.record_day(day, [paper(f"26{n + 1:02d}.{d:05d}", f"Topic {n} paper {d}")])
        except BaseException as exc:
            errors.append(exc)

    def reader() -> None:
        try:
            for _ in range(200):
                archive.search("topic paper", limit=5)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)] + [
        threading.Thread(target=reader) for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(archive) == 80


def test_recorded_days_from_hugging_face_round_trip(tmp_path: Path) -> None:
    raw = load_shared_json("fixtures/hf/daily_papers_2026-08-21.json")
    papers = parse_daily_list(raw, day=DAY)
    Archive(tmp_path).record_day(DAY, papers)
    reopened = Archive(tmp_path)
    assert [reopened.get(p.key) for p in papers] == papers
    assert reopened.search("4D human video")[0].key == "2608.20335"


def test_the_day_feed_hands_each_fetched_list_to_the_archive_and_survives_its_failure() -> None:
    with FakeHF({"2026-08-20": make_day("2026-08-20", 3)}) as fake, HFClient(fake.base_url) as client:
        archive = Archive()
        DayFeed(client, on_fetch=archive.record_day).papers(date(2026, 8, 20))
        assert len(archive) == 3 and archive.days == [date(2026, 8, 20)]

        def broken(day: date, papers: list[Paper]) -> None:
            raise OSError("disk full")

        assert len(DayFeed(client, on_fetch=broken).papers(date(2026, 8, 20))) == 3
