"""The statistics dictionary as flat tables: for the terminal (Rich) and for CSV."""

from __future__ import annotations

from dataclasses import dataclass
from dbox.i18n import N_, _

BUREAU_COLUMNS = ("code", "name", "contacts", "sms", "sms_share", "email", "email_share", "registered", "population",
                  "per_100_inscrits", "turnout")
AREA_COLUMNS = ("code", "name", "departement", "contacts", "sms", "sms_share", "email", "email_share", "population",
                "per_1000", "complete")
CAMPAIGN_COLUMNS = ("id", "channel", "status", "created_at", "audience", "recipients", "sent", "delivered", "failed",
                    "skipped", "in_doubt", "pending", "opted_out", "segments", "cost", "currency")
ACTION_COLUMNS = ("id", "starts_at", "type", "title", "commune", "invited", "yes", "maybe", "no", "came", "volunteers",
                  "doors_or_calls", "reached", "supporters", "gained")
_SUMMARY_LABELS = (
    ("contacts", N_("contacts")), ("reachable_sms", N_("reachable by SMS")),
    ("reachable_sms_share", N_("reachable by SMS (%)")),
    ("reachable_email", N_("reachable by e-mail")), ("reachable_email_share", N_("reachable by e-mail (%)")),
    ("with_mobile", N_("with a mobile")), ("with_email", N_("with an e-mail")), ("located", N_("located in a commune")),
    ("located_share", N_("located (%)")), ("communes", N_("communes")), ("departements", N_("départements")),
    ("new_since", N_("new since")),
)
# The column headers of the terminal tables, translated where they are drawn (commands/insights.py);
# CSV keeps the English keys.
COLUMN_LABELS = (
    N_("measure"), N_("value"), N_("bureau"), N_("label"), N_("contacts"), N_("registered"), N_("inscrits"),
    N_("per 100 inscrits"), N_("turnout"), N_("population"), N_("per 1,000"), N_("departement"), N_("canton"),
    N_("commune"), N_("circo"), N_("period"), N_("week"), N_("month"), N_("new"), N_("total"), N_("sources"),
    N_("network"), N_("linked"), N_("published"), N_("not published"), N_("campaign"), N_("status"), N_("sent"),
    N_("delivered"), N_("failed"), N_("skipped"), N_("opted out"), N_("cost"), N_("action"), N_("type"),
    N_("invited"), N_("yes"), N_("came"), N_("volunteers"), N_("doors/calls"), N_("reached"), N_("support 4-5"),
    N_("gained"),
)


@dataclass
class Table:
    name: str            # the section
    title: str
    columns: tuple[str, ...]
    rows: list[tuple]
    more: int = 0        # rows left out of a terminal view


def section_tables(result: dict, section: str, *, csv: bool = False) -> list[Table]:
    """The table(s) of one section; ``csv`` gives the long form (one value a cell)."""
    if section == "summary" and "summary" in result:
        s = result["summary"]
        rows = [(_(label), s.get(key)) for key, label in _SUMMARY_LABELS
                if not (key == "new_since" and s.get(key) is None)]
        rows += [(_("geography: {status}").format(status=k), v) for k, v in sorted(s.get("geo_status", {}).items())]
        if csv:
            rows = [(key, s.get(key)) for key, _unused in _SUMMARY_LABELS] + \
                   [(f"geo_status.{k}", v) for k, v in sorted(s.get("geo_status", {}).items())]
        title = _("Contacts") if result["selection"]["everyone"] else \
            _("Contacts: {expression}").format(expression=result["selection"]["expression"])
        return [Table("summary", title, ("measure", "value"), rows)]
    if section == "areas" and "areas" in result:
        a = result["areas"]
        if a["by"] == "bureau":
            rows = [tuple(r[c] for c in BUREAU_COLUMNS) for r in a["rows"]]
            return [Table("areas", _("By bureau de vote"), BUREAU_COLUMNS, rows)]
        rows = [tuple(r[c] for c in AREA_COLUMNS) for r in a["rows"]]
        return [Table("areas", _("By {area}").format(area=_(a["by"])), AREA_COLUMNS, rows)]
    if section == "growth" and "growth" in result:
        g = result["growth"]
        if csv:
            rows = [(p["period"], source, n) for p in g["periods"] for source, n in sorted(p["sources"].items())]
            return [Table("growth", _("New contacts"), ("period", "source", "new"), rows)]
        rows = [(p["period"], p["new"], p["total"],
                 ", ".join(f"{k} {v}" for k, v in sorted(p["sources"].items(), key=lambda kv: -kv[1])))
                for p in g["periods"]]
        title = _("New contacts per week (Monday)") if g["period"] == "week" else _("New contacts per month")
        return [Table("growth", title, (g["period"], "new", "total", "sources"), rows)]
    if section == "followers" and "followers" in result:
        f = result["followers"]
        tables = [Table("followers", _("Followers (last count of each period)"),
                        ("network", "relation", "period", "total", "new", "linked"),
                        [(x["network"], x["relation"], x["period"], x["total"], x["new"], x["linked"])
                         for x in f["series"]])]
        if f["posts"] and not csv:
            tables.append(Table("posts", _("Posts"), ("network", "published", "not_published"),
                                [(p["network"], p["published"], p["not_published"]) for p in f["posts"]]))
        return tables
    if section == "campaigns" and "campaigns" in result:
        return [Table("campaigns", _("Campaigns"), CAMPAIGN_COLUMNS,
                      [tuple(c[k] for k in CAMPAIGN_COLUMNS) for c in result["campaigns"]])]
    if section == "actions" and "actions" in result:
        return [Table("actions", _("Actions"), ACTION_COLUMNS,
                      [tuple(a[k] for k in ACTION_COLUMNS) for a in result["actions"]["actions"]])]
    return []


