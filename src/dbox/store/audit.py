"""The audit log's SQL: append a row (chained by hash), read rows back, verify the chain.

The table refuses UPDATE and DELETE (triggers in migration 0004). Each row's ``hash`` is
SHA-256 over the previous row's hash and this row's fields, so an edit made with another SQLite
client, which can drop the triggers, still shows up in :func:`verify`.
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


def row_hash(previous: str, at: str, os_user: str, command: str, count: int, detail: str | None) -> str:
    payload = json.dumps([previous, at, os_user, command, count, detail], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def append(store: Store, at: str, os_user: str, command: str, count: int, detail: dict | None) -> int:
    """Add one row; inside the caller's transaction when there is one, else in its own."""
    text = json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else None

    def write() -> int:
        last = store.execute("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
        digest = row_hash(last[0] if last else GENESIS, at, os_user, command, count, text)
        return store.execute(
            "INSERT INTO audit_log (at, os_user, command, count, detail, hash) VALUES (?,?,?,?,?,?) RETURNING id",
            (at, os_user, command, count, text, digest)).fetchone()[0]

    if store.in_transaction:
        return write()
    with store.transaction(immediate=True):
        return write()


def _entry(row) -> AuditEntry:
    id_, at, user, command, count, detail, digest = row
    return AuditEntry(id_, at, user, command, count, json.loads(detail) if detail else None, digest)


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
    sql = ("SELECT id, at, os_user, command, count, detail, hash FROM audit_log"
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
    cursor = store.execute("SELECT id, at, os_user, command, count, detail, hash FROM audit_log ORDER BY id")
    while rows := cursor.fetchmany(1000):
        for id_, at, user, command, count, detail, digest in rows:
            if row_hash(previous, at, user, command, count, detail) != digest:
                return checked, id_
            previous = digest
            checked += 1
    return checked, None


def raw_rows(store: Store) -> list[tuple]:
    """Every row as stored (at, os_user, command, count, detail): used to carry a log across a restore."""
    return store.execute("SELECT at, os_user, command, count, detail FROM audit_log ORDER BY id").fetchall()


def append_raw(store: Store, rows: list[tuple]) -> int:
    """Re-append rows kept from another copy of the store, re-chaining them; returns how many."""
    for at, user, command, count, detail in rows:
        append(store, at, user, command, count, json.loads(detail) if detail else None)
    return len(rows)
