"""The report's figures, built with plotly from the statistics dictionary (dbox.insights.stats).

Maps are x/y plots of longitude and latitude (the y axis stretched by 1 / cos(latitude), so
France keeps its shape): they need no tile server and no map file from the network. Each area
(commune, canton, département) is its simplified polygon (dbox.insights.shapes) filled by the
colour class of its contacts per 1,000 inhabitants (quantiles, dbox.insights.maps); the areas
around the selection are grey, the départements' boundaries drawn over them; a point in each area
carries its name and numbers on hover.
"""

from __future__ import annotations

from dbox import i18n
from dbox.i18n import N_, _
from dbox.insights import departements, maps, shapes
from dbox.numbers import format_money, format_number, format_percent
from dbox.errors import DboxError

# Colours: outcomes of a message, and a qualitative palette for sources and networks.
# (the keys are English words marked for the catalog: shown as _(key))
OUTCOME_COLOURS = {
    N_("delivered"): "#2a9d8f", N_("sent, not confirmed"): "#8ecae6", N_("failed"): "#e63946",
    N_("skipped"): "#adb5bd", N_("in doubt"): "#f4a261", N_("pending"): "#6c757d",
}
PALETTE = ["#1d3557", "#e76f51", "#2a9d8f", "#e9c46a", "#8338ec", "#f72585", "#4cc9f0", "#6a994e", "#bc6c25",
           "#3a0ca3"]
_FONT = dict(family="DejaVu Sans, Arial, sans-serif", size=13)
_LEVEL_TITLES = {"commune": N_("Communes"), "canton": N_("Cantons"), "departement": N_("Départements"),
                 "circonscription": N_("Circonscriptions"), "bureau": N_("Bureaux de vote")}


def _french() -> bool:
    return i18n.current_language() == "fr"


def number(value) -> str:
    """A count or a ratio as the report shows it: '12 345', '0.42'; '0,42' in French."""
    text = format_number(value)
    return text.replace(".", ",") if _french() else text


def percent(value) -> str:
    text = format_percent(value)
    return text.replace(".", ",") if _french() else text


def money(value, currency=None) -> str:
    """'0.20 EUR'; in French '0,20 €'."""
    if _french() and value is not None and currency in ("EUR", None):
        return i18n.format_euros(value) if currency else format_money(value).replace(".", ",")
    return format_money(value, currency)


def _go():
    try:
        import plotly.graph_objects as go
    except ImportError:  # pragma: no cover - depends on the installation
        raise DboxError(_("the HTML report needs plotly, which is not installed"),
                        hint="pip install 'dbox[report]'") from None
    return go


def _layout(fig, *, title: str | None = None, height: int = 420, **extra) -> None:
    fig.update_layout(title=dict(text=title, x=0, xanchor="left") if title else None, height=height,
                      font=_FONT, paper_bgcolor="white", plot_bgcolor="white",
                      margin=dict(l=50, r=20, t=50 if title else 20, b=40), **extra)


def _polygon_xy(level: str, codes: list[str]) -> tuple[list, list]:
    """The outer rings of these areas as one x/y list, rings separated by None (plotly fills each)."""
    xs: list = []
    ys: list = []
    for code in codes:
        for polygon in shapes.polygons(level, code):
            x, y = polygon[0]
            xs += [*x, None]
            ys += [*y, None]
    return xs, ys


def class_label(c: maps.ColourClass) -> str:
    return number(c.low) if c.low == c.high else f"{number(c.low)} – {number(c.high)}"


