"""Replace a file so that a crash at any instant leaves the old contents or the new, never a torn mix.

Why one helper: the TinyDB store and the search archive both rewrite whole files while a SIGKILL or a
power cut may land at any moment; the sequence (temp file in the same folder, fsync, ``os.replace``,
fsync the folder) is easy to get subtly wrong, so it lives here once.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path
from tempfile import mkstemp

__all__ = ["fsync_dir", "replace_atomically", "temp_prefix"]


def temp_prefix(path: Path) -> str:
    """Temp files of ``path`` start with this, so a later open can find and remove stale ones."""
    return f".{path.name}."


def replace_atomically(path: Path, chunks: Iterable[bytes]) -> None:
    """Write ``chunks`` as the new contents of ``path``; readers see the old file or the new one."""
    fd, tmp = mkstemp(dir=path.parent, prefix=temp_prefix(path), suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.writelines(chunks)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def fsync_dir(directory: Path) -> None:
    """Make the rename itself durable; without it a power cut can bring back the old file."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
