"""The report's maps (dbox.insights.maps, shapes, the map figures): the shipped boundaries, colour
classes robust to one outlier, zoom on the selection, the level following --by, names that never
overlap, a printed map titled by the selection. The page itself in a browser:
tests/test_insights_report.py and tests/test_report_i18n.py."""

from __future__ import annotations

import random
from importlib import resources

import pytest
from conftest import copy_store, isolate

from dbox.geo import reference_rows
from dbox.insights import maps, shapes
from dbox.store.db import open_store

# one worker takes the module under pytest-xdist: its store is imported once
pytestmark = pytest.mark.xdist_group("report-maps")

# 9 contacts in Oulles (7 inhabitants: the hamlet), a few in ten towns of Isère.
TOWNS = [("38000", "Grenoble", 11), ("38400", "Saint-Martin-d'Hères", 6), ("38130", "Échirolles", 5),
         ("38300", "Bourgoin-Jallieu", 4), ("38500", "Voiron", 7), ("38240", "Meylan", 8),
         ("38080", "L'Isle-d'Abeau", 3), ("38120", "Saint-Égrève", 5), ("38170", "Seyssinet-Pariset", 2),
         ("38090", "Villefontaine", 3), ("38520", "Oulles", 9)]


@pytest.fixture(scope="module")
def hamlet_template(tmp_path_factory, template_store):
    """A store with the contacts of TOWNS, imported once for the module; each test copies it."""
    from typer.testing import CliRunner

    from dbox.cli import app

    folder = tmp_path_factory.mktemp("hamlet")
    lines = ["Nom,Prénom,Courriel,Code postal,Ville,Étiquettes"]
    n = 0
    for postal_code, town, count in TOWNS:
        for _ in range(count):
            n += 1
            lines.append(f"Martin{n},Anne,anne{n}@exemple.fr,{postal_code},\"{town}\",militant")
    path = folder / "isere.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, folder)
        copy_store(template_store, folder / "store" / "dbox.sqlite3")
        result = CliRunner().invoke(app, ["import", str(path)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    return folder / "store" / "dbox.sqlite3"


@pytest.fixture
def hamlet_store(hamlet_template, tmp_path):
    store = open_store(copy_store(hamlet_template, tmp_path / "store" / "dbox.sqlite3"))
    yield store
    store.close()


def _report(store, by: str, expression: str | None = None):
    from dbox.insights import report, stats
    from dbox.segments import select

    return report.build(store, select(store, expression), stats.Options(by=by))


# -- the shipped boundaries ---------------------------------------------------------------------------

def test_shapes_are_small_and_complete():
    size = (resources.files("dbox") / "data" / shapes.SHAPES_FILE).stat().st_size
    assert size < 3_000_000                                     # "a few MB at most"
    table = list(reference_rows())
    assert set(shapes.codes("departement")) == {r["departement"] for r in table}   # 101
    with_point = {r["insee"] for r in table if r["lat"]}
    assert with_point <= set(shapes.codes("commune"))            # every commune located has its polygon
    cantons = {p.split(":")[0] for r in table for p in r["cantons"].split("|") if p}
    assert set(shapes.codes("canton")) <= cantons and len(shapes.codes("canton")) > 1800
    for level in shapes.LEVELS:
        for polygon in shapes.polygons(level, shapes.codes(level)[0]):
            for xs, ys in polygon:
                assert (xs[0], ys[0]) == (xs[-1], ys[-1]) and len(xs) >= 4     # closed rings


def _inside(x: float, y: float, polygons) -> bool:
    hit = False
    for polygon in polygons:
        for xs, ys in polygon:                      # even-odd over every ring: holes count out
            j = len(xs) - 1
            for i in range(len(xs)):
                if (ys[i] > y) != (ys[j] > y) and x < (xs[j] - xs[i]) * (y - ys[i]) / (ys[j] - ys[i]) + xs[i]:
                    hit = not hit
                j = i
    return hit


def test_simplified_boundaries_still_hold_their_communes():
    """Each commune's point (from the table) lies in its département's and its canton's simplified
    polygon, but for a few near a boundary (simplified to about 500 m)."""
    table = [r for r in reference_rows() if r["departement"] in ("38", "07", "2A") and r["lat"]]
    polygons = {d: shapes.polygons("departement", d) for d in ("38", "07", "2A")}
    outside = [r["name"] for r in table if not _inside(float(r["lon"]), float(r["lat"]), polygons[r["departement"]])]
    assert len(outside) <= len(table) * 0.01, outside
    whole = [r for r in table if r["cantons"] and "|" not in r["cantons"]]
    outside = [r["name"] for r in whole
               if not _inside(float(r["lon"]), float(r["lat"]), shapes.polygons("canton", r["cantons"].split(":")[0]))]
    assert len(outside) <= len(whole) * 0.03, outside


# -- colour classes and labels ----------------------------------------------------------------------

def test_quantile_classes_are_not_flattened_by_one_hamlet():
    ordinary = [0.05, 0.07, 0.1, 0.2, 0.25, 0.4, 0.5, 0.6, 0.8, 1.2]
    classes = maps.quantile_classes(ordinary + [1285.7])           # 9 contacts for 7 inhabitants
    assert len(classes) == 5 and classes[-1].high == 1285.7
    assert sum(c.count for c in classes) == 11
    used = {maps.class_index(classes, v) for v in ordinary}
    assert len(used) >= 4                # a linear scale would put all ten in its bottom fifth
    assert [c.colour for c in classes] == maps.CLASS_COLOURS[-5:]
    assert all(c.low <= c.high < d.low for c, d in zip(classes, classes[1:]))     # disjoint, ordered


def test_quantile_classes_with_few_values():
    assert maps.quantile_classes([]) == []
    one = maps.quantile_classes([3.0, 3.0, 3.0])
    assert [(c.low, c.high, c.count) for c in one] == [(3.0, 3.0, 3)] and one[0].colour == maps.CLASS_COLOURS[-1]
    two = maps.quantile_classes([1.0, 2.0])
    assert [(c.low, c.high) for c in two] == [(1.0, 1.0), (2.0, 2.0)]
    assert maps.class_index(two, None) is None and maps.class_index(two, 1.5) == 1


def test_labels_never_overlap():
    rng = random.Random(17)
    candidates = [(f"Commune {i}", rng.uniform(0, 10), rng.uniform(0, 10)) for i in range(200)]

    def size(text):
        return 0.12 * len(text), 0.3

    placed = maps.place_labels(candidates, size, limit=40)
    assert 10 <= len(placed) <= 40 and placed[0] == candidates[0]        # the most important first
    boxes = [(x - size(t)[0] / 2, y - 0.15, x + size(t)[0] / 2, y + 0.15) for t, x, y in placed]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3])


