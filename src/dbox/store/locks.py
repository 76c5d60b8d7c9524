""""One runner at a time" for a store: a campaign being sent, ``run-due``, ``post``.

SQLite (one machine): a ``flock`` on a file next to the store. PostgreSQL (a store shared by
several machines): a session-level advisory lock (``pg_try_advisory_lock``) held on a connection
of the lock's own, so that a lock file on one machine never stands for a store others use too.

Either way the lock goes with its holder, however it dies: the kernel releases a flock when its
process ends (SIGKILL included), and PostgreSQL ends the session, and with it the advisory lock, when
the connection closes or its process dies. So a campaign whose lock is free while it says
``running`` was left by a dead process, on this machine or another. Each lock has its own file
descriptor or connection: two locks taken in one process exclude each other too (a session-level
advisory lock is re-entrant within its session; one session per lock keeps the two engines alike).
"""

from __future__ import annotations

import fcntl
import os
import socket
import zlib
from pathlib import Path

from dbox.errors import LockedError
from dbox.store.pg import connect
from dbox.i18n import _

# pg_try_advisory_lock(class, object): the class is dbox's and the lock's kind; the object an id.
_KINDS = {"run-due": 1, "campaign": 2, "post": 3}
_CLASS_BASE = 0x64620000       # "db": advisory locks of other applications on the same database


def lock_dir(store_path: Path) -> Path:
    folder = Path(store_path).parent / f"{Path(store_path).name}.locks"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


class FileLock:
    def __init__(self, path: Path, what: str):
        self.path = Path(path)
        self.what = what
        self.fd: int | None = None

    def acquire(self) -> "FileLock":
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
            os.close(fd)
            raise LockedError(_("{what} is already running{holder}; nothing done").format(
                what=self.what, holder=f" (pid {holder})" if holder else "")) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self.fd = fd
        return self

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

    @property
    def held(self) -> bool:
        return self.fd is not None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


class AdvisoryLock:
    """A PostgreSQL advisory lock on a connection of its own (closed on release)."""

    def __init__(self, url: str, kind: str, number: int, what: str):
        self.url = url
        self.key = (_CLASS_BASE + _KINDS[kind], _object_id(number))
        self.what = what
        self.conn = None

    def acquire(self) -> "AdvisoryLock":
        conn = connect(self.url)
        try:
            # Who holds it, for the message: application_name is visible to every session.
            conn.execute("SELECT set_config('application_name', %s, false)",
                         (f"dbox lock pid {os.getpid()} on {socket.gethostname()}"[:63],))
            got = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", self.key).fetchone()[0]
            if not got:
                row = conn.execute(
                    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE l.locktype = 'advisory' AND l.granted AND l.database = "
                    "(SELECT oid FROM pg_database WHERE datname = current_database()) "
                    "AND l.classid = %s AND l.objid = %s AND l.objsubid = 2", self.key).fetchone()
                holder = row[0].removeprefix("dbox lock ") if row and row[0] else None
                raise LockedError(_("{what} is already running{holder}; nothing done").format(
                    what=self.what, holder=f" ({holder})" if holder else ""))
        except BaseException:
            conn.close()
            raise
        self.conn = conn
        return self

    def release(self) -> None:
        if self.conn is not None:
            try:
                # Unlocked before the connection closes: the server ends a closed session a moment
                # later, and a lock taken again at once (by this process or another) must find it free.
                try:
                    self.conn.execute("SELECT pg_advisory_unlock(%s, %s)", self.key)
                except Exception:  # noqa: BLE001 - a broken connection: closing it releases the lock
                    pass
                self.conn.close()         # the session ends: PostgreSQL releases its advisory locks
            finally:
                self.conn = None

    @property
    def held(self) -> bool:
        return self.conn is not None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


def _object_id(number: int) -> int:
    """An id as the int4 ``objid`` of an advisory lock (ids past 2**31 wrap, as a CRC would)."""
    if 0 <= number < 2**31:
        return number
    return zlib.crc32(str(number).encode()) & 0x7FFFFFFF


def store_lock(store, kind: str, number: int, what: str):
    """The lock of one ``kind`` (``run-due``, ``campaign``, ``post``) and ``number`` for ``store``:
    an advisory lock on PostgreSQL, a file next to the store on SQLite. Not yet acquired."""
    if kind not in _KINDS:
        raise ValueError(kind)
    if getattr(store, "engine", "sqlite") == "postgresql":
        return AdvisoryLock(store.url, kind, number, what)
    name = f"{kind}-{number}.lock" if kind == "campaign" else f"{kind}.lock"
    return FileLock(lock_dir(store.path) / name, what)
