"""Copying a whole store into another one, whatever their engines (``dbox store copy``).

Every table is copied row for row, ids included, so what refers to an id still does (campaign
recipients, suppression hashes salted by the store's ``meta``, unsubscribe links, the audit log whose
hash chain covers each row's values: it verifies in the copy as in the original). Reference data
loaded by the migrations (``geo_*``) is left as the destination's migrations made it when it has as
many rows as the source's (both stores are migrated by this dbox: the same shipped data), else
replaced by the source's.

The destination is written in one transaction: a copy that fails (a value the other engine refuses,
a full disk, a lost connection) leaves it as it was. A destination holding data is refused unless
``replace``: then its rows, its audit log included, are deleted in that same transaction before the
copy (the append-only guard of the audit log is lifted for that transaction only).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from dbox.errors import InputError, StoreError
from dbox.store.db import Store
from dbox.i18n import _

# Bookkeeping of each engine, never copied: what migrations were applied is the destination's own.
_SKIP = ("schema_migrations",)
# Loaded by the migrations; replaced by the source's, and not "data" when deciding if a store is empty.
_REFERENCE_PREFIX = "geo_"
_NOT_DATA = ("meta",)      # a store's own salt and keys, made on first use: copied, but not "data"


@dataclass
class CopyReport:
    tables: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    replaced: dict[str, int] = field(default_factory=dict)     # rows the destination held before

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def tables(store: Store) -> list[str]:
    if store.engine == "postgresql":
        sql = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1"
    return [t for (t,) in store.execute(sql) if t not in _SKIP]


def columns(store: Store, table: str) -> list[str]:
    if store.engine == "postgresql":
        return [c for (c,) in store.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = ? ORDER BY ordinal_position", (table,))]
    return [row[1] for row in store.execute(f'PRAGMA table_info("{table}")')]


def _integer_columns(store: Store, table: str) -> set[str]:
    if store.engine != "postgresql":
        return set()
    return {c for (c,) in store.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = ? AND data_type IN ('bigint', 'integer', 'smallint')", (table,))}


def _references(store: Store, table: str) -> set[str]:
    if store.engine == "postgresql":
        return {t for (t,) in store.execute(
            "SELECT c.confrelid::regclass::text FROM pg_constraint c WHERE c.contype = 'f' "
            "AND c.conrelid = ?::regclass", (table,))}
    return {row[2] for row in store.execute(f'PRAGMA foreign_key_list("{table}")')}


def _in_dependency_order(store: Store, names: list[str]) -> list[str]:
    """Tables before the tables that refer to them (foreign keys are checked at each row on
    PostgreSQL)."""
    refs = {t: _references(store, t) & set(names) - {t} for t in names}
    ordered: list[str] = []
    while refs:
        ready = sorted(t for t, r in refs.items() if not r - set(ordered))
        if not ready:
            raise StoreError(_("foreign keys form a cycle between {items}").format(items=', '.join(sorted(refs))))
        ordered += ready
        for t in ready:
            del refs[t]
    return ordered


def count(store: Store, table: str) -> int:
    return store.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]


def data_tables(store: Store) -> dict[str, int]:
    """Tables holding data (not reference data nor a store's own keys), with their row counts."""
    found = {}
    for t in tables(store):
        if t.startswith(_REFERENCE_PREFIX) or t in _NOT_DATA:
            continue
        n = count(store, t)
        if n:
            found[t] = n
    return found


def _rows(store: Store, table: str, cols: list[str], batch: int) -> Iterator[tuple]:
    sql = f'SELECT {", ".join(f"{chr(34)}{c}{chr(34)}" for c in cols)} FROM "{table}"'
    yield from store.stream(sql, size=batch)     # PostgreSQL: a server-side cursor; memory stays flat


def _to_integers(rows: Iterator[tuple], positions: list[int]) -> Iterator[tuple]:
    """SQLite keeps 3.0 in an INTEGER column as it was given; PostgreSQL's BIGINT wants 3."""
    for row in rows:
        row = list(row)
        for i in positions:
            v = row[i]
            if isinstance(v, float) and v.is_integer():
                row[i] = int(v)
        yield tuple(row)


def _empty_tables(dst: Store, names: list[str]) -> None:
    """Delete every row of ``names`` in the current transaction, the audit log's included."""
    if dst.engine == "postgresql":
        dst.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
        dst.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in names) + " RESTART IDENTITY")
        dst.execute("ALTER TABLE audit_log ENABLE TRIGGER USER")
        return
    guards = dst.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                         "AND tbl_name = 'audit_log'").fetchall()
    for name, _sql in guards:
        dst.execute(f'DROP TRIGGER "{name}"')
    for t in reversed(names):
        dst.execute(f'DELETE FROM "{t}"')
    for _name, sql in guards:
        dst.execute(sql)


