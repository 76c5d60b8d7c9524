"""Files dbox writes that may hold personal data: created 0600 whatever the umask, in one place.

Exports, dry-run files, rejects files, call and walk sheets, rights exports, the unsubscribe queue,
backups: a file created with ``open()`` takes the process umask (0644 for most users), and a file
that already exists keeps its mode through ``O_CREAT``. Every such writer goes through this module:

- ``open_private(path)``: open for writing (or appending), created 0600; an existing regular file
  is tightened to 0600 before anything is written to it.
- ``atomic_private(path)``: the same under a temporary name in the same folder, renamed over
  ``path`` when complete (never a half-written file).
- ``private_umask()``: for files another library creates (SQLite's backups and its -journal).

What holds no personal data (the config file aside, which holds settings) may stay shareable: the
insights report (counts only) is written 0644 on purpose.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO

PRIVATE_MODE = 0o600


def _tighten_fd(fd: int) -> None:
    # Only a regular file: `-o /dev/stdout` must not change the terminal's mode.
    if stat.S_ISREG(os.fstat(fd).st_mode):
        os.fchmod(fd, PRIVATE_MODE)


def open_private(path: Path | str, mode: str = "w", *, encoding: str | None = "utf-8",
                 newline: str | None = None) -> IO:
    """``open(path, mode)`` for writing ("w", "a", "wb", "ab"), the file created 0600 whatever the
    umask and an existing one tightened to 0600."""
    if mode not in ("w", "a", "wb", "ab"):
        raise ValueError(f"open_private: mode {mode!r}")
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if mode.startswith("a") else os.O_TRUNC)
    fd = os.open(path, flags, PRIVATE_MODE)
    try:
        _tighten_fd(fd)
        if "b" in mode:
            return os.fdopen(fd, mode)
        return os.fdopen(fd, mode, encoding=encoding, newline=newline)
    except BaseException:
        os.close(fd)
        raise


def write_private(path: Path | str, data: str | bytes, *, encoding: str = "utf-8") -> None:
    """Write the whole of ``data`` to ``path`` (0600)."""
    binary = isinstance(data, bytes)
    with open_private(path, "wb" if binary else "w", encoding=None if binary else encoding) as fh:
        fh.write(data)


@contextmanager
def atomic_private(path: Path | str, mode: str = "w", *, encoding: str | None = "utf-8", newline: str | None = None):
    """Yield a file written under a temporary name (0600) in ``path``'s folder and renamed over
    ``path`` once the block ends without error; on error the temporary file is removed."""
    path = Path(path)
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_private: mode {mode!r}")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        os.fchmod(fd, PRIVATE_MODE)       # mkstemp says 0600; say it here too, it is the point
        fh = os.fdopen(fd, mode) if mode == "wb" else os.fdopen(fd, mode, encoding=encoding, newline=newline)
        with fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


@contextmanager
def private_umask():
    """Files created inside the block (by SQLite, say) are 0600/0700 at most."""
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def sha256_of(path: Path) -> str:
    """The file's SHA-256, read in 1 MiB blocks: how dbox recognises a file it imported already."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
