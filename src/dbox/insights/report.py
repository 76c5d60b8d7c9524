"""``dbox report``: one self-contained HTML page (plotly's JavaScript inlined, no network needed),
and the same charts as PNG files or a PDF for people who print.

The page shows the statistics dictionary of :func:`dbox.insights.stats.compute`, embedded whole in
``<script type="application/json" id="dbox-stats">``; every number shown carries
``data-stat="<path in that dictionary>"``, so a reader (or a test) can check that the page says
what ``dbox stats --format json`` says.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dbox import i18n
from dbox.errors import DboxError, InputError
from dbox.i18n import _
from dbox.insights import departements, maps, stats
from dbox.store.db import Store
from dbox.insights import charts, printing

MAP_LEVELS = ("commune", "canton", "departement")
TABLE_ROWS = 30


@dataclass
class Report:
    stats: dict
    layers: dict[str, list[dict]]                       # level -> area rows with a point
    territories: list[str]                               # 'metropole', '971', ...
    map_level: str = "commune"                           # the level the maps open on: --by's

    def maps(self, territory: str) -> dict[str, maps.MapLayer]:
        """The map of each level for one territory."""
        return {level: self.map(territory, level) for level in MAP_LEVELS}

    def map(self, territory: str, level: str | None = None) -> maps.MapLayer:
        """One territory's map at ``level`` (by default the report's: --by's)."""
        return maps.layer(level or self.map_level, self.layers[level or self.map_level], territory)


def build(store: Store, selection, options: stats.Options) -> Report:
    """The numbers and the map layers of a report (all aggregated in SQL)."""
    reach = stats.reach_of(store, selection)          # evaluated once for the numbers and the map layers
    numbers = stats.compute(store, selection, options, reach=reach)
    layers: dict[str, list[dict]] = {}
    for level in MAP_LEVELS:
        if level == numbers.get("areas", {}).get("by"):
            rows = numbers["areas"]["rows"]
        else:
            rows = stats.areas(store, selection.where, list(selection.params), reach, level)["rows"]
        layers[level] = [r for r in rows if r["lat"] is not None and r["contacts"]]
    territories: list[str] = []
    for row in layers["commune"] + layers["canton"] + layers["departement"]:
        t = departements.territory(row["departement"])
        if t not in territories:
            territories.append(t)
    territories.sort(key=lambda t: (t != "metropole", t))
    by = numbers.get("areas", {}).get("by")
    return Report(numbers, layers, territories, by if by in MAP_LEVELS else "commune")


# -- HTML -----------------------------------------------------------------------------------------

def _plotly_js() -> str:
    try:
        from plotly.offline import get_plotlyjs
    except ImportError:
        raise DboxError(_("the HTML report needs plotly, which is not installed"),
                        hint="pip install 'dbox[report]'") from None
    return get_plotlyjs()


def _figure_html(fig, div_id: str) -> str:
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                       config={"displaylogo": False, "responsive": True,
                               "modeBarButtonsToRemove": ["sendDataToCloud"], "toImageButtonOptions":
                                   {"filename": div_id}})


def render_html(report: Report) -> str:
    s = report.stats
    figures: dict[str, str] = {}
    for territory in report.territories:
        fig = charts.map_figure(report.maps(territory), territory=territory, default_level=report.map_level)
        figures[f"map-{territory}"] = _figure_html(fig, f"map-{territory}")
    areas = s.get("areas")
    if areas and any(r["code"] for r in areas["rows"]):
        figures["reach"] = _figure_html(charts.reach_figure(areas["rows"], areas["by"]), "chart-reach")
    if s.get("growth", {}).get("periods"):
        figures["growth"] = _figure_html(charts.growth_figure(s["growth"]), "chart-growth")
    if s.get("followers", {}).get("series"):
        figures["followers"] = _figure_html(charts.followers_figure(s["followers"]), "chart-followers")
    if s.get("campaigns"):
        figures["campaigns"] = _figure_html(charts.campaigns_figure(s["campaigns"]), "chart-campaigns")
    env = _environment()
    template = env.get_template("report.html.j2")
    by = s.get("areas", {}).get("by")
    command = "dbox stats --by " + ("circo" if by == "circonscription" else str(by))
    return template.render(s=s, figures=figures, territories=report.territories, table_rows=TABLE_ROWS,
                           level_words=maps.level_headings(), area_heading=maps.area_headings().get(by, ""),
                           command=_code(command), lang=i18n.current_language(), plotly_js=_plotly_js(),
                           stats_json=json.dumps(s, ensure_ascii=False, sort_keys=True).replace("</", "<\\/"),
                           dep_name=departements.name)


def _code(text: str):
    from markupsafe import Markup, escape

    return Markup("<code>{}</code>").format(escape(text))


def _fmt(message: str, **values):
    """A translated sentence with its values put in: the sentence escaped, each value escaped
    unless it is markup already (a number with its data-stat, a <code>)."""
    from markupsafe import Markup, escape

    return Markup(escape(message)).format(**values)


def _environment():
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("dbox.insights", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]), undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = charts.number
    env.filters["pct"] = charts.percent
    env.filters["money"] = charts.money
    env.filters["fmt"] = _fmt
    env.globals.update(_=_, ngettext=i18n.ngettext, code=_code)
    return env


# -- files ----------------------------------------------------------------------------------------

def _check_target(path: Path, *, folder: bool = False) -> Path:
    path = Path(path)
    if folder:
        if path.exists() and not path.is_dir():
            raise InputError(_("{path} is a file: --png needs a folder").format(path=path))
        if not path.parent.exists():
            raise InputError(_("{path}: no such folder").format(path=path.parent))
        return path
    if path.is_dir():
        raise InputError(_("{path} is a folder: give a file name").format(path=path))
    if not path.parent.exists():
        raise InputError(_("{path}: no such folder").format(path=path.parent))
    return path


def write_atomic(path: Path, data: bytes) -> None:
    """Written under a temporary name and renamed when complete: never a half-written report."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def check_targets(html: Path | None, pdf: Path | None, png_dir: Path | None) -> None:
    if html is None and pdf is None and png_dir is None:
        raise InputError(_("say where to write the report: --out report.html (and/or --pdf FILE, --png FOLDER)"))
    if html is not None:
        _check_target(html)
        if html.suffix.lower() not in (".html", ".htm"):
            raise InputError(_("{path}: the report is an HTML page, name it .html").format(path=html))
    if pdf is not None:
        _check_target(pdf)
        if pdf.suffix.lower() != ".pdf":
            raise InputError(_("{path}: --pdf needs a file name ending in .pdf").format(path=pdf))
    if png_dir is not None:
        _check_target(png_dir, folder=True)


def write(store: Store, selection, options: stats.Options, *, html: Path | None = None, pdf: Path | None = None,
          png_dir: Path | None = None) -> tuple[Report, list[Path]]:
    """Compute once, write every output asked for; returns the report and the files written."""
    html = Path(html) if html is not None else None
    pdf = Path(pdf) if pdf is not None else None
    png_dir = Path(png_dir) if png_dir is not None else None
    check_targets(html, pdf, png_dir)
    report = build(store, selection, options)
    written: list[Path] = []
    if html is not None:
        write_atomic(html, render_html(report).encode("utf-8"))
        written.append(html)
    if pdf is not None or png_dir is not None:
        if png_dir is not None:
            png_dir.mkdir(exist_ok=True)
            written += printing.write_pngs(report, png_dir)
        if pdf is not None:
            written.append(printing.write_pdf(report, pdf))
    return report, written
