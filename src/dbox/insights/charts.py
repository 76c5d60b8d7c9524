"""The report's figures, built with plotly from the statistics dictionary (dbox.insights.stats).

Maps are plain x/y scatter plots of longitude and latitude (the x axis shrunk by the cosine of the
latitude, so France keeps its shape): they need no tile server and no map file from the network.
The territory is drawn from the communes' own points, in light grey, behind the areas that hold
contacts; each area is a marker sized by its contacts and coloured by contacts per 1,000
inhabitants, named on hover.
"""

from __future__ import annotations

import math

from dbox.insights import departements
from dbox.i18n import _

# Colours: outcomes of a message, and a qualitative palette for sources and networks.
OUTCOME_COLOURS = {
    "delivered": "#2a9d8f", "sent, not confirmed": "#8ecae6", "failed": "#e63946", "skipped": "#adb5bd",
    "in doubt": "#f4a261", "pending": "#6c757d",
}
PALETTE = ["#1d3557", "#e76f51", "#2a9d8f", "#e9c46a", "#8338ec", "#f72585", "#4cc9f0", "#6a994e", "#bc6c25",
           "#3a0ca3"]
MAP_COLOURSCALE = "Plasma"
_FONT = dict(family="DejaVu Sans, Arial, sans-serif", size=13)
_LEVEL_TITLES = {"commune": "Communes", "canton": "Cantons", "departement": "Départements",
                 "circonscription": "Circonscriptions", "bureau": "Bureaux de vote"}


def _go():
    try:
        import plotly.graph_objects as go
    except ImportError:  # pragma: no cover - depends on the installation
        from dbox.errors import DboxError

        raise DboxError(_("the HTML report needs plotly, which is not installed"),
                        hint=_("pip install 'dbox[report]'")) from None
    return go


def _layout(fig, *, title: str | None = None, height: int = 420, **extra) -> None:
    fig.update_layout(title=dict(text=title, x=0, xanchor="left") if title else None, height=height,
                      font=_FONT, paper_bgcolor="white", plot_bgcolor="white",
                      margin=dict(l=50, r=20, t=50 if title else 20, b=40), **extra)


def _marker_sizes(counts: list[int]) -> list[float]:
    top = max(counts) if counts else 1
    return [6 + 34 * math.sqrt(n / top) if top else 6 for n in counts]


def map_figure(layers: dict[str, list[dict]], background: list[tuple[float, float]], *, territory: str,
               default_level: str = "commune"):
    """A map of one territory ('metropole' or an overseas département): one marker trace per level
    (communes, cantons, départements: buttons switch between them), over the communes in grey."""
    go = _go()
    fig = go.Figure()
    if background:
        fig.add_trace(go.Scatter(
            x=[p[0] for p in background], y=[p[1] for p in background], mode="markers", name="territory",
            marker=dict(size=2, color="#ced4da"), hoverinfo="skip", showlegend=False))
    levels = [lv for lv in ("commune", "canton", "departement", "circonscription") if layers.get(lv)]
    if default_level not in levels and levels:
        default_level = levels[0]
    all_density = [r["per_1000"] for lv in levels for r in layers[lv] if r["per_1000"] is not None]
    cmax = max(all_density) if all_density else 1.0
    lats: list[float] = []
    for level in levels:
        rows = sorted(layers[level], key=lambda r: r["contacts"])   # big markers under small ones? no: on top
        lats += [r["lat"] for r in rows]
        custom = [[r["name"], departements.name(r["departement"]) or "", r["contacts"],
                   "–" if r["per_1000"] is None else f"{r['per_1000']:.2f}",
                   "–" if r["sms_share"] is None else f"{r['sms_share']:.1f} %",
                   "–" if r["population"] is None else f"{r['population']:,}".replace(",", " ")] for r in rows]
        fig.add_trace(go.Scatter(
            x=[r["lon"] for r in rows], y=[r["lat"] for r in rows], mode="markers",
            name=_LEVEL_TITLES[level], visible=(level == default_level), customdata=custom,
            marker=dict(size=_marker_sizes([r["contacts"] for r in rows]),
                        color=[r["per_1000"] if r["per_1000"] is not None else 0 for r in rows],
                        colorscale=MAP_COLOURSCALE, cmin=0, cmax=cmax, line=dict(width=0.6, color="#212529"),
                        opacity=0.85, showscale=True,
                        colorbar=dict(title=dict(text="per 1,000<br>inhabitants"), thickness=12)),
            hovertemplate=("<b>%{customdata[0]}</b> (%{customdata[1]})<br>%{customdata[2]} contacts"
                           "<br>%{customdata[3]} per 1,000 inhabitants (population %{customdata[5]})"
                           "<br>reachable by SMS: %{customdata[4]}<extra></extra>")))
    mid_lat = (sum(lats) / len(lats)) if lats else 46.5
    fig.update_xaxes(visible=False, showgrid=False, zeroline=False)
    fig.update_yaxes(visible=False, showgrid=False, zeroline=False, scaleanchor="x",
                     scaleratio=1 / max(math.cos(math.radians(mid_lat)), 0.2))
    if len(levels) > 1:
        offset = 1 if background else 0
        buttons = []
        for level in levels:
            visible = [True] * offset + [lv == level for lv in levels]
            buttons.append(dict(label=_LEVEL_TITLES[level], method="restyle", args=[{"visible": visible}]))
        fig.update_layout(updatemenus=[dict(type="buttons", direction="right", x=0, y=1.08, xanchor="left",
                                            yanchor="bottom", buttons=buttons,
                                            active=levels.index(default_level), showactive=True)])
    title = "Metropolitan France" if territory == "metropole" else departements.name(territory)
    _layout(fig, title=None, height=640 if territory == "metropole" else 360, showlegend=False)
    fig.update_layout(margin=dict(l=10, r=10, t=60, b=10),
                      annotations=[dict(text=title, x=1, y=1.08, xref="paper", yref="paper", showarrow=False,
                                        xanchor="right", yanchor="bottom", font=dict(size=13, color="#495057"))])
    return fig


