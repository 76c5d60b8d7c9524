"""Writing contacts in batches: the SQL side of ``dbox import`` (dedupe look-ups, inserts, merges).

The import pipeline works a chunk of rows at a time: it looks every key of the chunk up in one
query per kind, fetches the matched contacts whole, decides in Python, then writes with
``executemany``. All of it runs inside the import's single transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from dbox.store.db import Store, utcnow
from dbox.text import fold
from dbox.text import name_key as person_key
from dbox.filters.keys import contact_keys, text_key
from dbox.store.suppressions import Hasher

SCALAR_FIELDS = ("civility", "first_name", "last_name", "address", "postal_code", "commune_name",
                 "commune_insee", "departement", "canton_code", "circonscription", "geo_status",
                 "phone_region", "email", "mobile", "fixed")
_KEY_COLUMNS = ("first_name_key", "last_name_key", "address_key", "commune_key")
_UPDATED_COLUMNS = (*SCALAR_FIELDS, *_KEY_COLUMNS, "name_key")
_BATCH = 500  # SQLite's default limit is 32766 variables; stay well below, keep plans simple


@dataclass(slots=True)
class ContactState:
    """A contact as the import sees it: its fields and what this import adds to it."""

    id: int
    fields: dict[str, str | None] | None      # None: a new contact's are its ``fresh`` row's
    points: set[tuple[str, str]] = field(default_factory=set)      # (kind, value)
    tag_keys: set[str] = field(default_factory=set)
    custom: dict[str, str] = field(default_factory=dict)
    consents: dict[str, str] = field(default_factory=dict)          # channel -> status
    is_new: bool = False
    dirty: bool = False
    new_points: list[tuple[str, str]] = field(default_factory=list)
    new_tags: list[str] = field(default_factory=list)
    new_custom: dict[str, str] = field(default_factory=dict)
    new_consents: list[tuple[str, str, str | None, str | None]] = field(default_factory=list)  # channel, action, detail, wording
    sources: list[int] = field(default_factory=list)
    # A new contact whose fields are still those of the row that created it: that row (with
    # ``values``, ``keys`` and ``name_key`` computed by the import's workers), else None.
    fresh: object = None
    # A contact of the store: the values of ``_UPDATED_COLUMNS`` as read, so that an update
    # writes only the columns that changed (each column written costs its indexes).
    stored: tuple | None = None


def previous_import(store: Store, sha256: str):
    return store.execute(
        "SELECT id, filename, finished_at FROM imports WHERE sha256 = ? AND finished_at IS NOT NULL "
        "AND kind = 'contacts' ORDER BY id DESC LIMIT 1", (sha256,)).fetchone()


def start_import(store: Store, filename: str, sha256: str, options: dict, kind: str = "contacts") -> int:
    cur = store.execute(
        "INSERT INTO imports (filename, sha256, kind, started_at, options) VALUES (?,?,?,?,?) RETURNING id",
        (filename, sha256, kind, utcnow(), json.dumps(options, ensure_ascii=False, sort_keys=True)))
    return cur.fetchone()[0]


def finish_import(store: Store, import_id: int, counts: dict[str, int]) -> None:
    store.execute(
        "UPDATE imports SET finished_at = ?, rows_read = ?, added = ?, merged = ?, unchanged = ?, "
        "rejected = ?, suppressed = ? WHERE id = ?",
        (utcnow(), counts.get("read", 0), counts.get("added", 0), counts.get("merged", 0),
         counts.get("unchanged", 0), counts.get("rejected", 0), counts.get("suppressed", 0), import_id))


# Indexes the import itself needs while it runs (dedupe look-ups); every other secondary index of
# the contact tables may be dropped for a large import and rebuilt at its end.
_NEEDED_DURING_IMPORT = {"contact_points_value", "contacts_name_key", "contact_tags_contact",
                         "consents_contact", "imports_sha"}
_DEFERRABLE_TABLES = ("contacts", "contact_points", "contact_tags", "contact_fields", "contact_sources",
                      "consent_events", "consents")


# Per-row triggers on the contacts an import inserts, replaced during a large import by one
# set-based statement at its end (``rebuild_indexes``): the unsubscribe identifier of each new
# contact (migration 0007).
_DEFERRABLE_TRIGGERS = ("contacts_unsubscribe_id",)


def drop_deferrable_indexes(store: Store) -> list[str]:
    """Drop secondary indexes the import does not read (and the per-row triggers above), inside
    the caller's transaction; return the statements that rebuild them. Building an index once over
    sorted data is several times faster than updating it row by row, and the transaction keeps the
    store whole if anything fails. SQLite only for now (PostgreSQL keeps its indexes)."""
    if store.engine != "sqlite":
        return []
    rows = store.secondary_indexes(_DEFERRABLE_TABLES)
    rebuild = []
    for name, sql in rows:
        if name in _NEEDED_DURING_IMPORT:
            continue
        store.execute(f'DROP INDEX "{name}"')
        rebuild.append(sql)
    marks = ",".join("?" * len(_DEFERRABLE_TRIGGERS))
    for name, sql in store.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                   f"AND name IN ({marks})", _DEFERRABLE_TRIGGERS).fetchall():
        store.execute(f'DROP TRIGGER "{name}"')
        rebuild.append(sql)
    return rebuild


def rebuild_indexes(store: Store, statements: list[str], first_new_id: int | None = None) -> None:
    """Rebuild what ``drop_deferrable_indexes`` dropped; ``first_new_id``: the first id the import
    gave a contact (every id from it on is new), whose unsubscribe identifiers are made here."""
    if any(sql.lstrip().upper().startswith("CREATE TRIGGER") for sql in statements) and first_new_id:
        store.execute("INSERT INTO unsubscribe_ids (uid, contact_id) "
                      "SELECT lower(hex(randomblob(16))), id FROM contacts WHERE id >= ?", (first_new_id,))
    for sql in statements:
        store.execute(sql)


def next_contact_id(store: Store) -> int:
    """The id of the import's first new contact. On PostgreSQL, imports into one store take turns
    (a lock held until the import's transaction ends) and start past the id sequence too, so that
    two team members' imports never give two contacts one id."""
    if store.engine == "postgresql":
        store.execute("SELECT pg_advisory_xact_lock(7216350115)")
        return store.execute(
            "SELECT greatest(coalesce(max(id), 0), "
            "(SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM contacts_id_seq)) + 1 FROM contacts").fetchone()[0]
    return (store.execute("SELECT max(id) FROM contacts").fetchone()[0] or 0) + 1


def reserve_contact_ids(store: Store, count: int, next_id: int) -> int:
    """The first of ``count`` consecutive ids for new contacts; ``next_id`` is where the import
    would count on from.

    SQLite: ``next_id`` itself: the transaction holds the store's write lock, nobody else adds a
    contact meanwhile. PostgreSQL: ids drawn from the contacts' id sequence, so that whatever else
    adds a contact meanwhile (a row taking the column's default, another client) draws other ids,
    whoever commits first. Drawn in one statement, they are consecutive unless someone drew in
    between; then they are drawn again. Ids drawn and not used are gaps, as a sequence leaves after
    any rollback."""
    if store.engine != "postgresql" or count <= 0:
        return next_id
    while True:
        ids = sorted(i for (i,) in store.execute(
            "SELECT nextval(pg_get_serial_sequence('contacts', 'id')) FROM generate_series(1, ?)", (count,)))
        if ids[-1] - ids[0] == count - 1:
            return ids[0]


def _chunks(values: list, size: int = _BATCH):
    for i in range(0, len(values), size):
        yield values[i:i + size]


def lookup_points(store: Store, kind: str, values: Iterable[str]) -> dict[str, int]:
    """value -> the oldest contact holding it, for e-mails or phones."""
    found: dict[str, int] = {}
    values = list(set(values))
    for part in _chunks(values):
        marks = ",".join("?" * len(part))
        for value, contact_id in store.execute(
                f"SELECT value, min(contact_id) FROM contact_points WHERE value IN ({marks}) "
                f"AND kind = ? GROUP BY value", (*part, kind)):
            found[value] = contact_id
    return found


def lookup_names(store: Store, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[int]]:
    """(name_key, postal_code) -> the contacts with that folded name in that postal code, oldest first."""
    found: dict[tuple[str, str], list[int]] = {}
    keys = list(set(keys))
    for part in _chunks(keys, _BATCH // 2):
        clause = " OR ".join("(name_key = ? AND postal_code = ?)" for _ in part)
        params = [v for key in part for v in key]
        for name_key, postal_code, contact_id in store.execute(
                f"SELECT name_key, postal_code, id FROM contacts WHERE {clause} ORDER BY id", params):
            found.setdefault((name_key, postal_code), []).append(contact_id)
    return found


def fetch_states(store: Store, ids: Iterable[int]) -> dict[int, ContactState]:
    states: dict[int, ContactState] = {}
    ids = list(set(ids))
    columns = ", ".join(_UPDATED_COLUMNS)
    width = len(SCALAR_FIELDS)
    for part in _chunks(ids):
        marks = ",".join("?" * len(part))
        for row in store.execute(f"SELECT id, {columns} FROM contacts WHERE id IN ({marks})", part):
            states[row[0]] = ContactState(row[0], dict(zip(SCALAR_FIELDS, row[1:width + 1])), stored=row[1:])
        for cid, kind, value in store.execute(
                f"SELECT contact_id, kind, value FROM contact_points WHERE contact_id IN ({marks})", part):
            states[cid].points.add((kind, value))
        for cid, key in store.execute(
                f"SELECT ct.contact_id, t.key FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id "
                f"WHERE ct.contact_id IN ({marks})", part):
            states[cid].tag_keys.add(key)
        for cid, name, value in store.execute(
                f"SELECT contact_id, name, value FROM contact_fields WHERE contact_id IN ({marks})", part):
            states[cid].custom[name] = value
        for cid, channel, status in store.execute(
                f"SELECT contact_id, channel, status FROM consents WHERE contact_id IN ({marks})", part):
            states[cid].consents[channel] = status
    return states


class TagCache:
    """Tag name -> id, creating tags on first use ('Porte-à-porte' and 'porte-a-porte' are one tag)."""

    def __init__(self, store: Store):
        self.store = store
        self.ids = {key: tag_id for tag_id, key in store.execute("SELECT id, key FROM tags")}

    def id_for(self, name: str) -> int:
        key = fold(name)
        tag_id = self.ids.get(key)
        if tag_id is None:
            tag_id = self.store.execute("INSERT INTO tags (name, key) VALUES (?, ?) RETURNING id",
                                        (name, key)).fetchone()[0]
            self.ids[key] = tag_id
        return tag_id


def write_states(store: Store, states: Iterable, import_id: int, tags: TagCache,
                 consent_detail: str, replace_custom: bool = False, source: str = "import",
                 hashes: dict[str, str] | None = None) -> None:
    """Insert new contacts and apply what this import adds to matched ones. ``states``: each a
    ``ContactState``, or for a new contact that is exactly one row of the file, ``(id, row,
    consent events)`` (the row a ``dbox.importing.records.Row``; the events (channel, action,
    detail, wording)). ``source``: the source of the consent events written (``form`` for a
    sign-up form's submission). ``hashes``: the salted hashes of addresses already computed (by
    the import's workers); the others are computed here."""
    hasher = Hasher(store)
    hashes = hashes or {}
    now = utcnow()
    inserts, points, tag_rows, custom_rows, sources, events = [], [], [], [], [], []
    updates: dict[tuple[int, ...], list[tuple]] = {}   # the columns changed -> rows
    staged = [] if store.engine == "sqlite" else None
    for s in states:
        if type(s) is tuple:
            # A new contact that is its row: written straight from it.
            cid, rec, new_events = s
            row_hashes = rec.hashes
            if staged is not None:
                first = [v[0] if v else None for v in (rec.emails, rec.mobiles, rec.fixeds)]
                staged.append((cid, *rec.values, *rec.keys, rec.name_key,
                               *[row_hashes.get(v) or hasher(v) if v else None for v in first], rec.row))
                for kind, values in (("email", rec.emails), ("mobile", rec.mobiles), ("fixed", rec.fixeds)):
                    for value in values[1:]:
                        points.append((cid, kind, value, row_hashes.get(value) or hasher(value)))
            else:
                inserts.append((cid, *rec.values, *rec.keys, rec.name_key, now, now))
                for kind, values in (("email", rec.emails), ("mobile", rec.mobiles), ("fixed", rec.fixeds)):
                    for value in values:
                        points.append((cid, kind, value, row_hashes.get(value) or hasher(value)))
                sources.append((cid, import_id, rec.row))
            for name, _key in rec.tags:
                tag_rows.append((cid, tags.id_for(name)))
            if rec.custom:
                custom_rows.extend((cid, name, value, text_key(value)) for name, value in rec.custom.items())
            for channel, action, detail, wording in new_events:
                events.append((cid, channel, action, now, source, detail, wording))
            continue
        fresh = s.fresh
        if fresh is not None and s.is_new:
            inserts.append((s.id, *fresh.values, *fresh.keys, fresh.name_key, now, now))
        elif s.is_new or s.dirty:
            f = s.fields
            # The folded search keys and address hashes the filter language reads (docs/filters.md)
            # are written with the values, so that the first segment after an import is fast.
            keys = contact_keys(f.get("first_name"), f.get("last_name"), f.get("address"), f.get("commune_name"))
            values = [f.get(name) for name in SCALAR_FIELDS]
            if s.is_new:
                inserts.append((s.id, *values, *keys, _name_key(f), now, now))
            else:
                new = (*values, *keys, _name_key(f))
                old = s.stored
                changed = (tuple(range(len(new))) if old is None
                           else tuple(i for i, (a, b) in enumerate(zip(new, old)) if a != b))
                updates.setdefault(changed, []).append((*(new[i] for i in changed), now, s.id))
        cid = s.id
        for kind, value in s.new_points:
            points.append((cid, kind, value, hashes.get(value) or hasher(value)))
        for name in s.new_tags:
            tag_rows.append((cid, tags.id_for(name)))
        if s.new_custom:
            custom_rows.extend((cid, name, value, text_key(value)) for name, value in s.new_custom.items())
        for row in s.sources:
            sources.append((cid, import_id, row))
        for channel, action, detail, wording in s.new_consents:
            events.append((cid, channel, action, now, source, detail, wording))
    if staged:
        _write_staged(store, staged, import_id, now)
    # COPY on PostgreSQL (store.insert_rows); the ids given here move its id sequence on.
    store.insert_rows("contacts", ("id", *SCALAR_FIELDS, *_KEY_COLUMNS, "name_key", "created_at", "updated_at"),
                      inserts)
    if inserts:
        store.ids_written("contacts")
    for changed, rows in updates.items():
        # Only the columns that changed: an UPDATE rewrites the index entries of every column
        # it sets, changed or not (the key-staleness triggers compare old and new values, so
        # leaving an unchanged column out changes nothing else).
        assignments = "".join(f"{_UPDATED_COLUMNS[i]} = ?, " for i in changed)
        store.executemany(f"UPDATE contacts SET {assignments}updated_at = ? WHERE id = ?", rows)
    store.insert_rows("contact_points", ("contact_id", "kind", "value", "value_hash"), points, ignore=True)
    store.insert_rows("contact_tags", ("contact_id", "tag_id"), tag_rows, ignore=True)
    if replace_custom:
        store.executemany(
            "INSERT OR REPLACE INTO contact_fields (contact_id, name, value, value_key) VALUES (?,?,?,?)", custom_rows)
    else:
        store.insert_rows("contact_fields", ("contact_id", "name", "value", "value_key"), custom_rows, ignore=True)
    store.insert_rows("contact_sources", ("contact_id", "import_id", "row_number"), sources, ignore=True)
    if events:
        record_consent_events(store, events)


# A new contact that is its row, as one wide row of the staging table (SQLite): its fields, keys,
# the hashes of its first e-mail, mobile and fixed line (the other addresses are written apart),
# and its row in the file.
_STAGE_COLUMNS = ("id", *SCALAR_FIELDS, *_KEY_COLUMNS, "name_key", "email_hash", "mobile_hash", "fixed_hash",
                  "row_number")


def _write_staged(store: Store, staged: list[tuple], import_id: int, now: str) -> None:
    """SQLite: new contacts go into a staging table one wide row each, then into ``contacts``,
    ``contact_points`` and ``contact_sources`` with one ``INSERT … SELECT`` per table: one bound
    row per contact instead of four or five (binding and stepping a statement per row cost as
    much as the B-tree work; bench/import_bench.py)."""
    store.execute(f"CREATE TEMP TABLE IF NOT EXISTS import_stage ({', '.join(_STAGE_COLUMNS)})")
    store.executemany(f"INSERT INTO temp.import_stage VALUES ({','.join('?' * len(_STAGE_COLUMNS))})", staged)
    columns = ", ".join(("id", *SCALAR_FIELDS, *_KEY_COLUMNS, "name_key"))
    store.execute(f"INSERT INTO contacts ({columns}, created_at, updated_at) "
                  f"SELECT {columns}, ?, ? FROM temp.import_stage", (now, now))
    for kind in ("email", "mobile", "fixed"):
        store.execute(f"INSERT OR IGNORE INTO contact_points (contact_id, kind, value, value_hash) "
                      f"SELECT id, '{kind}', {kind}, {kind}_hash FROM temp.import_stage WHERE {kind} IS NOT NULL")
    store.execute("INSERT OR IGNORE INTO contact_sources (contact_id, import_id, row_number) "
                  "SELECT id, ?, row_number FROM temp.import_stage", (import_id,))
    store.execute("DELETE FROM temp.import_stage")


def record_consent_events(store: Store, events: list[tuple]) -> None:
    """Append consent events (contact_id, channel, action, at, source, detail[, wording]) and update
    the current state. The caller has already decided the events are lawful (see dbox.consent).

    ``wording`` is what the person agreed to. Without it, a grant's detail is its wording (what
    ``dbox consent grant --wording`` records) except for an import, whose detail names the file."""
    rows, wordings = [], []
    for event in events:
        cid, channel, action, at, source, detail = event[:6]
        if len(event) > 6:
            wording = event[6]
        else:
            wording = detail if action == "grant" and source != "import" else None
        rows.append((cid, channel, action, at, source, detail))
        wordings.append(wording)
    insert = "INSERT INTO consent_events (contact_id, channel, action, at, source, detail) VALUES (?,?,?,?,?,?)"
    if any(wordings) and store.engine == "sqlite" and store.in_transaction:
        # The ids are given here (the transaction holds the write lock): one executemany, not
        # one statement per event to learn its id.
        first = (store.execute("SELECT max(id) FROM consent_events").fetchone()[0] or 0) + 1
        store.executemany("INSERT INTO consent_events (id, contact_id, channel, action, at, source, detail) "
                          "VALUES (?,?,?,?,?,?,?)", [(first + i, *row) for i, row in enumerate(rows)])
        store.executemany("INSERT INTO consent_wordings (event_id, wording) VALUES (?, ?)",
                          [(first + i, wording) for i, wording in enumerate(wordings) if wording])
    elif any(wordings):
        # One statement per event, in order, to know each id (executemany returns none).
        kept = []
        for row, wording in zip(rows, wordings):
            event_id = store.execute(insert + " RETURNING id", row).fetchone()[0]
            if wording:
                kept.append((event_id, wording))
        store.executemany("INSERT INTO consent_wordings (event_id, wording) VALUES (?, ?)", kept)
    else:
        store.insert_rows("consent_events", ("contact_id", "channel", "action", "at", "source", "detail"), rows)
    states = [(cid, ch, "granted" if action == "grant" else "withdrawn", at, source)
              for cid, ch, action, at, source, *_ in events]
    upsert = ("ON CONFLICT (channel, contact_id) DO UPDATE SET status = excluded.status, at = excluded.at, "
              "source = excluded.source")
    if store.engine == "postgresql" and len(states) > 1:
        # One COPY and one INSERT … SELECT instead of a statement per event (an import's thousands
        # of round trips). An upsert may not touch a row twice in one statement: the last event of
        # each contact and channel is kept, which is what the upserts one by one left.
        latest = {(row[1], row[0]): row for row in states}
        store.execute("CREATE TEMP TABLE IF NOT EXISTS dbox_stage_consents AS "
                      "SELECT contact_id, channel, status, at, source FROM consents WITH NO DATA")
        store.execute("TRUNCATE pg_temp.dbox_stage_consents")
        store.copy_rows("pg_temp.dbox_stage_consents", ("contact_id", "channel", "status", "at", "source"),
                        latest.values())
        store.execute("INSERT INTO consents (contact_id, channel, status, at, source) "
                      "SELECT contact_id, channel, status, at, source FROM pg_temp.dbox_stage_consents " + upsert)
        return
    store.executemany("INSERT INTO consents (contact_id, channel, status, at, source) VALUES (?,?,?,?,?) " + upsert,
                      states)


def _name_key(fields: dict) -> str | None:
    return person_key(fields.get("first_name"), fields.get("last_name"))
