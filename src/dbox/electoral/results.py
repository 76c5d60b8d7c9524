"""Reading the Ministry of the Interior's results per bureau de vote (published on data.gouv.fr).

The wide format: one row per bureau — département, (canton or circonscription), commune, bureau,
then inscrits, abstentions, votants, blancs, nuls, exprimés (with their percentages), then one block
of columns per candidate or list: panel number, nuance, name, votes, percentages. Two generations:

- up to 2022 (``Code du département;...;Code de la commune;...;Code du b.vote;Inscrits;...;
  N°Panneau;Sexe;Nom;Prénom;Nuance;Voix;% Voix/Ins;% Voix/Exp``): the header names the first
  block only, and each row carries as many blocks as it has candidates;
- from 2024 (``Code département;...;Code commune;...;Code BV;Inscrits;...;Numéro de panneau 1;
  Nuance candidat 1;Nom candidat 1;...;Voix 1;...``): every block is named, with its number.

The file also says which canton (``Code du canton``, départementales) or circonscription
(``Code de la circonscription``, législatives up to 2022) each bureau belongs to: that is what places
contacts of split communes. A 2024 file has no circonscription column: the bureau gets one only when
its commune lies in a single circonscription.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from dbox.errors import InputError
from dbox.text import fold
from dbox.i18n import _
from dbox.readers import map_fields, open_reader
from dbox.store import electoral as se

FIXED = {
    "departement": ["code du departement", "code departement"],
    "commune": ["code de la commune", "code commune"],
    "bureau": ["code du b vote", "code b vote", "code bv", "code du bureau de vote", "code bureau de vote"],
    "canton": ["code du canton", "code canton"],
    "canton_label": ["libelle du canton", "libelle canton"],
    "circo": ["code de la circonscription", "code circonscription legislative", "code circonscription"],
    "inscrits": ["inscrits"],
    "votants": ["votants"],
    "exprimes": ["exprimes"],
    "blancs": ["blancs"],
    "nuls": ["nuls"],
}
NEEDED = ("commune", "bureau", "inscrits", "votants", "exprimes")
# Candidate block columns (folded, number suffix removed).
PANEL = ("numero de panneau", "n panneau", "n pan", "n liste", "numero de liste", "n depot", "numero de depot")
NUANCE = ("nuance candidat", "nuance liste", "nuance", "code nuance", "nuance binome")
NAME = ("nom candidat", "nom", "binome", "libelle abrege de liste", "libelle abrege liste", "nom tete de liste",
        "libelle de liste", "liste")
VOTES = ("voix",)
_Z_DEPARTEMENTS = {"ZA": "971", "ZB": "972", "ZC": "973", "ZD": "974", "ZM": "976", "ZS": "975", "ZX": "977"}
_NAME = re.compile(r"[\w.-]+")


@dataclass
class BureauResult:
    row_number: int
    bureau: str
    commune: str
    departement: str
    canton: str | None          # dbox canton code ('3809') or None
    canton_label: str | None
    circo_raw: str | None
    inscrits: int
    votants: int
    exprimes: int
    blancs: int | None
    nuls: int | None
    votes: list[tuple[int, str | None, str | None, int]] = field(default_factory=list)


def _stub(header: str) -> str:
    return re.sub(r"\s*\d+$", "", fold(header))


def _int(text: str, where: str) -> int:
    cleaned = text.replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    if not cleaned.isdigit():
        raise InputError(_("{where}: {text!r} is not a whole number").format(where=where, text=text))
    return int(cleaned)


def insee_code(departement: str, commune: str, where: str) -> str:
    """The commune's INSEE code from the file's département and commune codes."""
    com, dep = commune.strip().upper(), departement.strip().upper()
    if len(com) == 5:
        return com
    if not com.isdigit():
        raise InputError(_("{where}: {commune!r} is not a commune code").format(where=where, commune=commune))
    dep = _Z_DEPARTEMENTS.get(dep, dep)
    if len(dep) == 3 and dep.startswith("97"):
        return "97" + com.zfill(3)[-3:]
    if not dep:
        raise InputError(_("{where}: a 3-digit commune code needs the département column").format(where=where))
    return (dep.zfill(2) if dep.isdigit() else dep) + com.zfill(3)


def read_results(path: Path, *, overrides: list[str] | None = None, encoding: str | None = None,
                 sheet: str | None = None) -> list[BureauResult]:
    """Every bureau of the file; raises ``InputError`` naming the first bad row and column."""
    reader = open_reader(path, encoding=encoding, sheet=sheet)
    header = reader.header
    try:
        columns = map_fields(header, FIXED, overrides, what="a results file")
        missing = [f for f in NEEDED if f not in columns]
        if missing:
            raise InputError(_("{path}: no column for {items} (columns: {items2}...)").format(
                                 path=path, items=', '.join(missing), items2=', '.join(header[:25])),
                             hint=_("this reads the Ministry of the Interior's results per bureau de vote"))
        stubs = [_stub(h) for h in header]
        panel_at = [i for i, s in enumerate(stubs) if s in PANEL]
        if not panel_at:
            raise InputError(_("{path}: no candidate columns (Numéro de panneau / N°Panneau)").format(path=path))
        start = panel_at[0]
        width = (panel_at[1] - start) if len(panel_at) > 1 else len(header) - start
        block = stubs[start:start + width]

        def offset(names):
            return next((i for i, s in enumerate(block) if s in names), None)

        nuance_at, name_at, votes_at = offset(NUANCE), offset(NAME), offset(VOTES)
        if votes_at is None:
            raise InputError(_("{path}: no Voix column in the candidate columns").format(path=path))
        out = []
        for row_number, cells in reader.rows():
            where = f"{path}: row {row_number}"

            def cell(name):
                i = columns.get(name)
                return cells[i].strip() if i is not None and i < len(cells) else ""

            def number(name, required=True):
                text = cell(name)
                if not text and not required:
                    return None
                return _int(text, f"{where}: column {header[columns[name]]!r}")

            commune = insee_code(cell("departement"), cell("commune"),
                                 f"{where}: column {header[columns['commune']]!r}")
            raw_bureau = cell("bureau")
            if not raw_bureau:
                raise InputError(_("{where}: column {header!r}: no bureau de vote").format(
                                     where=where, header=header[columns['bureau']]))
            bureau = f"{commune}-{raw_bureau.upper().zfill(4)}"
            dep = commune[:3] if commune.startswith("97") else commune[:2]
            canton_raw = cell("canton")
            result = BureauResult(
                row_number, bureau, commune, dep,
                (dep + canton_raw.zfill(2)) if canton_raw else None, cell("canton_label") or None,
                cell("circo") or None, number("inscrits"), number("votants"), number("exprimes"),
                number("blancs", False) if "blancs" in columns else None,
                number("nuls", False) if "nuls" in columns else None)
            for b in range(start, len(cells), width):
                piece = cells[b:b + width]
                if votes_at >= len(piece) or not piece[votes_at].strip():
                    continue
                voix = _int(piece[votes_at].strip(), f"{where}: column {b + votes_at + 1} (Voix)")
                panel_text = piece[0].strip()
                panel = int(panel_text) if panel_text.isdigit() else (b - start) // width + 1
                result.votes.append((panel, piece[nuance_at].strip() or None if nuance_at is not None else None,
                                     piece[name_at].strip() or None if name_at is not None else None, voix))
            out.append(result)
    finally:
        reader.close()
    if not out:
        raise InputError(_("{path}: no bureau in the file").format(path=path))
    return out


def check_election_name(name: str) -> str:
    name = name.strip()
    if not _NAME.fullmatch(name):
        raise InputError(_("--election {name!r}: use letters, digits, '-' and '.', e.g. legislatives-2024-t1").format(
                             name=name))
    return name


@dataclass
class ResultsReport:
    election: str
    bureaux: int = 0
    cantons: int = 0
    circos: int = 0
    unplaced: list[str] = field(default_factory=list)     # bureaux whose canton/circo is not known
    cantons_set: int = 0
    circos_set: int = 0


def _circo(dep: str, raw: str) -> str:
    digits = re.sub(r"\D", "", raw)
    return f"{dep}-{int(digits[-2:] or 0):02d}"


def import_results(store, path: Path, election: str, *, overrides: list[str] | None = None,
                   encoding: str | None = None, sheet: str | None = None) -> ResultsReport:
    """Store a results file for ``election`` and what it says of each bureau's canton and
    circonscription; contacts of split communes then get theirs from their bureau."""
    election = check_election_name(election)
    rows = read_results(path, overrides=overrides, encoding=encoding, sheet=sheet)
    report = ResultsReport(election, len(rows))
    areas, cantons_cache, circos_cache = [], {}, {}
    for r in rows:
        if r.commune not in cantons_cache:
            cantons_cache[r.commune] = se.cantons_of(store, r.commune)
            circos_cache[r.commune] = se.circonscriptions_of(store, r.commune)
        canton = circo = None
        known = cantons_cache[r.commune]
        if r.canton:
            if r.canton in known:
                canton = r.canton
            elif r.canton_label:
                canton = next((code for code, key in known.items() if key == fold(r.canton_label)), None)
        if r.circo_raw:
            candidate = _circo(r.departement, r.circo_raw)
            circo = candidate if candidate in circos_cache[r.commune] else None
        elif len(circos_cache[r.commune]) == 1:
            circo = circos_cache[r.commune][0]
        if (r.canton and canton is None) or (r.circo_raw and circo is None):
            report.unplaced.append(r.bureau)
        report.cantons += canton is not None
        report.circos += circo is not None
        areas.append((r.bureau, r.commune, canton, circo))
    with store.transaction(immediate=True):
        se.set_bureau_areas(store, areas)
        se.replace_results(store, election,
                           [(r.bureau, r.inscrits, r.votants, r.exprimes, r.blancs, r.nuls) for r in rows],
                           [(r.bureau, *v) for r in rows for v in r.votes])
        report.cantons_set, report.circos_set = se.apply_bureau_geography(store)
    return report
