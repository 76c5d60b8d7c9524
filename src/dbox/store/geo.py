"""The French geography reference: loading the shipped table into the store, and reading it back.

The table (``dbox/data/communes_fr.csv.xz``) is built by ``scripts/build_geo.py``; see
docs/geography.md for its origin and format.
"""

from __future__ import annotations

from dbox.geo import Commune, GeoIndex
from dbox.geo import reference_rows as _reference_rows  # tests swap it for a small table
from dbox.text import fold

PLM_PARENTS = {"75056": "751", "69123": "6938", "13055": "132"}  # parent commune -> arrondissement code prefix


def load_reference(store) -> int:
    """Fill the geo_* tables from the shipped reference (inside the caller's transaction; COPY on
    PostgreSQL)."""
    for table in ("geo_communes", "geo_cantons", "geo_commune_cantons",
                  "geo_commune_circonscriptions", "geo_postal_codes"):
        store.execute(f"DELETE FROM {table}")
    communes, cantons, commune_cantons, circos, postal = _table_rows(_reference_rows)
    store.copy_rows("geo_communes", ("insee", "name", "name_key", "departement", "population", "lat", "lon"),
                    communes)
    store.copy_rows("geo_cantons", ("code", "name", "name_key", "departement"), cantons)
    store.copy_rows("geo_commune_cantons", ("insee", "canton_code"), commune_cantons)
    store.copy_rows("geo_commune_circonscriptions", ("insee", "circonscription"), circos)
    store.copy_rows("geo_postal_codes", ("postal_code", "insee"), postal)
    return len(communes)


# The tables' rows, read, folded and sorted once per process for the reference they come from:
# two thirds of the cost of a new store. A process that makes several (``dbox store copy``, the
# test suite: every test makes a store) reads the compressed table once; one entry is kept.
_TABLE_ROWS: dict = {}


def _table_rows(reference) -> tuple[list, list, list, list, list]:
    rows = _TABLE_ROWS.get(reference)
    if rows is not None:
        return rows
    communes, cantons, commune_cantons, circos, postal = [], {}, [], [], []
    for row in reference():
        insee, dep = row["insee"], row["departement"]
        communes.append((
            insee, row["name"], fold(row["name"]), dep,
            int(row["population"]) if row["population"] else None,
            float(row["lat"]) if row["lat"] else None,
            float(row["lon"]) if row["lon"] else None,
        ))
        for pair in filter(None, row["cantons"].split("|")):
            code, _, name = pair.partition(":")
            cantons[code] = (code, name, fold(name), dep)
            commune_cantons.append((insee, code))
        for circo in filter(None, row["circonscriptions"].split("|")):
            circos.append((insee, circo))
        for code in row["postal_codes"].split():
            postal.append((code, insee))
    rows = (communes, list(cantons.values()), sorted(set(commune_cantons)), sorted(set(circos)), sorted(set(postal)))
    _TABLE_ROWS.clear()
    _TABLE_ROWS[reference] = rows
    return rows


# Indexes already built in this process, by the fingerprint of the geography they were built from
# (an import, a form page and a rectification each need one; building it takes ~0.3 s for 35,000
# communes, reading the fingerprint a few ms). The index and its resolve() memo are shared. The
# least recently used goes first: a process that serves one store keeps one; the test suite's
# workers go back and forth between four (the shipped and a small geography, on each engine).
_INDEXES: dict[tuple, GeoIndex] = {}
_KEPT = 4


def _fingerprint(store) -> tuple:
    """What identifies a geography table's content well enough: its sizes and sums. The tables are
    only ever written whole, by :func:`load_reference`."""
    communes = tuple(store.execute(
        "SELECT count(*), coalesce(sum(population), 0), max(insee), max(name_key), coalesce(sum(lat), 0), "
        "coalesce(sum(lon), 0) FROM geo_communes").fetchone())
    others = tuple(store.execute(
        "SELECT (SELECT count(*) FROM geo_cantons), (SELECT count(*) FROM geo_commune_cantons), "
        "(SELECT count(*) FROM geo_commune_circonscriptions), (SELECT count(*) FROM geo_postal_codes)"
    ).fetchone())
    return (store.engine,) + communes + others


def load_index(store) -> GeoIndex:
    """The geography index of the store's reference table (built once per content in a process)."""
    key = _fingerprint(store)
    index = _INDEXES.get(key)
    if index is None:
        index = _build_index(store)
        while len(_INDEXES) >= _KEPT:
            _INDEXES.pop(next(iter(_INDEXES)), None)
    else:
        _INDEXES.pop(key, None)    # moved last: the most recently used
    _INDEXES[key] = index
    return index


def _build_index(store) -> GeoIndex:
    communes = {
        insee: Commune(insee, name, dep, pop)
        for insee, name, dep, pop in store.execute(
            "SELECT insee, name, departement, population FROM geo_communes")
    }
    for insee, code, name in store.execute(
            "SELECT cc.insee, cc.canton_code, c.name FROM geo_commune_cantons cc "
            "JOIN geo_cantons c ON c.code = cc.canton_code ORDER BY cc.insee, cc.canton_code"):
        if insee in communes:
            communes[insee].cantons.append((code, name))
    for insee, circo in store.execute(
            "SELECT insee, circonscription FROM geo_commune_circonscriptions "
            "ORDER BY insee, circonscription"):
        if insee in communes:
            communes[insee].circonscriptions.append(circo)
    by_postal: dict[str, list[str]] = {}
    for code, insee in store.execute("SELECT postal_code, insee FROM geo_postal_codes ORDER BY 1, 2"):
        by_postal.setdefault(code, []).append(insee)
    # Paris, Lyon and Marseille share their postal codes with their arrondissements: the
    # arrondissement is the more precise answer (its circonscriptions are fewer).
    for code, insees in by_postal.items():
        if len(insees) > 1 and any(i in PLM_PARENTS for i in insees):
            by_postal[code] = [i for i in insees if i not in PLM_PARENTS] or insees
    by_name: dict[str, list[str]] = {}
    for insee, key in store.execute("SELECT insee, name_key FROM geo_communes ORDER BY insee"):
        by_name.setdefault(key, []).append(insee)
    return GeoIndex(communes, by_postal, by_name)


def reference_size(store) -> int:
    return store.execute("SELECT count(*) FROM geo_communes").fetchone()[0]


def commune_exists(store, insee: str) -> bool:
    return store.execute("SELECT 1 FROM geo_communes WHERE insee = ?", (insee,)).fetchone() is not None


def communes_named(store, name_key: str) -> list[tuple[str, str]]:
    """(insee, departement) of the communes whose folded name is ``name_key``."""
    return store.execute("SELECT insee, departement FROM geo_communes WHERE name_key = ?", (name_key,)).fetchall()


def canton_departements(store, codes) -> set[str]:
    """The départements of the cantons ``codes``."""
    where, params = store.values_in("code", codes)
    return {d for (d,) in store.execute(f"SELECT departement FROM geo_cantons WHERE {where}", params)}
