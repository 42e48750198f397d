"""Every action, view and block id the app puts in Slack and listens for, in one place.

Why one module: an id written in a builder and again in a listener is two strings that must never
drift; here each is one constant both sides import, and ``tests/test_manifest.py`` checks the app
manifest declares the command, events and scopes the code uses.
"""

from __future__ import annotations

__all__ = [
    "CLEAR_CANCEL",
    "CLEAR_CONFIRM",
    "FOLLOW_ACTION",
    "MORE_ACTION",
    "SAVE_ACTION",
    "SETTINGS_CALLBACK",
    "SHARE_ACTION",
    "SLASH_COMMAND",
]

SLASH_COMMAND = "/papers"

# Buttons under search results (ephemeral).
SHARE_ACTION = "search_share"
FOLLOW_ACTION = "search_follow_topic"
MORE_ACTION = "search_more"

# The `/papers clear` confirmation.
CLEAR_CONFIRM = "papers_clear_confirm"
CLEAR_CANCEL = "papers_clear_cancel"

# The settings modal; its input blocks are named in bot/ui/settings_view.py (settings_*).
SETTINGS_CALLBACK = "papers_settings"

# Link cards (issue 17): the Save button. The action and its value (the arXiv id without version) are
# the reading list's contract (issue 16 owns the listener).
SAVE_ACTION = "paper_save"
