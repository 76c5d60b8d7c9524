"""Reading contacts: lists (streamed), one contact whole, counts, finding one by id/e-mail/phone."""

from __future__ import annotations

from collections.abc import Iterator

from dbox.errors import InputError
from dbox.store.db import Store
from dbox.normalize import ValueRejected, normalize_email, normalize_phone
from dbox.i18n import _

# Columns a user may ask for in listings and exports, with the SQL that yields each.
LIST_COLUMNS = {
    "id": "c.id",
    "civility": "c.civility",
    "first_name": "c.first_name",
    "last_name": "c.last_name",
    "email": "c.email",
    "mobile": "c.mobile",
    "fixed": "c.fixed",
    "address": "c.address",
    "postal_code": "c.postal_code",
    "commune": "c.commune_name",
    "commune_insee": "c.commune_insee",
    "departement": "c.departement",
    "canton": "(SELECT name FROM geo_cantons WHERE code = c.canton_code)",
    "canton_code": "c.canton_code",
    "circonscription": "c.circonscription",
    "tags": "(SELECT group_concat(t.name, ', ') FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id "
            "WHERE ct.contact_id = c.id)",
    "consents": "(SELECT group_concat(channel, ', ') FROM consents WHERE contact_id = c.id "
                "AND status = 'granted')",
    "created_at": "c.created_at",
    "updated_at": "c.updated_at",
}
DEFAULT_COLUMNS = ("id", "first_name", "last_name", "email", "mobile", "postal_code", "commune", "tags")


def check_columns(columns: list[str]) -> list[str]:
    """Built-in columns, or ``field.<name>`` for a custom field."""
    for name in columns:
        if name not in LIST_COLUMNS and not (name.startswith("field.") and len(name) > 6):
            raise InputError(_("unknown column {name!r}").format(name=name),
                             hint=_("columns: {items}, or field.<name>").format(items=", ".join(LIST_COLUMNS)))
    return columns


def _select(columns: list[str]) -> tuple[str, list]:
    parts, params = [], []
    for name in columns:
        if name.startswith("field."):
            parts.append("(SELECT value FROM contact_fields WHERE contact_id = c.id AND name = ?)")
            params.append(name[6:])
        else:
            parts.append(LIST_COLUMNS[name])
    return ", ".join(parts), params


def iter_contacts(store: Store, columns: list[str], where: str = "TRUE", where_params=(),
                  limit: int | None = None, batch: int = 2000) -> Iterator[tuple]:
    """Stream rows of ``columns`` for the contacts matching ``where`` (SQL built by dbox, never by
    the user: see dbox.store.filters), in id order, a batch at a time: memory stays flat for any
    number of contacts on both engines (``Store.stream``)."""
    select, select_params = _select(check_columns(list(columns)))
    sql = f"SELECT {select} FROM contacts c WHERE {where} ORDER BY c.id"
    params = [*select_params, *where_params]
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    yield from store.stream(sql, params, size=batch)     # PostgreSQL: a server-side cursor


def count_contacts(store: Store, where: str = "TRUE", where_params=()) -> int:
    return store.execute(f"SELECT count(*) FROM contacts c WHERE {where}", list(where_params)).fetchone()[0]


def find_contact(store: Store, ref: str) -> int:
    """A contact id from what a person would type: an id, an e-mail or a phone number."""
    ref = ref.strip()
    if ref.isdigit() and len(ref) < 9:
        row = store.execute("SELECT id FROM contacts WHERE id = ?", (int(ref),)).fetchone()
        if row:
            return row[0]
        raise InputError(_("no contact with id {ref}").format(ref=ref))
    if "@" in ref:
        try:
            value, kind = normalize_email(ref), "email"
        except ValueRejected as exc:
            raise InputError(str(exc)) from None
    else:
        try:
            phone = normalize_phone(ref)
        except ValueRejected as exc:
            raise InputError(_("{ref!r} is neither a contact id, an e-mail nor a phone ({exc})").format(
                                 ref=ref, exc=exc)) from None
        value, kind = phone.e164, phone.kind
    ids = [r[0] for r in store.execute(
        "SELECT DISTINCT contact_id FROM contact_points WHERE value = ? AND kind = ? ORDER BY 1", (value, kind))]
    if not ids:
        raise InputError(_("no contact with {kind} {ref}").format(kind=kind, ref=ref))
    if len(ids) > 1:
        raise InputError(_("{n} contacts share {kind} {ref}: ids {items}").format(
                             n=len(ids), kind=kind, ref=ref, items=', '.join(map(str, ids))),
                         hint=_("name one by its id"))
    return ids[0]


