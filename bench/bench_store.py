"""The TinyDB store at 10,000 channels: a settings update and opening the database at start-up.

``python -m bench.bench_store [--quick]``. The database holds 10,000 subscribed channels with topic
filters and a change history, one day of the post ledger for each and ten posted papers each (what
the bot keeps the day after a post run). A settings update is what every ``/papers`` change and the
settings modal do: ``update_channel`` (read, change, atomic write: temp file → fsync → rename).
Start-up is ``TinyStore(path)``: process lock, read and parse the file, build the indexes, plus the
first ``channels()`` listing the scheduler does.

Compared in the same run: TinyDB as shipped (``JSONStorage``, which re-encodes the whole file on
every write and rewrites it in place, not crash-safe) updating one document of the same data.
"""

from __future__ import annotations

import json
import random
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Result, Row, median, p99, standalone, timed

NAME = "store"
TEMPLATE_ID = "CTEMPLATE00"
TOPICS = ["diffusion", "rlhf", '"model merging"', "-medical", "agents", "retrieval", "quantization"]


def _template(path: Path) -> dict[str, Any]:
    """A one-channel database written through the real API, so the documents have the store's exact shape."""
    from bot.models import ChannelConfig, FilterChange, RunRecord, RunState
    from bot.store.tinydb_store import TinyStore

    day, run_date = date(2026, 8, 20), date(2026, 8, 21)
    at = datetime(2026, 8, 21, 9, 0, tzinfo=UTC)
    topics = ", ".join(TOPICS[:4])
    store = TinyStore(path)
    try:
        store.update_channel(
            TEMPLATE_ID,
            lambda c: ChannelConfig(
                TEMPLATE_ID,
                team_id="T0001",
                subscribed=True,
                filter_text=topics,
                timezone="Europe/Berlin",
                post_time="09:30",
                last_day=day,
                subscribed_by="U0001",
                created_at=at.isoformat(),
                updated_at=at.isoformat(),
                history=(FilterChange(user_id="U0001", at=at.isoformat(), summary=f"set {topics}"),),
            ),
        )
        keys = tuple(f"2608.{10001 + k:05d}" for k in range(10))
        record = RunRecord(TEMPLATE_ID, run_date, RunState.CLAIMED, uuid.uuid4().hex, at, days=(day,), paper_keys=keys)
        store.claim_run(record)
        store.finish_run(record.replace(state=RunState.POSTED, ts=("1755766800.000100",)))
    finally:
        store.close()
    return json.loads(path.read_text(encoding="utf-8"))


def seed(path: Path, channels: int) -> None:
    """``channels`` copies of the template channel (its settings, a day of ledger, ten posted papers).

    Written as one JSON file: going through the store's API would cost one whole-file rewrite per
    change (minutes for 10,000 channels, measuring nothing of interest).
    """
    with tempfile.TemporaryDirectory(prefix="bench-store-template-") as tmp:
        data = _template(Path(tmp) / "template.json")
    out: dict[str, Any] = {}
    for table, docs in data.items():
        mine = [d for d in docs.values() if isinstance(d, dict) and d.get("channel_id") == TEMPLATE_ID]
        if not mine:  # meta and any table without per-channel documents: kept as they are
            out[table] = docs
            continue
        rows: dict[str, Any] = {}
        for i in range(channels):
            cid = f"C{i:08d}"
            for doc in mine:
                rows[str(len(rows) + 1)] = json.loads(json.dumps(doc).replace(TEMPLATE_ID, cid))
        out[table] = rows
    path.write_text(json.dumps(out, separators=(",", ":")), encoding="utf-8")


def run(quick: bool = False) -> Result:
    from tinydb import TinyDB

    from bot.store.tinydb_store import TinyStore

    channels = 300 if quick else 10_000
    updates = 20 if quick else 200
    opens = 2 if quick else 7
    result = Result()
    rng = random.Random(11)
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        path = Path(tmp) / "papers-bot.json"
        seed(path, channels)
        size_mib = path.stat().st_size / 2**20

        def open_and_list() -> None:
            store = TinyStore(path)
            store.channels()
            store.close()

        open_and_list()  # warm the page cache: we measure parsing, not the disk
        starts = timed(open_and_list, opens)

        store = TinyStore(path)
        try:
            ids = [f"C{rng.randrange(channels):08d}" for _ in range(updates)]
            values = iter(rng.randint(1, 20) for _ in range(updates + 1))
            latencies = []
            for cid in ids:
                start = time.perf_counter()
                store.update_channel(cid, lambda c: c.replace(max_papers=next(values)))
                latencies.append(time.perf_counter() - start)
        finally:
            store.close()

        stock_path = Path(tmp) / "stock.json"
        shutil.copy(path, stock_path)
        db = TinyDB(stock_path)
        table = db.table("channels")
        doc_ids = [doc.doc_id for doc in table.all()]
        stock = timed(
            lambda: table.update({"max_papers": rng.randint(1, 20)}, doc_ids=[rng.choice(doc_ids)]),
            max(5, updates // 10),
        )
        db.close()

    bench = f"store {channels:,} ch"
    result.rows.append(
        Row(
            bench,
            "settings update (update_channel)",
            median(latencies),
            "s",
            p99=p99(latencies),
            samples=len(latencies),
            baseline=f"stock TinyDB update {median(stock) * 1000:.0f} ms",
            ratio=f"{median(stock) / median(latencies):.1f}x faster",
            note=f"file {size_mib:.1f} MiB, fsync + rename each",
        )
    )
    result.rows.append(
        Row(
            bench,
            "start-up: open + list channels",
            median(starts),
            "s",
            p99=max(starts),
            samples=len(starts),
            note=f"file {size_mib:.1f} MiB",
        )
    )
    result.notes.append(
        f"store: {channels:,} channels with filters and history, a day of ledger and 10 posted papers each "
        f"({size_mib:.1f} MiB JSON); updates on random channels; page cache warm."
    )
    return result


if __name__ == "__main__":
    standalone(NAME, run)
