"""The store on a PostgreSQL server: ``--db postgresql://user@host:5432/dbname`` or ``DBOX_DB``.

psycopg (3, with its binary wheel) is imported here only, when a PostgreSQL store is opened, so
that ``dbox --help`` and every SQLite command never load it.

The password is never part of the URL (it would sit in a shell history, a crontab, ``ps`` and the
config file): dbox refuses such a URL. It comes, in this order, from ``PGPASSWORD`` or
``~/.pgpass`` (libpq reads both itself), or the system keyring under the entry
``postgresql://USER@HOST:PORT/DBNAME`` (``dbox secrets`` style; docs/team.md). Messages show the
URL without any password (``mask_url``).

Statements are the store modules' own, rewritten by ``dbox.store.dialect``; psycopg's client-side
binding (``ClientCursor``) sends parameters as literals, which PostgreSQL types from their
context as SQLite does.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from dbox.errors import NotAllowedError, StoreError
from dbox.store.db import EngineFault, Store, migrate
from dbox.store.dialect import translate
from dbox.i18n import _
from dbox.secrets import get_secret
from dbox.paths import default_data_dir


def mask_url(url: str) -> str:
    """The URL without a password (``postgresql://ann:***@host/db`` -> ``postgresql://ann@host/db``)."""
    return re.sub(r"(://[^/@:]*)(:[^/@]*)?@", r"\1@", url, count=1)


def _parts(url: str) -> dict:
    split = urlsplit(url)
    if split.password is not None:
        raise StoreError(_("{mask_url}: a password in the store URL would end up in shell histories, crontabs and the process list").format(
                             mask_url=mask_url(url)),
                         hint=_("remove it from the URL; put it in PGPASSWORD, ~/.pgpass or the keyring (docs/team.md)"))
    dbname = unquote(split.path.lstrip("/"))
    if not dbname:
        raise StoreError(_("{mask_url}: the URL names no database").format(mask_url=mask_url(url)),
                         hint=_("postgresql://USER@HOST:PORT/DBNAME"))
    return {"user": unquote(split.username or ""), "host": split.hostname or "", "port": split.port or 5432,
            "dbname": dbname}


def secret_name(url: str) -> str:
    """The keyring entry holding the password of the store at ``url``."""
    p = _parts(url)
    return f"postgresql://{p['user']}@{p['host']}:{p['port']}/{p['dbname']}"


def _password(url: str) -> str | None:
    import os

    if os.environ.get("PGPASSWORD") or os.environ.get("PGPASSFILE") or (Path.home() / ".pgpass").exists():
        return None      # libpq reads them itself
    return get_secret(secret_name(url))


def lock_folder(url: str) -> Path:
    """A local folder standing for the store where file-based locks of one machine go."""
    p = _parts(url)
    name = re.sub(r"[^\w.-]", "_", f"{p['host']}-{p['port']}-{p['dbname']}")
    folder = default_data_dir() / "postgresql"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder / name


class PostgresStore(Store):
    """A ``Store`` over a psycopg connection (autocommit: ``store.transaction()`` says BEGIN)."""

    engine = "postgresql"

    def __init__(self, conn, url: str):
        import psycopg

        self._conn = conn
        self._psycopg = psycopg
        conn.adapters.register_loader("numeric", _sqlite_number_loader())
        self.url = url
        self.location = mask_url(url)
        self.path = lock_folder(url)
        self.IntegrityError = psycopg.IntegrityError
        self.DatabaseError = psycopg.DatabaseError
        self._streams_open, self._stream_began = 0, False     # see stream()
        # dbox runs few, large statements. With PostgreSQL's default work_mem (4 MB) the ids of a
        # "c.id IN (SELECT ...)" under an "or" do not fit a hash and each contact searches them one
        # by one: "tag:militant or consent:sms" on 3 M contacts ran over 26 minutes, 7 s with
        # 32 MB. Raised for dbox's own sessions only, never lowered (docs/team.md).
        conn.execute(f"SELECT set_config('work_mem', '{WORK_MEM_MB}MB', false) "
                     f"WHERE pg_size_bytes(current_setting('work_mem')) < {WORK_MEM_MB} * 1024 * 1024")

    def _run(self, cursor, sql: str, params):
        try:
            return cursor.execute(sql, params)
        except self._psycopg.OperationalError as exc:
            raise EngineFault(f"{self.location}: {str(exc).strip()}") from exc
        except self._psycopg.errors.InsufficientPrivilege as exc:
            # the server enforces team roles (dbox.store.team): one clear line, said by the CLI
            refused = NotAllowedError(str(exc).strip().splitlines()[0])
            refused.url = self.url          # whose role it was: dbox.privacy.team.refusal looks it up
            raise refused from None

    def execute(self, sql: str, params=()):
        if isinstance(params, dict):        # named parameters (``:name``)
            return self._run(self._conn.cursor(), translate(sql, True, named=True)[0], params)
        params = tuple(params) if params else None
        text, lists = translate(sql, params is not None)
        if lists:
            params = _lists(params, lists)
        return self._run(self._conn.cursor(), text, params)

    def executemany(self, sql: str, rows) -> None:
        text, lists = translate(sql, True)
        if lists:
            rows = (_lists(row, lists) for row in rows)
        try:
            with self._conn.cursor() as cursor:
                cursor.executemany(text, rows)
        except self._psycopg.OperationalError as exc:
            raise EngineFault(f"{self.location}: {str(exc).strip()}") from exc

    def executescript(self, sql: str) -> None:
        self._run(self._conn.cursor(), sql, None)

    @property
    def in_transaction(self) -> bool:
        return self._conn.info.transaction_status != self._psycopg.pq.TransactionStatus.IDLE

    def copy_rows(self, table: str, columns: tuple[str, ...], rows) -> None:
        with self._conn.cursor() as cursor:
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)

    def insert_rows(self, table: str, columns: tuple[str, ...], rows, *, ignore: bool = False) -> None:
        rows = rows if isinstance(rows, list) else list(rows)
        if not rows:
            return
        if not ignore:
            self.copy_rows(table, columns, rows)
            return
        stage = f"dbox_stage_{table}"
        cols = ", ".join(columns)
        self.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} AS SELECT {cols} FROM {table} WITH NO DATA")
        self.execute(f"TRUNCATE {stage}")
        self.copy_rows(f"pg_temp.{stage}", columns, rows)
        self.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM pg_temp.{stage} ON CONFLICT DO NOTHING")

    def ids_written(self, table: str) -> None:
        # Forward only: a sequence moved back would hand out ids that others already drew from it
        # (contacts reserved by a concurrent import or sign-up, not yet committed).
        self.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), greatest((SELECT max(id) FROM {table}), "
                     f"pg_sequence_last_value(CAST(pg_get_serial_sequence('{table}', 'id') AS regclass)), 1))")

    def values_in(self, column: str, values) -> tuple[str, list]:
        return f"{column} = ANY(?)", [list(values)]

    def create_function(self, name: str, arity: int, function) -> bool:
        return False

    def _sqlite_only(self, what: str):
        raise StoreError(_("{location}: {what} works on a SQLite store only").format(
                             location=self.location, what=what),
                         hint=_("on PostgreSQL use pg_dump / pg_restore (docs/team.md)"))

    def backup_into(self, target, pages: int = 1024) -> None:
        self._sqlite_only("a page-by-page backup")

    def restore_from(self, source) -> None:
        self._sqlite_only("restoring a backup file")

    def dump_lines(self):
        self._sqlite_only("an SQL dump")

    def table_names(self) -> list[str]:
        return [n for (n,) in self.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
            "AND table_type = 'BASE TABLE' ORDER BY table_name")]

    def has_table(self, name: str) -> bool:
        return self.execute("SELECT to_regclass(?)", (name,)).fetchone()[0] is not None

    def table_columns(self, table: str) -> list[tuple[str, bool]]:
        return [(c, n == "NO") for c, n in self.execute(
            "SELECT column_name, is_nullable FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = ? ORDER BY ordinal_position", (table,))]

    def foreign_keys(self, table: str) -> list[tuple[str, str, str | None]]:
        return [tuple(row) for row in self.execute(
            "SELECT a.attname, r.relname, ra.attname FROM pg_constraint k "
            "JOIN pg_class t ON t.oid = k.conrelid JOIN pg_class r ON r.oid = k.confrelid "
            "JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1] "
            "JOIN pg_attribute ra ON ra.attrelid = k.confrelid AND ra.attnum = k.confkey[1] "
            "WHERE k.contype = 'f' AND t.relname = ? AND t.relnamespace = current_schema()::regnamespace",
            (table,))]

    def secondary_indexes(self, tables) -> list[tuple[str, str]]:
        return self.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
            "AND i.tablename = ANY(?) AND NOT EXISTS (SELECT 1 FROM pg_constraint k "
            "WHERE k.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)",
            (list(tables),)).fetchall()

    def stream(self, sql: str, params=(), size: int = 2000):
        """Rows of a large SELECT through a server-side cursor (``DECLARE ... CURSOR``, then
        ``FETCH`` ``size`` rows at a time): the client holds one batch, whatever the row count.

        A cursor lives in a transaction: inside one already open it uses that one; otherwise the
        first stream opens one and the last stream to end commits it (streams may be read side by
        side, each with its cursor), when its last row is read or its reader stops."""
        params = tuple(params) if params else None
        text, lists = translate(sql, params is not None)
        if params is not None:
            if lists:
                params = _lists(params, lists)
            # bound here, as every other statement is (client side: a str is an untyped literal
            # that PostgreSQL types from its context); a server-side cursor would bind them itself
            text = self._psycopg.ClientCursor(self._conn).mogrify(text, params)
        name = f"dbox_stream_{next(_STREAMS)}"      # unique: streams may be open side by side
        if not self.in_transaction:
            self._run(self._conn.cursor(), "BEGIN", None)
            self._stream_began = True
        self._streams_open += 1
        try:
            with self._conn.cursor(name=name) as cursor:
                self._run(cursor, text, None)
                while rows := cursor.fetchmany(size):
                    yield from rows
        except self._psycopg.OperationalError as exc:
            raise EngineFault(f"{self.location}: {str(exc).strip()}") from exc
        finally:
            self._streams_open -= 1
            if not self._streams_open and self._stream_began:
                self._stream_began = False
                failed = self._conn.info.transaction_status == self._psycopg.pq.TransactionStatus.INERROR
                self._run(self._conn.cursor(), "ROLLBACK" if failed else "COMMIT", None)


