"""Turning one row of cells into a normalized contact record (or a rejection with its reason).

This runs in worker processes during a large import, so it depends only on picklable inputs:
the column mapping, the geography index and the options.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from dbox.filters.keys import contact_keys
from dbox.geo import GeoIndex, resolve
from dbox import normalize as norm
from dbox.importing.mapping import ColumnMapping
from dbox.store.contacts_write import SCALAR_FIELDS
from dbox.text import fold, name_key
from dbox.i18n import _

CONSENT_CHANNELS = ("sms", "email", "phone", "post")
_FORMULA_START = ("=", "+", "-", "@")


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


# Normalization memoized per distinct value (a file names the same few hundred first names,
# civilities, towns, postal codes, tag lists and yes/no answers over and over): (kind, cell) ->
# the normal form, or the reason it was refused as a ``_Refused``. Bounded: emptied when full,
# so that memory stays flat whatever the file.
_MEMO: dict[tuple[str, str], object] = {}
_MEMO_MAX = 200_000


class _Refused(str):
    """A memoized ValueRejected: its message."""


def _memo(kind: str, value: str, compute: Callable[[str], object]):
    key = (kind, value)
    found = _MEMO.get(key)
    if found is None:
        try:
            found = compute(value)
        except norm.ValueRejected as exc:
            found = _Refused(str(exc))
        if len(_MEMO) >= _MEMO_MAX:
            _MEMO.clear()
        _MEMO[key] = found
    if type(found) is _Refused:
        raise norm.ValueRejected(str(found))
    return found


def _normalizer(target: str) -> Callable[[str], object]:
    return lambda value: norm.normalize_field(target, value)


def _full_name(value: str) -> tuple[str, str]:
    first, last = _split_full_name(value)
    return norm.normalize_name(first), norm.normalize_name(last)


def _tags(value: str) -> tuple[str, ...]:
    return tuple(norm.split_tags(value))


_MEMOIZED = {"first_name", "last_name", "civility", "postal_code", "commune"}
_NORMALIZERS = {name: _normalizer(name) for name in _MEMOIZED}


class RowBuilder:
    """Builds the ``Row`` of each line of cells (``build(row, cells)``): normalization, geography,
    keys and hashes. A bad value leaves that value out, not the person: it is listed in
    ``bad_cells`` and the contact is kept with its valid fields. Only a row with nothing that
    identifies a person (no name, e-mail or phone) is rejected whole (``error``)."""

    def __init__(self, mapping: ColumnMapping, index: GeoIndex | None, extra_consents: tuple[str, ...],
                 hasher: Callable[[str], str]):
        self.width = len(mapping.header)
        self.index = index
        self.extra_consents = tuple(extra_consents)
        self.hasher = hasher
        # The columns read, in order: (position, target, column header).
        self.plan = [(i, target, mapping.header[i]) for i, target in enumerate(mapping.targets)
                     if target != "ignore"]

    def build(self, row: int, cells: list[str]) -> Row:
        if len(cells) > self.width:
            return _rejected(row, cells, _("row {row}: {n} cells but the header has {columns} columns").format(
                                 row=row, n=len(cells), columns=self.width),
                             (), ())
        civility = first_name = last_name = address = postal_code = commune = address2 = ""
        emails: list[str] = []
        mobiles: list[str] = []
        fixeds: list[str] = []
        tags: list[str] = []
        custom: dict[str, str] = {}
        consents: list[str] = []
        refusals: list[tuple[str, str, str]] = []
        bad_cells: list[tuple[str, str, str]] = []
        notes: list[str] = []
        phones_raw: list[tuple[str, str]] = []   # (column, raw)
        insee = None
        for i, target, column in self.plan:
            if i >= len(cells):
                break
            value = cells[i].strip()
            if not value:
                continue
            if value[0] == "'" and value[1:2] in _FORMULA_START:
                value = value[1:]  # undo the quote our own exports put before =, +, -, @
            try:
                if target in _MEMOIZED:
                    normal = _memo(target, value, _NORMALIZERS[target])
                    if target == "first_name":
                        first_name = normal
                    elif target == "last_name":
                        last_name = normal
                    elif target == "postal_code":
                        postal_code = normal
                    elif target == "commune":
                        commune = normal
                    else:
                        civility = normal
                elif target == "address":
                    address = " ".join(value.split())
                elif target == "email":
                    for part in value.replace(";", ",").split(","):
                        if part.strip():
                            try:
                                email = norm.normalize_email(part)
                            except norm.ValueRejected as exc:
                                bad_cells.append((column, part.strip(), str(exc)))
                                continue
                            if email not in emails:
                                emails.append(email)
                                suggestion = norm.email_domain_suggestion(email)
                                if suggestion:
                                    notes.append(_("row {row}, column {column!r}: {email!r}: did you mean "
                                                   "@{suggestion}? (imported as written)").format(
                                                       row=row, column=column, email=email, suggestion=suggestion))
                elif target in ("mobile", "fixed", "phone"):
                    for part in value.replace(";", ",").replace("/", ",").split(","):
                        if part.strip():
                            phones_raw.append((column, part))
                elif target == "full_name":
                    first, last = _memo(target, value, _full_name)
                    first_name = first_name or first
                    last_name = last_name or last
                elif target == "address2":
                    address2 = " ".join(value.split())
                elif target == "insee":
                    insee = value.zfill(5)
                    if self.index is None:
                        custom["__insee"] = insee
                elif target == "tags":
                    for tag in _memo(target, value, _tags):
                        if tag not in tags:
                            tags.append(tag)
                elif target.startswith("consent_"):
                    channel = target[8:]
                    if _memo("yes_no", value, norm.parse_yes_no):
                        if channel not in consents:
                            consents.append(channel)
                    else:
                        refusals.append((channel, column, value))
                elif target.startswith("field:"):
                    custom[target[6:]] = value
            except norm.ValueRejected as exc:
                bad_cells.append((column, value, str(exc)))
        key = name_key(first_name, last_name) if last_name and first_name else None
        if address2:
            address = f"{address}, {address2}" if address else address2
        region = norm.phone_region_for_postal_code(postal_code)
        for column, raw in phones_raw:
            try:
                phone = norm.normalize_phone(raw, region)
            except norm.ValueRejected as exc:
                bad_cells.append((column, raw.strip(), str(exc)))
                continue
            # The number decides its kind: a fixed line typed in the mobile column is never texted.
            bucket = mobiles if phone.kind == "mobile" else fixeds
            if phone.e164 not in bucket:
                bucket.append(phone.e164)
        if not (last_name or first_name or emails or mobiles or fixeds):
            # Nothing identifies a person: the row is rejected whole (its bad cells are listed too).
            return _rejected(row, cells, _("row {row}: no name, e-mail or phone").format(row=row), bad_cells, notes)
        if refusals:
            refused = {channel for channel, _column, _value in refusals}
            consents = [c for c in consents if c not in refused]
        else:
            refused = ()
        for channel in self.extra_consents:
            if channel not in consents and channel not in refused:
                consents.append(channel)
        geo = None
        if self.index is not None:
            geo = resolve(self.index, postal_code or None, commune or None, insee)
        if geo is not None:
            status = geo.status
            resolved = status == "resolved"
            commune_name = (geo.commune_name if geo.commune_name else commune) or None
            values = (civility or None, first_name or None, last_name or None, address or None, postal_code or None,
                      commune_name, geo.insee, geo.departement, geo.canton_code, geo.circonscription, status,
                      region, emails[0] if emails else None, mobiles[0] if mobiles else None,
                      fixeds[0] if fixeds else None)
            split = geo.commune_name if resolved and geo.canton_candidates else None
            no_canton = resolved and not geo.canton_candidates and not geo.canton_code
        else:
            status = split = None
            no_canton = False
            values = (civility or None, first_name or None, last_name or None, address or None, postal_code or None,
                      commune or None, None, None, None, None, None, region,
                      emails[0] if emails else None, mobiles[0] if mobiles else None, fixeds[0] if fixeds else None)
        hasher = self.hasher
        return Row(row, None, cells if bad_cells else None, tuple(bad_cells), tuple(notes), values,
                   contact_keys(values[1], values[2], values[3], values[5]), key,
                   tuple(emails), tuple(mobiles), tuple(fixeds),
                   {v: hasher(v) for v in (*emails, *mobiles, *fixeds)},
                   tuple((t, fold(t)) for t in tags), custom, tuple(consents), tuple(refusals),
                   status, split, no_canton)


def _rejected(row: int, cells: list[str], error: str, bad_cells, notes) -> Row:
    return Row(row, error, cells, tuple(bad_cells), tuple(notes), (), ("", "", "", ""), None, (), (), (), {},
               (), {}, (), (), None, None, False)
