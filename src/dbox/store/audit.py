"""The audit log's SQL: append a row (chained by hash), read rows back, verify the chain.

The table refuses UPDATE and DELETE (triggers in migration 0004). Each row's ``hash`` is
SHA-256 over the previous row's hash and this row's fields, so an edit made with another SQLite
client, which can drop the triggers, still shows up in :func:`verify`. Rows that name a host or a
database role (schema 16 on) have them in their hash too; older rows keep their old hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass

from dbox.store.db import Store

GENESIS = "0" * 64


@dataclass
class AuditEntry:
    id: int
    at: str
    os_user: str
    command: str
    count: int
    detail: dict | None
    hash: str
    host: str | None = None
    db_role: str | None = None


_COLUMNS = "id, at, os_user, command, count, detail, hash, host, db_role"


def row_hash(previous: str, at: str, os_user: str, command: str, count: int, detail: str | None,
             host: str | None = None, db_role: str | None = None) -> str:
    fields = [previous, at, os_user, command, count, detail]
    if host is not None or db_role is not None:
        fields += [host, db_role]
    payload = json.dumps(fields, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


# pg_advisory_xact_lock key serialising appends on PostgreSQL (class "db" + 4, object 0).
_APPEND_LOCK = (0x64620004, 0)


def database_role(store: Store) -> str | None:
    """The database role the store is used as (PostgreSQL's ``session_user``: the login, which
    ``SET ROLE`` does not change); None on SQLite, which has no roles."""
    if store.engine != "postgresql":
        return None
    if getattr(store, "_db_role", None) is None:
        store._db_role = store.execute("SELECT session_user").fetchone()[0]
    return store._db_role


def append(store: Store, at: str, os_user: str, command: str, count: int, detail: dict | None,
           host: str | None = None) -> int:
    """Add one row, with the database role in use; inside the caller's transaction when there is
    one, else in its own."""
    text = json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else None
    return _append(store, at, os_user, command, count, text, host, database_role(store))


def _append(store: Store, at: str, os_user: str, command: str, count: int, text: str | None,
            host: str | None, role: str | None) -> int:
    def write() -> int:
        if store.engine == "postgresql":
            # Two team members' rows must not both chain from the same last row: appends take
            # turns (the lock goes with the transaction). SQLite's BEGIN IMMEDIATE does the same.
            store.execute("SELECT pg_advisory_xact_lock(?, ?)", _APPEND_LOCK)
        last = store.execute("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
        digest = row_hash(last[0] if last else GENESIS, at, os_user, command, count, text, host, role)
        return store.execute(
            "INSERT INTO audit_log (at, os_user, command, count, detail, hash, host, db_role) "
            "VALUES (?,?,?,?,?,?,?,?) RETURNING id",
            (at, os_user, command, count, text, digest, host, role)).fetchone()[0]

    if store.in_transaction:
        return write()
    with store.transaction(immediate=True):
        return write()


def _entry(row) -> AuditEntry:
    id_, at, user, command, count, detail, digest, host, role = row
    return AuditEntry(id_, at, user, command, count, json.loads(detail) if detail else None, digest, host, role)


def entries(store: Store, *, since: str | None = None, until: str | None = None,
            command: str | None = None, user: str | None = None, limit: int | None = None,
            newest_first: bool = True) -> Iterator[AuditEntry]:
    """Rows of the log, filtered; ``command`` matches a whole command or its first word(s)."""
    clauses, params = [], []
    if since:
        clauses.append("at >= ?")
        params.append(since)
    if until:
        clauses.append("at < ?")
        params.append(until)
    if command:
        clauses.append("(command = ? OR command LIKE ? ESCAPE '\\')")
        escaped = command.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params += [command, escaped + " %"]
    if user:
        clauses.append("os_user = ?")
        params.append(user)
    sql = (f"SELECT {_COLUMNS} FROM audit_log"
           + (" WHERE " + " AND ".join(clauses) if clauses else "")
           + f" ORDER BY id {'DESC' if newest_first else 'ASC'}")
    if limit:
        sql += " LIMIT ?"
        params.append(limit)
    cursor = store.execute(sql, params)
    while rows := cursor.fetchmany(1000):
        for row in rows:
            yield _entry(row)


def verify(store: Store) -> tuple[int, int | None]:
    """(rows checked, id of the first row whose hash does not follow from the one before, or None)."""
    previous = GENESIS
    checked = 0
    cursor = store.execute(f"SELECT {_COLUMNS} FROM audit_log ORDER BY id")
    while rows := cursor.fetchmany(1000):
        for id_, at, user, command, count, detail, digest, host, role in rows:
            if row_hash(previous, at, user, command, count, detail, host, role) != digest:
                return checked, id_
            previous = digest
            checked += 1
    return checked, None


def raw_rows(store: Store) -> list[tuple]:
    """Every row as stored (at, os_user, command, count, detail, host, db_role): used to carry a
    log across a restore."""
    return [tuple(row) for row in store.execute(
        "SELECT at, os_user, command, count, detail, host, db_role FROM audit_log ORDER BY id")]


def append_raw(store: Store, rows: list[tuple]) -> int:
    """Re-append rows kept from another copy of the store, re-chaining them (each keeps the host
    and role that wrote it); returns how many."""
    for at, user, command, count, detail, host, role in rows:
        _append(store, at, user, command, count, detail, host, role)
    return len(rows)
