"""Reading a commune's electoral roll (the REU extract a mairie gives a candidate, Code électoral L37).

One row per voter: birth name, usage name, first names, sex, birth date, street number and name,
address complements, lieu-dit, postal code, commune, bureau de vote code and label, order number.
Headers are mapped flexibly (``--map`` as in ``dbox import``); CSV in UTF-8 or cp1252 and .xlsx are
read by :mod:`dbox.readers`.

What is not kept: birthplace, nationality and any column dbox does not know (data minimization; the
CNIL forbids targeting by origin, so dbox does not even store it). The report names those columns.
A row dbox cannot read stops the import with its row and column, and nothing is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from dbox.electoral.streets import split_address
from dbox.errors import InputError
from dbox.files import sha256_of
from dbox.text import fold
from dbox.i18n import _
from dbox.readers import map_fields, open_reader

ALIASES = {
    "bureau": ["code du bureau de vote", "code bureau de vote", "code bureau", "code bv", "code_bv",
               "bureau de vote", "numero de bureau", "numero du bureau de vote", "n bureau", "bureau",
               "code du b vote", "bv", "num bureau"],
    "bureau_label": ["libelle du bureau de vote", "libelle bureau de vote", "libelle bureau", "nom du bureau",
                     "libelle du bureau", "lieu de vote"],
    "order": ["numero d ordre dans le bureau de vote", "numero d ordre", "n d ordre", "ordre", "num ordre",
              "numero d ordre dans le bureau"],
    "birth_name": ["nom de naissance", "nom", "nom patronymique", "nom de famille"],
    "usage_name": ["nom d usage", "nom usuel", "nom marital", "nom d epouse"],
    "first_names": ["prenoms", "prenom", "prenom s"],
    "sex": ["sexe", "civilite", "genre"],
    "birth_date": ["date de naissance", "date naissance", "ne le", "nee le", "ne e le", "ddn"],
    "number": ["numero de voie", "n de voie", "numero voie", "num voie", "numero dans la voie", "n voie"],
    "street": ["type et libelle de voie", "libelle de voie", "libelle voie", "voie", "adresse", "rue",
               "nom de voie", "type et libelle voie"],
    "complement1": ["complement d adresse 1", "1er complement adresse", "complement adresse 1", "complement 1",
                    "complement d adresse", "complement", "1er complement d adresse"],
    "complement2": ["complement d adresse 2", "2nd complement adresse", "2eme complement adresse",
                    "complement adresse 2", "complement 2", "2nd complement d adresse"],
    "lieu_dit": ["lieu dit", "lieudit"],
    "postal_code": ["code postal", "cp"],
    "commune_code": ["code de la commune", "code commune", "code commune referentiel", "code insee",
                     "code insee commune", "code commune insee"],
    "departement": ["code du departement", "code departement"],
}
# Columns of a roll dbox refuses to keep: targeting by origin is forbidden (CNIL, délibération 2012-020).
REFUSED = {fold(h) for h in (
    "lieu de naissance", "commune de naissance", "libelle de la commune de naissance", "code de la commune de naissance",
    "code du lieu de naissance", "libelle du lieu de naissance", "departement de naissance", "pays de naissance",
    "code du pays de naissance", "libelle du pays de naissance", "nationalite", "code nationalite",
    "libelle nationalite", "ville de naissance")}
NEEDED = ("bureau", "first_names", "street")

_DIGITS = re.compile(r"\d+")
_FR_DATE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?")


@dataclass
class Voter:
    row_number: int
    bureau: str
    bureau_label: str | None
    order_number: int | None
    birth_name: str | None
    usage_name: str | None
    first_names: str
    sex: str | None
    birth_date: str | None
    house_number: int | None
    house_suffix: str
    street: str | None
    street_key: str
    complement: str | None
    postal_code: str | None


@dataclass
class RollFile:
    path: Path
    sha256: str
    voters: list[Voter]
    columns: dict[str, str]                 # field -> header it was read from
    not_kept: list[str] = field(default_factory=list)    # refused columns (origin)
    ignored: list[str] = field(default_factory=list)     # columns dbox does not use


def bureau_code(insee: str, raw: str, where: str) -> str:
    """``38185`` and ``12`` / ``0012`` / ``BV 12`` / ``38185_12`` -> ``38185-0012``."""
    text = raw.strip()
    if not text:
        raise InputError(_("{where}: no bureau de vote").format(where=where))
    if "_" in text:
        text = text.rsplit("_", 1)[1]
    digits = _DIGITS.findall(text)
    if len(digits) == 1 and text.strip("0123456789 ").lower() in ("", "bv", "bureau", "b", "n", "no", "n°"):
        return f"{insee}-{int(digits[0]):04d}"
    cleaned = re.sub(r"[^0-9A-Za-z]", "", text).upper()
    if not cleaned or len(cleaned) > 6:
        raise InputError(_("{where}: {raw!r} is not a bureau de vote code").format(where=where, raw=raw))
    return f"{insee}-{cleaned.zfill(4)}"


def parse_birth_date(raw: str, where: str) -> str | None:
    text = raw.strip()
    if not text:
        return None
    match = _ISO_DATE.fullmatch(text)
    if match:
        year, month, day = (int(x) for x in match.groups())
    else:
        match = _FR_DATE.fullmatch(text)
        if not match:
            raise InputError(_("{where}: {raw!r} is not a date (31/01/1970 or 1970-01-31)").format(
                                 where=where, raw=raw))
        day, month, year = (int(x) for x in match.groups())
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        raise InputError(_("{where}: {raw!r} is not a date that exists").format(where=where, raw=raw)) from None


def parse_sex(raw: str, where: str) -> str | None:
    key = fold(raw)
    if not key:
        return None
    if key in ("f", "feminin", "femme", "mme", "madame", "mlle", "mademoiselle"):
        return "F"
    if key in ("m", "masculin", "homme", "monsieur", "mr", "h"):
        return "M"
    raise InputError(_("{where}: {raw!r} is not a sex (F or M)").format(where=where, raw=raw))


def read_roll(path: Path, commune_insee: str, *, overrides: list[str] | None = None,
              encoding: str | None = None, sheet: str | None = None) -> RollFile:
    """Every voter of the file, checked; raises ``InputError`` naming the first bad row and column."""
    reader = open_reader(path, encoding=encoding, sheet=sheet)
    header = reader.header
    columns = map_fields(header, ALIASES, overrides, what="an electoral roll")
    missing = [f for f in NEEDED if f not in columns]
    if "birth_name" not in columns and "usage_name" not in columns:
        missing.insert(0, "birth_name")
    if missing:
        reader.close()
        raise InputError(_("{path}: no column for {items} (columns: {items2})").format(
                             path=path, items=', '.join(missing), items2=', '.join(header)),
                         hint=_('name one with --map "Header=field"; fields: {items}').format(items=", ".join(ALIASES)))
    used = set(columns.values())
    not_kept = [h for i, h in enumerate(header) if fold(h) in REFUSED and i not in used]
    ignored = [h for i, h in enumerate(header) if i not in used and fold(h) not in REFUSED]
    voters = []

    def cell(cells, name):
        i = columns.get(name)
        return cells[i].strip() if i is not None and i < len(cells) else ""

    for row_number, cells in reader.rows():
        where = f"{path}: row {row_number}"
        code = cell(cells, "commune_code")
        if code:
            dep = cell(cells, "departement")
            if len(code) <= 3 and dep:
                code = dep.zfill(2) + code.zfill(3)
            if code.zfill(5).upper() != commune_insee and not commune_insee.startswith(("75056", "69123", "13055")):
                raise InputError(_("{where}: column {header!r}: commune {code} is not the roll's commune ({commune_insee})").format(
                                     where=where, header=header[columns['commune_code']], code=code, commune_insee=commune_insee), hint=_("a roll is imported commune by commune"))
        try:
            bureau = bureau_code(commune_insee, cell(cells, "bureau"), f"{where}: column {header[columns['bureau']]!r}")
            birth = parse_birth_date(cell(cells, "birth_date"), f"{where}: column "
                                     f"{header[columns['birth_date']]!r}" if "birth_date" in columns else where)
            sex = parse_sex(cell(cells, "sex"), f"{where}: column {header[columns['sex']]!r}"
                            if "sex" in columns else where)
        except InputError:
            reader.close()
            raise
        first = " ".join(cell(cells, "first_names").split())
        birth_name = " ".join(cell(cells, "birth_name").split()) or None
        usage_name = " ".join(cell(cells, "usage_name").split()) or None
        if not first or not (birth_name or usage_name):
            reader.close()
            raise InputError(_("{where}: a voter needs a name and first names").format(where=where))
        number_text = cell(cells, "number")
        street = " ".join(cell(cells, "street").split())
        lieu_dit = " ".join(cell(cells, "lieu_dit").split())
        place = split_address(f"{number_text} {street}".strip() if street else lieu_dit)
        complement = ", ".join(x for x in (cell(cells, "complement1"), cell(cells, "complement2"),
                                           lieu_dit if street else "") if x) or None
        order_text = cell(cells, "order")
        voters.append(Voter(
            row_number, bureau, cell(cells, "bureau_label") or None,
            int(order_text) if order_text.isdigit() else None,
            birth_name, usage_name, first, sex, birth,
            place.number, place.suffix, street or lieu_dit or None, place.key, complement,
            cell(cells, "postal_code") or None))
    if not voters:
        raise InputError(_("{path}: no voter in the file").format(path=path))
    return RollFile(path, sha256_of(path), voters, {f: header[i] for f, i in columns.items()}, not_kept, ignored)


