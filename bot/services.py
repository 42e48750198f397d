"""The composition root's container: every long-lived collaborator, built once and passed down.

Listeners and jobs receive this object instead of importing globals, so tests build it against the
local fake servers and a controlled clock.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Literal

from bot.channels.access import ConfigAccess
from bot.channels.editor import ChannelEditor
from bot.config import Settings
from bot.feed.archive import Archive, archive_dir_for
from bot.feed.arxiv import ArxivClient
from bot.feed.hf import DayFeed, HFClient
from bot.feed.known import ANSWER_DEADLINE, KnownDays
from bot.feed.papers import Paper
from bot.filters import RelatedTopics
from bot.filters.selection import channel_filter
from bot.filters.semantic import RelatedMatcher, load_related
from bot.installs import Installs
from bot.posting.alerts import Alerts
from bot.posting.follow_ups import FollowUpChecker
from bot.posting.recap import RecapRunner
from bot.posting.runner import PostRunner
from bot.search.finder import PaperFinder
from bot.slack.client import SlackPoster, is_workspace_admin, make_web_client
from bot.slack.pacing import Pacer
from bot.slack.workspaces import Workspaces
from bot.store import Store
from bot.store.scoped import TeamStore
from bot.team.library import TeamLibrary
from bot.unfurl.unfurler import Unfurler

if TYPE_CHECKING:
    from bot.posting.scheduler import PostScheduler
    from bot.slack.installations import OAuthStores

__all__ = ["Services", "build_services"]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    settings: Settings
    store: Store
    hf: HFClient
    feed: DayFeed
    poster: SlackPoster
    runner: PostRunner
    clock: Callable[[], datetime] = utc_now
    access: ConfigAccess = field(default_factory=lambda: ConfigAccess((), lambda _user: False))
    archive: Archive = field(default_factory=Archive)  # every fetched day list, for search fallback
    scheduler: PostScheduler | None = field(default=None)
    follow_ups: FollowUpChecker | None = field(default=None)  # the daily check of posted papers (issue 17)
    unfurler: Unfurler | None = field(default=None)  # link cards (issue 17)
    recaps: RecapRunner | None = field(default=None)  # the weekly recaps (issue 16)
    answer_seconds: float = ANSWER_DEADLINE  # what a command's answer may spend on Hugging Face
    # OAuth mode: the installation and state stores ("Add to Slack"); None with a single token.
    oauth: OAuthStores | None = field(default=None)
    installs: Installs | None = field(default=None)
    # Single-token mode: the workspace the token belongs to (auth.test at start-up); every request is
    # served as that workspace's, whatever team its payload names (one token, one installation).
    home_team: str = ""
    # The workspace these services serve (set by ``for_team``; "" for the whole-deployment services).
    team_id: str = ""
    _access_by_team: dict[str, ConfigAccess] = field(default_factory=dict, repr=False)
    _library: TeamLibrary | None = field(default=None, repr=False)

    @property
    def workspaces(self) -> Workspaces:
        """The poster of every workspace (its token and its pace)."""
        return self.runner.workspaces

    def for_team(self, team_id: str) -> Services:
        """These services as a request from workspace ``team_id`` sees them: its store (its channels,
        reading lists and signals only, ``TeamStore``), its team library over that store, its poster
        (its token only) and its admins. With a single token there is one workspace, ``home_team``,
        and its one poster.

        Raises ``SlackError(not_installed)`` in OAuth mode for a workspace without an installation."""
        if not self.workspaces.oauth:
            team_id, poster, access = self.home_team, self.poster, self.access
        else:
            poster = self.workspaces.poster_for(team_id)
            access = self._access_by_team.get(team_id) or self._admins(team_id, poster)
        store = TeamStore(self.store, team_id)
        return dataclasses.replace(
            self,
            store=store,
            poster=poster,
            access=access,
            team_id=team_id,
            _library=self.library.for_store(store),  # the same membership cache, this workspace's records
        )

    def _admins(self, team_id: str, poster: SlackPoster) -> ConfigAccess:
        client = poster.client
        return self._access_by_team.setdefault(
            team_id, ConfigAccess(self.settings.config_admins, lambda user: is_workspace_admin(client, user))
        )

    def known_days(self) -> KnownDays:
        """Day lists for one command's answer: Hugging Face until the deadline, then the saved copy."""
        return KnownDays(self.feed, self.archive, seconds=self.answer_seconds)

    @property
    def library(self) -> TeamLibrary:
        """Reading lists, signals, team picks (one object: it caches who is in which channel); through
        ``for_team`` it reads and writes that workspace's records only."""
        if self._library is None:
            self._library = TeamLibrary(self.store, self.archive, self.hf, self.clock)
        return self._library

    @property
    def finder(self) -> PaperFinder:
        """Finding papers for ``/papers search`` (Hugging Face, the archive, what a channel was sent)."""
        return PaperFinder(self.hf, self.feed, self.archive, self.store)

    @property
    def editor(self) -> ChannelEditor:
        """Changing channel configuration (permission, defaults, atomic write, history)."""
        return ChannelEditor(self.store, self.access, self.clock, self.settings.timezone)

    def close(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown()
        if self.follow_ups is not None:
            self.follow_ups.stop()
        if self.unfurler is not None:
            self.unfurler.stop(timeout=5.0)  # acknowledged link cards: a few seconds to go out
            if self.unfurler.arxiv is not None:
                self.unfurler.arxiv.close()
        self.hf.close()
        if self.oauth is not None:
            self.oauth.engine.dispose()
        self.store.close()


def open_store(settings: Settings) -> Store:
    """PostgreSQL when ``DATABASE_URL`` is set (state that survives a wiped disk), else the TinyDB file."""
    if settings.database_url:
        from bot.store.sql_store import SqlStore

        return SqlStore(settings.database_url)
    from bot.store.tinydb_store import TinyStore

    return TinyStore(settings.db_path)


def build_services(
    settings: Settings,
    *,
    store: Store | None = None,
    clock: Callable[[], datetime] = utc_now,
    hf_sleep: Callable[[float], None] | None = None,
    archive: Archive | None = None,
    related: RelatedTopics | Literal["load"] | None = "load",
) -> Services:
    """Wire the real clients; ``store`` and ``clock`` are injectable for tests.

    ``related``: the semantic matcher; by default loaded once here (``None`` without the extra)."""
    store = store if store is not None else open_store(settings)  # first: a bad database stops start-up in one line
    if isinstance(related, str):  # "load"
        related = load_related()
    hf = (
        HFClient(settings.hf_endpoint, token=settings.hf_token, sleep=hf_sleep)
        if hf_sleep
        else HFClient(settings.hf_endpoint, token=settings.hf_token)
    )
    if archive is None:
        in_memory = getattr(store, "path", "") is None  # an in-memory store gets an in-memory archive
        archive = Archive(None if in_memory else archive_dir_for(settings.db_path), background=True)
    on_fetch: Callable[[date, list[Paper]], object] = archive.record_day
    if isinstance(related, RelatedMatcher):  # embed each day's papers as soon as they arrive
        warm_papers = related.warm

        def on_fetch(day: date, papers: list[Paper]) -> None:
            archive.record_day(day, papers)
            warm_papers(papers=papers)

        def followed_topics() -> list[str]:
            return sorted({t for c in store.channels() if c.subscribed and c.related for t in channel_filter(c).topics})

        related.warm(topics=followed_topics)
    feed = DayFeed(hf, clock=clock, on_fetch=on_fetch)
    client = make_web_client(settings.slack_bot_token or "xoxb-not-configured", settings.slack_api_url)

    def unfurl_pacer() -> Pacer:  # chat.unfurl's Tier 3, per workspace like every Slack limit
        return Pacer(settings.unfurls_per_minute / 60, burst=10)

    poster = SlackPoster(client, history_per_minute=settings.history_per_minute, unfurl_pacer=unfurl_pacer())
    oauth, registry, installs = _workspaces(settings, store, poster, clock, unfurl_pacer)
    alert_poster: SlackPoster | Callable[[], SlackPoster] = poster
    if settings.alert_team:  # OAuth mode: the alert channel's workspace posts the alerts with its own token
        alert_team = settings.alert_team
        alert_poster = lambda: registry.poster_for(alert_team)  # noqa: E731
    alerts = (
        Alerts(store, alert_poster, settings.alert_channel, clock=clock, name_workspaces=settings.oauth)
        if settings.alert_channel
        else None
    )
    runner = PostRunner(store, feed, registry, clock=clock, alerts=alerts, related=related)
    access = ConfigAccess(settings.config_admins, lambda user: is_workspace_admin(client, user))
    follow_ups = FollowUpChecker(
        store, hf, registry, clock=clock, check_time=time.fromisoformat(settings.follow_up_time)
    )
    runner.on_posted = follow_ups.note_posted  # papers just posted get their baseline look at once
    unfurler = Unfurler(hf, arxiv=ArxivClient(settings.arxiv_api_url), archive=archive)
    recaps = RecapRunner(store, hf, archive, registry, clock=clock, related=related)
    return Services(
        settings,
        store,
        hf,
        feed,
        poster,
        runner,
        clock=clock,
        access=access,
        archive=archive,
        oauth=oauth,
        installs=installs,
        follow_ups=follow_ups,
        unfurler=unfurler,
        recaps=recaps,
    )


def _workspaces(
    settings: Settings,
    store: Store,
    default: SlackPoster,
    clock: Callable[[], datetime],
    unfurl_pacer: Callable[[], Pacer],
) -> tuple[OAuthStores | None, Workspaces, Installs]:
    """The poster registry: one token for everything, or (OAuth mode) each workspace's installation,
    kept encrypted in the bot's own database beside the rest of its state."""
    if not settings.oauth:
        registry = Workspaces(default)
        return None, registry, Installs(store, registry, None, clock=clock)
    from bot.secret_box import SecretBox
    from bot.slack.installations import WorkspaceTokens, open_oauth_stores

    box = SecretBox(settings.secret_keys)
    engine = getattr(store, "engine", None)  # PostgreSQL: the same pool; else the SQLite ledger file
    sqlite_path = None if engine is not None else getattr(store, "ledger_path", None)
    oauth = open_oauth_stores(settings.slack_client_id, box, engine=engine, sqlite_path=sqlite_path)
    tokens = WorkspaceTokens(
        oauth.installations,
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        api_url=settings.slack_api_url,
    )
    api_url, history = settings.slack_api_url, settings.history_per_minute

    def make_poster(token: str) -> SlackPoster:  # each workspace: its token, its own posting, history and unfurl pace
        return SlackPoster(make_web_client(token, api_url), history_per_minute=history, unfurl_pacer=unfurl_pacer())

    registry = Workspaces(default, resolve=tokens.get, make_poster=make_poster)
    return oauth, registry, Installs(store, registry, tokens, clock=clock)
