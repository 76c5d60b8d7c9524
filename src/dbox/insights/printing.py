"""The report's charts for print: PNG files and a PDF, drawn with matplotlib (no browser needed).

plotly's own image export (kaleido) drives a Chrome it downloads or finds on the machine; a
campaign laptop may have neither, so printing uses matplotlib's Agg backend, which needs nothing
but the Python package. The charts show the same numbers as the HTML page.
"""

from __future__ import annotations

from pathlib import Path

from dbox.i18n import _
from dbox.insights import charts, departements, maps, shapes
from dbox.insights.charts import OUTCOME_COLOURS, PALETTE, campaign_outcome_parts
from dbox.insights.charts import number as format_number
from dbox.insights.charts import percent as format_percent
from dbox.errors import DboxError

_DPI = 150


def _plt():
    try:
        import matplotlib
    except ImportError:  # pragma: no cover - depends on the installation
        raise DboxError(_("PNG and PDF charts need matplotlib, which is not installed"),
                        hint="pip install 'dbox[report]'") from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.family": "DejaVu Sans", "font.size": 9, "axes.spines.top": False,
                         "axes.spines.right": False})
    return plt




def selection_label(s: dict) -> str:
    """Whom the report counts, as its header says: the selection's expression, or everyone."""
    who = _("everyone in the store") if s["selection"]["everyone"] else s["selection"]["expression"]
    if s.get("since"):
        who += " · " + _("activity since {date}").format(date=s["since"][:10])
    return who


def _rings(level: str, codes: list[str]) -> list[list[tuple[float, float]]]:
    return [list(zip(*polygon[0])) for code in codes for polygon in shapes.polygons(level, code)]


def map_figure(plt, report, territory: str):
    """The map of one territory at the report's level, titled by the selection: areas filled by
    colour class, the areas around in grey, the départements' boundaries, names that fit."""
    from matplotlib import patheffects
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Patch

    layer = report.map(territory)
    x0, y0, x1, y1 = layer.extent
    ratio = (y1 - y0) * maps.aspect(layer.extent) / (x1 - x0)
    fig, ax = plt.subplots(figsize=(8, min(max(7.6 * ratio, 3.5), 10.5) + 1.6))
    # the départements first, in grey: the communes split between cantons, which no canton's
    # polygon covers, are grey too instead of holes
    ax.add_collection(PolyCollection(_rings("departement", layer.neighbours), facecolors=maps.NEIGHBOUR_FILL,
                                     edgecolors=maps.NEIGHBOUR_LINE, linewidths=0.6))
    ax.add_collection(PolyCollection(_rings("departement", layer.outlines), facecolors=maps.EMPTY_FILL,
                                     edgecolors="none"))
    ax.add_collection(PolyCollection(_rings(layer.level, layer.context), facecolors=maps.EMPTY_FILL,
                                     edgecolors="white", linewidths=0.4))
    handles = []
    groups = [(i, c.colour, charts.class_label(c)) for i, c in enumerate(layer.classes)]
    if any(i is None for i in layer.class_of):
        groups.append((None, maps.NO_POPULATION, _("no population known")))
    for index, colour, label in groups:
        codes = [r["code"] for r, i, s in zip(layer.rows, layer.class_of, layer.shaped) if i == index and s]
        ax.add_collection(PolyCollection(_rings(layer.level, codes), facecolors=colour, edgecolors="white",
                                         linewidths=0.5))
        handles.append(Patch(facecolor=colour, edgecolor="#adb5bd", label=label))
    ax.add_collection(PolyCollection(_rings("departement", layer.outlines), facecolors="none",
                                     edgecolors=maps.OUTLINE, linewidths=0.8))
    loose = [(r, i) for r, i, s in zip(layer.rows, layer.class_of, layer.shaped) if not s and r.get("lon") is not None]
    if loose:      # areas without a polygon (cantons made of fractions of communes): a marker
        ax.scatter([r["lon"] for r, i in loose], [r["lat"] for r, i in loose], s=70, zorder=3,
                   c=[maps.NO_POPULATION if i is None else layer.classes[i].colour for _, i in loose],
                   edgecolors="#212529", linewidths=0.6)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(maps.aspect(layer.extent))
    ax.set_axis_off()
    heading = maps.area_headings()[layer.level]
    if territory != "metropole":
        heading += f" — {departements.name(territory)}"
    height = fig.get_figheight()
    fig.suptitle(heading, x=0.02, y=1 - 0.12 / height, ha="left",
                 va="top", fontsize=13, weight="bold")
    fig.text(0.02, 1 - 0.5 / height, _("Contacts:") + " " + selection_label(report.stats), ha="left", va="top", fontsize=9,
             color="#212529")
    if handles:      # under the map, never over it
        fig.legend(handles=handles, title=_("contacts per 1,000 inhabitants (classes holding as many areas each)"),
                   loc="lower center", ncol=len(handles), fontsize=8, title_fontsize=8, frameon=False,
                   bbox_to_anchor=(0.5, 0.005))
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.75 / height, top=1 - 0.85 / height)
    renderer = fig.canvas.get_renderer()
    to_data = ax.transData.inverted()

    def size(text: str) -> tuple[float, float]:
        probe = ax.text(0, 0, text, fontsize=7.5, ha="center", va="center")
        box = probe.get_window_extent(renderer).transformed(to_data)
        probe.remove()
        return box.width * 1.1, box.height * 1.3

    inside = [(r["name"], r["lon"], r["lat"]) for r in layer.rows
              if r.get("lon") is not None and x0 <= r["lon"] <= x1 and y0 <= r["lat"] <= y1]
    halo = [patheffects.withStroke(linewidth=2.2, foreground="white")]
    for text, x, y in maps.place_labels(inside, size, limit=15):
        ax.text(x, y, text, fontsize=7.5, ha="center", va="center", color="#212529", path_effects=halo, zorder=4)
    return fig


