"""Opening the store: SQLite (a file, the default) or PostgreSQL (a URL); pragmas, migrations.

The SQLite store file is created 0600 inside a 0700 folder, and its modes (and those of its
-wal/-shm files) are checked at every open and tightened with a warning. WAL mode lets readers run
while a send writes; a busy timeout makes concurrent writers wait instead of failing.

A ``postgresql://`` target opens the store on a PostgreSQL server (``dbox.store.pg``, psycopg
imported only then). Both engines go through the same ``Store`` methods; the statements they run
are in docs/store.md's words, rewritten for PostgreSQL by ``dbox.store.dialect``.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import time
import warnings
from importlib import resources
from pathlib import Path

from dbox.errors import StoreError
from dbox.paths import default_data_dir
from dbox.i18n import N_, _
from dbox.store import geo

BUSY_TIMEOUT_MS = int(os.environ.get("DBOX_BUSY_TIMEOUT_MS") or 30_000)


_last_stamp: tuple[int, str] = (-1, "")


def utcnow() -> str:
    """Timestamps are ISO-8601 UTC text with seconds: sortable and comparable as text.

    The text is made once per second (a send writes two timestamps per message; formatting a
    datetime each time was a measurable part of the send loop, bench/send_bench.py)."""
    global _last_stamp
    second = int(time.time())
    last = _last_stamp
    if last[0] == second:
        return last[1]
    text = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))
    _last_stamp = (second, text)
    return text


ENGINES = ("sqlite", "postgresql")


def _migrations(engine: str = "sqlite") -> list[tuple[int, str, str]]:
    """(number, file name, SQL) of an engine's migrations: SQLite's in ``migrations/``, PostgreSQL's
    under the same names in ``migrations/postgresql/`` (every migration ships in both forms)."""
    folder = resources.files("dbox.store") / "migrations"
    if engine == "postgresql":
        folder = folder / "postgresql"
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
    """An open contact store: its connection (kept inside: ``dbox.store`` modules call the methods
    below, nothing hands the connection out), where it is, and its engine.

    The store's SQL lives in the modules of ``dbox.store``; they take a ``Store`` as first argument.
    ``location`` is what messages show: the file, or the PostgreSQL URL without any password.
    """

    engine = "sqlite"

    def __init__(self, conn, path: Path, location: str | None = None):
        self._conn = conn
        self.path = path
        self.location = location or str(path)
        # The connection's own classes: sqlite3's or sqlcipher3's (psycopg's on PostgreSQL).
        self.IntegrityError = conn.IntegrityError
        self.DatabaseError = conn.DatabaseError

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def transaction(self, immediate: bool = False):
        return _Transaction(self, immediate)

    def execute(self, sql: str, params=()):
        return self._conn.execute(sql, params)

    def executemany(self, sql: str, rows) -> None:
        self._conn.executemany(sql, rows)

    def executescript(self, sql: str) -> None:
        """Several statements in one text (a migration)."""
        for statement in _split_sql(sql):
            self._conn.execute(statement)

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    def savepoint(self, name: str = "dbox_step"):
        """``with store.savepoint():`` a step that may fail without failing the transaction around
        it (PostgreSQL aborts the whole transaction on an error otherwise)."""
        return _Savepoint(self, name)

    def stream(self, sql: str, params=(), size: int = 2000):
        """Rows of a large SELECT, ``size`` at a time, so memory stays flat whatever the row count
        (exports, listings). SQLite steps its cursor as rows are asked for; PostgreSQL reads through
        a server-side cursor (``dbox.store.pg``). Run nothing that commits on the store (no
        ``store.transaction()``) until the last row is read: on PostgreSQL the cursor lives in a
        transaction of its own."""
        cursor = self._conn.execute(sql, params)
        try:
            while rows := cursor.fetchmany(size):
                yield from rows
        finally:
            cursor.close()

    def copy_rows(self, table: str, columns: tuple[str, ...], rows) -> None:
        """Append many rows to a table: ``executemany`` on SQLite, ``COPY`` on PostgreSQL."""
        marks = ",".join("?" * len(columns))
        self._conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    def insert_rows(self, table: str, columns: tuple[str, ...], rows, *, ignore: bool = False) -> None:
        """INSERT [OR IGNORE] many rows: ``executemany`` on SQLite; on PostgreSQL ``COPY`` (through
        a temporary staging table merged with ON CONFLICT DO NOTHING when ``ignore``)."""
        marks = ",".join("?" * len(columns))
        verb = "INSERT OR IGNORE" if ignore else "INSERT"
        self._conn.executemany(f"{verb} INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    def ids_written(self, table: str) -> None:
        """Rows were inserted into ``table`` with their ids given: on PostgreSQL, move the id
        sequence past them (SQLite takes max(id) + 1 by itself)."""

    def values_in(self, column: str, values) -> tuple[str, list]:
        """``column`` is one of ``values``, as a condition and its parameters: one JSON parameter
        read with ``json_each`` on SQLite (the statement's text does not depend on how many),
        an array with ``= ANY`` on PostgreSQL."""
        import json

        return f"{column} IN (SELECT value FROM json_each(?))", [json.dumps(list(values), ensure_ascii=False)]

    def create_function(self, name: str, arity: int, function) -> bool:
        """Register a Python function for SQL (SQLite only; False on an engine without them)."""
        self._conn.create_function(name, arity, function, deterministic=True)
        return True

    def backup_into(self, target, pages: int = 1024) -> None:
        """Copy this SQLite store page by page into another sqlite3 connection."""
        self._conn.backup(target, pages=pages)

    def restore_from(self, source) -> None:
        """Replace this SQLite store's content by that of another sqlite3 connection."""
        source.backup(self._conn)

    def dump_lines(self):
        """The store as SQL text (SQLite's ``iterdump``)."""
        return self._conn.iterdump()

    # -- the schema, read from the store itself (tables other areas add later included) --

    def table_names(self) -> list[str]:
        return [n for (n,) in self.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]

    def has_table(self, name: str) -> bool:
        return self.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                            (name,)).fetchone() is not None

    def table_columns(self, table: str) -> list[tuple[str, bool]]:
        """(column, NOT NULL) of a table, in order."""
        return [(row[1], bool(row[3])) for row in self.execute(f'PRAGMA table_info("{table}")')]

    def foreign_keys(self, table: str) -> list[tuple[str, str, str | None]]:
        """(column, referenced table, referenced column or None for its key) of a table."""
        return [(row[3], row[2], row[4]) for row in self.execute(f'PRAGMA foreign_key_list("{table}")')]

    def secondary_indexes(self, tables) -> list[tuple[str, str]]:
        """(name, CREATE statement) of the indexes of ``tables`` that may be dropped and rebuilt
        (not those behind a primary key or a UNIQUE constraint)."""
        marks = ",".join("?" * len(tables))
        return self.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                            f"AND tbl_name IN ({marks})", tuple(tables)).fetchall()


