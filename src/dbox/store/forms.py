"""The SQL of sign-up forms, their e-mail confirmations (double opt-in) and volunteers' private
links (migration 0013). Rules: docs/serve.md."""

from __future__ import annotations

import json

from dbox.store.db import Store

_FORM_COLUMNS = ("id", "slug", "title", "intro", "fields", "required", "consents", "tags", "status",
                 "submissions", "created_at", "updated_at")
_JSON = ("fields", "required", "consents", "tags")


def _form(row) -> dict | None:
    if row is None:
        return None
    form = dict(zip(_FORM_COLUMNS, row))
    for name in _JSON:
        form[name] = json.loads(form[name])
    return form


# -- forms ----------------------------------------------------------------------------------------------

def insert_form(store: Store, values: dict, at: str) -> int:
    return store.execute(
        "INSERT INTO signup_forms (slug, title, intro, fields, required, consents, tags, created_at, updated_at) "
        "VALUES (?,?,?,?,?,?,?,?,?) RETURNING id",
        (values["slug"], values["title"], values.get("intro"), json.dumps(values["fields"]),
         json.dumps(values["required"]), json.dumps(values["consents"], ensure_ascii=False),
         json.dumps(values["tags"], ensure_ascii=False), at, at)).fetchone()[0]


def form_by_slug(store: Store, slug: str) -> dict | None:
    columns = ", ".join(_FORM_COLUMNS)
    return _form(store.execute(f"SELECT {columns} FROM signup_forms WHERE slug = ?", (slug,)).fetchone())


def list_forms(store: Store) -> list[dict]:
    columns = ", ".join(_FORM_COLUMNS)
    return [_form(r) for r in store.execute(f"SELECT {columns} FROM signup_forms ORDER BY slug")]


def set_form_status(store: Store, form_id: int, status: str, at: str) -> None:
    store.execute("UPDATE signup_forms SET status = ?, updated_at = ? WHERE id = ?", (status, at, form_id))


def count_submission(store: Store, form_id: int) -> None:
    store.execute("UPDATE signup_forms SET submissions = submissions + 1 WHERE id = ?", (form_id,))


def form_confirmation_counts(store: Store, form_id: int) -> dict[str, int]:
    row = store.execute(
        "SELECT count(*), count(confirmed_at) FROM email_confirmations WHERE form_id = ?", (form_id,)).fetchone()
    return {"asked": row[0], "confirmed": row[1]}


# -- e-mail confirmations ----------------------------------------------------------------------------------

def insert_confirmation(store: Store, token_hash: str, contact_id: int, email: str, form_id: int | None,
                        wording: str, at: str, expires_at: str) -> int:
    return store.execute(
        "INSERT INTO email_confirmations (token_hash, contact_id, email, form_id, wording, created_at, expires_at) "
        "VALUES (?,?,?,?,?,?,?) RETURNING id",
        (token_hash, contact_id, email, form_id, wording, at, expires_at)).fetchone()[0]


def pending_confirmation(store: Store, contact_id: int, email: str, now: str) -> tuple[int, str | None] | None:
    """(id, sent_at) of an unexpired, unconfirmed confirmation for this address, the newest."""
    return store.execute(
        "SELECT id, sent_at FROM email_confirmations WHERE contact_id = ? AND email = ? AND confirmed_at IS NULL "
        "AND expires_at > ? ORDER BY id DESC LIMIT 1", (contact_id, email, now)).fetchone()


def confirmation_sent(store: Store, confirmation_id: int, at: str) -> None:
    store.execute("UPDATE email_confirmations SET sent_at = ? WHERE id = ?", (at, confirmation_id))


def confirmation_by_hash(store: Store, token_hash: str) -> dict | None:
    row = store.execute(
        "SELECT id, contact_id, email, form_id, wording, created_at, expires_at, sent_at, confirmed_at "
        "FROM email_confirmations WHERE token_hash = ?", (token_hash,)).fetchone()
    if row is None:
        return None
    return dict(zip(("id", "contact_id", "email", "form_id", "wording", "created_at", "expires_at", "sent_at",
                     "confirmed_at"), row))


def mark_confirmed(store: Store, confirmation_id: int, at: str) -> None:
    store.execute("UPDATE email_confirmations SET confirmed_at = ? WHERE id = ? AND confirmed_at IS NULL",
                  (at, confirmation_id))


