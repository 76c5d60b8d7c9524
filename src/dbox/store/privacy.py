"""The SQL of dbox.privacy: consent changes in bulk, erasure, rectification, retention, the
third-party marks, channel oppositions, and reading the send ledger for one person.

Functions take a ``Store`` first. A "where" argument is a clause over alias ``c`` (contacts)
built by dbox itself (``dbox.segments`` or the helpers below), never by pasting user text.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from dbox.errors import StoreError
from dbox.store.cipher import connect_with_key
from dbox.store.db import Store
from dbox.text import fold
from dbox.text import name_key as person_key
from dbox.store.db import utcnow

_BATCH = 500

# Tables whose rows about a contact are kept on erasure, but stripped of what identifies the
# person (see tombstone_ledger). Every other table with a contact_id column is emptied of the
# contact's rows, so tables added later by other areas are covered without changing this module.
LEDGER_RECIPIENT_TABLES = ("campaign_recipients", "recipients", "ledger_recipients")
# Tables that record the erasure itself or carry no personal data about one contact.
# audit_log: counts, no person; unsubscribe_ids: a random identifier that goes with its contact
# (ON DELETE CASCADE) and means nothing without it.
_NOT_PERSONAL = {"audit_log", "unsubscribe_ids"}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _chunks(values: list, size: int = _BATCH):
    for i in range(0, len(values), size):
        yield values[i:i + size]


def _q(name: str) -> str:
    """Quote an identifier read from sqlite_master (never user input)."""
    if not _IDENT.match(name):
        raise ValueError(f"unexpected identifier {name!r}")
    return f'"{name}"'


# -- schema discovery -----------------------------------------------------------------------------

def table_exists(store: Store, name: str) -> bool:
    return store.has_table(name)


def columns_of(store: Store, table: str) -> list[str]:
    return [name for name, _ in store.table_columns(_q(table).strip('"'))]


def tables_with_contact_id(store: Store) -> list[str]:
    """Every table with a ``contact_id`` column (other areas' tables included), in name order."""
    names = store.table_names()
    return [n for n in names if "contact_id" in columns_of(store, n) and n not in _NOT_PERSONAL]


def ledger_recipient_table(store: Store) -> str | None:
    for name in LEDGER_RECIPIENT_TABLES:
        if table_exists(store, name):
            return name
    return None


# -- consent ---------------------------------------------------------------------------------------

def current_consent(store: Store, contact_id: int, channel: str) -> tuple[str, str, str] | None:
    """(status, at, source) of a contact's consent on a channel, or None when never recorded."""
    return store.execute("SELECT status, at, source FROM consents WHERE contact_id = ? AND channel = ?",
                         (contact_id, channel)).fetchone()


def last_event(store: Store, contact_id: int, channel: str) -> tuple | None:
    """The latest consent event (action, at, source, detail) of a contact on a channel."""
    return store.execute(
        "SELECT action, at, source, detail FROM consent_events WHERE contact_id = ? AND channel = ? "
        "ORDER BY id DESC LIMIT 1", (contact_id, channel)).fetchone()


def consent_history(store: Store, contact_id: int, channel: str | None = None, *,
                    with_wording: bool = False) -> list[tuple]:
    """(channel, action, at, source, detail[, wording]) of every consent event, oldest first."""
    sql = ("SELECT channel, action, at, source, detail"
           + (", (SELECT w.wording FROM consent_wordings w WHERE w.event_id = consent_events.id)"
              if with_wording else "") + " FROM consent_events WHERE contact_id = ?")
    params: list = [contact_id]
    if channel:
        sql += " AND channel = ?"
        params.append(channel)
    return store.execute(sql + " ORDER BY id", params).fetchall()


def consent_page(store: Store, where: str, params, channel: str, after_id: int, limit: int) -> list[tuple]:
    """A page of (contact id, current status or None) for the contacts matching ``where``, by id."""
    return store.execute(
        f"SELECT c.id, (SELECT status FROM consents s WHERE s.contact_id = c.id AND s.channel = ?) "
        f"FROM contacts c WHERE ({where}) AND c.id > ? ORDER BY c.id LIMIT ?",
        [channel, *params, after_id, limit]).fetchall()


def contacts_with_point(store: Store, kind: str, values: Iterable[str]) -> dict[str, list[int]]:
    """value -> ids of the contacts holding that e-mail or phone."""
    found: dict[str, list[int]] = {}
    for part in _chunks(sorted(set(values))):
        marks = ",".join("?" * len(part))
        for value, contact_id in store.execute(
                f"SELECT value, contact_id FROM contact_points WHERE kind = ? AND value IN ({marks}) "
                f"ORDER BY contact_id", (kind, *part)):
            found.setdefault(value, []).append(contact_id)
    return found


def existing_contact_ids(store: Store, ids: Iterable[int]) -> set[int]:
    found: set[int] = set()
    for part in _chunks(sorted(set(ids))):
        marks = ",".join("?" * len(part))
        found.update(i for (i,) in store.execute(f"SELECT id FROM contacts WHERE id IN ({marks})", part))
    return found


def contact_points(store: Store, contact_id: int) -> list[tuple[str, str]]:
    return store.execute("SELECT kind, value FROM contact_points WHERE contact_id = ? ORDER BY kind, value",
                         (contact_id,)).fetchall()


# -- channel oppositions (suppressions with a channel) ---------------------------------------------

def add_suppression_hashes(store: Store, rows: Iterable[tuple]) -> int:
    """Insert (value_hash, kind, reason, channel, at) rows; a hash already there is left as it is,
    except that a global entry (channel NULL) replaces a channel-only one. Returns rows added."""
    before = store.execute("SELECT count(*) FROM suppressions").fetchone()[0]
    rows = list(rows)
    store.executemany(
        "INSERT INTO suppressions (value_hash, kind, reason, channel, at) VALUES (?,?,?,?,?) "
        "ON CONFLICT (value_hash) DO UPDATE SET channel = NULL, reason = excluded.reason, at = excluded.at "
        "WHERE excluded.channel IS NULL AND suppressions.channel IS NOT NULL", rows)
    return store.execute("SELECT count(*) FROM suppressions").fetchone()[0] - before


def delete_channel_suppressions(store: Store, hashes: list[str], channels: list[str]) -> int:
    """Lift channel oppositions (a renewed consent); entries for every channel (erasures) stay."""
    removed = 0
    for part in _chunks(sorted(set(hashes))):
        marks = ",".join("?" * len(part))
        cmarks = ",".join("?" * len(channels))
        removed += store.execute(f"DELETE FROM suppressions WHERE value_hash IN ({marks}) AND channel IN ({cmarks})",
                                 (*part, *channels)).rowcount
    return removed


def all_suppressions(store_or_conn) -> list[tuple]:
    """Every suppression row (value_hash, kind, reason, channel, at)."""
    return store_or_conn.execute("SELECT value_hash, kind, reason, channel, at FROM suppressions").fetchall()


def suppression_salt(store_or_conn) -> str | None:
    row = store_or_conn.execute("SELECT value FROM meta WHERE key = 'suppression_salt'").fetchone()
    return row[0] if row else None


def set_suppression_salt(store: Store, salt: str) -> None:
    store.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('suppression_salt', ?)", (salt,))


def iter_points(store: Store, batch: int = 5000) -> Iterator[tuple[int, str, str]]:
    """Every (contact id, kind, value) of the store, streamed."""
    cursor = store.execute("SELECT contact_id, kind, value FROM contact_points ORDER BY contact_id")
    while rows := cursor.fetchmany(batch):
        yield from rows


def suppressed_hashes(store: Store, hashes: Iterable[str], channel: str | None) -> set[str]:
    """Which ``hashes`` must not be messaged on ``channel``: global entries and that channel's."""
    found: set[str] = set()
    for part in _chunks(sorted(set(hashes))):
        marks = ",".join("?" * len(part))
        found.update(h for (h,) in store.execute(
            f"SELECT value_hash FROM suppressions WHERE value_hash IN ({marks}) "
            f"AND (channel IS NULL OR channel = ?)", (*part, channel)))
    return found


def suppression_counts(store: Store) -> list[tuple]:
    return store.execute(
        "SELECT kind, reason, coalesce(channel, 'all'), count(*), min(at), max(at) FROM suppressions "
        "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3").fetchall()


def count_suppressions_before(store: Store, before: str) -> int:
    return store.execute("SELECT count(*) FROM suppressions WHERE at < ?", (before,)).fetchone()[0]


def delete_suppressions_before(store: Store, before: str) -> int:
    return store.execute("DELETE FROM suppressions WHERE at < ?", (before,)).rowcount


# -- erasure ---------------------------------------------------------------------------------------

def erasure_inventory(store: Store, contact_id: int) -> dict[str, int]:
    """table -> rows that erasing the contact removes (or strips, for the ledger)."""
    counts = {"contacts": 1}
    for table in tables_with_contact_id(store):
        n = store.execute(f"SELECT count(*) FROM {_q(table)} WHERE contact_id = ?", (contact_id,)).fetchone()[0]
        if n:
            counts[table] = n
    return counts


def identity_keys(store: Store, contact_id: int) -> list[tuple[str, str | None, str | None]]:
    """(network, account_id, handle) of the social identities linked to a contact."""
    return store.execute("SELECT network, account_id, handle FROM identities WHERE contact_id = ?",
                         (contact_id,)).fetchall()


def name_and_postal_code(store: Store, contact_id: int) -> tuple[str | None, str | None]:
    row = store.execute("SELECT name_key, postal_code FROM contacts WHERE id = ?", (contact_id,)).fetchone()
    return (row[0], row[1]) if row else (None, None)


def tombstone_ledger(store: Store, contact_ids: list[int], at: str) -> int:
    """Keep what the ledger knows of the messages to these contacts (campaign, outcome, cost) but
    nothing that leads back to the person. In dbox's ledger (``campaign_recipients``) the outcome
    is copied to ``erased_recipients`` and the ledger row goes with the contact; in another ledger
    whose ``contact_id`` may be NULL, its rows are kept and stripped in place. Returns rows made
    anonymous."""
    table = ledger_recipient_table(store)
    if table is None or not contact_ids:
        return 0
    notnull = dict(store.table_columns(_q(table).strip('"')))
    columns = list(notnull)
    done = 0
    for part in _chunks(contact_ids):
        marks = ",".join("?" * len(part))
        # NULL allowed: the row can stay, unlinked; but not in dbox's own ledger, where a NULL
        # contact means a broadcast message (a post, migration 0011), never an erased person
        if not notnull["contact_id"] and table != "campaign_recipients":
            blank = ["contact_id = NULL"] + [f"{_q(c)} = NULL" for c in columns
                                             if c in _LEDGER_IDENTIFYING and c != "contact_id" and not notnull[c]]
            done += store.execute(f"UPDATE {_q(table)} SET {', '.join(blank)} WHERE contact_id IN ({marks})",
                                  part).rowcount
            continue
        kept = [c for c in ("campaign_id", "state", "reason", "segments", "done_at") if c in columns]
        store.execute(
            f"INSERT INTO erased_recipients ({', '.join(kept)}, erased_at) "
            f"SELECT {', '.join(_q(c) for c in kept)}, ? FROM {_q(table)} WHERE contact_id IN ({marks})",
            [at, *part])
        done += store.execute(f"DELETE FROM {_q(table)} WHERE contact_id IN ({marks})", part).rowcount
    return done


def erased_recipient_counts(store: Store, campaign_id: int) -> dict[str, int]:
    """state -> messages of a campaign whose recipient was erased since (for campaign statistics)."""
    return dict(store.execute("SELECT state, count(*) FROM erased_recipients WHERE campaign_id = ? GROUP BY state",
                              (campaign_id,)).fetchall())


# Ledger columns that hold an address, a provider id (which leads to the address at the provider),
# a name or a message addressed to the person.
_LEDGER_IDENTIFYING = {"contact_id", "address", "recipient", "to_address", "email", "mobile", "phone",
                       "destination", "body", "rendered", "message", "subject", "first_name", "last_name",
                       "name", "error", "error_detail", "unsubscribe_token", "provider_id", "provider_status"}


def erase_contacts(store: Store, contact_ids: list[int]) -> dict[str, int]:
    """Remove the contacts and every row about them; the caller holds the transaction.

    Ledger rows become tombstones; identities are deleted (their handle identifies the person);
    every other table with a contact_id loses the contact's rows (most cascade, some do not).
    """
    counts: dict[str, int] = {}
    ledger = ledger_recipient_table(store)

    counts["ledger rows made anonymous"] = tombstone_ledger(store, contact_ids, utcnow())
    for table in tables_with_contact_id(store):
        if table == ledger or table == "contacts":
            continue
        n = 0
        for part in _chunks(contact_ids):
            marks = ",".join("?" * len(part))
            n += store.execute(f"DELETE FROM {_q(table)} WHERE contact_id IN ({marks})", part).rowcount
        if n:
            counts[table] = n
    n = 0
    for part in _chunks(contact_ids):
        marks = ",".join("?" * len(part))
        n += store.execute(f"DELETE FROM contacts WHERE id IN ({marks})", part).rowcount
    counts["contacts"] = n
    return counts


def scrub_freed_pages(store: Store) -> None:
    """After an erasure: copy the WAL into the main file and truncate it, so erased rows do not
    linger in the -wal file (``secure_delete`` has zeroed them in the pages themselves).
    On PostgreSQL, dead rows are reclaimed by the server's VACUUM (docs/team.md): nothing to do here."""
    if store.engine == "sqlite":
        store.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()


def set_secure_delete(store: Store, on: bool = True) -> None:
    if store.engine == "sqlite":
        store.execute(f"PRAGMA secure_delete = {'ON' if on else 'OFF'}").fetchone()


# -- rectification ---------------------------------------------------------------------------------

CONTACT_COLUMNS = ("civility", "first_name", "last_name", "email", "mobile", "fixed", "address", "postal_code",
                   "commune_name", "commune_insee", "departement", "canton_code", "circonscription",
                   "geo_status", "phone_region")


def contact_row(store: Store, contact_id: int) -> dict | None:
    row = store.execute(f"SELECT {', '.join(CONTACT_COLUMNS)} FROM contacts WHERE id = ?", (contact_id,)).fetchone()
    return dict(zip(CONTACT_COLUMNS, row)) if row else None


def custom_field(store: Store, contact_id: int, name: str) -> str | None:
    row = store.execute("SELECT value FROM contact_fields WHERE contact_id = ? AND name = ?",
                        (contact_id, name)).fetchone()
    return row[0] if row else None


def update_contact(store: Store, contact_id: int, values: dict, at: str) -> None:
    bad = [k for k in values if k not in CONTACT_COLUMNS]
    if bad:
        raise ValueError(f"not contact columns: {bad}")
    row = contact_row(store, contact_id) or {}
    row.update(values)
    first, last = row.get("first_name"), row.get("last_name")
    name_key = person_key(first, last)
    assignments = ", ".join(f"{k} = ?" for k in values)
    store.execute(f"UPDATE contacts SET {assignments}, name_key = ?, updated_at = ? WHERE id = ?",
                  (*values.values(), name_key, at, contact_id))


def replace_point(store: Store, contact_id: int, kind: str, old: str | None, new: str | None) -> None:
    if old:
        store.execute("DELETE FROM contact_points WHERE contact_id = ? AND kind = ? AND value = ?",
                      (contact_id, kind, old))
    if new:
        store.execute("INSERT OR IGNORE INTO contact_points (contact_id, kind, value) VALUES (?,?,?)",
                      (contact_id, kind, new))


def other_point(store: Store, contact_id: int, kind: str) -> str | None:
    row = store.execute("SELECT value FROM contact_points WHERE contact_id = ? AND kind = ? ORDER BY value LIMIT 1",
                        (contact_id, kind)).fetchone()
    return row[0] if row else None


def set_custom_field(store: Store, contact_id: int, name: str, value: str | None) -> None:
    if value is None:
        store.execute("DELETE FROM contact_fields WHERE contact_id = ? AND name = ?", (contact_id, name))
    else:
        store.execute("INSERT OR REPLACE INTO contact_fields (contact_id, name, value) VALUES (?,?,?)",
                      (contact_id, name, value))


def add_rectifications(store: Store, rows: list[tuple]) -> None:
    """(contact_id, at, os_user, field, old_value, new_value, reason) rows."""
    store.executemany(
        "INSERT INTO rectifications (contact_id, at, os_user, field, old_value, new_value, reason) "
        "VALUES (?,?,?,?,?,?,?)", rows)


def rectification_history(store: Store, contact_id: int) -> list[tuple]:
    return store.execute(
        "SELECT at, os_user, field, old_value, new_value, reason FROM rectifications WHERE contact_id = ? "
        "ORDER BY id", (contact_id,)).fetchall()


# -- exchanges, third-party imports ----------------------------------------------------------------

def add_exchanges(store: Store, rows: list[tuple]) -> None:
    """(contact_id, at, kind, detail) rows."""
    store.executemany("INSERT INTO contact_exchanges (contact_id, at, kind, detail) VALUES (?,?,?,?)", rows)


def exchanges(store: Store, contact_id: int) -> list[tuple]:
    return store.execute("SELECT at, kind, detail FROM contact_exchanges WHERE contact_id = ? ORDER BY at, id",
                         (contact_id,)).fetchall()


def import_row(store: Store, import_id: int) -> tuple | None:
    return store.execute("SELECT id, filename, kind, started_at, finished_at, added + merged FROM imports "
                         "WHERE id = ?", (import_id,)).fetchone()


def mark_third_party(store: Store, import_id: int, origin: str, at: str, user: str) -> None:
    store.execute(
        "INSERT INTO third_party_imports (import_id, origin, marked_at, os_user) VALUES (?,?,?,?) "
        "ON CONFLICT (import_id) DO UPDATE SET origin = excluded.origin, marked_at = excluded.marked_at, "
        "os_user = excluded.os_user", (import_id, origin, at, user))


def unmark_third_party(store: Store, import_id: int) -> int:
    return store.execute("DELETE FROM third_party_imports WHERE import_id = ?", (import_id,)).rowcount


def imports_with_origin(store: Store, kinds: tuple[str, ...]) -> list[tuple]:
    """(id, filename, kind, finished_at, contacts, third-party origin or None) of every import."""
    marks = ",".join("?" * len(kinds)) or "NULL"
    return store.execute(
        f"SELECT i.id, i.filename, i.kind, i.finished_at, "
        f"(SELECT count(DISTINCT contact_id) FROM contact_sources s WHERE s.import_id = i.id), "
        f"coalesce(t.origin, CASE WHEN i.kind IN ({marks}) THEN i.kind END) "
        f"FROM imports i LEFT JOIN third_party_imports t ON t.import_id = i.id ORDER BY i.id", kinds).fetchall()


def third_party_clause(kinds: tuple[str, ...], tags: tuple[str, ...]) -> tuple[str, list]:
    """SQL over alias ``c``: the contact's data came from a third party, i.e. it came from a marked
    import (or one of ``kinds``) or carries one of ``tags``, and from no import of its own."""
    tag_keys = [fold(t) for t in tags]
    kind_marks = ",".join("?" * len(kinds)) or "NULL"
    third = (f"(i3.id IN (SELECT import_id FROM third_party_imports) OR i3.kind IN ({kind_marks}))")
    from_third = (f"EXISTS (SELECT 1 FROM contact_sources s3 JOIN imports i3 ON i3.id = s3.import_id "
                  f"WHERE s3.contact_id = c.id AND {third})")
    from_own = (f"EXISTS (SELECT 1 FROM contact_sources s3 JOIN imports i3 ON i3.id = s3.import_id "
                f"WHERE s3.contact_id = c.id AND NOT {third})")
    params: list = [*kinds]
    clause = f"({from_third} AND NOT {from_own})"
    params += [*kinds]
    if tag_keys:
        tag_marks = ",".join("?" * len(tag_keys))
        clause = (f"({clause} OR EXISTS (SELECT 1 FROM contact_tags ct3 JOIN tags t3 ON t3.id = ct3.tag_id "
                  f"WHERE ct3.contact_id = c.id AND t3.key IN ({tag_marks})))")
        params += tag_keys
    return clause, params


def tagged_clause(tags: Iterable[str]) -> tuple[str, list]:
    keys = [fold(t) for t in tags]
    if not keys:
        return "FALSE", []
    marks = ",".join("?" * len(keys))
    return (f"EXISTS (SELECT 1 FROM contact_tags ctk JOIN tags tk ON tk.id = ctk.tag_id "
            f"WHERE ctk.contact_id = c.id AND tk.key IN ({marks}))", keys)


def id_clause(ids: Iterable[int]) -> tuple[str, list]:
    ids = sorted(set(int(i) for i in ids))
    if not ids:
        return "FALSE", []
    return f"c.id IN ({','.join('?' * len(ids))})", ids


def count_where(store: Store, where: str, params) -> int:
    return store.execute(f"SELECT count(*) FROM contacts c WHERE {where}", list(params)).fetchone()[0]


# -- the send ledger, read for one person ----------------------------------------------------------

_LEDGER_EXPORT = ("campaign_id", "address", "state", "reason", "claimed_at", "done_at", "provider_status",
                  "segments")
_CAMPAIGN_EXPORT = ("channel", "created_at", "started_at", "template")


def ledger_messages(store: Store, contact_id: int) -> list[dict]:
    """Messages sent to a contact and their outcomes, read from the send ledger (empty when the
    sending area is not installed), with the campaign's channel, dates and message template."""
    table = ledger_recipient_table(store)
    if table is None:
        return []
    columns = columns_of(store, table)
    names = [c for c in _LEDGER_EXPORT if c in columns]
    select = [f"r.{_q(c)}" for c in names]
    join = ""
    if table_exists(store, "campaigns") and "campaign_id" in columns:
        ccols = columns_of(store, "campaigns")
        for c in _CAMPAIGN_EXPORT:
            if c in ccols:
                select.append(f"k.{_q(c)}")
                names.append(f"campaign_{c}")
        join = " LEFT JOIN campaigns k ON k.id = r.campaign_id"
    row = "r.rowid" if store.engine == "sqlite" else ("r.id" if "id" in columns else "r.ctid")
    order = f"r.campaign_id, {row}" if "campaign_id" in columns else row
    rows = store.execute(f"SELECT {', '.join(select)} FROM {_q(table)} r{join} WHERE r.contact_id = ? "
                         f"ORDER BY {order}", (contact_id,)).fetchall()
    return [dict(zip(names, row)) for row in rows]


def messages_sent_clause(store: Store) -> tuple[str, list] | None:
    """SQL over alias ``c``: how many messages the ledger says reached the provider for a contact."""
    table = ledger_recipient_table(store)
    if table is None:
        return None
    columns = columns_of(store, table)
    if "state" not in columns:
        return None
    sent = ("claimed", "accepted", "delivered", "undelivered", "in-doubt")
    return (f"(SELECT count(*) FROM {_q(table)} lr WHERE lr.contact_id = c.id AND lr.state IN "
            f"({','.join('?' * len(sent))}))", list(sent))


def last_message_clause(store: Store) -> tuple[str, list] | None:
    table = ledger_recipient_table(store)
    if table is None:
        return None
    columns = columns_of(store, table)
    stamp = next((c for c in ("done_at", "claimed_at", "sent_at", "updated_at") if c in columns), None)
    if stamp is None:
        return None
    return f"(SELECT max(lr2.{_q(stamp)}) FROM {_q(table)} lr2 WHERE lr2.contact_id = c.id)", []


def other_rows(store: Store, contact_id: int, skip: set[str]) -> dict[str, list[dict]]:
    """Rows about the contact in tables the export does not present on their own (tables other
    areas added: actions, interactions, ...), as plain dicts."""
    found: dict[str, list[dict]] = {}
    for table in tables_with_contact_id(store):
        if table in skip:
            continue
        cursor = store.execute(f"SELECT * FROM {_q(table)} WHERE contact_id = ?", (contact_id,))
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, r)) for r in cursor.fetchall()]
        if rows:
            found[table] = rows
    return found


