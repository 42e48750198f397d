"""Link cards under a burst: 200 ``link_shared`` events at once against ``python -m bot serve``.

``python -m bench.bench_unfurl [--quick]``. What is real: the bot as its own process (signed JSON events
over HTTP, Bolt, the unfurler's pool and per-paper cache, the real ``HFClient`` and ``WebClient``).
What is simulated, in another process: Slack (50 ms a call; ``chat.unfurl`` answered 429 beyond 50 in
any 60 s, Slack's Tier-3 floor, when enforced) and Hugging Face (200 ms a paper page).

The burst: 200 messages in 10 channels from 20 sender threads, linking 20 papers (each ten times, in
the link forms people paste: abs, pdf, html, huggingface.co/papers, hf.co/papers). Measured: the HTTP
acknowledgement of each event, each card's latency (event sent → ``chat.unfurl`` received by the fake
Slack; both processes read the same system-wide monotonic clock), the upstream calls made, the 429s.

Two runs. **As shipped**: the bot keeps Slack's Tier 3 (a burst of 10, then 40 a minute), so 200 cards
take about 285 s whatever the bot does: the figure is Slack's budget, honestly kept. **Limit lifted**
(``PAPERS_BOT_UNFURLS_PER_MINUTE`` = 100,000 and no limit on the fake): what the bot itself costs.
"""

from __future__ import annotations

import http.client
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.botproc import SIGNING_SECRET, BotProcess
from bench.common import Result, Row, median, percentile, standalone
from bench.fakes_proc import FakeConfig, FakesProcess

NAME = "unfurl"
SENDERS = 20
FORMS = (
    "https://arxiv.org/abs/{id}",
    "https://arxiv.org/pdf/{id}v1",
    "https://arxiv.org/html/{id}v2",
    "https://huggingface.co/papers/{id}",
    "https://hf.co/papers/{id}",
)


def _event(i: int, paper_ids: list[str]) -> tuple[str, str, bytes]:
    """(channel, message ts, body) of the ``i``-th message: ``paper_ids[i % n]`` in form ``i % 5``."""
    from tests.fakes.signing import event_callback_body, link_shared_event

    channel, ts = f"C{i % 10:08d}", f"1800000000.{i:06d}"
    url = FORMS[i % len(FORMS)].format(id=paper_ids[i % len(paper_ids)])
    body = event_callback_body(link_shared_event([url], channel=channel, message_ts=ts), event_id=f"EvB{i:06d}")
    return channel, ts, body.encode()


