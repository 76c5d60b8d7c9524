"""Possible duplicates and merging two contacts (``dbox contacts duplicates`` / ``merge KEEP OTHER``).

The import merges rows into a contact on the same e-mail or mobile, or on the same name and
postal code when no e-mail or mobile contradicts it (``dbox.importing.pipeline.contradicts``).
People it kept apart — and contacts sharing an address — are listed here for a person to decide.

Merging keeps KEEP's filled fields and fills its empty ones from OTHER (the place — postal code,
commune and what was derived from them — as one block); every e-mail, phone, tag, custom field,
source, consent event, message and interaction of OTHER moves to KEEP; for each channel the most
restrictive consent of the two is kept (withdrawn or refused, then granted, then none). The merge
is one transaction and is recorded in the audit log.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from dbox.errors import InputError
from dbox.store import contacts_merge as sm
from dbox.store.contacts_write import SCALAR_FIELDS
from dbox.store.db import Store, utcnow
from dbox.i18n import _
from dbox.filters.keys import contact_keys
from dbox.privacy import audit
from dbox.text import name_key

_PLACE = ("postal_code", "commune_name", "commune_insee", "departement", "canton_code", "circonscription",
          "geo_status", "phone_region")
_RESTRICTIVENESS = {"withdrawn": 2, "granted": 1}


@dataclass
class Duplicate:
    reason: str
    value: str
    contacts: list[dict]


@dataclass
class MergeResult:
    keep: int
    other: int
    filled: list[str] = field(default_factory=list)
    consents: dict[str, str] = field(default_factory=dict)      # channel -> status kept
    moved: Counter = field(default_factory=Counter)
    left: Counter = field(default_factory=Counter)


def list_duplicates(store: Store, limit: int | None = None) -> list[Duplicate]:
    out = []
    for reason, value, ids in sm.possible_duplicates(store, limit):
        people = []
        for cid in ids:
            row = sm.contact_row(store, cid, ("id", "first_name", "last_name", "postal_code", "commune_name"))
            points = sm.points_of(store, cid)
            row["emails"] = [v for k, v in points if k == "email"]
            row["mobiles"] = [v for k, v in points if k == "mobile"]
            people.append(row)
        out.append(Duplicate(reason, value, people))
    return out


def stricter(a: str | None, b: str | None) -> str | None:
    """The more restrictive of two consent statuses (withdrawn > granted > none)."""
    return a if _RESTRICTIVENESS.get(a or "", 0) >= _RESTRICTIVENESS.get(b or "", 0) else b


def merge(store: Store, keep: int, other: int) -> MergeResult:
    """Merge contact ``other`` into ``keep`` (see the module's rules) and delete ``other``."""
    if keep == other:
        raise InputError(_("contacts merge: {keep} and {other} are the same contact").format(keep=keep, other=other))
    columns = ("id", *SCALAR_FIELDS)
    with store.transaction(immediate=True):
        kept, gone = sm.contact_row(store, keep, columns), sm.contact_row(store, other, columns)
        for cid, row in ((keep, kept), (other, gone)):
            if row is None:
                raise InputError(_("contacts merge: no contact with id {cid}").format(cid=cid))
        result = MergeResult(keep, other)
        values = {}
        if not kept["postal_code"] and not kept["commune_name"] and (gone["postal_code"] or gone["commune_name"]):
            values.update({name: gone[name] for name in _PLACE})
        for name in SCALAR_FIELDS:
            if name not in _PLACE and not kept[name] and gone[name]:
                values[name] = gone[name]
        result.filled = sorted(values)
        merged = {**kept, **values}
        first, last = merged["first_name"], merged["last_name"]
        keys = contact_keys(first, last, merged["address"], merged["commune_name"])
        values.update(zip(("first_name_key", "last_name_key", "address_key", "commune_key"), keys))
        values["name_key"] = name_key(first, last)
        values["updated_at"] = utcnow()
        mine, theirs = sm.consents_of(store, keep), sm.consents_of(store, other)
        for channel, (status, at, source) in theirs.items():
            current = mine.get(channel)
            if current is None or stricter(status, current[0]) != current[0]:
                sm.set_consent(store, keep, channel, status, at, source)
        result.consents = {ch: stricter((mine.get(ch) or (None,))[0], (theirs.get(ch) or (None,))[0])
                           for ch in sorted(set(mine) | set(theirs))}
        result.moved, result.left = sm.move_references(store, keep, other)
        sm.delete_contact(store, other)
        sm.update_contact(store, keep, values)
        audit.record(store, "contacts merge", 1, {
            "keep": keep, "other": other, "filled": result.filled, "consents": result.consents,
            "moved": dict(result.moved), "left_with_other": dict(result.left)})
    return result