# -- retention -------------------------------------------------------------------------------------

def last_exchange_sql(store: Store) -> str:
    """SQL over alias ``c``: the latest contact coming from the person (their arrival, a consent
    they gave or withdrew other than through an import, a recorded exchange, a rectification).
    The largest of several values is SQLite's scalar ``max(a, b, ...)``, PostgreSQL's ``greatest``."""
    largest = "greatest" if store.engine == "postgresql" else "max"
    return (f"{largest}(c.created_at, "
            "coalesce((SELECT max(e.at) FROM consent_events e WHERE e.contact_id = c.id AND e.source <> 'import'), ''), "
            "coalesce((SELECT max(x.at) FROM contact_exchanges x WHERE x.contact_id = c.id), ''), "
            "coalesce((SELECT max(r.at) FROM rectifications r WHERE r.contact_id = c.id), ''))")


def person_spoke_sql() -> str:
    """SQL over alias ``c``: the person answered or acted at least once (beyond arriving in a file)."""
    return ("(EXISTS (SELECT 1 FROM contact_exchanges x2 WHERE x2.contact_id = c.id) OR "
            "EXISTS (SELECT 1 FROM consent_events e2 WHERE e2.contact_id = c.id AND e2.source <> 'import' "
            "AND e2.action = 'grant'))")