def _move_sequences(dst: Store, names: list[str]) -> None:
    """PostgreSQL: identity columns continue after the ids copied (explicit ids do not move them)."""
    if dst.engine != "postgresql":
        return
    for table, column in dst.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND (is_identity = 'YES' OR column_default LIKE 'nextval(%')").fetchall():
        if table in names:
            dst.execute(f"SELECT setval(pg_get_serial_sequence(?, ?), coalesce(max(\"{column}\"), 0) + 1, false) "
                        f"FROM \"{table}\"", (table, column))


def copy_store(src: Store, dst: Store, *, replace: bool = False, batch: int = 5000,
               progress: Callable[[str, int], None] | None = None,
               before_commit: Callable[[Store, CopyReport], None] | None = None) -> CopyReport:
    """Copy every table of ``src`` into ``dst`` in one transaction of ``dst``; ``before_commit``
    runs inside it (the caller's audit row). Raises InputError for a destination holding data
    (unless ``replace``) and StoreError when the schemas differ or a row is refused."""
    if getattr(src, "location", None) == getattr(dst, "location", object()):
        raise InputError(_("the source and the destination are the same store"))
    names = tables(src)
    missing = sorted(set(names) - set(tables(dst)))
    if missing:
        raise StoreError(_("{location} has no table {items}: its schema differs from the source's").format(
                             location=dst.location, items=', '.join(missing)),
                         hint=_("open both stores with this dbox first (they migrate), then copy again"))
    held = data_tables(dst)
    if held and not replace:
        shown = ", ".join(f"{t} ({n:,})" for t, n in sorted(held.items())[:4])
        raise InputError(_("{location} already holds data: {shown}").format(location=dst.location, shown=shown),
                         hint=_("copy into a new store, or add --replace to delete everything it holds first (its audit log included)"))
    order = _in_dependency_order(src, names)
    report = CopyReport(tables=len(order), replaced=held)
    with dst.transaction(immediate=True):
        if dst.engine == "sqlite":
            dst.execute("PRAGMA defer_foreign_keys = ON")
        if replace and held:
            _empty_tables(dst, [t for t in order if not t.startswith(_REFERENCE_PREFIX)])
        for table in order:
            cols = [c for c in columns(src, table)]
            wanted = set(columns(dst, table))
            lost = [c for c in cols if c not in wanted]
            if lost:
                raise StoreError(_("{location}: table {table} has no column {items}").format(
                                     location=dst.location, table=table, items=', '.join(lost)),
                                 hint=_("open both stores with this dbox first (they migrate), then copy again"))
            if table.startswith(_REFERENCE_PREFIX) and count(dst, table) == count(src, table):
                report.rows[table] = 0      # the same reference data, loaded by the same migrations
                continue
            if count(dst, table):
                # rows a trigger made while earlier tables were copied (unsubscribe ids of each new
                # contact), or reference data: the source's replace them
                dst.execute(f'DELETE FROM "{table}"')
            rows = _rows(src, table, cols, batch)
            integers = _integer_columns(dst, table)
            if integers:
                rows = _to_integers(rows, [i for i, c in enumerate(cols) if c in integers])
            n = 0

            def counted(rows=rows):
                nonlocal n
                for row in rows:
                    n += 1
                    yield row

            try:
                dst.copy_rows(f'"{table}"', tuple(f'"{c}"' for c in cols), counted())
            except dst.DatabaseError as exc:
                raise StoreError(_("{location}: table {table}, row {n}: {splitlines}").format(
                                     location=dst.location, table=table, n=n, splitlines=str(exc).strip().splitlines()[0]),
                                 hint=_("nothing was written to the destination")) from None
            report.rows[table] = n
            if progress is not None:
                progress(table, n)
        _move_sequences(dst, order)
        if before_commit is not None:
            before_commit(dst, report)
    return report
