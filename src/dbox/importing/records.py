"""Turning one row of cells into a normalized contact record (or a rejection with its reason).

This runs in worker processes during a large import, so it depends only on picklable inputs:
the column mapping, the geography index and the options.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from dbox.filters.keys import contact_keys
from dbox.geo import GeoIndex, GeoResult, resolve
from dbox import normalize as norm
from dbox.importing.mapping import ColumnMapping
from dbox.store.contacts_write import SCALAR_FIELDS
from dbox.text import fold, name_key
from dbox.i18n import _

CONSENT_CHANNELS = ("sms", "email", "phone", "post")
_FORMULA_START = ("=", "+", "-", "@")


@dataclass
class Record:
    row: int
    civility: str = ""
    first_name: str = ""
    last_name: str = ""
    address: str = ""
    postal_code: str = ""
    commune: str = ""
    emails: list[str] = field(default_factory=list)
    mobiles: list[str] = field(default_factory=list)
    fixeds: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    custom: dict[str, str] = field(default_factory=dict)
    consents: list[str] = field(default_factory=list)
    # Channels the row explicitly refused ("non"): (channel, column, value). A refusal beats a
    # consent for the same channel, in the row and across rows and files (docs/privacy.md).
    refusals: list[tuple[str, str, str]] = field(default_factory=list)
    consent_columns: dict[str, str] = field(default_factory=dict)   # channel -> column it came from
    # Values left out (the person is kept with the rest): (column, value, reason).
    bad_cells: list[tuple[str, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)   # e.g. a likely typo in an e-mail domain
    phone_region: str = "FR"
    geo: GeoResult | None = None
    error: str | None = None
    cells: list[str] | None = None   # the raw cells, kept only for a rejected row

    name_key: str = ""               # folded "last|first", set once the names are known

    def identity(self) -> bool:
        return bool(self.last_name or self.first_name or self.emails or self.mobiles or self.fixeds)


class Row(NamedTuple):
    """A built record as the main process reads it: flat and cheap to pickle, with what can be
    computed once per row already computed in the worker (the contact's fields in
    ``SCALAR_FIELDS`` order, its search keys, name key, the salted hashes of its addresses, the
    folded tags, what the report counts about its place)."""

    row: int
    error: str | None
    cells: list[str] | None
    bad_cells: tuple
    notes: tuple
    values: tuple                    # SCALAR_FIELDS, None for empty
    keys: tuple                      # dbox.filters.keys.contact_keys of those values
    name_key: str | None             # dbox.text.name_key(first, last)
    emails: tuple
    mobiles: tuple
    fixeds: tuple
    hashes: dict                     # address -> salted hash (dbox.store.suppressions.Hasher)
    tags: tuple                      # ((name, folded key), ...)
    custom: dict
    consents: tuple
    refusals: tuple
    geo_status: str | None           # None: no geography index
    split_commune: str | None        # resolved, but the commune spans several cantons
    no_canton: bool                  # resolved, with no canton at all

    @property
    def postal_code(self) -> str | None:
        return self.values[_POSTAL]


_POSTAL = SCALAR_FIELDS.index("postal_code")


def to_row(rec: Record, hasher: Callable[[str], str]) -> Row:
    """The flat form of a built record (see ``Row``)."""
    geo = rec.geo
    values = (rec.civility or None, rec.first_name or None, rec.last_name or None, rec.address or None,
              rec.postal_code or None,
              (geo.commune_name if geo and geo.commune_name else rec.commune) or None,
              geo.insee if geo else None, geo.departement if geo else None,
              geo.canton_code if geo else None, geo.circonscription if geo else None,
              geo.status if geo else None, rec.phone_region,
              rec.emails[0] if rec.emails else None, rec.mobiles[0] if rec.mobiles else None,
              rec.fixeds[0] if rec.fixeds else None)
    resolved = geo is not None and geo.status == "resolved"
    return Row(rec.row, rec.error, rec.cells, tuple(rec.bad_cells), tuple(rec.notes), values,
               contact_keys(values[1], values[2], values[3], values[5]), rec.name_key or None,
               tuple(rec.emails), tuple(rec.mobiles), tuple(rec.fixeds),
               {v: hasher(v) for v in (*rec.emails, *rec.mobiles, *rec.fixeds)},
               tuple((t, fold(t)) for t in rec.tags), rec.custom, tuple(rec.consents), tuple(rec.refusals),
               geo.status if geo else None,
               geo.commune_name if resolved and geo.canton_candidates else None,
               resolved and not geo.canton_candidates and not geo.canton_code)


def _split_full_name(text: str) -> tuple[str, str]:
    """'Jean DUPONT' -> ('Jean', 'DUPONT'); 'DUPONT Jean' -> ('Jean', 'DUPONT'); else last word is the surname."""
    words = text.split()
    if len(words) < 2:
        return "", text.strip()
    upper = [w for w in words if w.isupper() and len(w) > 1]
    if upper and len(upper) < len(words):
        first = " ".join(w for w in words if w not in upper)
        return first, " ".join(upper)
    return " ".join(words[:-1]), words[-1]


def build_record(row: int, cells: list[str], mapping: ColumnMapping, index: GeoIndex | None,
                 extra_consents: tuple[str, ...] = ()) -> Record:
    """A bad value leaves that value out, not the person: it is listed in ``bad_cells`` and the
    contact is kept with its valid fields. Only a row with nothing that identifies a person (no
    name, e-mail or phone) is rejected whole (``error``)."""
    rec = _build(row, cells, mapping, index, extra_consents)
    if rec.error or rec.bad_cells:
        rec.cells = cells
    return rec


def _build(row: int, cells: list[str], mapping: ColumnMapping, index: GeoIndex | None,
           extra_consents: tuple[str, ...]) -> Record:
    rec = Record(row)
    header = mapping.header
    if len(cells) > len(header):
        rec.error = _("row {row}: {n} cells but the header has {columns} columns").format(
            row=row, n=len(cells), columns=len(header))
        return rec
    _fill(rec, cells, mapping)
    if not rec.identity():
        # Nothing identifies a person: the row is rejected whole (its bad cells are listed too).
        rec.error = _("row {row}: no name, e-mail or phone").format(row=row)
        return rec
    refused = {channel for channel, _column, _value in rec.refusals}
    if refused:
        rec.consents = [c for c in rec.consents if c not in refused]
    for channel in extra_consents:
        if channel not in rec.consents and channel not in refused:
            rec.consents.append(channel)
    if index is not None:
        rec.geo = resolve(index, rec.postal_code or None, rec.commune or None, rec.custom.pop("__insee", None))
        if rec.geo.status == "resolved":
            rec.commune = rec.geo.commune_name or rec.commune
    return rec


def _fill(rec: Record, cells: list[str], mapping: ColumnMapping) -> None:
    header, targets = mapping.header, mapping.targets
    phones_raw: list[tuple[str, str, str]] = []   # (column, target, raw)
    address2 = ""
    for i, (target, value) in enumerate(zip(targets, cells)):
        value = value.strip()
        if not value or target == "ignore":
            continue
        if value[0] == "'" and value[1:2] in _FORMULA_START:
            value = value[1:]  # undo the quote our own exports put before =, +, -, @
        column = header[i]
        try:
            if target in ("first_name", "last_name", "civility", "address", "postal_code", "commune"):
                setattr(rec, target, norm.normalize_field(target, value))
            elif target == "full_name":
                first, last = _split_full_name(value)
                rec.first_name = rec.first_name or norm.normalize_name(first)
                rec.last_name = rec.last_name or norm.normalize_name(last)
            elif target == "email":
                for part in value.replace(";", ",").split(","):
                    if part.strip():
                        try:
                            email = norm.normalize_field("email", part)
                        except norm.ValueRejected as exc:
                            rec.bad_cells.append((column, part.strip(), str(exc)))
                            continue
                        if email not in rec.emails:
                            rec.emails.append(email)
                            suggestion = norm.email_domain_suggestion(email)
                            if suggestion:
                                rec.notes.append(_("row {row}, column {column!r}: {email!r}: did you mean "
                                                   "@{suggestion}? (imported as written)").format(
                                                       row=rec.row, column=column, email=email, suggestion=suggestion))
            elif target in ("mobile", "fixed", "phone"):
                for part in value.replace(";", ",").replace("/", ",").split(","):
                    if part.strip():
                        phones_raw.append((column, target, part))
            elif target == "address2":
                address2 = norm.normalize_field(target, value)
            elif target == "insee":
                rec.custom["__insee"] = value.zfill(5)
            elif target == "tags":
                for tag in norm.split_tags(value):
                    if tag not in rec.tags:
                        rec.tags.append(tag)
            elif target.startswith("consent_"):
                channel = target[8:]
                if norm.parse_yes_no(value):
                    if channel not in rec.consents:
                        rec.consents.append(channel)
                        rec.consent_columns[channel] = column
                else:
                    rec.refusals.append((channel, column, value))
            elif target.startswith("field:"):
                rec.custom[target[6:]] = value
        except norm.ValueRejected as exc:
            rec.bad_cells.append((column, value, str(exc)))
    if rec.last_name and rec.first_name:
        rec.name_key = name_key(rec.first_name, rec.last_name)
    if address2:
        rec.address = f"{rec.address}, {address2}" if rec.address else address2
    rec.phone_region = norm.phone_region_for_postal_code(rec.postal_code)
    for column, target, raw in phones_raw:
        try:
            phone = norm.normalize_phone(raw, rec.phone_region)
        except norm.ValueRejected as exc:
            rec.bad_cells.append((column, raw.strip(), str(exc)))
            continue
        # The number decides its kind: a fixed line typed in the mobile column is never texted.
        bucket = rec.mobiles if phone.kind == "mobile" else rec.fixeds
        if phone.e164 not in bucket:
            bucket.append(phone.e164)