def granted_clause(channel: str) -> tuple[str, list]:
    """SQL over alias ``c``: the contact's consent on ``channel`` is currently granted."""
    return "EXISTS (SELECT 1 FROM consents gc WHERE gc.contact_id = c.id AND gc.channel = ? AND gc.status = 'granted')", \
        [channel]


def has_granted_sql() -> str:
    return "EXISTS (SELECT 1 FROM consents g WHERE g.contact_id = c.id AND g.status = 'granted')"


def iter_due(store: Store, where: str, params, extra_columns: dict[str, tuple[str, list]] | None = None,
             batch: int = 2000) -> Iterator[tuple]:
    """Stream (id, last exchange, *extra) of the contacts matching ``where``, by id."""
    extra_columns = extra_columns or {}
    select = ["c.id", last_exchange_sql(store)] + [sql for sql, _ in extra_columns.values()]
    select_params = [p for _, ps in extra_columns.values() for p in ps]
    yield from store.stream(f"SELECT {', '.join(select)} FROM contacts c WHERE {where} ORDER BY c.id",
                            [*select_params, *params], size=batch)


def due_id_page(store: Store, where: str, params, after_id: int, limit: int) -> list[int]:
    return [i for (i,) in store.execute(
        f"SELECT c.id FROM contacts c WHERE ({where}) AND c.id > ? ORDER BY c.id LIMIT ?",
        [*params, after_id, limit])]