def _pct(value) -> str:
    return "–" if value is None else f"{value:.1f} %"


def _int(value) -> str:
    return "–" if value is None else f"{int(value):,}".replace(",", "\u00a0")


def _ratio(value) -> str:
    return "–" if value is None else f"{value:.2f}"


def terminal_tables(result: dict, section: str, limit: int) -> tuple[list[Table], list[str]]:
    """Narrow tables for a terminal (formatted text), and lines to print when a section is empty."""
    if section == "summary":
        return section_tables(result, "summary"), []
    if section == "areas" and "areas" in result and result["areas"]["by"] == "bureau":
        a = result["areas"]
        rows, more = (a["rows"][:limit], max(0, len(a["rows"]) - limit)) if limit else (a["rows"], 0)
        body = [(r["code"] or r["name"], r["name"] if r["code"] else "", _int(r["contacts"]), _pct(r["sms_share"]),
                 _pct(r["email_share"]), _int(r["registered"]), _int(r["population"]),
                 _ratio(r["per_100_inscrits"]), "" if r["turnout"] is None else f"{r['turnout']} %") for r in rows]
        turnout = _("turnout {election}").format(election=a["election"]) if a.get("election") else "turnout"
        notes = [] if a.get("election") else [_("inscrits: voters on the roll (no results loaded for turnout)")]
        return [Table("areas", _("Contacts by bureau de vote"), ("bureau", "label", "contacts", "SMS", "e-mail",
                                                              "registered", "inscrits", "per 100 inscrits", turnout),
                      body, more)], notes
    if section == "areas" and "areas" in result:
        a = result["areas"]
        rows = a["rows"]
        more = 0
        if limit and len(rows) > limit:
            more, rows = len(rows) - limit, rows[:limit]
        body = []
        for r in rows:
            name = r["name"] if r["code"] in (None, r["name"]) or a["by"] == "departement" else f"{r['name']} {r['code']}"
            if a["by"] == "departement" and r["code"]:
                name = f"{r['code']} {r['name']}"
            if r["complete"] is False:
                name += " *"
            body.append((name, _int(r["contacts"]), _pct(r["sms_share"]), _pct(r["email_share"]),
                         _int(r["population"]), _ratio(r["per_1000"])))
        notes = []
        if any(r["complete"] is False for r in rows):
            notes.append(_("*: the area shares communes with another one; their contacts are on the split row"))
        return [Table("areas", _("Contacts by {area}").format(area=_(a["by"])), (a["by"], "contacts", "SMS", "e-mail", "population",
                                                          "per 1,000"), body, more)], notes
    if section == "growth" and "growth" in result:
        g = result["growth"]
        if not g["periods"]:
            return [], [_("Growth: no new contact in this period.")]
        return section_tables(result, "growth"), []
    if section == "followers" and "followers" in result:
        f = result["followers"]
        if not f["series"] and not f["posts"]:
            return [], [_("Followers: no follower count yet (dbox followers import, or a network's sync).")]
        tables = []
        if f["series"]:
            tables.append(Table("followers", _("Followers (last count of each period)"),
                                ("network", "period", "total", "new", "linked"),
                                [(f"{x['network']} {x['relation']}s", x["period"], _int(x["total"]), _int(x["new"]),
                                  _int(x["linked"])) for x in f["series"]]))
        if f["posts"]:
            tables.append(Table("posts", _("Posts"), ("network", "published", "not published"),
                                [(p["network"], _int(p["published"]), _int(p["not_published"])) for p in f["posts"]]))
        return tables, []
    if section == "campaigns" and "campaigns" in result:
        cs = result["campaigns"]
        if not cs:
            return [], [_("Campaigns: none in this period.")]
        rows = [(f"#{c['id']} {c['channel']} {c['created_at'][:10]}", c["status"], _int(c["sent"]),
                 _int(c["delivered"]), _int(c["failed"]), _int(c["skipped"]), _int(c["opted_out"]),
                 "–" if c["cost"] is None else f"{c['cost']:.2f}") for c in cs]
        return [Table("campaigns", _("Campaigns"), ("campaign", "status", "sent", "delivered", "failed", "skipped",
                                                 "opted out", "cost"), rows)], []
    if section == "actions" and "actions" in result:
        acts, v = result["actions"]["actions"], result["actions"]["volunteers"]
        lines = [_("Volunteers active: {active} (doors {doors}, calls {calls}, contacts gained {gained}); "
                   "by name: dbox action stats --since ...").format(**v)] if v["active"] else []
        if not acts:
            return [], [_("Actions: none in this period.")] + lines
        rows = [(f"#{a['id']} {a['starts_at'][:10]} {a['title']}", a["type"], _int(a["invited"]), _int(a["yes"]),
                 _int(a["came"]), _int(a["volunteers"]), _int(a["doors_or_calls"]), _int(a["reached"]),
                 _int(a["supporters"]), _int(a["gained"])) for a in acts]
        return [Table("actions", _("Actions"), ("action", "type", "invited", "yes", "came", "volunteers",
                                             "doors/calls", "reached", "support 4-5", "gained"), rows)], lines
    return [], []
