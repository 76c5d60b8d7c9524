"""Saved segments: the SQL of the ``segments`` table (a name for a filter expression).

Names are unique once folded ("Élus" and "elus" are the same segment); the expression is stored as
its canonical text and read back through the parser at each use, so a saved segment is dynamic.
"""

from __future__ import annotations

from dataclasses import dataclass

from dbox.errors import ConflictError
from dbox.store.db import Store, utcnow
from dbox.text import fold
from dbox.store.contacts_write import TagCache


@dataclass
class SavedSegment:
    id: int
    name: str
    key: str
    expression: str
    description: str | None
    created_at: str
    updated_at: str


_COLUMNS = "id, name, key, expression, description, created_at, updated_at"


def segment_key(name: str) -> str:
    return fold(name)


def get(store: Store, name_or_key: str) -> SavedSegment | None:
    row = store.execute(f"SELECT {_COLUMNS} FROM segments WHERE key = ?", (segment_key(name_or_key),)).fetchone()
    return SavedSegment(*row) if row else None


def list_all(store: Store) -> list[SavedSegment]:
    return [SavedSegment(*row) for row in store.execute(f"SELECT {_COLUMNS} FROM segments ORDER BY key")]


def insert(store: Store, name: str, expression: str, description: str | None) -> SavedSegment:
    now = utcnow()
    try:
        with store.savepoint():
            cur = store.execute(
                "INSERT INTO segments (name, key, expression, description, created_at, updated_at) VALUES (?,?,?,?,?,?)",
                (name, segment_key(name), expression, description, now, now))
    except store.IntegrityError:   # the connection's own class: sqlite3, sqlcipher3 or psycopg
        raise ConflictError(f'segment "{name}" already exists') from None
    return get(store, segment_key(name)) if cur.rowcount else None


def update(store: Store, segment_id: int, *, name: str | None = None, expression: str | None = None,
           description: str | None = None, keep_description: bool = True) -> None:
    row = store.execute(f"SELECT {_COLUMNS} FROM segments WHERE id = ?", (segment_id,)).fetchone()
    current = SavedSegment(*row)
    new_name = name if name is not None else current.name
    try:
        with store.savepoint():
            store.execute(
                "UPDATE segments SET name = ?, key = ?, expression = ?, description = ?, updated_at = ? WHERE id = ?",
                (new_name, segment_key(new_name), expression if expression is not None else current.expression,
                 current.description if keep_description and description is None else description,
                 utcnow(), segment_id))
    except store.IntegrityError:   # the connection's own class: sqlite3, sqlcipher3 or psycopg
        raise ConflictError(f'segment "{new_name}" already exists') from None


def delete(store: Store, segment_id: int) -> None:
    store.execute("DELETE FROM segments WHERE id = ?", (segment_id,))


# -- bulk tagging -------------------------------------------------------------------------------

def tag_counts(store: Store) -> list[tuple[str, int]]:
    """Every tag with how many contacts bear it, by folded name."""
    return store.execute(
        "SELECT t.name, (SELECT count(*) FROM contact_tags ct WHERE ct.tag_id = t.id) FROM tags t "
        "ORDER BY t.key").fetchall()


def tag_id(store: Store, name: str) -> int | None:
    row = store.execute("SELECT id FROM tags WHERE key = ?", (fold(name),)).fetchone()
    return row[0] if row else None


def tag_names(store: Store) -> list[str]:
    return [n for (n,) in store.execute("SELECT name FROM tags ORDER BY key")]


def add_tag(store: Store, name: str, where: str, params: list) -> tuple[int, int]:
    """Tag every contact of the selection (inside the caller's transaction); returns (added, already).

    The selection is read once, before anything changes, so a filter on the tag itself or on
    ``updated_at`` means what it meant when the command started. Newly tagged contacts get a new
    ``updated_at``.
    """
    tid = TagCache(store).id_for(name)
    table = "temp.dbox_tagging"
    store.execute(f"DROP TABLE IF EXISTS {table}")
    store.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, had INTEGER NOT NULL)")
    try:
        store.execute(
            f"INSERT INTO {table} (id, had) SELECT c.id, CAST(c.id IN (SELECT contact_id FROM contact_tags "
            f"WHERE tag_id = ?) AS INTEGER) FROM contacts c WHERE {where}", [tid, *params])
        store.execute(f"INSERT OR IGNORE INTO contact_tags (contact_id, tag_id) SELECT id, ? FROM {table} "
                      f"WHERE had = 0", (tid,))
        added = store.execute(f"UPDATE contacts SET updated_at = ? WHERE id IN (SELECT id FROM {table} "
                              f"WHERE had = 0)", (utcnow(),)).rowcount
        already = store.execute(f"SELECT count(*) FROM {table} WHERE had = 1").fetchone()[0]
    finally:
        store.execute(f"DROP TABLE IF EXISTS {table}")
    return added, already


def remove_tag(store: Store, tid: int, where: str, params: list) -> int:
    """Remove a tag from every contact of the selection (inside the caller's transaction); returns
    how many lost it. They get a new ``updated_at``."""
    table = "temp.dbox_untagging"
    store.execute(f"DROP TABLE IF EXISTS {table}")
    store.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY)")
    try:
        store.execute(f"INSERT INTO {table} (id) SELECT c.id FROM contacts c WHERE ({where}) AND c.id IN "
                      f"(SELECT contact_id FROM contact_tags WHERE tag_id = ?)", [*params, tid])
        store.execute(f"DELETE FROM contact_tags WHERE tag_id = ? AND contact_id IN (SELECT id FROM {table})",
                      (tid,))
        removed = store.execute(f"UPDATE contacts SET updated_at = ? WHERE id IN (SELECT id FROM {table})",
                                (utcnow(),)).rowcount
    finally:
        store.execute(f"DROP TABLE IF EXISTS {table}")
    return removed