def _colours():
    return OUTCOME_COLOURS, PALETTE


def figures(report) -> list[tuple[str, object]]:
    """(name, matplotlib figure) for each chart the report has."""
    plt = _plt()
    outcome_colours, palette = _colours()
    s = report.stats
    result = []
    for territory in report.territories:
        result.append((f"map-{territory}", map_figure(plt, report, territory)))
    areas = s.get("areas")
    if areas:
        rows = [r for r in areas["rows"] if r["code"] is not None and r["contacts"]][:15]
        if rows:
            fig, ax = plt.subplots(figsize=(9, 4.5))
            xs = range(len(rows))
            ax.bar([x - 0.2 for x in xs], [r["sms_share"] or 0 for r in rows], width=0.4, color=palette[0],
                   label=_("reachable by SMS"))
            ax.bar([x + 0.2 for x in xs], [r["email_share"] or 0 for r in rows], width=0.4, color=palette[1],
                   label=_("reachable by e-mail"))
            ax.set_xticks(list(xs), [r["name"] for r in rows], rotation=35, ha="right")
            ax.set_ylim(0, 100)
            ax.set_ylabel(_("% of contacts"))
            ax.set_title(_("Share of contacts reachable, where most contacts are"))
            ax.legend(frameon=False)
            fig.tight_layout()
            result.append(("reach", fig))
    growth = s.get("growth")
    if growth and growth["periods"]:
        fig, ax = plt.subplots(figsize=(9, 4.5))
        periods = [p["period"] for p in growth["periods"]]
        bottom = [0] * len(periods)
        for i, src in enumerate(growth["sources"]):
            values = [p["sources"].get(src["source"], 0) for p in growth["periods"]]
            ax.bar(periods, values, bottom=bottom, color=palette[i % len(palette)], label=src["source"])
            bottom = [b + v for b, v in zip(bottom, values)]
        ax.set_ylabel(_("new contacts"))
        ax2 = ax.twinx()
        ax2.plot(periods, [p["total"] for p in growth["periods"]], color="#212529", marker="o", label="total")
        ax2.set_ylabel(_("contacts in all"))
        ax2.set_ylim(bottom=0)
        ax.set_title(_("New contacts per week (from Monday), by source") if growth["period"] == "week"
                     else _("New contacts per month, by source"))
        ax.legend(frameon=False, fontsize=7, loc="upper left")
        ax.tick_params(axis="x", rotation=35)
        fig.tight_layout()
        result.append(("growth", fig))
    followers = s.get("followers")
    if followers and followers["series"]:
        fig, ax = plt.subplots(figsize=(9, 4))
        keys = []
        for item in followers["series"]:
            if (item["network"], item["relation"]) not in keys:
                keys.append((item["network"], item["relation"]))
        for i, key in enumerate(keys):
            items = [x for x in followers["series"] if (x["network"], x["relation"]) == key]
            ax.plot([x["period"] for x in items], [x["total"] for x in items], marker="o",
                    color=palette[i % len(palette)], label=f"{key[0]} ({key[1]}s)")
        ax.set_ylim(bottom=0)
        ax.set_title(_("Followers per network"))
        ax.legend(frameon=False)
        fig.tight_layout()
        result.append(("followers", fig))
    campaigns = s.get("campaigns")
    if campaigns:
        fig, ax = plt.subplots(figsize=(9, max(2.5, 0.8 + 0.4 * len(campaigns))))
        labels = [f"#{c['id']} {c['channel']} {c['created_at'][:10]}" for c in campaigns]
        parts = [campaign_outcome_parts(c) for c in campaigns]
        left = [0] * len(campaigns)
        for name, colour in outcome_colours.items():
            values = [p[name] for p in parts]
            if any(values):
                ax.barh(labels, values, left=left, color=colour, label=_(name))
                left = [a + b for a, b in zip(left, values)]
        ax.invert_yaxis()
        ax.set_xlabel(_("recipients"))
        ax.set_title(_("What became of each campaign's messages"))
        ax.legend(frameon=False, fontsize=7, ncol=6, loc="upper center", bbox_to_anchor=(0.5, -0.35))
        fig.tight_layout()
        result.append(("campaigns", fig))
    return result


