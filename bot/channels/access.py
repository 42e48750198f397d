"""Who may change a channel's filter and settings (``PAPERS_BOT_CONFIG_ADMINS``).

Empty setting: everyone in the channel may (Slack's own default for channel tools). A list of user
ids: only those people. The word ``admins`` in the list: also the workspace's admins and owners,
looked up with ``users.info`` (needs the ``users:read`` scope) and remembered for a few minutes so
a burst of commands costs one call per person.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

__all__ = ["ADMINS_KEYWORD", "ConfigAccess"]

logger = logging.getLogger(__name__)

ADMINS_KEYWORD = "admins"
_CACHE_SECONDS = 300.0


class ConfigAccess:
    """Answers "may this user configure?"; ``is_workspace_admin`` is the Slack lookup (may raise)."""

    def __init__(
        self,
        allowed: Sequence[str],
        is_workspace_admin: Callable[[str], bool],
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.user_ids = frozenset(a for a in allowed if a.casefold() != ADMINS_KEYWORD)
        self.workspace_admins = any(a.casefold() == ADMINS_KEYWORD for a in allowed)
        self._lookup = is_workspace_admin
        self._monotonic = monotonic
        self._cache: dict[str, tuple[float, bool]] = {}
        self._lock = threading.Lock()

    @property
    def restricted(self) -> bool:
        return bool(self.user_ids) or self.workspace_admins

    def may_configure(self, user_id: str) -> bool:
        if not self.restricted or user_id in self.user_ids:
            return True
        return self.workspace_admins and self._is_admin(user_id)

    def _is_admin(self, user_id: str) -> bool:
        now = self._monotonic()
        with self._lock:
            cached = self._cache.get(user_id)
        if cached and now - cached[0] < _CACHE_SECONDS:
            return cached[1]
        try:
            answer = self._lookup(user_id)
        except Exception as exc:  # a failed lookup refuses (fail closed) but is not remembered
            logger.warning("could not check whether %s is a workspace admin: %s", user_id, type(exc).__name__)
            return False
        with self._lock:
            self._cache[user_id] = (now, answer)
        return answer

    def refusal(self) -> str:
        """The polite answer for everyone else; names who can help."""
        who = []
        if self.user_ids:
            who.append(", ".join(f"<@{u}>" for u in sorted(self.user_ids)[:10]))
        if self.workspace_admins:
            who.append("workspace admins and owners")
        return (
            f":lock: Only {' or '.join(who)} can change papers-bot's settings here, so nothing was changed. "
            "Ask one of them, or see the filter with `/papers topics`."
        )