class _Transaction:
    """``with store.transaction():`` BEGIN ... COMMIT, ROLLBACK on any exception."""

    def __init__(self, store: Store, immediate: bool):
        self.store = store
        self.immediate = immediate

    def __enter__(self):
        self.store.execute("BEGIN IMMEDIATE" if self.immediate else "BEGIN")
        return self.store

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.store.execute("COMMIT")
        else:
            self.store.execute("ROLLBACK")
        return False


class _Savepoint:
    def __init__(self, store: Store, name: str):
        self.store = store
        self.name = name

    def __enter__(self):
        self.active = self.store.in_transaction     # outside a transaction a statement stands alone
        if self.active:
            self.store.execute(f"SAVEPOINT {self.name}")
        return self.store

    def __exit__(self, exc_type, exc, tb):
        if not self.active:
            return False
        if exc_type is None:
            self.store.execute(f"RELEASE SAVEPOINT {self.name}")
        else:
            self.store.execute(f"ROLLBACK TO SAVEPOINT {self.name}")
            self.store.execute(f"RELEASE SAVEPOINT {self.name}")
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


class EngineFault(Exception):
    """A PostgreSQL failure of the machine or the network under the store (server gone, disk full,
    too many connections): the PostgreSQL store re-raises psycopg's OperationalError as this, so that
    catching it needs no psycopg import."""


