"""Which Slack client posts for which workspace, and which workspaces' tokens Slack has rejected.

Why a registry: Slack's posting limits and tokens are per workspace. Each workspace gets its own
``SlackPoster`` (client + pacer), so one workspace's burst never slows another's, and a revoked
token pauses its own workspace's posts and nobody else's.

Two modes:

* **single token** (``SLACK_BOT_TOKEN``): the registry with one entry, the default, which serves every
  workspace (and whose rejection therefore stops all of them, as they share that token);
* **OAuth** ("Add to Slack", ``resolve`` given): each workspace's poster is built from its
  installation's token the first time it is needed, and rebuilt when the token rotates or the
  workspace installs again. A workspace with no installation has no poster at all: nothing is ever
  posted for it with another workspace's token. A rejected token is asked about again (at most once
  a minute): a reinstall in another process (the web dyno, while this is the worker) brings it back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.errors import SlackError
from bot.slack.client import SlackPoster
from bot.slack.installations import InstalledToken

__all__ = ["NOT_INSTALLED", "Workspaces"]

_DEFAULT = ""
NOT_INSTALLED = "not_installed"  # the workspace has no installation (never installed, uninstalled, revoked)
RECHECK_SECONDS = 60.0  # how often a workspace without a working token is looked up again
ROTATE_MARGIN_SECONDS = 300.0  # a cached rotating token this close to expiry is looked up (and rotated) again


@dataclass
class _Entry:
    poster: SlackPoster
    token: str
    expires_at: float | None


class Workspaces:
    """Thread-safe: the post run's worker threads ask it for posters and report dead tokens."""

    def __init__(
        self,
        default: SlackPoster,
        *,
        resolve: Callable[[str], InstalledToken | None] | None = None,
        make_poster: Callable[[str], SlackPoster] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.default = default
        self._resolve = resolve
        self.make_poster = make_poster  # token -> a poster with its own pacer (benchmarks set their caps here)
        self._clock = clock
        self._posters: dict[str, SlackPoster] = {}
        self._entries: dict[str, _Entry] = {}  # OAuth mode: team -> its poster and the token it holds
        self._rejected: dict[str, str] = {}  # workspace key -> Slack's error code for its token
        self._checked: dict[str, float] = {}  # OAuth mode: team -> when its missing/rejected token was looked up
        self._lock = threading.Lock()

    @property
    def oauth(self) -> bool:
        return self._resolve is not None

    def label(self, team_id: str, channel_id: str) -> str:
        """How run summaries and logs name a channel: its id, or with many workspaces ``T…/C…`` (the
        same channel id may exist in two of them)."""
        return f"{team_id}/{channel_id}" if self.oauth else channel_id

    def total_rate(self, team_ids: Iterable[str]) -> float:
        """Posts a second these workspaces may send together (each has its own pacer); a workspace with
        no installation counts nothing, since its channels will not post."""
        rate = 0.0
        for team_id in set(team_ids):
            try:
                rate += self.poster_for(team_id).pacer.rate
            except SlackError:
                continue
        return rate

    def add(self, team_id: str, poster: SlackPoster) -> None:
        """Give a workspace its own token (an installation); a new token clears an old rejection."""
        with self._lock:
            self._posters[team_id] = poster
            self._rejected.pop(team_id, None)

    def _key(self, team_id: str) -> str:
        if self.oauth:
            return team_id
        return team_id if team_id in self._posters else _DEFAULT

    def poster_for(self, team_id: str) -> SlackPoster:
        """The poster holding ``team_id``'s token; in OAuth mode raises ``SlackError(not_installed)``
        when the workspace has no installation (never the default or another workspace's poster)."""
        if not self.oauth:
            with self._lock:
                return self._posters.get(team_id, self.default)
        entry = self._entry(team_id)
        if entry is None:
            raise SlackError(NOT_INSTALLED)
        return entry.poster

    def _entry(self, team_id: str) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(team_id)
            fresh = entry is not None and (
                entry.expires_at is None or entry.expires_at - self._clock() > ROTATE_MARGIN_SECONDS
            )
            if fresh:
                return entry
        return self._refresh(team_id)

    def _refresh(self, team_id: str) -> _Entry | None:
        """Look the workspace's token up (rotating it when due); keep its poster and pacer when the
        token changes, so a rotation does not reset the workspace's posting pace."""
        assert self._resolve is not None and self.make_poster is not None
        installed = self._resolve(team_id)
        with self._lock:
            self._checked[team_id] = self._clock()
            entry = self._entries.get(team_id)
            if installed is None:
                self._entries.pop(team_id, None)
                return None
            if entry is None:
                entry = self._entries[team_id] = _Entry(
                    self.make_poster(installed.token), installed.token, installed.expires_at
                )
            elif entry.token != installed.token:
                entry.poster.client.token = installed.token
                entry.token, entry.expires_at = installed.token, installed.expires_at
                self._rejected.pop(team_id, None)  # a new token: the old one's rejection says nothing
            else:
                entry.expires_at = installed.expires_at
            return entry

    def reject(self, team_id: str, code: str) -> None:
        """Slack refused the token that serves ``team_id``: nothing more is posted with it."""
        with self._lock:
            self._rejected.setdefault(self._key(team_id), code)
            self._checked[team_id] = self._clock()

    def rejected(self, team_id: str) -> str:
        """Why the token serving ``team_id`` is dead (or, in OAuth mode, missing), or "" while it works."""
        if not self.oauth:
            with self._lock:
                return self._rejected.get(self._key(team_id), "")
        with self._lock:
            code = self._rejected.get(team_id, "")
            known = team_id in self._entries
            recheck = self._clock() - self._checked.get(team_id, float("-inf")) >= RECHECK_SECONDS
        if known and not code:
            return ""
        if not recheck:
            return code or NOT_INSTALLED
        entry = self._refresh(team_id)
        with self._lock:
            if entry is None:
                return self._rejected.get(team_id) or NOT_INSTALLED
            return self._rejected.get(team_id, "")

    def forget(self, team_id: str, reason: str) -> None:
        """The workspace uninstalled the app or revoked its token: drop its poster at once."""
        with self._lock:
            self._entries.pop(team_id, None)
            self._posters.pop(team_id, None)
            self._rejected[team_id] = reason
            self._checked[team_id] = self._clock()

    def installed(self, team_id: str) -> None:
        """The workspace (re)installed the app in this process: look its token up at the next post."""
        with self._lock:
            self._entries.pop(team_id, None)
            self._rejected.pop(team_id, None)
            self._checked.pop(team_id, None)

    def any_rejected(self) -> str:
        """The default token's rejection, else any workspace's: what ``/healthz`` reports. In OAuth mode
        one workspace's revoked token is that workspace's business, not the process's health."""
        if self.oauth:
            return ""
        with self._lock:
            return self._rejected.get(_DEFAULT) or next(iter(self._rejected.values()), "")

    def posters(self) -> list[SlackPoster]:
        with self._lock:
            if self.oauth:
                return [entry.poster for entry in self._entries.values()]
            return [self.default, *self._posters.values()]