def write_pngs(report, folder: Path) -> list[Path]:
    plt = _plt()
    written = []
    for name, fig in figures(report):
        path = folder / f"{name}.png"
        tmp = folder / f".{name}.png.part"
        fig.savefig(tmp, dpi=_DPI, format="png", bbox_inches="tight", pad_inches=0.15)
        plt.close(fig)
        tmp.replace(path)
        written.append(path)
    return written


def _summary_page(report, plt):
    s = report.stats
    fig = plt.figure(figsize=(8.27, 11.69))   # A4
    fig.text(0.07, 0.95, _("Supporters report"), fontsize=18, weight="bold")
    fig.text(0.07, 0.925, _("Contacts:") + " " + selection_label(s), fontsize=9)
    fig.text(0.07, 0.91, f"Made by dbox on {s['generated_at'][:10]} — counts only, no personal data.", fontsize=8,
             color="#6c757d")
    y = 0.87
    summary = s.get("summary")
    if summary:
        lines = [(_("Contacts"), format_number(summary["contacts"])),
                 (_("Reachable by SMS"), f"{format_number(summary['reachable_sms'])} "
                                      f"({format_percent(summary['reachable_sms_share'])})"),
                 (_("Reachable by e-mail"), f"{format_number(summary['reachable_email'])} "
                                         f"({format_percent(summary['reachable_email_share'])})"),
                 (_("Located in a commune"), format_number(summary["located"])),
                 (_("Communes / départements"), f"{summary['communes']} / {summary['departements']}")]
        if summary.get("new_since") is not None:
            lines.append((_("New since {date}").format(date=s["since"][:10]), format_number(summary["new_since"])))
        for label, value in lines:
            fig.text(0.07, y, label, fontsize=10)
            fig.text(0.45, y, value, fontsize=10, weight="bold")
            y -= 0.022
    areas = s.get("areas")
    if areas and areas["rows"]:
        y -= 0.02
        fig.text(0.07, y, maps.area_headings()[areas["by"]], fontsize=12, weight="bold")
        y -= 0.025
        header = ("", _("contacts"), _("SMS"), _("e-mail"), _("per 1,000"))
        xs = (0.07, 0.5, 0.62, 0.74, 0.86)
        for x, text in zip(xs, header):
            fig.text(x, y, text, fontsize=8, color="#6c757d")
        y -= 0.018
        for r in areas["rows"][:28]:
            values = (r["name"][:45], format_number(r["contacts"]), format_percent(r["sms_share"]),
                      format_percent(r["email_share"]), format_number(r["per_1000"]))
            for x, text in zip(xs, values):
                fig.text(x, y, text, fontsize=8)
            y -= 0.017
    return fig


def write_pdf(report, path: Path) -> Path:
    """A4 pages: the key numbers and the table first, then one chart per page."""
    plt = _plt()
    from matplotlib.backends.backend_pdf import PdfPages

    tmp = path.with_name(f".{path.name}.part")
    try:
        with PdfPages(tmp, metadata={"Title": "dbox report", "Creator": "dbox"}) as pdf:
            page = _summary_page(report, plt)
            pdf.savefig(page)
            plt.close(page)
            for _title, fig in figures(report):
                pdf.savefig(fig)
                plt.close(fig)
        tmp.replace(path)
    except BaseException:
        if tmp.exists():
            tmp.unlink()
        raise
    return path
