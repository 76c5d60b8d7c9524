"""The INSEE's public table "Bureaux de vote et adresses de leurs électeurs" (an extract of the REU,
published on data.gouv.fr, for all of France): one row per address with its bureau, no names.

Columns of ``table-adresses-reu.csv``: ``code_commune_ref`` (INSEE code of the commune),
``reconstitution_code_commune``, ``id_brut_bv_reu`` (``38185_12``: commune, underscore, the
bureau's number in the REU), ``id`` (the BAN address id), ``geo_adresse`` (the BAN label: ``12 Rue
Lesdiguières 38000 Grenoble``), ``geo_type`` (housenumber, street, locality, municipality),
``geo_score``, ``longitude``, ``latitude``, ``api_line``, ``nb_bv_commune``, ``nb_adresses`` (voters'
addresses at that point). The same number ranges as a roll are derived from it, commune by commune
(:mod:`dbox.electoral.streets`); a commune's own roll, where one is loaded, takes precedence.

Parquet files are not read (that would need pyarrow): convert them to CSV first.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from dbox.electoral.assign import Assignment, assign_commune
from dbox.electoral.roll import bureau_code
from dbox.electoral.streets import derive_ranges, split_address
from dbox.errors import InputError
from dbox.store import electoral as se
from dbox.i18n import _
from dbox.readers import map_fields, open_reader

COLUMNS = {
    "commune": ["code_commune_ref", "code_commune", "code commune"],
    "bureau": ["id_brut_bv_reu", "id_brut_bv", "id_brut_insee", "code_bv"],
    "address": ["geo_adresse", "adresse", "api_line"],
    "type": ["geo_type"],
    "count": ["nb_adresses"],
}
_TAIL = re.compile(r"\s+\d{5}\s+.*$")


@dataclass
class AddressReport:
    rows: int = 0
    communes: list[str] = field(default_factory=list)
    streets: int = 0
    skipped: int = 0                     # rows without a usable address (a whole commune, a locality)
    assignments: list[Assignment] = field(default_factory=list)


def read_addresses(path: Path, *, overrides: list[str] | None = None,
                   encoding: str | None = None) -> dict[str, dict[str, list]]:
    """commune -> street key -> [(number, bureau)] (weighted by ``nb_adresses``)."""
    with path.open("rb") as fh:
        if fh.read(4) == b"PAR1":
            raise InputError(_("{path}: a Parquet file; dbox reads the CSV version of the INSEE table").format(
                                 path=path),
                             hint=_("download table-adresses-reu.csv, or convert the Parquet file to CSV"))
    reader = open_reader(path, encoding=encoding)
    header = reader.header
    columns = map_fields(header, COLUMNS, overrides, what="the INSEE address table")
    missing = [f for f in ("commune", "bureau", "address") if f not in columns]
    if missing:
        reader.close()
        raise InputError(_("{path}: no column for {items} (columns: {items2})").format(
                             path=path, items=', '.join(missing), items2=', '.join(header)),
                         hint=_("this reads the INSEE table table-adresses-reu.csv"))
    out: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for row_number, cells in reader.rows():
        where = f"{path}: row {row_number}"

        def cell(name):
            i = columns.get(name)
            return cells[i].strip() if i is not None and i < len(cells) else ""

        commune = cell("commune").upper().zfill(5)
        if not re.fullmatch(r"\d[\dAB]\d{3}", commune):
            raise InputError(_("{where}: column {header!r}: {cell!r} is not a commune code").format(
                                 where=where, header=header[columns['commune']], cell=cell('commune')))
        bureau = bureau_code(commune, cell("bureau"), f"{where}: column {header[columns['bureau']]!r}")
        if cell("type") == "municipality":
            out[commune]                 # the commune is covered, this row places no street
            continue
        place = split_address(_TAIL.sub("", cell("address")))
        if not place.key:
            out[commune]
            continue
        count_text = cell("count")
        weight = int(count_text) if count_text.isdigit() and int(count_text) > 0 else 1
        out[commune][place.key].extend([(place.number, bureau)] * min(weight, 50))
    return out


def import_addresses(store, path: Path, *, overrides: list[str] | None = None,
                     encoding: str | None = None) -> AddressReport:
    """Load the address -> bureau table of every commune in the file, then place the contacts of
    those communes (all or nothing)."""
    table = read_addresses(path, overrides=overrides, encoding=encoding)
    report = AddressReport(rows=sum(len(v) for streets in table.values() for v in streets.values()))
    with store.transaction(immediate=True):
        for commune in sorted(table):
            streets = table[commune]
            rows = [(key, r.side, r.low, r.high, r.bureau, r.addresses)
                    for key, obs in streets.items() for r in derive_ranges(obs)]
            se.replace_streets(store, commune, "insee", rows)
            se.upsert_bureaux(store, sorted({(r[4], commune, None) for r in rows}))
            report.streets += len(streets)
            report.communes.append(commune)
            report.assignments.append(assign_commune(store, commune))
    return report