# -- a report's maps ---------------------------------------------------------------------------------

@pytest.mark.parametrize("by", ["commune", "canton", "departement"])
def test_the_map_follows_by_and_is_zoomed_on_the_selection(hamlet_store, by):
    report = _report(hamlet_store, by)
    assert report.map_level == by and report.territories == ["metropole"]
    layer = report.map("metropole")
    assert layer.level == by and layer.rows
    x0, y0, x1, y1 = layer.extent
    for r in layer.rows:
        assert x0 <= r["lon"] <= x1 and y0 <= r["lat"] <= y1
    if by != "departement":                          # Isère, not France (about 1.8° by 1.2°)
        assert x1 - x0 < 2.5 and y1 - y0 < 2.0
        assert set(layer.outlines) == {"38"}
        assert {maps.departement_of(by, c) for c in layer.context} == {"38"}   # the rest of Isère, in grey
        assert {"73", "26", "69"} <= set(layer.neighbours)                     # around it, paler
    from dbox.insights import charts

    fig = charts.map_figure(report.maps("metropole"), territory="metropole", default_level=report.map_level)
    shown = [t.name for t in fig.data if t.visible is True and t.customdata is not None]
    assert shown == [{"commune": "Communes", "canton": "Cantons", "departement": "Départements"}[by]]
    assert list(fig.layout.xaxis.range) == [x0, x1]


def test_beyond_a_few_thousand_areas_the_smallest_are_dots(hamlet_store, monkeypatch):
    monkeypatch.setattr(maps, "MAX_SHAPED", 4)
    layer = _report(hamlet_store, "commune").map("metropole")
    assert layer.shaped == [True] * 4 + [False] * (len(layer.rows) - 4)
    assert [r["contacts"] for r in layer.rows] == sorted((r["contacts"] for r in layer.rows), reverse=True)


def test_the_hamlet_is_alone_at_the_top(hamlet_store):
    layer = _report(hamlet_store, "commune").map("metropole")
    by_name = {r["name"]: i for r, i in zip(layer.rows, layer.class_of)}
    assert by_name["Oulles"] == len(layer.classes) - 1
    assert len({i for name, i in by_name.items() if name != "Oulles"}) >= 4


def test_a_split_commune_is_not_a_hole(hamlet_store):
    """Grenoble is split between cantons: no canton polygon covers it. The canton map draws the
    département under the cantons, so it is grey, not white."""
    layer = _report(hamlet_store, "canton").map("metropole")
    grenoble = [r for r in reference_rows() if r["insee"] == "38185"][0]
    point = (float(grenoble["lon"]), float(grenoble["lat"]))
    assert not any(_inside(*point, shapes.polygons("canton", c)) for c in shapes.codes("canton") if c.startswith("38"))
    assert _inside(*point, shapes.polygons("departement", "38")) and "38" in layer.outlines


def test_printed_map_titled_by_the_selection_with_labels_apart(hamlet_store, tmp_path):
    from dbox.insights import printing

    report = _report(hamlet_store, "canton", "tag:militant and departement = 38")
    plt = printing._plt()
    fig = printing.map_figure(plt, report, "metropole")
    try:
        texts = [t.get_text() for t in fig.texts] + [fig._suptitle.get_text()]
        assert "Contacts by canton" in texts
        assert "Contacts: tag:militant and departement = 38" in texts
        assert not any("Metropolitan" in t for t in texts)
        ax = fig.axes[0]
        labels = [t for t in ax.texts]
        assert len(labels) >= 4
        assert {t.get_text() for t in labels} <= {r["name"] for r in report.layers["canton"]}
        renderer = fig.canvas.get_renderer()
        boxes = [t.get_window_extent(renderer) for t in labels]
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                assert not a.overlaps(b), (labels[i].get_text(), a, b)
        from dbox.insights.charts import class_label

        layer = report.map("metropole")
        assert [t.get_text() for t in fig.legends[0].get_texts()] == [class_label(c) for c in layer.classes]
        fig.savefig(tmp_path / "map.png", dpi=80)
    finally:
        plt.close(fig)