def growth_figure(growth: dict):
    """New contacts per period, stacked by source, and the running total (right axis)."""
    go = _go()
    periods = [p["period"] for p in growth["periods"]]
    fig = go.Figure()
    for i, source in enumerate(s["source"] for s in growth["sources"]):
        fig.add_trace(go.Bar(x=periods, y=[p["sources"].get(source, 0) for p in growth["periods"]], name=source,
                             marker_color=PALETTE[i % len(PALETTE)],
                             hovertemplate="%{x}: %{y} new (" + source.replace("%", "%%") + ")<extra></extra>"))
    fig.add_trace(go.Scatter(x=periods, y=[p["total"] for p in growth["periods"]], name="total", yaxis="y2",
                             mode="lines+markers", line=dict(color="#212529", width=2),
                             hovertemplate="%{x}: %{y} contacts in all<extra></extra>"))
    unit = "week (from Monday)" if growth["period"] == "week" else "month"
    _layout(fig, title=f"New contacts per {unit}, by source", barmode="stack",
            yaxis=dict(title="new contacts", rangemode="tozero"),
            yaxis2=dict(title="contacts in all", overlaying="y", side="right", rangemode="tozero", showgrid=False),
            legend=dict(orientation="h", y=-0.2))
    fig.update_xaxes(type="category")
    return fig


def followers_figure(followers: dict):
    go = _go()
    fig = go.Figure()
    keys: list[tuple[str, str]] = []
    for item in followers["series"]:
        key = (item["network"], item["relation"])
        if key not in keys:
            keys.append(key)
    for i, (network, relation) in enumerate(keys):
        items = [s for s in followers["series"] if (s["network"], s["relation"]) == (network, relation)]
        label = f"{network} ({relation}s)"
        fig.add_trace(go.Scatter(x=[s["period"] for s in items], y=[s["total"] for s in items], name=label,
                                 mode="lines+markers", line=dict(color=PALETTE[i % len(PALETTE)], width=2),
                                 hovertemplate="%{x}: %{y} " + label.replace("%", "%%") + "<extra></extra>"))
    _layout(fig, title="Followers per network (last count of each period)",
            yaxis=dict(title="followers", rangemode="tozero"), legend=dict(orientation="h", y=-0.2))
    fig.update_xaxes(type="category")
    return fig


def campaign_outcome_parts(c: dict) -> dict[str, int]:
    """Each recipient once: delivered, sent (no delivery report yet), failed (refused or undelivered),
    skipped, in doubt, pending."""
    return {"delivered": c["delivered"], "sent, not confirmed": c["sent"] - c["delivered"] - c["undelivered"],
            "failed": c["failed"], "skipped": c["skipped"], "in doubt": c["in_doubt"], "pending": c["pending"]}


def campaigns_figure(campaigns: list[dict]):
    """One horizontal bar per campaign: what became of each recipient."""
    go = _go()
    labels = [f"#{c['id']} {c['channel']} {c['created_at'][:10]}" for c in campaigns]
    fig = go.Figure()
    parts = [campaign_outcome_parts(c) for c in campaigns]
    for name, colour in OUTCOME_COLOURS.items():
        values = [p[name] for p in parts]
        if not any(values):
            continue
        fig.add_trace(go.Bar(y=labels, x=values, name=name, orientation="h", marker_color=colour,
                             hovertemplate="%{y}: %{x} " + name + "<extra></extra>"))
    _layout(fig, title="What became of each campaign's messages", barmode="stack",
            height=max(260, 60 + 34 * len(campaigns)), xaxis=dict(title="recipients"),
            legend=dict(orientation="h", y=-0.25))
    fig.update_yaxes(autorange="reversed", type="category")
    return fig


def reach_figure(rows: list[dict], level: str, top: int = 15):
    """Reachable by SMS and by e-mail, as shares of the contacts, in the areas with most contacts."""
    go = _go()
    rows = [r for r in rows if r["code"] is not None and r["contacts"]][:top]
    names = [r["name"] for r in rows]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=names, y=[r["sms_share"] for r in rows], name="reachable by SMS",
                         marker_color=PALETTE[0], hovertemplate="%{x}: %{y:.1f} % by SMS<extra></extra>"))
    fig.add_trace(go.Bar(x=names, y=[r["email_share"] for r in rows], name="reachable by e-mail",
                         marker_color=PALETTE[1], hovertemplate="%{x}: %{y:.1f} % by e-mail<extra></extra>"))
    _layout(fig, title=f"Share of contacts reachable, in the {len(rows)} {_LEVEL_TITLES[level].lower()} "
                       f"with most contacts", barmode="group",
            yaxis=dict(title="% of contacts", range=[0, 100]), legend=dict(orientation="h", y=-0.35))
    fig.update_xaxes(type="category", tickangle=-35)
    return fig