def withdrawn_points(store: Store, contact_ids: list[int]) -> list[tuple[int, str, str, str]]:
    """(contact id, channel, point kind, value) for every withdrawn channel of these contacts and
    the addresses that channel reaches: what must survive a purge as a hashed opposition."""
    out: list[tuple[int, str, str, str]] = []
    for part in _chunks(contact_ids):
        marks = ",".join("?" * len(part))
        out += store.execute(
            f"SELECT s.contact_id, s.channel, p.kind, p.value FROM consents s JOIN contact_points p "
            f"ON p.contact_id = s.contact_id WHERE s.status = 'withdrawn' AND s.contact_id IN ({marks})",
            part).fetchall()
    return out


# -- backup and restore ----------------------------------------------------------------------------

@contextmanager
def backup_file(store: Store | None, path: Path, *, readonly: bool = False):
    """A connection to a backup file of the same kind as the store's: plain SQLite, or SQLCipher
    with the store's key (the backup API copies pages, so both ends must be encrypted alike).
    Closed on leaving; the engine's database errors come out as :class:`StoreError` (their words)."""
    key = getattr(store, "cipher_key", None) if store is not None else None
    errors: tuple = (sqlite3.DatabaseError,)
    if key is not None:
        errors += (store.DatabaseError,)
    try:
        if key is not None:
            conn = connect_with_key(path, key, readonly=readonly)
        elif readonly:
            # immutable: the file is read as it is, no -shm is created beside someone's backup
            conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro&immutable=1", uri=True)
        else:
            conn = sqlite3.connect(path)
        try:
            yield conn
        finally:
            conn.close()
    except errors as exc:
        raise StoreError(str(exc)) from None


