"""Opening the SQLite store: file modes, pragmas, migrations.

The store file is created 0600 inside a 0700 folder, and its modes (and those of its -wal/-shm
files) are checked at every open and tightened with a warning. WAL mode lets readers run while a
send writes; a busy timeout makes concurrent writers wait instead of failing.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import warnings
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

from dbox.errors import StoreError
from dbox.paths import default_data_dir

BUSY_TIMEOUT_MS = int(os.environ.get("DBOX_BUSY_TIMEOUT_MS") or 30_000)


def utcnow() -> str:
    """Timestamps are ISO-8601 UTC text with seconds: sortable and comparable as text."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _migrations() -> list[tuple[int, str, str]]:
    folder = resources.files("dbox.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append((int(name[:4]), name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def schema_version() -> int:
    """The schema version this dbox writes: the number of its newest migration."""
    return _migrations()[-1][0]


class Store:
    """An open contact store: a sqlite3 connection plus its path.

    The store's SQL lives in the modules of ``dbox.store``; they take a ``Store`` as first argument.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path):
        self.conn = conn
        self.path = path

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def transaction(self, immediate: bool = False):
        return _Transaction(self.conn, immediate)

    def execute(self, sql: str, params=()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)


class _Transaction:
    """``with store.transaction():`` BEGIN ... COMMIT, ROLLBACK on any exception."""

    def __init__(self, conn: sqlite3.Connection, immediate: bool):
        self.conn = conn
        self.immediate = immediate

    def __enter__(self):
        self.conn.execute("BEGIN IMMEDIATE" if self.immediate else "BEGIN")
        return self.conn

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.conn.execute("COMMIT")
        else:
            self.conn.execute("ROLLBACK")
        return False


def fault_text(error: str, path: Path | str | None = None) -> tuple[str, str]:
    """(message, hint) for an SQLite failure that is the machine's, not dbox's: disk full, a file
    that cannot be written, a lock held by another process past the busy timeout."""
    where = f"{path}: " if path else ""
    low = error.lower()
    if "full" in low:
        return (f"{where}the disk is full ({error})",
                "free some disk space, then run the same command again (nothing was lost: it resumes)")
    if "readonly" in low or "read-only" in low:
        return (f"{where}the store cannot be written ({error})",
                "check the file's and the folder's permissions and that the disk is not mounted read-only")
    if "locked" in low or "busy" in low:
        return (f"{where}the store is locked by another process ({error})",
                "wait for the other dbox command to finish (see: ps), then run the same command again")
    if "i/o" in low or "disk" in low:
        return (f"{where}the disk failed while writing the store ({error})",
                "check the disk (full? removed? see: df -h, dmesg), then run the same command again")
    return f"{where}{error}", "run the same command again; if it persists, restore the store from a backup (dbox backup)"


# The engine's exceptions for a failure of the machine under the store (disk full, read-only,
# locked past the busy timeout): code that must stop cleanly on one catches this tuple, so that only
# the store names the engine (tests/test_architecture.py).
STORE_FAULTS: tuple[type[Exception], ...] = (sqlite3.OperationalError,)


def store_fault(exc: Exception, path: Path | str | None = None) -> StoreError:
    """The one error (exit 4, no traceback) for any SQLite failure at run time."""
    message, hint = fault_text(str(exc), path)
    return StoreError(message, hint=hint)


def fault_of(exc: BaseException) -> StoreError | None:
    """The StoreError for an SQLite failure that reached the command line (disk full, read-only,
    locked), or None when ``exc`` is not one: the CLI's last resort, so the rule stays here."""
    return store_fault(exc) if isinstance(exc, STORE_FAULTS) else None


class StoreModeWarning(UserWarning):
    """The store or its folder was readable by others."""


def _tighten(path: Path, wanted: int) -> None:
    if not path.exists():
        return
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & ~wanted:
        os.chmod(path, wanted)
        warnings.warn(f"{path} had mode {mode:o}; tightened to {wanted:o}", StoreModeWarning, stacklevel=3)


def check_file_modes(path: Path, *, new: bool = False) -> None:
    """Store and its -wal/-shm/-journal files 0600 (tightened if looser); its folder 0700.

    The folder is tightened when it is dbox's own data folder; a folder the user chose (``--db``)
    may be shared with other files, so dbox only warns about it, once, when it creates the store.
    """
    folder = path.parent
    if folder.resolve() == default_data_dir().resolve():
        _tighten(folder, 0o700)
    elif new and stat.S_IMODE(folder.stat().st_mode) & 0o077:
        warnings.warn(f"folder {folder} is open to other users; the store file itself is 0600",
                      StoreModeWarning, stacklevel=3)
    for suffix in ("", "-wal", "-shm", "-journal"):
        _tighten(Path(str(path) + suffix), 0o600)


def open_store(path: Path | str, *, create: bool = True) -> Store:
    """Open (and on first use create and migrate) the store at ``path``."""
    return open_connection(path, lambda target: sqlite3.connect(target, isolation_level=None, check_same_thread=False),
                           create=create, errors=(sqlite3.DatabaseError,), failure="{path}: not a dbox store ({exc})")


def open_connection(path: Path | str, connect, *, create: bool, errors: tuple, failure: str,
                    cipher_key: str | None = None) -> Store:
    """The one way a store is opened, plain or encrypted (``dbox.store.cipher``): the file created
    0600 in a 0700 folder, the connection's pragmas (:func:`configure`), migrations, file modes.
    ``connect(path)`` makes the DB-API connection; ``errors`` are its engine's database errors,
    reported as ``failure`` (formatted with ``path`` and ``exc``)."""
    path = Path(path).expanduser()
    is_new = not path.exists()
    if is_new:
        if not create:
            raise StoreError(f"no store at {path}", hint="run: dbox init")
        # The folder is only ours when we create it: tighten it then, never someone else's.
        if not path.parent.exists():
            path.parent.mkdir(parents=True, mode=0o700)
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
    old_umask = os.umask(0o077)  # -wal and -shm are created by SQLite with the process umask
    try:
        conn = connect(path)
        configure(conn, path, errors, failure)
        store = Store(conn, path)
        if cipher_key is not None:
            store.cipher_key = cipher_key   # kept in memory only: backups of this store are encrypted with it
        try:
            migrate(store)
        except sqlite3.OperationalError as exc:     # disk full, read-only, locked: the store may be fine
            conn.close()
            raise store_fault(exc, path) from None
    finally:
        os.umask(old_umask)
    check_file_modes(path, new=is_new and cipher_key is None)
    return store


def configure(conn, path: Path, errors: tuple = (sqlite3.DatabaseError,),
              failure: str = "{path}: not a dbox store ({exc})") -> None:
    """Set the pragmas of a store connection (every one, plain or SQLCipher, goes through here)."""
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()   # a wrong key fails here
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    except errors as exc:
        conn.close()
        if isinstance(exc, sqlite3.OperationalError):   # disk full, I/O error, locked: the store may be fine
            raise store_fault(exc, path) from None
        raise StoreError(failure.format(path=path, exc=exc)) from None
    if mode.lower() != "wal":
        raise StoreError(f"{path}: could not switch the store to WAL mode (got {mode})")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = NORMAL")
    # A larger page cache and memory-mapped reads: compound segment counts on millions of
    # contacts are about a quarter faster (bench/segment_bench.py).
    conn.execute("PRAGMA cache_size = -65536")
    conn.execute("PRAGMA mmap_size = 1073741824")


def check_readable(path: Path) -> None:
    """Raise StoreError (with the engine's words) when the plain sqlite3 module cannot read ``path``
    (an encrypted store, or not a store): for readers that bypass dbox, such as Datasette."""
    try:
        conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise StoreError(str(exc)) from None


def migrate(store: Store) -> int:
    """Apply every migration newer than the store's ``user_version``; return the new version."""
    conn = store.conn
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    migrations = _migrations()
    newest = migrations[-1][0]
    if current > newest:
        raise StoreError(
            f"{store.path}: store schema {current} is newer than this dbox knows ({newest})",
            hint="upgrade dbox",
        )
    for number, name, sql in migrations:
        if number <= current:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _split_sql(sql):
                conn.execute(statement)
            if number == 1:
                from dbox.store import geo

                geo.load_reference(conn)
            conn.execute(f"PRAGMA user_version = {number}")
            conn.execute("COMMIT")
        except Exception:
            conn.execute("ROLLBACK")
            raise
    return max(current, newest)


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements (``sqlite3.complete_statement`` knows about quotes)."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        if not buffer and line.lstrip().startswith("--"):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements
