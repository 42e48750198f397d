"""Bot tokens at rest: encrypted with Fernet (AES-128-CBC + HMAC-SHA256) from ``cryptography``.

Why: an installation store holds a working bot token for every workspace that installed the app; a
leaked database backup or a read-only SQL injection must not hand them out. The key lives outside
the database (``PAPERS_BOT_SECRET_KEY``), so the database alone decrypts nothing.

Several comma-separated keys rotate the key: the first encrypts, every one decrypts (``MultiFernet``),
so a new key goes first and the old one stays until every token was re-saved (tokens are re-saved at
every reinstall and every token rotation). A value that decrypts with none of them is treated as no
token at all: the workspace must install again, and nothing about the value is logged.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

__all__ = ["PREFIX", "SecretBox", "valid_key"]

PREFIX = "fernet:"  # marks an encrypted value, so a plaintext one is never mistaken for it


def valid_key(key: str) -> bool:
    """A Fernet key: 32 bytes in URL-safe base64 (44 characters)."""
    try:
        return len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32 and len(key) == 44
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return False


class SecretBox:
    """Encrypts and decrypts token strings; ``None`` and ``""`` pass through (no token)."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("at least one key is needed")
        self._fernet = MultiFernet([Fernet(k.encode("ascii")) for k in keys])

    def seal(self, value: str | None) -> str | None:
        if not value:
            return value
        return PREFIX + self._fernet.encrypt(value.encode()).decode("ascii")

    def open(self, value: str | None) -> str | None:
        """The plaintext, or ``None`` when ``value`` is not something this box sealed with its keys."""
        if not value:
            return value
        if not value.startswith(PREFIX):
            return None  # never trust a plaintext token found at rest
        try:
            return self._fernet.decrypt(value[len(PREFIX) :].encode("ascii")).decode()
        except (InvalidToken, UnicodeError):
            return None