# The engine's exceptions for a failure of the machine under the store (disk full, read-only,
# locked past the busy timeout, server gone): code that must stop cleanly on one catches this
# tuple, so that only the store names the engine (tests/test_architecture.py).
STORE_FAULTS: tuple[type[Exception], ...] = (sqlite3.OperationalError, EngineFault)


def store_fault(exc: Exception, path: Path | str | None = None) -> StoreError:
    """The one error (exit 4, no traceback) for any SQLite failure at run time."""
    message, hint = fault_text(str(exc), path)
    return StoreError(message, hint=hint)


def fault_of(exc: BaseException) -> StoreError | None:
    """The StoreError for an engine failure that reached the command line (disk full, read-only,
    locked, server gone), or None when ``exc`` is not one: the CLI's last resort, so the rule stays here."""
    return store_fault(exc) if isinstance(exc, STORE_FAULTS) else None


class StoreModeWarning(UserWarning):
    """The store or its folder was readable by others."""


def _tighten(path: Path, wanted: int) -> None:
    if not path.exists():
        return
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & ~wanted:
        os.chmod(path, wanted)
        warnings.warn(_("{path} had mode {mode:o}; tightened to {wanted:o}").format(
                          path=path, mode=mode, wanted=wanted), StoreModeWarning, stacklevel=3)


def check_file_modes(path: Path, *, new: bool = False) -> None:
    """Store and its -wal/-shm/-journal files 0600 (tightened if looser); its folder 0700.

    The folder is tightened when it is dbox's own data folder; a folder the user chose (``--db``)
    may be shared with other files, so dbox only warns about it, once, when it creates the store.
    """
    folder = path.parent
    if folder.resolve() == default_data_dir().resolve():
        _tighten(folder, 0o700)
    elif new and stat.S_IMODE(folder.stat().st_mode) & 0o077:
        warnings.warn(_("folder {folder} is open to other users; the store file itself is 0600").format(
                          folder=folder),
                      StoreModeWarning, stacklevel=3)
    for suffix in ("", "-wal", "-shm", "-journal"):
        _tighten(Path(str(path) + suffix), 0o600)


def is_url(target) -> bool:
    """True for a PostgreSQL store (``postgresql://...``), False for a file."""
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def store_exists(target) -> bool:
    """True when the store at ``target`` (a file or a PostgreSQL URL) holds dbox's schema."""
    if not is_url(target):
        return Path(target).expanduser().exists()
    from dbox.store.pg import open_postgres   # here, not above: pg.py builds on this module (Store, migrate)

    try:
        open_postgres(target, create=False).close()
    except StoreError:
        return False
    return True


# How a file that is not a store is reported (``failure`` of open_connection: a catalog key), and the
# SQLite sentence that says so, in the user's language.
NOT_A_STORE = N_("{path}: not a dbox store ({exc})")
SQLITE_WORDS = {"file is not a database": N_("the file is not a database")}