def contact_confirmations(store: Store, contact_id: int) -> list[dict]:
    """For ``dbox privacy export``: the confirmations asked of this person (no token hash)."""
    rows = store.execute(
        "SELECT c.email, f.slug, c.wording, c.created_at, c.sent_at, c.confirmed_at FROM email_confirmations c "
        "LEFT JOIN signup_forms f ON f.id = c.form_id WHERE c.contact_id = ? ORDER BY c.id", (contact_id,))
    return [dict(zip(("email", "form", "wording", "created_at", "sent_at", "confirmed_at"), r)) for r in rows]


# -- volunteers' links ----------------------------------------------------------------------------------------

def insert_link(store: Store, token_hash: str, action_id: int, contact_id: int, at: str, expires_at: str) -> int:
    return store.execute(
        "INSERT INTO volunteer_links (token_hash, action_id, contact_id, created_at, expires_at) VALUES (?,?,?,?,?) "
        "RETURNING id", (token_hash, action_id, contact_id, at, expires_at)).fetchone()[0]


def revoke_links(store: Store, action_id: int, contact_id: int, at: str) -> int:
    return store.execute(
        "UPDATE volunteer_links SET revoked_at = ? WHERE action_id = ? AND contact_id = ? AND revoked_at IS NULL",
        (at, action_id, contact_id)).rowcount


def link_by_hash(store: Store, token_hash: str) -> dict | None:
    row = store.execute(
        "SELECT l.id, l.action_id, l.contact_id, l.created_at, l.expires_at, l.revoked_at, "
        "CASE WHEN a.id IS NULL THEN 0 ELSE 1 END "
        "FROM volunteer_links l LEFT JOIN action_assignments a "
        "ON a.action_id = l.action_id AND a.contact_id = l.contact_id WHERE l.token_hash = ?",
        (token_hash,)).fetchone()
    if row is None:
        return None
    return dict(zip(("id", "action_id", "contact_id", "created_at", "expires_at", "revoked_at", "assigned"), row))


def contact_links(store: Store, contact_id: int) -> list[dict]:
    """For ``dbox privacy export``: the volunteer links given to this person (no token hash)."""
    rows = store.execute(
        "SELECT action_id, created_at, expires_at, revoked_at FROM volunteer_links WHERE contact_id = ? ORDER BY id",
        (contact_id,))
    return [dict(zip(("action", "created_at", "expires_at", "revoked_at"), r)) for r in rows]


def sheet_results(store: Store, action_id: int, type_: str, contact_ids: list[int]) -> dict[int, dict]:
    """contact id -> the result already recorded from a sheet or a volunteer's page."""
    found: dict[int, dict] = {}
    for i in range(0, len(contact_ids), 500):
        part = contact_ids[i:i + 500]
        marks = ",".join("?" * len(part))
        for cid, outcome, support, wants_call in store.execute(
                f"SELECT contact_id, outcome, support, wants_call FROM interactions WHERE action_id = ? AND type = ? "
                f"AND source = 'sheet' AND contact_id IN ({marks})", (action_id, type_, *part)):
            found[cid] = {"outcome": outcome, "support": support, "wants_call": bool(wants_call)}
    return found


# -- public event pages ------------------------------------------------------------------------------------

def publish_action(store: Store, action_id: int, at: str) -> bool:
    return store.execute("INSERT OR IGNORE INTO action_pages (action_id, published_at) VALUES (?, ?)",
                         (action_id, at)).rowcount > 0


def unpublish_action(store: Store, action_id: int) -> bool:
    return store.execute("DELETE FROM action_pages WHERE action_id = ?", (action_id,)).rowcount > 0


def is_published(store: Store, action_id: int) -> bool:
    return store.execute("SELECT 1 FROM action_pages WHERE action_id = ?", (action_id,)).fetchone() is not None


def rsvp_counts(store: Store, action_id: int) -> dict[str, int]:
    counts = {"yes": 0, "no": 0, "maybe": 0}
    for answer, n in store.execute(
            "SELECT rsvp, count(*) FROM action_people WHERE action_id = ? AND rsvp IS NOT NULL GROUP BY rsvp",
            (action_id,)):
        counts[answer] = n
    return counts