_STREAMS = itertools.count(1)
WORK_MEM_MB = 64          # the least work_mem of a dbox session (PostgresStore)


def _sqlite_number_loader():
    """NUMERIC values read as SQLite gives them: ``sum()`` over integers (NUMERIC on PostgreSQL)
    an ``int``, ``avg()`` and other fractions a ``float`` (a Decimal is not JSON, nor SQLite's)."""
    from psycopg.adapt import Loader

    class SQLiteNumberLoader(Loader):
        def load(self, data):
            text = bytes(data).decode()
            return int(text) if text.lstrip("-").isdigit() else float(text)

    return SQLiteNumberLoader


def _lists(params, positions) -> tuple:
    import json

    params = list(params)
    for i in positions:
        if isinstance(params[i], str):
            params[i] = json.loads(params[i])
    return tuple(params)


def connect(url: str):
    """A psycopg connection to ``url`` (autocommit, client-side binding), or a StoreError saying why not."""
    import psycopg

    _parts(url)
    password = _password(url)
    try:
        return psycopg.connect(url, autocommit=True, cursor_factory=psycopg.ClientCursor,
                               application_name="dbox", connect_timeout=15,
                               **({"password": password} if password else {}))
    except psycopg.OperationalError as exc:
        words = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise StoreError(_("{mask_url}: cannot connect to PostgreSQL ({mask_url2})").format(
                             mask_url=mask_url(url), mask_url2=mask_url(words)),
                         hint=_("check the server is running and the URL, user and password (PGPASSWORD, ~/.pgpass or the keyring: docs/team.md)")) from None


def open_postgres(url: str, *, create: bool = True) -> PostgresStore:
    """Open (and on first use migrate) the store in the PostgreSQL database at ``url``."""
    store = PostgresStore(connect(url), url)
    try:
        if not create and store.execute("SELECT to_regclass('schema_migrations')").fetchone()[0] is None:
            raise StoreError(_("no store in {location}").format(location=store.location), hint=_("run: dbox init"))
        migrate(store)
    except BaseException:
        store.close()
        raise
    return store
