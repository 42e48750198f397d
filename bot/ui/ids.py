"""Every action, view and block id the app puts in Slack and listens for, in one place.

Why one module: an id written in a builder and again in a listener is two strings that must never
drift; here each is one constant both sides import, and ``tests/test_manifest.py`` checks the app
manifest declares the command, events and scopes the code uses.
"""

from __future__ import annotations

__all__ = [
    "BIBTEX_CALLBACK",
    "CLEAR_CANCEL",
    "CLEAR_CONFIRM",
    "FOLLOW_ACTION",
    "FORGET_CANCEL",
    "FORGET_CONFIRM",
    "HOME_BIBTEX",
    "HOME_MORE",
    "HOME_READ",
    "HOME_REMOVE",
    "HOME_UNREAD",
    "MORE_ACTION",
    "SAVE_ACTION",
    "SAVE_SHORTCUT",
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

# The team layer (issue 16). The Save button's id and value (the arXiv id without version) are a contract
# shared with link-preview cards (issue 17): any card anywhere saves through the same listener.
SAVE_ACTION = "paper_save"
SAVE_SHORTCUT = "save_paper"  # the message shortcut "Save paper" (manifest: features.shortcuts)
# The reading list in App Home.
HOME_READ = "home_mark_read"
HOME_UNREAD = "home_mark_unread"
HOME_REMOVE = "home_remove"
HOME_BIBTEX = "home_bibtex"
HOME_MORE = "home_more"  # value: the list position to show from
BIBTEX_CALLBACK = "papers_bibtex"  # the modal showing one BibTeX entry
# The `/papers forget me` confirmation.
FORGET_CONFIRM = "papers_forget_confirm"
FORGET_CANCEL = "papers_forget_cancel"
