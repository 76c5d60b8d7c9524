"""What the report's maps show, shared by the HTML page (plotly, dbox.insights.charts) and the
printed maps (matplotlib, dbox.insights.printing): the areas of one level filled by colour
classes, the areas around them in grey, the boundaries of the départements, the extent.

Colour classes are quantiles of contacts per 1,000 inhabitants over the areas that hold contacts:
each class holds about as many areas, so one hamlet with 9 contacts for 7 inhabitants is alone in
the top class instead of painting every other area the palest shade of a linear scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from dbox.i18n import _
from dbox.insights import departements, shapes

# Sequential, colour-blind safe (ColorBrewer YlGnBu), light to dark; fewer classes take the
# darkest ones so that one class alone is not the palest.
CLASS_COLOURS = ["#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84"]
CLASSES = 5
NO_POPULATION = "#bcbddc"     # contacts, but no population to divide by
EMPTY_FILL = "#e9ecef"        # an area around the selection with none of its contacts
NEIGHBOUR_FILL = "#f8f9fa"    # a département the selection does not reach, in the picture
NEIGHBOUR_LINE = "#adb5bd"
EMPTY_LINE = "#ffffff"
OUTLINE = "#495057"           # boundaries of départements over communes and cantons
# Communes are drawn for the départements the selection reaches when they are this few; beyond,
# only the communes that hold contacts (the page would weigh tens of MB otherwise).
COMMUNE_CONTEXT_MAX_DEPARTEMENTS = 6
CANTON_CONTEXT_MAX_DEPARTEMENTS = 30
# At most this many areas are drawn with their polygon (those with most contacts); the others are
# dots: contacts in 20,000 communes would otherwise make a page of 20 MB.
MAX_SHAPED = 3000


@dataclass
class ColourClass:
    low: float
    high: float
    colour: str
    count: int = 0


@dataclass
class MapLayer:
    level: str
    rows: list[dict]                      # areas with contacts (the stats rows), most contacts first
    classes: list[ColourClass]
    class_of: list[int | None]            # per row: index in classes, None without population
    context: list[str]                    # codes of the areas drawn in grey around them
    outlines: list[str]                   # départements whose boundaries are drawn over the areas
    extent: tuple[float, float, float, float]     # lon0, lat0, lon1, lat1 to show
    shaped: list[bool] = field(default_factory=list)   # per row: has a polygon (else a marker)
    neighbours: list[str] = field(default_factory=list)   # départements around, not reached, in view


def quantile_classes(values: list[float], k: int = CLASSES) -> list[ColourClass]:
    """At most ``k`` classes holding about as many of ``values`` each, as [low, high] ranges of the
    values themselves (no class is empty; equal values stay in one class)."""
    v = sorted(values)
    if not v:
        return []
    n = len(v)
    uppers: list[float] = []
    for i in range(1, k + 1):
        upper = v[max(0, math.ceil(i * n / k) - 1)]
        if not uppers or upper > uppers[-1]:
            uppers.append(upper)
    colours = CLASS_COLOURS[len(CLASS_COLOURS) - len(uppers):]
    classes, start = [], 0
    for upper, colour in zip(uppers, colours):
        members = [x for x in v[start:] if x <= upper]
        classes.append(ColourClass(members[0], upper, colour, len(members)))
        start += len(members)
    return classes


def class_index(classes: list[ColourClass], value: float | None) -> int | None:
    if value is None or not classes:
        return None
    for i, c in enumerate(classes):
        if value <= c.high:
            return i
    return len(classes) - 1


def departement_of(level: str, code: str) -> str:
    """The département of a commune (INSEE code) or canton code, from the code itself."""
    if level == "departement":
        return code
    return code[:3] if code.startswith("97") else code[:2]


def layer(level: str, rows: list[dict], territory: str) -> MapLayer:
    """The map of ``rows`` (stats rows of ``level`` with contacts, in ``territory``)."""
    rows = [r for r in rows if r["code"] is not None and r["contacts"]
            and departements.territory(r["departement"]) == territory]
    classes = quantile_classes([r["per_1000"] for r in rows if r["per_1000"] is not None])
    class_of = [class_index(classes, r["per_1000"]) for r in rows]
    reached = sorted({r["departement"] for r in rows if r["departement"]})
    codes = {r["code"] for r in rows}
    if level == "departement":
        context = [c for c in shapes.codes(level)
                   if departements.territory(c) == territory and c not in codes]
        outlines: list[str] = []
    else:
        limit = COMMUNE_CONTEXT_MAX_DEPARTEMENTS if level == "commune" else CANTON_CONTEXT_MAX_DEPARTEMENTS
        wanted = set(reached) if len(reached) <= limit else set()
        context = [c for c in shapes.codes(level)
                   if c not in codes and departement_of(level, c) in wanted]
        outlines = [d for d in shapes.codes("departement") if departements.territory(d) == territory
                    and (d in reached or len(reached) > limit or territory != "metropole")]
    shaped = [shapes.has(level, r["code"]) and i < MAX_SHAPED for i, r in enumerate(rows)]
    extent = _extent(level, rows, shaped, territory)
    neighbours = [d for d in shapes.codes("departement") if departements.territory(d) == territory
                  and d not in reached and d not in context and _overlaps(shapes.bounds("departement", [d]), extent)]
    return MapLayer(level, rows, classes, class_of, context, outlines, extent, shaped, neighbours)


def _overlaps(box, extent) -> bool:
    return box is not None and box[0] < extent[2] and extent[0] < box[2] and box[1] < extent[3] and extent[1] < box[3]


def _extent(level: str, rows: list[dict], shaped: list[bool], territory: str) -> tuple[float, float, float, float]:
    """The box of the areas holding contacts, padded, at least ~40 km wide; the whole territory
    when nothing is placed."""
    box = shapes.bounds(level, [r["code"] for r, s in zip(rows, shaped) if s])
    points = [(r["lon"], r["lat"]) for r in rows if r.get("lon") is not None]
    xs = [p[0] for p in points] + ([box[0], box[2]] if box else [])
    ys = [p[1] for p in points] + ([box[1], box[3]] if box else [])
    if not xs:
        whole = shapes.bounds("departement", [d for d in shapes.codes("departement")
                                              if departements.territory(d) == territory])
        return whole or (-5.2, 41.3, 9.6, 51.1)
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    pad_x = max((x1 - x0) * 0.06, 0.25)
    pad_y = max((y1 - y0) * 0.06, 0.18)
    return x0 - pad_x, y0 - pad_y, x1 + pad_x, y1 + pad_y


def aspect(extent: tuple[float, float, float, float]) -> float:
    """Degrees of latitude per degree of longitude on screen, so that the territory keeps its shape."""
    mid = (extent[1] + extent[3]) / 2
    return 1 / max(math.cos(math.radians(mid)), 0.2)


def place_labels(candidates: list[tuple[str, float, float]], size, limit: int = 12) -> list[tuple[str, float, float]]:
    """The labels that fit without overlapping, in the order given (most important first):
    ``candidates`` are (text, x, y) with x, y where the label is centred; ``size(text)`` gives its
    (width, height) in the same units. At most ``limit`` labels."""
    placed: list[tuple[str, float, float]] = []
    boxes: list[tuple[float, float, float, float]] = []
    for text, x, y in candidates:
        w, h = size(text)
        box = (x - w / 2, y - h / 2, x + w / 2, y + h / 2)
        if any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in boxes):
            continue
        placed.append((text, x, y))
        boxes.append(box)
        if len(placed) == limit:
            break
    return placed


def level_headings() -> dict[str, str]:
    """The name of each kind of area, as a column heading."""
    return {"departement": _("Département"), "canton": _("Canton"), "commune": _("Commune"),
            "circonscription": _("Circonscription"), "bureau": _("Bureau de vote")}


def area_headings() -> dict[str, str]:
    """"Contacts by ..." for each kind of area: whole sentences, so that each language builds its own."""
    return {"departement": _("Contacts by département"), "canton": _("Contacts by canton"),
            "commune": _("Contacts by commune"), "circonscription": _("Contacts by circonscription"),
            "bureau": _("Contacts by bureau de vote")}