def burst(bot_url: str, events: list[tuple[str, str, bytes]]) -> tuple[dict[str, float], list[float]]:
    """Send every event from ``SENDERS`` threads at once; returns target -> send time, and ack times."""
    from tests.fakes.signing import signed_headers

    split = urlsplit(bot_url)
    sent: dict[str, float] = {}
    acks: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(SENDERS)

    def sender(k: int) -> None:
        conn = http.client.HTTPConnection(split.hostname or "127.0.0.1", split.port or 80, timeout=30)
        barrier.wait()
        for channel, ts, body in events[k::SENDERS]:
            headers = {**signed_headers(body, SIGNING_SECRET), "Content-Type": "application/json"}
            start = time.monotonic()
            conn.request("POST", "/slack/events", body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            with lock:
                sent[f"{channel}/{ts}"] = start
                if response.status == 200:
                    acks.append(time.monotonic() - start)
                else:
                    errors.append(f"HTTP {response.status}")
        conn.close()

    threads = [threading.Thread(target=sender, args=(k,)) for k in range(SENDERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"events refused: {errors[:5]}")
    return sent, acks


def one_run(label: str, n_events: int, distinct: int, *, tier3: bool) -> tuple[list[Row], str]:
    config = FakeConfig(
        latency=0.05, enforce_rate_limits=False, papers=100, hf_latency=0.2, unfurls_per_minute=50 if tier3 else None
    )
    env = {} if tier3 else {"PAPERS_BOT_UNFURLS_PER_MINUTE": "100000"}
    rows: list[Row] = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-unfurl-") as tmp,
        FakesProcess(config) as fakes,
        BotProcess(fakes.urls, Path(tmp) / "papers-bot.json", env=env) as bot,
    ):
        paper_ids = [f"2608.{10001 + i:05d}" for i in range(distinct + 1)]
        warm = _event(999_999, [paper_ids.pop()])  # imports, first connections: not part of the burst
        burst(bot.url, [warm] * SENDERS)  # one event id twenty times: the HTTP edge runs it once
        _wait_unfurls(fakes, 1, 30)
        fakes.reset()  # the fake's Tier-3 window starts empty; the bot's pacer has spent one of its burst
        events = [_event(i, paper_ids) for i in range(n_events)]
        sent, acks = burst(bot.url, events)
        stats = _wait_unfurls(fakes, n_events, 600)
    arrived = stats["unfurl_times"]
    latencies = [arrived[target] - start for target, start in sent.items() if target in arrived]
    missing = n_events - len(latencies)
    floor = max(n_events - 9, 0) / 40 * 60  # 9 left of the burst of 10 after the warm-up, then 40 a minute
    p95 = percentile(latencies, 95)
    rows.append(
        Row(
            "unfurl burst",
            f"{n_events} events, {label}: card latency",
            median(latencies),
            "s",
            p99=percentile(latencies, 99),
            samples=len(latencies),
            ratio=f"p95 {p95:.2f} s; last {max(latencies):.1f} s"
            + (f"; Tier-3 floor for the last {floor:.0f} s" if tier3 else ""),
            goal="every card, no 429" if tier3 else "",
            ok=(missing == 0 and stats["unfurl_rate_limited"] == 0) if tier3 else None,
            note=f"{missing} missing" if missing else "",
        )
    )
    rows.append(
        Row(
            "unfurl burst",
            f"{n_events} events, {label}: HTTP ack",
            median(acks),
            "s",
            p99=percentile(acks, 99),
            samples=len(acks),
            ratio=f"p99 = {percentile(acks, 99) / 3:.2%} of Slack's 3 s",
            goal="p99 < 2% of 3 s",
            ok=percentile(acks, 99) < 0.06,
        )
    )
    rows.append(
        Row(
            "unfurl burst",
            f"{n_events} events, {label}: Hugging Face requests",
            stats["hf_paper_requests"],
            "count",
            samples=1,
            baseline=f"one per event: {n_events}",
            ratio=f"{n_events / max(stats['hf_paper_requests'], 1):.0f}x fewer",
            goal=f"= {distinct} papers",
            ok=stats["hf_paper_requests"] == distinct,
            note=f"chat.unfurl calls {stats['unfurl_calls']}, 429s {stats['unfurl_rate_limited']}",
        )
    )
    detail = json.dumps({"label": label, "p95": p95, "429": stats["unfurl_rate_limited"]})
    return rows, detail


def _wait_unfurls(fakes: FakesProcess, n: int, timeout: float) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while True:
        stats = fakes.stats()
        if len(stats["unfurl_times"]) >= n or time.monotonic() > deadline:
            return stats
        time.sleep(0.1)


def run(quick: bool = False) -> Result:
    result = Result()
    n_events, distinct = (12, 4) if quick else (200, 20)
    for label, tier3 in (("limit lifted", False), ("Tier 3 kept (as shipped)", True)):
        rows, _ = one_run(label, n_events, distinct, tier3=tier3)
        result.rows += rows
    result.notes.append(
        f"unfurl burst: {n_events} signed link_shared events from {SENDERS} threads to `python -m bot serve`, "
        f"{distinct} distinct papers in five link forms; Slack 50 ms a call, Hugging Face 200 ms a paper page; "
        "card latency = event sent -> chat.unfurl received by the fake Slack; percentiles nearest-rank."
    )
    return result


if __name__ == "__main__":
    standalone(NAME, run)
