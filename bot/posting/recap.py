"""The weekly recap: for every channel that opted in, the week's papers it cared most about, and a chart.

Exactly once per channel and ISO week, through the ledger's ``recap`` kind (period: the covered week,
``2026-W23``), by the daily post's rules: the recap is claimed before Slack is called and recorded
with its ``ts`` after; the message carries the run's tag, so a claim left by a dead process is
settled from the channel's history (arrived → recorded, not sent → sent now, history unreadable →
at most once). A recap record holds no papers and no days: it must not change what the daily post
considers posted, nor the channel's newest day.

The papers: the week's list from ``/api/daily_papers?week=`` (one request per week per run, shared
by every channel), or, when Hugging Face cannot give it, the days of that week the bot already
fetched (its archive). Within the channel's filter, team signals in the channel first (people who
saved, shared or reacted), then Hugging Face upvotes.

The chart goes into the recap's thread after the recap is recorded, so a failed upload can never make
the recap post twice. Where Slack refuses uploads (``file_uploads_disabled``) the recap goes without it
and says so once per channel (``ChannelConfig.recap_notice``).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

from bot.channels.recap import covered_week, due_recap, week_days
from bot.errors import HFError, SlackConnectionLost, SlackError, StoreError
from bot.feed.archive import Archive
from bot.feed.hf import HFClient
from bot.feed.papers import Paper
from bot.filters import RelatedTopics
from bot.filters.run_matcher import RunMatcher
from bot.models import ChannelConfig, RunKind, RunRecord, RunState
from bot.posting.reconcile import CLAIM_LEASE, digest_metadata, find_tagged_posts
from bot.posting.runner import Outcome, RunSummary, fan_out_threads, interleave
from bot.slack.client import AUTH_ERRORS, SlackPoster
from bot.slack.workspaces import Workspaces
from bot.store import Store, ledger_rules
from bot.team.picks import people_per_paper
from bot.ui.chart import ChartBar, alt_text, chart_available, render_chart
from bot.ui.recap import MAX_RECAP_PAPERS, render_recap, uploads_refused_text

__all__ = ["RecapRunner"]

logger = logging.getLogger(__name__)

ALL_MATCHES = 500  # the filter's selection before signals re-rank it (a week holds a few hundred papers)
RETRYABLE_UPLOAD = frozenset({"upload_failed", "service_unavailable", "ratelimited", "internal_error"})
_CHART_CACHE = 256
CHART_CHANNEL_SECONDS = 2.0  # a recap with its chart: draw (~0.1-0.3 s on a busy CPU), post, three upload calls


class RecapRunner:
    """Runs the weekly recaps. Collaborators are injected so tests use the real clients against fakes."""

    def __init__(
        self,
        store: Store,
        hf: HFClient,
        archive: Archive,
        poster: SlackPoster | Workspaces,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        related: RelatedTopics | None = None,
        charts: bool | None = None,
        workers: int | None = None,
    ) -> None:
        self.store = store
        self.hf = hf
        self.archive = archive
        self.workspaces = poster if isinstance(poster, Workspaces) else Workspaces(poster)
        self.clock = clock
        self.related = related
        self.charts = chart_available() if charts is None else charts
        self.workers = workers
        self.last_run: RunSummary | None = None
        self._weeks: dict[str, tuple[float, list[Paper]]] = {}
        self._weeks_lock = threading.Lock()
        self._charts: OrderedDict[tuple[object, ...], bytes] = OrderedDict()
        self._charts_lock = threading.Lock()
        self._in_flight: set[str] = set()
        self._finished: set[tuple[str, str, str]] = set()  # (team, channel, week) recorded POSTED or NOTHING
        self._stopping = threading.Event()
        if not self.charts:
            logger.info("weekly recaps go without a chart: install the 'charts' extra (matplotlib) for one")

    def stop(self) -> None:
        """Start no further channel (a shutdown): the recaps already at Slack finish and are recorded;
        the rest go out from the next process (or leader) the same week."""
        self._stopping.set()

    # --- which channels ----------------------------------------------------------------------------

    def run_due(self, now: datetime | None = None) -> RunSummary:
        """The scheduler tick: every channel whose recap slot passed this week and has no recap yet."""
        if self._stopping.is_set():
            return RunSummary()
        now = now or self.clock()
        due = []
        for config in self.store.channels():
            found = due_recap(now, config)
            if found is None or self.workspaces.rejected(config.team_id):
                continue
            week, local_date = found
            if (config.team_id, config.channel_id, week) in self._finished:
                continue  # a finished recap never becomes due again: no query every minute all week
            existing = self.store.get_entry(config.channel_id, RunKind.RECAP, week, team_id=config.team_id)
            if existing is not None and existing.state in (RunState.POSTED, RunState.NOTHING):
                if len(self._finished) > 100_000:  # a memo, not a ledger: old weeks are simply forgotten
                    self._finished.clear()
                self._finished.add((config.team_id, config.channel_id, week))
            elif existing is None or ledger_rules.may_retry(existing, now) or self._orphaned(existing, now):
                due.append((config, week, local_date))
        if not due:
            return RunSummary()
        return self._run(due, now)

    def run_now(self, now: datetime | None = None, *, channel_id: str | None = None, week: str = "") -> RunSummary:
        """``post-now --kind recap``: every channel with the recap on (or one: ``C0123``, or
        ``T0456/C0123`` where several workspaces have a channel C0123), for ``week`` (default: the week
        each channel's recap covers now); still at most once per channel and week."""
        now = now or self.clock()
        if channel_id:
            team_id, _, channel = channel_id.rpartition("/")
            configs = [
                c
                for c in self.store.channels()
                if c.channel_id == channel and c.recap_day is not None and (not team_id or c.team_id == team_id)
            ]
            error = ""
            if len(configs) > 1:
                error = "several workspaces have this channel; name one: " + ", ".join(
                    f"{c.team_id}/{channel}" for c in configs
                )
            elif not configs:
                error = "the weekly recap is off in this channel"
            if error:
                summary = RunSummary(errors={channel_id: error})
                self.last_run = summary
                return summary
        else:
            configs = [c for c in self.store.channels() if c.recap_day is not None and not c.paused_reason]
        due = []
        for config in configs:
            local_date = now.astimezone(ZoneInfo(config.timezone)).date()
            found = due_recap(now, config.replace(recap_since=""))
            covered = week or (found[0] if found else _previous_covered(local_date, config))
            due.append((config, covered, local_date))
        return self._run(due, now)

    def _orphaned(self, record: RunRecord, now: datetime) -> bool:
        return ledger_rules.is_orphaned(record, now, CLAIM_LEASE) and record.run_id not in self._in_flight

    # --- running -----------------------------------------------------------------------------------

    def _run(self, due: list[tuple[ChannelConfig, str, date]], now: datetime) -> RunSummary:
        started = time.monotonic()
        summary = RunSummary()
        due = interleave(due)  # workspaces take turns: each has its own pace (``runner.interleave``)
        wide = [config.replace(max_papers=ALL_MATCHES) for config, _, _ in due]
        matcher = RunMatcher(wide, related=self.related)

        def one(item: tuple[ChannelConfig, str, date]) -> None:
            config, week, local_date = item
            if self._stopping.is_set() or self.workspaces.rejected(config.team_id):
                return  # not claimed: a later tick (or the next process) posts it this week
            try:
                outcome = self._run_channel(config, week, local_date, now, summary, matcher)
            except Exception as exc:  # one channel's failure must not stop the others
                logger.exception("recap for %s failed unexpectedly", self._name(config))
                summary.errors[self._name(config)] = f"unexpected error: {type(exc).__name__}"
                outcome = Outcome.FAILED
            summary.outcomes[self._name(config)] = outcome

        summary.workers = self._pool_size(due)
        if summary.workers == 1:
            for item in due:
                one(item)
        else:
            with ThreadPoolExecutor(max_workers=summary.workers, thread_name_prefix="recap") as pool:
                list(pool.map(one, due))
        summary.duration = time.monotonic() - started
        self.last_run = summary
        logger.info(
            "recap run: channels=%d posted=%d nothing=%d skipped=%d failed=%d duration=%.2fs",
            len(due),
            summary.count(Outcome.POSTED),
            summary.count(Outcome.NOTHING),
            summary.count(Outcome.SKIPPED),
            summary.count(Outcome.FAILED),
            summary.duration,
        )
        return summary

    def _name(self, config: ChannelConfig) -> str:
        return self.workspaces.label(config.team_id, config.channel_id)

    def _pool_size(self, due: Sequence[tuple[ChannelConfig, str, date]]) -> int:
        """As for the daily post: enough threads to keep the pacers' slots filled (the sum of the
        workspaces' rates: each has its own). A channel holds its thread about 2 s with a chart
        (drawing it, then three round trips to upload it) against half a second without: sized at
        Slack's 285 posts a minute that is 16 threads for one workspace, mostly waiting."""
        seconds = CHART_CHANNEL_SECONDS if self.charts else 0.5
        return fan_out_threads(self.workspaces, [c.team_id for c, _, _ in due], seconds, self.workers)

    def _run_channel(
        self,
        config: ChannelConfig,
        week: str,
        local_date: date,
        now: datetime,
        summary: RunSummary,
        matcher: RunMatcher,
    ) -> str:
        channel = config.channel_id
        existing = self.store.get_entry(channel, RunKind.RECAP, week, team_id=config.team_id)
        if existing is not None and self._orphaned(existing, now):
            existing = self._settle(existing)
        if existing is not None and existing.state != RunState.FAILED:
            return Outcome.SKIPPED
        try:
            papers = self._week_papers(week, now)
        except HFError as exc:
            summary.errors[self._name(config)] = str(exc)
            return Outcome.FAILED
        picks = self._picks(config, week, papers, matcher)
        record = RunRecord(
            channel_id=channel,
            local_date=local_date,
            state=RunState.CLAIMED,
            run_id=uuid.uuid4().hex,
            claimed_at=now,
            kind=RunKind.RECAP,
            period=week,
            team_id=config.team_id,
        )
        if not picks:
            if self.store.claim_run(record):
                self.store.finish_run(record.replace(state=RunState.NOTHING))
            return Outcome.NOTHING
        if not self.store.claim_run(record):
            return Outcome.SKIPPED
        self._in_flight.add(record.run_id)
        try:
            return self._post(config, record, week, picks, summary)
        finally:
            self._in_flight.discard(record.run_id)

    def _post(
        self, config: ChannelConfig, record: RunRecord, week: str, picks: list[tuple[Paper, int]], summary: RunSummary
    ) -> str:
        channel, name = config.channel_id, self._name(config)
        message = render_recap(week, week_days(week), picks, chart=self.charts)
        metadata = digest_metadata(record.run_id, record.local_date, message.paper_keys)
        try:
            poster = self.workspaces.poster_for(config.team_id)  # its workspace's token (OAuth: or not_installed)
            ts = poster.post_message(channel, text=message.text, blocks=message.blocks, metadata=metadata)
        except SlackConnectionLost as exc:
            settled = self._settle(record)
            summary.errors[name] = exc.code
            return Outcome.POSTED if settled.state == RunState.POSTED else Outcome.FAILED
        except SlackError as exc:
            summary.errors[name] = exc.code
            self.store.fail_run(record.replace(state=RunState.FAILED, error=exc.code))
            if exc.code in AUTH_ERRORS:
                self.workspaces.reject(config.team_id, exc.code)
            return Outcome.FAILED
        self.store.finish_run(record.replace(state=RunState.POSTED, ts=(ts,)))
        if self.charts:
            self._attach_chart(poster, config, ts, week, picks)
        return Outcome.POSTED

    def _settle(self, record: RunRecord) -> RunRecord:
        """A recap claim whose outcome is unknown: Slack's history says (see the module docstring)."""
        try:
            poster = self.workspaces.poster_for(record.team_id)
        except SlackError:  # no installation: its history cannot be read either
            found = None
        else:
            found = find_tagged_posts(
                poster, record.channel_id, record.run_id, record.claimed_at - timedelta(minutes=5)
            )
        if found is None:
            settled = record.replace(state=RunState.POSTED, error="unsettled: history unreadable")
            logger.error(
                "channel %s: recap %s cut off and history unreadable; not re-posting", record.channel_id, record.period
            )
        elif found:
            settled = record.replace(state=RunState.POSTED, ts=tuple(p.ts for p in found), error="settled from history")
        else:
            self.store.fail_run(record.replace(state=RunState.FAILED, error="cut off before posting"))
            stored = self.store.get_entry(record.channel_id, record.kind, record.period, team_id=record.team_id)
            return stored or record
        self.store.finish_run(settled)
        return settled

    # --- the papers --------------------------------------------------------------------------------

    def _week_papers(self, week: str, now: datetime) -> list[Paper]:
        """The week's papers: Hugging Face's week list (once per run and ten minutes), else the archive's
        days of that week. Raises HFError only when neither has anything."""
        with self._weeks_lock:
            cached = self._weeks.get(week)
            if cached is not None and time.monotonic() - cached[0] < 600:
                return cached[1]
            try:
                papers = self.hf.weekly_papers(week)
            except HFError as exc:
                papers = []
                logger.warning("week %s: Hugging Face unavailable (%s); using the days already fetched", week, exc)
            if not papers:
                papers = [p for day in week_days(week) for p in self.archive.day_papers(day)]
                if not papers:
                    raise HFError(f"no papers for week {week}: Hugging Face and the archive have none")
            self._weeks[week] = (time.monotonic(), papers)
            return papers

    def _picks(
        self, config: ChannelConfig, week: str, papers: Sequence[Paper], matcher: RunMatcher
    ) -> list[tuple[Paper, int]]:
        """Within the channel's filter: most people signalling here first, then most upvotes."""
        selection = matcher.select(config.replace(max_papers=ALL_MATCHES), papers, set())
        if not selection.papers:
            return []
        monday = datetime.combine(week_days(week)[0], clock_time(0, 0), tzinfo=UTC) - timedelta(days=1)
        try:
            signals = self.store.signals(config.team_id, since=monday, channel_ids=[config.channel_id])
        except StoreError as exc:
            logger.warning("channel %s: signals unreadable (%s); ranking by upvotes only", config.channel_id, exc)
            signals = []
        people = {key: count for key, (_, count) in people_per_paper(signals).items()}
        ranked = sorted(selection.papers, key=lambda p: (-people.get(p.key, 0), -p.upvotes, p.key))
        return [(paper, people.get(paper.key, 0)) for paper in ranked[: min(config.max_papers, MAX_RECAP_PAPERS)]]

    # --- the chart ---------------------------------------------------------------------------------

    def _chart(self, week: str, bars: list[ChartBar]) -> bytes:
        """Drawn once per distinct chart: channels with the same filter and no signals share one."""
        key = (week, *((b.title, b.upvotes, b.people) for b in bars))
        with self._charts_lock:
            if key in self._charts:
                self._charts.move_to_end(key)
                return self._charts[key]
        png = render_chart(week, bars)
        with self._charts_lock:
            self._charts[key] = png
            while len(self._charts) > _CHART_CACHE:
                self._charts.popitem(last=False)
        return png

    def _attach_chart(
        self, poster: SlackPoster, config: ChannelConfig, ts: str, week: str, picks: list[tuple[Paper, int]]
    ) -> None:
        """Upload the chart into the recap's thread; a refusal is said once per channel, then silence."""
        bars = [ChartBar(paper.title, paper.upvotes, people) for paper, people in picks]
        try:
            png = self._chart(week, bars)
        except Exception:  # a drawing bug must not cost the recap, which is already posted
            logger.exception("channel %s: could not draw the recap chart", config.channel_id)
            return
        try:
            poster.upload_file(
                config.channel_id,
                png,
                filename=f"recap-{week}.png",
                title=f"Week {week}: this channel's picks",
                alt_text=alt_text(week, bars),
                thread_ts=ts,
            )
        except SlackError as exc:
            if exc.code in RETRYABLE_UPLOAD or exc.retryable:
                logger.warning("channel %s: the recap chart upload failed (%s)", config.channel_id, exc.code)
                return
            self._refused(poster, config, ts, exc.code)

    def _refused(self, poster: SlackPoster, config: ChannelConfig, ts: str, code: str) -> None:
        logger.warning("channel %s: Slack refused the recap chart (%s)", config.channel_id, code)
        if config.recap_notice:
            return  # said once already
        try:
            poster.post_message(config.channel_id, text=uploads_refused_text(code), thread_ts=ts)
        except SlackError as exc:
            logger.warning("channel %s: could not say that the chart is missing (%s)", config.channel_id, exc.code)
            return
        self.store.update_channel(config.channel_id, lambda c: c.replace(recap_notice=code), team_id=config.team_id)


def _previous_covered(local_date: date, config: ChannelConfig) -> str:
    """The week of the last slot that passed (``post-now`` before this week's slot: last week's recap)."""
    assert config.recap_day is not None
    this_week = local_date - timedelta(days=local_date.weekday() - config.recap_day)
    return covered_week(this_week - timedelta(days=7))
