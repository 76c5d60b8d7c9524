"""The SQL of ``dbox contacts duplicates`` and ``dbox contacts merge`` (rules: dbox.importing.duplicates)."""

from __future__ import annotations

from collections import Counter

from dbox.store.db import Store


def possible_duplicates(store: Store, limit: int | None = None) -> list[tuple[str, str, list[int]]]:
    """(reason, shared value, contact ids) for contacts sharing a folded name and postal code, or
    an e-mail or mobile. Contacts the import kept apart because an e-mail or mobile disagreed are
    listed here for a person to decide."""
    groups: list[tuple[str, str, list[int]]] = []
    for name_key, postal_code, ids in store.execute(
            "SELECT name_key, postal_code, group_concat(id) FROM "
            "(SELECT name_key, postal_code, id FROM contacts WHERE name_key IS NOT NULL AND postal_code IS NOT NULL "
            " AND (name_key, postal_code) IN (SELECT name_key, postal_code FROM contacts WHERE name_key IS NOT NULL "
            "   AND postal_code IS NOT NULL GROUP BY name_key, postal_code HAVING count(*) > 1) ORDER BY id) "
            "GROUP BY name_key, postal_code ORDER BY min(id)"):
        groups.append(("same name and postal code", f"{name_key.replace('|', ' ')} {postal_code}",
                       [int(i) for i in ids.split(",")]))
    for kind, value, ids in store.execute(
            "SELECT kind, value, group_concat(contact_id) FROM "
            "(SELECT kind, value, contact_id FROM contact_points WHERE kind IN ('email', 'mobile') "
            " AND (kind, value) IN (SELECT kind, value FROM contact_points WHERE kind IN ('email', 'mobile') "
            "   GROUP BY kind, value HAVING count(*) > 1) ORDER BY contact_id) "
            "GROUP BY kind, value ORDER BY min(contact_id)"):
        groups.append((f"same {kind}", value, [int(i) for i in ids.split(",")]))
    return groups[:limit] if limit else groups


def contact_row(store: Store, contact_id: int, columns: tuple[str, ...]) -> dict | None:
    row = store.execute(f"SELECT {', '.join(columns)} FROM contacts WHERE id = ?", (contact_id,)).fetchone()
    return dict(zip(columns, row)) if row else None


def points_of(store: Store, contact_id: int) -> list[tuple[str, str]]:
    return store.execute("SELECT kind, value FROM contact_points WHERE contact_id = ? ORDER BY kind, value",
                         (contact_id,)).fetchall()


def consents_of(store: Store, contact_id: int) -> dict[str, tuple[str, str, str]]:
    return {ch: (st, at, src) for ch, st, at, src in store.execute(
        "SELECT channel, status, at, source FROM consents WHERE contact_id = ?", (contact_id,))}


def update_contact(store: Store, contact_id: int, values: dict) -> None:
    assignments = ", ".join(f"{name} = ?" for name in values)
    store.execute(f"UPDATE contacts SET {assignments} WHERE id = ?", (*values.values(), contact_id))


def set_consent(store: Store, contact_id: int, channel: str, status: str, at: str, source: str) -> None:
    store.execute("INSERT INTO consents (contact_id, channel, status, at, source) VALUES (?,?,?,?,?) "
                  "ON CONFLICT (channel, contact_id) DO UPDATE SET status = excluded.status, at = excluded.at, "
                  "source = excluded.source", (contact_id, channel, status, at, source))


def _references(store: Store) -> list[tuple[str, str]]:
    """(table, column) of every foreign key to contacts(id), found from the schema itself so that a
    table added later is moved too."""
    found = []
    for table in store.table_names():
        for column, target, target_column in store.foreign_keys(table):
            if target == "contacts" and target_column in (None, "id"):
                found.append((table, column))
    return found


def _move(store: Store, table: str, column: str, keep: int, other: int) -> int:
    """UPDATE OR IGNORE: rows that would break a unique key stay as they are."""
    if store.engine == "sqlite":
        return store.execute(f'UPDATE OR IGNORE "{table}" SET "{column}" = ? WHERE "{column}" = ?', (keep, other)).rowcount
    count = 0
    for (row,) in store.execute(f'SELECT ctid::text FROM "{table}" WHERE "{column}" = ?', (other,)).fetchall():
        try:
            with store.savepoint():
                count += store.execute(f'UPDATE "{table}" SET "{column}" = ? WHERE ctid = ?::tid', (keep, row)).rowcount
        except store.IntegrityError:
            continue
    return count


def move_references(store: Store, keep: int, other: int) -> tuple[Counter, Counter]:
    """Point every row of ``other`` at ``keep``; a row that would duplicate one ``keep`` already
    has (the same tag, the same custom field, the same campaign) stays behind and goes with
    ``other``. Returns (moved, left behind) per table."""
    moved, left = Counter(), Counter()
    for table, column in _references(store):
        count = _move(store, table, column, keep, other)
        if count:
            moved[table] += count
        rest = store.execute(f'SELECT count(*) FROM "{table}" WHERE "{column}" = ?', (other,)).fetchone()[0]
        if rest:
            left[table] += rest
    return moved, left


def delete_contact(store: Store, contact_id: int) -> None:
    store.execute("DELETE FROM contacts WHERE id = ?", (contact_id,))
