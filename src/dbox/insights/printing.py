"""The report's charts for print: PNG files and a PDF, drawn with matplotlib (no browser needed).

plotly's own image export (kaleido) drives a Chrome it downloads or finds on the machine; a
campaign laptop may have neither, so printing uses matplotlib's Agg backend, which needs nothing
but the Python package. The charts show the same numbers as the HTML page.
"""

from __future__ import annotations

import math
from pathlib import Path

from dbox.insights import departements
from dbox.insights.charts import OUTCOME_COLOURS, PALETTE, campaign_outcome_parts
from dbox.numbers import format_number, format_percent
from dbox.i18n import _

_DPI = 150


def _plt():
    try:
        import matplotlib
    except ImportError:  # pragma: no cover - depends on the installation
        from dbox.errors import DboxError

        raise DboxError(_("PNG and PDF charts need matplotlib, which is not installed"),
                        hint=_("pip install 'dbox[report]'")) from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.family": "DejaVu Sans", "font.size": 9, "axes.spines.top": False,
                         "axes.spines.right": False})
    return plt


def _colours():
    return OUTCOME_COLOURS, PALETTE


def figures(report) -> list[tuple[str, object]]:
    """(name, matplotlib figure) for each chart the report has."""
    plt = _plt()
    outcome_colours, palette = _colours()
    s = report.stats
    result = []
    for territory in report.territories:
        level = "commune"
        rows = [r for r in report.layers[level] if departements.territory(r["departement"]) == territory]
        fig, ax = plt.subplots(figsize=(8, 8 if territory == "metropole" else 5))
        bg = report.background.get(territory, [])
        if bg:
            ax.scatter([p[0] for p in bg], [p[1] for p in bg], s=1.2, c="#ced4da", linewidths=0)
        if rows:
            top = max(r["contacts"] for r in rows)
            density = [r["per_1000"] or 0 for r in rows]
            points = ax.scatter([r["lon"] for r in rows], [r["lat"] for r in rows],
                                s=[12 + 400 * math.sqrt(r["contacts"] / top) for r in rows], c=density,
                                cmap="plasma", vmin=0, alpha=0.85, edgecolors="#212529", linewidths=0.4)
            fig.colorbar(points, ax=ax, shrink=0.6, label="contacts per 1,000 inhabitants")
            for r in sorted(rows, key=lambda r: -r["contacts"])[:12]:
                ax.annotate(r["name"], (r["lon"], r["lat"]), fontsize=7, xytext=(4, 4), textcoords="offset points")
            mid = sum(r["lat"] for r in rows) / len(rows)
            ax.set_aspect(1 / max(math.cos(math.radians(mid)), 0.2))
        ax.set_axis_off()
        title = "Metropolitan France" if territory == "metropole" else departements.name(territory)
        ax.set_title(f"Contacts by commune — {title}")
        result.append((f"map-{territory}", fig))
    areas = s.get("areas")
    if areas:
        rows = [r for r in areas["rows"] if r["code"] is not None and r["contacts"]][:15]
        if rows:
            fig, ax = plt.subplots(figsize=(9, 4.5))
            xs = range(len(rows))
            ax.bar([x - 0.2 for x in xs], [r["sms_share"] or 0 for r in rows], width=0.4, color=palette[0],
                   label="reachable by SMS")
            ax.bar([x + 0.2 for x in xs], [r["email_share"] or 0 for r in rows], width=0.4, color=palette[1],
                   label="reachable by e-mail")
            ax.set_xticks(list(xs), [r["name"] for r in rows], rotation=35, ha="right")
            ax.set_ylim(0, 100)
            ax.set_ylabel("% of contacts")
            ax.set_title("Share of contacts reachable, where most contacts are")
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
        ax.set_ylabel("new contacts")
        ax2 = ax.twinx()
        ax2.plot(periods, [p["total"] for p in growth["periods"]], color="#212529", marker="o", label="total")
        ax2.set_ylabel("contacts in all")
        ax2.set_ylim(bottom=0)
        ax.set_title(f"New contacts per {growth['period']}, by source")
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
        ax.set_title("Followers per network")
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
                ax.barh(labels, values, left=left, color=colour, label=name)
                left = [a + b for a, b in zip(left, values)]
        ax.invert_yaxis()
        ax.set_xlabel("recipients")
        ax.set_title("What became of each campaign's messages")
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
    fig.text(0.07, 0.95, "Supporters report", fontsize=18, weight="bold")
    who = "everyone in the store" if s["selection"]["everyone"] else s["selection"]["expression"]
    fig.text(0.07, 0.925, f"Contacts: {who}" + (f" · activity since {s['since'][:10]}" if s.get("since") else ""),
             fontsize=9)
    fig.text(0.07, 0.91, f"Made by dbox on {s['generated_at'][:10]} — counts only, no personal data.", fontsize=8,
             color="#6c757d")
    y = 0.87
    summary = s.get("summary")
    if summary:
        lines = [("Contacts", format_number(summary["contacts"])),
                 ("Reachable by SMS", f"{format_number(summary['reachable_sms'])} "
                                      f"({format_percent(summary['reachable_sms_share'])})"),
                 ("Reachable by e-mail", f"{format_number(summary['reachable_email'])} "
                                         f"({format_percent(summary['reachable_email_share'])})"),
                 ("Located in a commune", format_number(summary["located"])),
                 ("Communes / départements", f"{summary['communes']} / {summary['departements']}")]
        if summary.get("new_since") is not None:
            lines.append(("New since " + s["since"][:10], format_number(summary["new_since"])))
        for label, value in lines:
            fig.text(0.07, y, label, fontsize=10)
            fig.text(0.45, y, value, fontsize=10, weight="bold")
            y -= 0.022
    areas = s.get("areas")
    if areas and areas["rows"]:
        y -= 0.02
        fig.text(0.07, y, f"Contacts by {areas['by']}", fontsize=12, weight="bold")
        y -= 0.025
        header = ("", "contacts", "SMS", "e-mail", "per 1,000")
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
            for _unused, fig in figures(report):
                pdf.savefig(fig)
                plt.close(fig)
        tmp.replace(path)
    except BaseException:
        if tmp.exists():
            tmp.unlink()
        raise
    return path
