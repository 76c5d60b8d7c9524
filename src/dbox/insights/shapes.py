"""The boundaries the report's maps draw: communes, cantons and départements, simplified.

``dbox/data/shapes_fr.json.xz`` is built by ``scripts/build_shapes.py`` from the same source as
the table of communes (docs/geography.md): each level simplified as a coverage (neighbours keep
touching), coordinates quantized and delta-encoded, about 2 MB. Reading it builds one string per
area; only the areas a map draws are decoded.
"""

from __future__ import annotations

import json
import lzma
import math
from functools import lru_cache
from importlib import resources
from itertools import accumulate

SHAPES_FILE = "shapes_fr.json.xz"
LEVELS = ("commune", "canton", "departement")

Ring = tuple[list[float], list[float]]          # longitudes, latitudes (closed)


@lru_cache(maxsize=1)
def _data() -> dict:
    ref = resources.files("dbox") / "data" / SHAPES_FILE
    if not ref.is_file():        # pragma: no cover - an installation without the data file
        return {"grid": 1.0, "levels": {}}
    with ref.open("rb") as raw, lzma.open(raw, "rt", encoding="utf-8") as fh:
        return json.load(fh)


def has(level: str, code: str | None) -> bool:
    return code is not None and code in _data()["levels"].get(level, {})


def codes(level: str) -> list[str]:
    return list(_data()["levels"].get(level, {}))


def polygons(level: str, code: str) -> list[list[Ring]]:
    """The area's polygons, each a list of rings (the outer ring first, then its holes); [] when
    the area has no shape (a canton made of fractions of communes, an unknown code)."""
    data = _data()
    text = data["levels"].get(level, {}).get(code)
    if not text:
        return []
    return [[_ring(ring, data["grid"]) for ring in polygon.split(";")] for polygon in text.split("|")]


@lru_cache(maxsize=1 << 16)
def _ring_cached(text: str, grid: float) -> Ring:
    numbers = [int(n) for n in text.split(",")]
    digits = max(0, -math.floor(math.log10(grid)) + 1)     # 0.0005 -> 4 decimals: no 45.298500000000004
    xs = [round(x * grid, digits) for x in accumulate(numbers[0::2])]
    ys = [round(y * grid, digits) for y in accumulate(numbers[1::2])]
    return xs, ys


def _ring(text: str, grid: float) -> Ring:
    return _ring_cached(text, grid)


def bounds(level: str, codes_: list[str]) -> tuple[float, float, float, float] | None:
    """(min lon, min lat, max lon, max lat) of the outer rings of these areas, None if none has a shape."""
    xs: list[float] = []
    ys: list[float] = []
    for code in codes_:
        for polygon in polygons(level, code):
            x, y = polygon[0]
            xs += (min(x), max(x))
            ys += (min(y), max(y))
    if not xs:
        return None
    return min(xs), min(ys), max(xs), max(ys)
