"""Resolving a contact's commune, canton and circonscription from its postal code and town name.

Pure logic over :class:`GeoIndex` (which ``dbox.store.geo.load_index`` fills from the store): no SQL, no network.
A commune split over several cantons (or circonscriptions) keeps them all as candidates; the
contact's canton then stays empty and the import report says so, rather than guessing.
"""

from __future__ import annotations

import csv
import lzma
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from dbox.text import fold

REFERENCE_FILE = "communes_fr.csv.xz"


def reference_rows():
    """The rows of the shipped table of communes (scripts/build_geo.py, docs/geography.md), as dicts."""
    ref = resources.files("dbox") / "data" / REFERENCE_FILE
    if not ref.is_file():
        return
    with ref.open("rb") as raw, lzma.open(raw, "rt", encoding="utf-8", newline="") as text:
        yield from csv.DictReader(text)


_ABBREVIATIONS = [(re.compile(r"^st "), "saint "), (re.compile(r"^ste "), "sainte "),
                  (re.compile(r" st "), " saint "), (re.compile(r" ste "), " sainte "),
                  (re.compile(r" cedex( \d+)?$"), "")]
_ARRONDISSEMENT = re.compile(r"^(paris|lyon|marseille) (\d{1,2})( ?(e|er|eme|ieme))?( arrondissement)?$")


@dataclass
class Commune:
    insee: str
    name: str
    departement: str
    population: int | None
    cantons: list[tuple[str, str]] = field(default_factory=list)  # (code, name)
    circonscriptions: list[str] = field(default_factory=list)


@dataclass
class GeoIndex:
    """The whole reference in memory (35k communes: a few MB), for resolving rows at import speed."""

    communes: dict[str, Commune]
    by_postal_code: dict[str, list[str]]
    by_name: dict[str, list[str]]
    cache: dict = field(default_factory=dict)   # resolve() results, see resolve() below


@lru_cache(maxsize=1 << 16)
def commune_key(name: str) -> str:
    key = fold(name)
    for pattern, replacement in _ABBREVIATIONS:
        key = pattern.sub(replacement, key)
    return key


@dataclass
class GeoResult:
    status: str                      # resolved | ambiguous | unknown | missing
    insee: str | None = None
    commune_name: str | None = None
    departement: str | None = None
    canton_code: str | None = None
    circonscription: str | None = None
    canton_candidates: list[str] = field(default_factory=list)
    commune_candidates: list[str] = field(default_factory=list)


def departement_of_postal_code(postal_code: str) -> str | None:
    if not postal_code or len(postal_code) != 5:
        return None
    if postal_code.startswith("97"):
        return postal_code[:3]
    if postal_code.startswith("20"):
        return None  # Corsica: 2A or 2B, only the commune tells
    return postal_code[:2]


def _match_name(index: GeoIndex, candidates: list[str], name: str) -> list[str]:
    key = commune_key(name)
    if not key:
        return candidates
    exact = [c for c in candidates if fold(index.communes[c].name) == key]
    if exact:
        return exact
    # "Lyon 3e" against the arrondissement rows, "Grenoble Cedex 9" after the cedex is removed.
    loose = [c for c in candidates if commune_key(index.communes[c].name).replace(" ", "") == key.replace(" ", "")]
    return loose


def resolve(index: GeoIndex, postal_code: str | None, commune: str | None, insee: str | None = None) -> GeoResult:
    """Where a contact lives, as precisely as the data allow.

    Results are cached on the index (a file names the same few thousand places over and over);
    a GeoResult is shared between contacts, so it must never be mutated.
    """
    key = (postal_code, commune, insee)
    cached = index.cache.get(key)
    if cached is None:
        cached = index.cache[key] = _resolve(index, postal_code, commune, insee)
    return cached


def _resolve(index: GeoIndex, postal_code: str | None, commune: str | None, insee: str | None) -> GeoResult:
    candidates: list[str] = []
    if insee and insee in index.communes:
        candidates = [insee]
    elif postal_code:
        candidates = list(index.by_postal_code.get(postal_code, []))
        if commune and len(candidates) > 1:
            candidates = _match_name(index, candidates, commune) or candidates
        elif commune and len(candidates) == 1:
            pass  # the postal code decides; a misspelt town name is not a reason to lose it
    elif commune:
        key = commune_key(commune)
        candidates = list(index.by_name.get(key, []))
        match = _ARRONDISSEMENT.match(key)
        if not candidates and match:
            candidates = list(index.by_name.get(f"{match.group(1)} {match.group(2)}e arrondissement", []))
    if not candidates:
        if not postal_code and not commune and not insee:
            return GeoResult("missing")
        return GeoResult("unknown", commune_name=commune or None,
                         departement=departement_of_postal_code(postal_code or ""))
    if len(candidates) > 1:
        deps = {index.communes[c].departement for c in candidates}
        return GeoResult("ambiguous", commune_name=commune or None,
                         departement=deps.pop() if len(deps) == 1 else departement_of_postal_code(postal_code or ""),
                         commune_candidates=candidates)
    c = index.communes[candidates[0]]
    result = GeoResult("resolved", c.insee, c.name, c.departement)
    if len(c.cantons) == 1:
        result.canton_code = c.cantons[0][0]
    else:
        result.canton_candidates = [code for code, _ in c.cantons]
    if len(c.circonscriptions) == 1:
        result.circonscription = c.circonscriptions[0]
    return result
