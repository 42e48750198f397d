"""Changing a channel's configuration: the one use case every filter command, the settings form, the
subscribe command and the search result's "Follow" button go through.

Why one path: each change must check who may configure (``PAPERS_BOT_CONFIG_ADMINS``), start a new
channel from the deployment's defaults, be one atomic read-change-write, and land in the channel's
history with who and when. Written once here, it takes only what it needs (the store, the access
rule, the clock, the default time zone), not the whole ``Services`` bag, so listeners stay thin and
tests can drive it with an in-memory store.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.channels.access import ConfigAccess
from bot.channels.edits import Edit, apply_follow, follow_text, record_change
from bot.errors import NotAllowedError, UserInputError
from bot.models import ChannelConfig
from bot.store.base import Store

__all__ = ["ChannelEditor"]

# Slack conversation ids: C (public), G (private, older), D (DM), then letters and digits.
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{1,30}")


@dataclass(frozen=True)
class ChannelEditor:
    store: Store
    access: ConfigAccess
    clock: Callable[[], datetime]
    default_timezone: str

    def check_may_configure(self, user_id: str) -> None:
        if not self.access.may_configure(user_id):
            raise NotAllowedError(self.access.refusal())

    def apply(self, channel_id: str, user_id: str, edit: Callable[[ChannelConfig], Edit]) -> Edit:
        """Check permission, then read-change-write the channel atomically and record the change;
        returns what was stored and the edit's summary.

        A request that names no channel (a button payload without one, a hand-made request) is
        refused before anything is read or written: it would otherwise create a record for "".
        The channel's workspace is the store's: listeners edit through their workspace's view
        (``Services.for_team``), so a new channel belongs to the workspace the request came from.
        """
        if not _CHANNEL_ID.fullmatch(channel_id or ""):
            raise UserInputError("I couldn't tell which channel this is for. Please run the command again there.")
        self.check_may_configure(user_id)
        at = self.clock().astimezone(UTC).isoformat(timespec="seconds")
        summaries: list[str] = []

        def apply(config: ChannelConfig) -> ChannelConfig:
            if not config.created_at:  # first contact: the channel starts from the deployment's defaults
                config = config.replace(created_at=at, timezone=self.default_timezone)
            new, summary = edit(config)
            summaries.append(summary)
            return record_change(new, user_id, at, summary)

        config = self.store.update_channel(channel_id, apply)
        return config, summaries[-1]

    def change(
        self,
        channel_id: str,
        user_id: str,
        summary: str,
        change: Callable[[ChannelConfig], ChannelConfig],
    ) -> ChannelConfig:
        """``apply`` for a change whose summary the caller already wrote (the settings form)."""
        config, _ = self.apply(channel_id, user_id, lambda c: (change(c), summary))
        return config

    def follow_topics(self, channel_id: str, user_id: str, topics: list[str]) -> ChannelConfig:
        """Add topics as typed (one phrase each), e.g. from a search result's "Follow as topic" button."""
        text = follow_text(topics)  # the same text ``can_follow_topic`` checks before offering the button
        config, _ = self.apply(channel_id, user_id, lambda c: apply_follow(c, text))
        return config