def open_store(path: Path | str, *, create: bool = True) -> Store:
    """Open (and on first use create and migrate) the store at ``path``: a file, or a
    ``postgresql://`` URL (``dbox.store.pg``)."""
    if is_url(path):
        from dbox.store.pg import open_postgres   # here, not above: pg.py builds on this module (Store, migrate)

        return open_postgres(path, create=create)
    return open_connection(path, lambda target: sqlite3.connect(target, isolation_level=None, check_same_thread=False),
                           create=create, errors=(sqlite3.DatabaseError,), failure=NOT_A_STORE)


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
            raise StoreError(_("no store at {path}").format(path=path), hint=_("run: dbox init"))
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
        except BaseException:
            conn.close()
            raise
    finally:
        os.umask(old_umask)
    check_file_modes(path, new=is_new and cipher_key is None)
    return store


def configure(conn, path: Path, errors: tuple = (sqlite3.DatabaseError,),
              failure: str | None = None) -> None:
    """Set the pragmas of a store connection (every one, plain or SQLCipher, goes through here)."""
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()   # a wrong key fails here
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    except errors as exc:
        conn.close()
        if isinstance(exc, sqlite3.OperationalError):   # disk full, I/O error, locked: the store may be fine
            raise store_fault(exc, path) from None
        detail = str(exc)
        detail = _(SQLITE_WORDS[detail]) if detail in SQLITE_WORDS else detail
        raise StoreError(_(failure or NOT_A_STORE).format(path=path, exc=detail)) from None
    if mode.lower() != "wal":
        raise StoreError(_("{path}: could not switch the store to WAL mode (got {mode})").format(
                             path=path, mode=mode))
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


MIGRATIONS_TABLE = ("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, "
                    "applied_at TEXT NOT NULL)")


# The migrations a SQLite store that records only ``user_version`` can have applied: those that
# existed before ``schema_migrations``. Numbers reserved then and written later (0011) never ran on
# such a store, even when its user_version is higher.
_BEFORE_NAMES = frozenset(range(1, 11)) | {12, 13}


def migrate(store: Store) -> int:
    """Apply every migration of the store's engine not yet applied; return the newest number.

    What was applied is recorded by file name in ``schema_migrations`` (so that migrations numbered
    on parallel branches apply whatever their order of arrival). A SQLite store made before that
    table has only ``PRAGMA user_version``: the migrations up to it count as applied. SQLite's
    ``user_version`` is still kept (the highest number applied) for older dbox versions to refuse it.
    """
    engine = store.engine
    migrations = _migrations(engine)
    newest = migrations[-1][0]
    known = {name for _unused, name, _unused in migrations}
    if engine != "postgresql" or store.execute("SELECT to_regclass('schema_migrations')").fetchone()[0] is None:
        store.execute(MIGRATIONS_TABLE)     # on PostgreSQL only when missing: a team member may not create tables
    applied = {name for (name,) in store.execute("SELECT name FROM schema_migrations")}
    current = store.execute("PRAGMA user_version").fetchone()[0] if engine == "sqlite" else 0
    if engine == "sqlite" and current and not applied:
        applied = {name for number, name, _unused in migrations if number <= current and number in _BEFORE_NAMES}
        store.executemany("INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)",
                          [(name, utcnow()) for name in sorted(applied)])
    unknown = sorted(applied - known)
    if current > newest or unknown:
        what = f"migration {unknown[0]}" if unknown else f"schema {current}"
        raise StoreError(_("{location}: store {what} is newer than this dbox knows ({newest})").format(
                             location=store.location, what=what, newest=newest),
                         hint=_("upgrade dbox"))
    for number, name, sql in migrations:
        if name in applied:
            continue
        with store.transaction(immediate=True):
            if engine == "postgresql":
                # Two machines running their first command at once: one migrates, the other waits.
                store.execute("SELECT pg_advisory_xact_lock(7216350114)")
                if store.execute("SELECT 1 FROM schema_migrations WHERE name = ?", (name,)).fetchone():
                    continue
            store.executescript(sql)
            if number == 1:
                geo.load_reference(store)
            store.execute("INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)", (name, utcnow()))
            if engine == "sqlite" and number > current:
                store.execute(f"PRAGMA user_version = {number}")
                current = number
    return newest


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
