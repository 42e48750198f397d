"""Which Slack client posts for which workspace, and which workspaces' tokens Slack has rejected.

Why a registry: Slack's posting limits and tokens are per workspace. Each workspace gets its own
``SlackPoster`` (client + pacer), so one workspace's burst never slows another's, and a revoked
token pauses its own workspace's posts and nobody else's. A bot run with one ``SLACK_BOT_TOKEN`` is
the registry with one entry, the default, which serves every workspace that has no poster of its own
(and whose rejection therefore stops all of them, as they share that token). Installations from
"Add to Slack" (issue 15) add their own entries.
"""

from __future__ import annotations

import threading

from bot.slack.client import SlackPoster

__all__ = ["Workspaces"]

_DEFAULT = ""


class Workspaces:
    """Thread-safe: the post run's worker threads ask it for posters and report dead tokens."""

    def __init__(self, default: SlackPoster) -> None:
        self.default = default
        self._posters: dict[str, SlackPoster] = {}
        self._rejected: dict[str, str] = {}  # workspace key -> Slack's error code for its token
        self._lock = threading.Lock()

    def add(self, team_id: str, poster: SlackPoster) -> None:
        """Give a workspace its own token (an installation); a new token clears an old rejection."""
        with self._lock:
            self._posters[team_id] = poster
            self._rejected.pop(team_id, None)

    def _key(self, team_id: str) -> str:
        return team_id if team_id in self._posters else _DEFAULT

    def poster_for(self, team_id: str) -> SlackPoster:
        with self._lock:
            return self._posters.get(team_id, self.default)

    def reject(self, team_id: str, code: str) -> None:
        """Slack refused the token that serves ``team_id``: nothing more is posted with it."""
        with self._lock:
            self._rejected.setdefault(self._key(team_id), code)

    def rejected(self, team_id: str) -> str:
        """Why the token serving ``team_id`` is dead, or "" while it works."""
        with self._lock:
            return self._rejected.get(self._key(team_id), "")

    def any_rejected(self) -> str:
        """The default token's rejection, else any workspace's: what ``/healthz`` reports."""
        with self._lock:
            return self._rejected.get(_DEFAULT) or next(iter(self._rejected.values()), "")

    def posters(self) -> list[SlackPoster]:
        with self._lock:
            return [self.default, *self._posters.values()]