def self_contained(conn) -> None:
    """A backup file as one file: no -wal beside it."""
    conn.execute("PRAGMA journal_mode = DELETE")


def restore_from(store: Store, source) -> None:
    """Copy a backup connection's pages over the store (SQLite's online backup API)."""
    store.restore_from(source)


def store_contact_count(store: Store) -> int:
    return contact_count(store)


def backup_into(store: Store, target: sqlite3.Connection, pages: int = 1024) -> None:
    """Copy the store into ``target`` with SQLite's online backup API (readers and writers may go on)."""
    store.backup_into(target, pages=pages)


def quick_check(conn) -> str:
    """'ok' or the first problem. integrity_check, not quick_check: SQLite 3.40's quick_check wrongly
    reports NULLs in WITHOUT ROWID tables whose key lists columns out of order (contact_tags)."""
    return conn.execute("PRAGMA integrity_check(1)").fetchone()[0]


def user_version(conn) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def has_table(conn, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() \
        is not None


def contact_count(conn) -> int:
    return conn.execute("SELECT count(*) FROM contacts").fetchone()[0]


# -- unsubscribe tokens ----------------------------------------------------------------------------

def unsubscribe_key(store: Store) -> str:
    """The per-store random key of unsubscribe tokens (the same ``meta`` row the sending ledger uses)."""
    import secrets

    row = store.execute("SELECT value FROM meta WHERE key = 'unsubscribe_key'").fetchone()
    if row:
        return row[0]
    store.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('unsubscribe_key', ?)", (secrets.token_hex(32),))
    return store.execute("SELECT value FROM meta WHERE key = 'unsubscribe_key'").fetchone()[0]


def unsubscribe_uid(store: Store, contact_id: int) -> str | None:
    """The contact's random unsubscribe identifier (the smallest, after a merge gave it several)."""
    return store.execute(f"SELECT {UNSUBSCRIBE_UID_SQL.format(contact='?')}", (contact_id,)).fetchone()[0]


# SQL for the unsubscribe identifier of the contact ``{contact}`` (an alias column or ``?``).
UNSUBSCRIBE_UID_SQL = ("(SELECT min(u.uid) FROM unsubscribe_ids u WHERE u.contact_id = {contact} "
                       "AND u.uid NOT LIKE 'legacy:%')")


def move_unsubscribe_ids(store: Store, from_contact: int, to_contact: int) -> int:
    """A merge (``dbox contacts merge KEEP OTHER``) must call this before deleting OTHER: the links
    already sent to OTHER then unsubscribe KEEP, the same person, instead of doing nothing."""
    return store.execute("UPDATE unsubscribe_ids SET contact_id = ? WHERE contact_id = ?",
                         (to_contact, from_contact)).rowcount


def contact_of_unsubscribe_uid(store: Store, uid: str) -> int | None:
    row = store.execute("SELECT contact_id FROM unsubscribe_ids WHERE uid = ?", (uid,)).fetchone()
    return row[0] if row else None