def _level_traces(go, layer: maps.MapLayer, visible: bool, px_per_degree: float) -> tuple[list, list[dict]]:
    """The traces of one level (the areas around in grey, one filled trace per colour class, the
    départements' boundaries, the points that carry the names on hover) and its labels: the names
    of the areas with most contacts that fit without overlapping, as annotations."""
    traces = []
    title = _(_LEVEL_TITLES[layer.level])
    x, y = _polygon_xy("departement", layer.neighbours)
    traces.append(go.Scatter(x=x or [None], y=y or [None], mode="lines", fill="toself",
                             fillcolor=maps.NEIGHBOUR_FILL, line=dict(color=maps.NEIGHBOUR_LINE, width=0.8),
                             hoverinfo="skip", name=f"{title}: départements around", showlegend=False, visible=visible))
    # the départements first, in grey: the communes split between cantons, which no canton's
    # polygon covers, are grey too instead of holes
    base_x, base_y = _polygon_xy("departement", layer.outlines)
    x, y = _polygon_xy(layer.level, layer.context)
    x, y = base_x + x, base_y + y
    traces.append(go.Scatter(x=x or [None], y=y or [None], mode="lines", fill="toself", fillcolor=maps.EMPTY_FILL,
                             line=dict(color=maps.EMPTY_LINE, width=0.6), hoverinfo="skip", name=f"{title}: around",
                             showlegend=False, visible=visible))
    groups = [(i, c.colour, class_label(c)) for i, c in enumerate(layer.classes)]
    if any(i is None for i in layer.class_of):
        groups.append((None, maps.NO_POPULATION, _("no population known")))
    for index, colour, label in groups:
        codes = [r["code"] for r, i, s in zip(layer.rows, layer.class_of, layer.shaped) if i == index and s]
        x, y = _polygon_xy(layer.level, codes)
        traces.append(go.Scatter(x=x or [None], y=y or [None], mode="lines", fill="toself", fillcolor=colour,
                                 line=dict(color="#ffffff", width=0.7), hoverinfo="skip", name=label,
                                 legendgroup=layer.level, showlegend=True, visible=visible))
    x, y = _polygon_xy("departement", layer.outlines)
    traces.append(go.Scatter(x=x or [None], y=y or [None], mode="lines", line=dict(color=maps.OUTLINE, width=1.1),
                             hoverinfo="skip", name="départements", showlegend=False, visible=visible))
    rows = layer.rows
    custom = [[r["name"], departements.name(r["departement"]) or "", r["contacts"], number(r["per_1000"]),
               percent(r["sms_share"]), number(r["population"])] for r in rows]
    colours = [maps.NO_POPULATION if i is None else layer.classes[i].colour for i in layer.class_of]
    traces.append(go.Scatter(
        x=[r["lon"] for r in rows], y=[r["lat"] for r in rows], mode="markers", name=title, customdata=custom,
        visible=visible, showlegend=False,
        # an area with a shape is already filled: its point only carries the hover; an area without
        # one (a canton made of fractions of communes) is a round marker in its class's colour
        marker=dict(size=[9 if s else 13 for s in layer.shaped], color=colours,
                    opacity=[0.01 if s else 1 for s in layer.shaped], line=dict(width=1, color="#212529")),
        hovertemplate="<br>".join([
            "<b>%{customdata[0]}</b> (%{customdata[1]})",
            _("{n} contacts").format(n="%{customdata[2]}"),
            _("{n} per 1,000 inhabitants (population {population})").format(n="%{customdata[3]}",
                                                                            population="%{customdata[5]}"),
            _("reachable by SMS: {share}").format(share="%{customdata[4]}")]) + "<extra></extra>"))
    aspect = maps.aspect(layer.extent)

    def size(text: str) -> tuple[float, float]:
        return 7.2 * len(text) / px_per_degree, 16 / (px_per_degree * aspect)

    placed = maps.place_labels([(r["name"], r["lon"], r["lat"]) for r in rows if r.get("lon") is not None], size)
    labels = [dict(text=text, x=x, y=y, xref="x", yref="y", showarrow=False, font=dict(size=12, color="#212529"),
                   bgcolor="rgba(255,255,255,0.8)", borderpad=1) for text, x, y in placed]
    return traces, labels


def map_figure(layers: dict[str, maps.MapLayer], *, territory: str, default_level: str = "commune"):
    """A map of one territory ('metropole' or an overseas département): the areas of each level
    filled by colour class (buttons switch levels; ``default_level`` first), zoomed on the areas
    holding contacts, named on hover and, where they fit, on the map."""
    go = _go()
    levels = [lv for lv in ("commune", "canton", "departement") if layers.get(lv) and layers[lv].rows]
    if default_level not in levels and levels:
        default_level = levels[0]
    width, height = 1100, (640 if territory == "metropole" else 420)

    def px_per_degree(extent) -> float:
        return min(width / (extent[2] - extent[0]), height / ((extent[3] - extent[1]) * maps.aspect(extent)))

    extent = layers[default_level].extent if levels else (-5.2, 41.3, 9.6, 51.1)
    aspect = maps.aspect(extent)
    fig = go.Figure()
    groups: list[tuple[str, int]] = []
    labels: dict[str, list[dict]] = {}
    for level in levels:
        traces, labels[level] = _level_traces(go, layers[level], level == default_level,
                                              px_per_degree(layers[level].extent))
        groups.append((level, len(traces)))
        fig.add_traces(traces)
    fig.update_xaxes(visible=False, showgrid=False, zeroline=False, range=[extent[0], extent[2]])
    fig.update_yaxes(visible=False, showgrid=False, zeroline=False, range=[extent[1], extent[3]],
                     scaleanchor="x", scaleratio=aspect)
    annotations = []
    if territory != "metropole":
        annotations.append(dict(text=departements.name(territory), x=1, y=1.02, xref="paper", yref="paper",
                                showarrow=False, xanchor="right", yanchor="bottom", font=dict(size=13, color="#495057")))
    menus = []
    if len(levels) > 1:
        buttons = []
        for level, _count in groups:
            visible = [lv == level for lv, n in groups for _ in range(n)]
            buttons.append(dict(label=_(_LEVEL_TITLES[level]), method="update",
                                args=[{"visible": visible}, {
                                    "annotations": annotations + labels[level],
                                    "xaxis.range": [layers[level].extent[0], layers[level].extent[2]],
                                    "yaxis.range": [layers[level].extent[1], layers[level].extent[3]]}]))
        menus = [dict(type="buttons", direction="right", x=0, y=1.02, xanchor="left", yanchor="bottom",
                      buttons=buttons, active=levels.index(default_level), showactive=True)]
    _layout(fig, title=None, height=height, showlegend=True)
    fig.update_layout(margin=dict(l=10, r=10, t=50, b=10), updatemenus=menus,
                      annotations=annotations + labels.get(default_level, []),
                      legend=dict(title=dict(text=_("contacts per 1,000 inhabitants")), x=1, xanchor="right", y=0,
                                  yanchor="bottom", bgcolor="rgba(255,255,255,0.85)", bordercolor="#dee2e6",
                                  borderwidth=1, itemclick=False, itemdoubleclick=False))
    return fig