def without_internal_keys(details: dict) -> dict:
    """``contact_details`` without the search keys dbox derives for filters and dedupe
    (``first_name_key``, ``address_key``, ...): what ``dbox contacts show`` prints unless --all."""
    return {k: v for k, v in details.items() if not k.endswith("_key")}


def contact_details(store: Store, contact_id: int) -> dict:
    """Everything the store holds on one contact, as plain data (used by show and by privacy export)."""
    conn = store
    cursor = conn.execute("SELECT * FROM contacts WHERE id = ?", (contact_id,))
    names = [d[0] for d in cursor.description]
    row = cursor.fetchone()
    if row is None:
        raise InputError(_("no contact with id {contact_id}").format(contact_id=contact_id))
    details = dict(zip(names, row))
    details.pop("name_key", None)
    if details.get("canton_code"):
        found = conn.execute("SELECT name FROM geo_cantons WHERE code = ?", (details["canton_code"],)).fetchone()
        details["canton"] = found[0] if found else None
    if details.get("commune_insee") and not details.get("canton_code"):
        details["canton_candidates"] = [
            f"{code} {name}" for code, name in conn.execute(
                "SELECT c.code, c.name FROM geo_commune_cantons cc JOIN geo_cantons c ON c.code = cc.canton_code "
                "WHERE cc.insee = ? ORDER BY 1", (details["commune_insee"],))]
    details["points"] = [
        {"kind": k, "value": v, "status": s}
        for k, v, s in conn.execute(
            "SELECT kind, value, status FROM contact_points WHERE contact_id = ? ORDER BY kind, value", (contact_id,))]
    details["tags"] = [n for (n,) in conn.execute(
        "SELECT t.name FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id WHERE ct.contact_id = ? ORDER BY t.name",
        (contact_id,))]
    details["fields"] = dict(conn.execute(
        "SELECT name, value FROM contact_fields WHERE contact_id = ? ORDER BY name", (contact_id,)).fetchall())
    details["consents"] = [
        {"channel": ch, "status": st, "at": at, "source": src}
        for ch, st, at, src in conn.execute(
            "SELECT channel, status, at, source FROM consents WHERE contact_id = ? ORDER BY channel", (contact_id,))]
    details["consent_history"] = [
        {"channel": ch, "action": a, "at": at, "source": src, "detail": d, "wording": w}
        for ch, a, at, src, d, w in conn.execute(
            "SELECT channel, action, at, source, detail, "
            "(SELECT w.wording FROM consent_wordings w WHERE w.event_id = e.id) FROM consent_events e "
            "WHERE contact_id = ? ORDER BY id", (contact_id,))]
    details["sources"] = [
        {"import_id": i, "file": f, "row": r, "imported_at": at}
        for i, f, r, at in conn.execute(
            "SELECT s.import_id, i.filename, s.row_number, i.started_at FROM contact_sources s "
            "JOIN imports i ON i.id = s.import_id WHERE s.contact_id = ? ORDER BY s.import_id, s.row_number",
            (contact_id,))]
    details["identities"] = [
        {"network": n, "account_id": a, "handle": h, "display_name": d, "profile_url": u}
        for n, a, h, d, u in conn.execute(
            "SELECT network, account_id, handle, display_name, profile_url FROM identities WHERE contact_id = ?",
            (contact_id,))]
    return details


def one_contact_where(contact_id: int) -> tuple[str, list]:
    """A selection's ``(where, params)`` over ``contacts c`` for one contact."""
    return "c.id = ?", [contact_id]