def growth_figure(growth: dict):
    """New contacts per period, stacked by source, and the running total (right axis)."""
    go = _go()
    periods = [p["period"] for p in growth["periods"]]
    fig = go.Figure()
    for i, source in enumerate(s["source"] for s in growth["sources"]):
        fig.add_trace(go.Bar(x=periods, y=[p["sources"].get(source, 0) for p in growth["periods"]], name=source,
                             marker_color=PALETTE[i % len(PALETTE)],
                             hovertemplate="%{x}: " + _("{n} new ({source})").format(
                                 n="%{y}", source=source.replace("%", "%%")) + "<extra></extra>"))
    fig.add_trace(go.Scatter(x=periods, y=[p["total"] for p in growth["periods"]], name=_("total"), yaxis="y2",
                             mode="lines+markers", line=dict(color="#212529", width=2),
                             hovertemplate="%{x}: " + _("{n} contacts in all").format(n="%{y}") + "<extra></extra>"))
    title = (_("New contacts per week (from Monday), by source") if growth["period"] == "week"
             else _("New contacts per month, by source"))
    _layout(fig, title=title, barmode="stack",
            yaxis=dict(title=_("new contacts"), rangemode="tozero"),
            yaxis2=dict(title=_("contacts in all"), overlaying="y", side="right", rangemode="tozero", showgrid=False),
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
        label = _("{network} ({relation}s)").format(network=network, relation=relation)
        fig.add_trace(go.Scatter(x=[s["period"] for s in items], y=[s["total"] for s in items], name=label,
                                 mode="lines+markers", line=dict(color=PALETTE[i % len(PALETTE)], width=2),
                                 hovertemplate="%{x}: %{y} " + label.replace("%", "%%") + "<extra></extra>"))
    _layout(fig, title=_("Followers per network (last count of each period)"),
            yaxis=dict(title=_("followers"), rangemode="tozero"), legend=dict(orientation="h", y=-0.2))
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
        fig.add_trace(go.Bar(y=labels, x=values, name=_(name), orientation="h", marker_color=colour,
                             hovertemplate="%{y}: %{x} " + _(name) + "<extra></extra>"))
    _layout(fig, title=_("What became of each campaign's messages"), barmode="stack",
            height=max(260, 60 + 34 * len(campaigns)), xaxis=dict(title=_("recipients")),
            legend=dict(orientation="h", y=-0.25))
    fig.update_yaxes(autorange="reversed", type="category")
    return fig


def reach_figure(rows: list[dict], level: str, top: int = 15):
    """Reachable by SMS and by e-mail, as shares of the contacts, in the areas with most contacts."""
    go = _go()
    rows = [r for r in rows if r["code"] is not None and r["contacts"]][:top]
    names = [r["name"] for r in rows]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=names, y=[r["sms_share"] for r in rows], name=_("reachable by SMS"),
                         marker_color=PALETTE[0], hovertemplate="%{x}: " + _("{share} by SMS").format(
                             share="%{y:.1f} %") + "<extra></extra>"))
    fig.add_trace(go.Bar(x=names, y=[r["email_share"] for r in rows], name=_("reachable by e-mail"),
                         marker_color=PALETTE[1], hovertemplate="%{x}: " + _("{share} by e-mail").format(
                             share="%{y:.1f} %") + "<extra></extra>"))
    _layout(fig, title=_("Share of contacts reachable, in the {n} areas with most contacts ({level})").format(
                n=len(rows), level=_(_LEVEL_TITLES[level]).lower()), barmode="group",
            yaxis=dict(title=_("% of contacts"), range=[0, 100]), legend=dict(orientation="h", y=-0.35))
    fig.update_xaxes(type="category", tickangle=-35)
    return fig
