"""The numbers behind ``dbox stats`` and ``dbox report``: one JSON-ready dictionary.

:func:`compute` reads everything through ``dbox.store.insights`` (aggregated in SQL) and returns::

    {"generated_at", "selection": {"expression", "everyone"}, "since", "period",
     "summary": {...}, "areas": {"by", "rows": [...]}, "growth": {...}, "followers": {...},
     "campaigns": [...], "notes": [...]}

The report embeds exactly this dictionary, so what a page shows is what ``dbox stats --format
json`` prints. The rules (what "reachable" means, how populations and shares are counted) are in
docs/insights.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from dbox.errors import InputError
from dbox.insights import departements
from dbox.store import electoral as se, insights as sql
from dbox.store.db import Store
from dbox.config import section
from dbox.segments import select
from dbox.stats_sections import StatsQuery, stats_sections
from dbox.i18n import _
from dbox.channels.plugins import channels

# The sections insights computes itself, with their positions; other areas add theirs through the
# register_stats_sections hook (the social area's followers at 40, organizing's actions at 60).
OWN_SECTIONS = {"summary": 10, "areas": 20, "growth": 30, "campaigns": 50}


def sections() -> tuple[str, ...]:
    """Every section name, in order: insights' own and the registered ones."""
    positions = dict(OWN_SECTIONS)
    positions.update({s.name: s.position for s in stats_sections()})
    return tuple(sorted(positions, key=positions.get))
LEVELS = {"departement": "departement", "dep": "departement", "canton": "canton", "commune": "commune",
          "circo": "circonscription", "circonscription": "circonscription", "bureau": "bureau", "bv": "bureau"}
PERIODS = ("week", "month")
_LEVEL_WORDS = {"departement": ("département", "départements"), "canton": ("canton", "cantons"),
                "commune": ("commune", "communes"), "circonscription": ("circonscription", "circonscriptions"),
                "bureau": ("bureau de vote", "bureaux de vote")}
_RELATIVE = re.compile(r"(\d{1,4})\s*(d|day|days|w|week|weeks|m|month|months|y|year|years)", re.I)


@dataclass
class Options:
    by: str = "departement"
    period: str | None = None            # week | month | None: chosen from the time span
    since: str | None = None             # as typed: 2026-09-01, 90d, 12w, 6m
    sections: tuple[str, ...] | None = None   # None: every section
    include_empty: bool = False          # areas of the départements reached that hold no contact
    now: datetime | None = None
    extra: dict = field(default_factory=dict)


def check_level(text: str) -> str:
    level = LEVELS.get((text or "").strip().lower().replace("é", "e"))
    if level is None:
        raise InputError(_("--by {text!r}: choose departement, canton, commune or circo, or bureau (bureaux de vote)").format(
                             text=text))
    return level


def check_period(text: str | None) -> str | None:
    if text is None or text == "auto":
        return None
    if text not in PERIODS:
        raise InputError(_("--period {text!r}: choose week, month or auto").format(text=text))
    return text


def check_sections(texts) -> tuple[str, ...]:
    known = sections()
    if not texts:
        return known
    wanted: list[str] = []
    for text in texts:
        for part in str(text).split(","):
            part = part.strip().lower()
            if not part:
                continue
            if part not in known:
                raise InputError(_("--section {part!r}: choose among {items}").format(
                                     part=part, items=', '.join(known)))
            if part not in wanted:
                wanted.append(part)
    return tuple(wanted) or known


def parse_since(text: str | None, now: datetime) -> str | None:
    """``2026-09-01``, ``2026-09-01T08:00:00Z`` or a span back from now (``90d``, ``12w``, ``6m``,
    ``1y``) -> an ISO UTC timestamp (the start of that day)."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    m = _RELATIVE.fullmatch(text)
    if m:
        n, unit = int(m.group(1)), m.group(2)[0].lower()
        day = now.date()
        if unit == "d":
            day -= timedelta(days=n)
        elif unit == "w":
            day -= timedelta(weeks=n)
        else:
            months = n * (12 if unit == "y" else 1)
            y, mo = divmod(day.year * 12 + day.month - 1 - months, 12)
            day = date(y, mo + 1, min(day.day, 28))
        return f"{day.isoformat()}T00:00:00Z"
    try:
        if "T" in text or " " in text:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=timezone.utc)
            return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"{date.fromisoformat(text).isoformat()}T00:00:00Z"
    except ValueError:
        raise InputError(_("--since {text!r}: give a date (2026-09-01) or a span back from today (90d, 12w, 6m, 1y)").format(
                             text=text)) from None


def share(part: int | None, whole: int | None) -> float | None:
    """A percentage with one decimal, None when there is nothing to divide."""
    if not whole or part is None:
        return None
    return round(100.0 * part / whole, 1)


def per_1000(contacts: int, population: int | None) -> float | None:
    if not population:
        return None
    return round(1000.0 * contacts / population, 2)


def reach_of(store: Store, selection=None) -> sql.Reach:
    """The filter language's ``reachable:sms`` and ``reachable:email``, as SQL over ``c``; with a
    selection, evaluated once for its contacts (see ``dbox.store.insights.materialize_reach``)."""
    sms = select(store, "reachable:sms")
    email = select(store, "reachable:email")
    reach = sql.Reach(sms.where, list(sms.params), email.where, list(email.params))
    if selection is None:
        return reach
    return sql.materialize_reach(store, selection.where, list(selection.params), reach)


def compute(store: Store, selection, options: Options | None = None, *, reach: sql.Reach | None = None) -> dict:
    """Every section asked for, over the contacts of ``selection`` (a dbox.segments.Selection)."""
    options = options or Options()
    wanted = options.sections or sections()
    now = options.now or datetime.now(timezone.utc)
    since = parse_since(options.since, now)
    where, params = selection.where, list(selection.params)
    everyone = selection.is_everyone
    result: dict = {
        "generated_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "selection": {"expression": selection.expression or "", "everyone": everyone},
        "since": since,
        "notes": [],
    }
    if reach is None and {"summary", "areas"} & set(wanted):
        reach = reach_of(store, selection)
    period = options.period or auto_period(store, where, params, since, now)
    result["period"] = period
    query = StatsQuery(store, where, params, since, period, selection_given=not everyone)
    contributed = {section.name: section for section in stats_sections()}
    for name in sections():
        if name not in wanted:
            continue
        if name == "summary":
            result["summary"] = summary(store, where, params, reach, since)
        elif name == "areas":
            result["areas"] = areas(store, where, params, reach, options.by, include_empty=options.include_empty)
            if not sql.has_geography(store):
                result["notes"].append("the geography table is empty: no populations or map points")
        elif name == "growth":
            result["growth"] = growth(store, where, params, period, since)
        elif name == "campaigns":
            result["campaigns"] = campaigns(store, where, params, since, selection_given=not everyone)
        else:
            section = contributed[name]
            result[name] = section.compute(query)
            if section.note and not everyone:
                result["notes"].append(section.note)
    return result


def auto_period(store: Store, where: str, params: list, since: str | None, now: datetime) -> str:
    """Weeks for up to half a year of history, months beyond."""
    start = since
    if start is None:
        start = sql.first_created_at(store, where, params)
    if not start:
        return "week"
    try:
        first = datetime.fromisoformat(start.replace("Z", "+00:00"))
    except ValueError:
        return "month"
    return "week" if (now - first) <= timedelta(days=183) else "month"


def summary(store: Store, where: str, params: list, reach: sql.Reach, since: str | None) -> dict:
    s = sql.summary(store, where, params, reach, since)
    total = s["contacts"]
    s["reachable_sms_share"] = share(s["reachable_sms"], total)
    s["reachable_email_share"] = share(s["reachable_email"], total)
    s["located_share"] = share(s["located"], total)
    s["geo_status"] = sql.geo_status_counts(store, where, params)
    return s


def _unplaced_label(level: str, key: str) -> str:
    one, many = _LEVEL_WORDS[level]
    if key == "~unlocated":
        return _("(commune not located)") if level != "departement" else _("(département not known)")
    if key == "~split":
        return _("(commune split between {areas})").format(areas=many)
    return _("(commune in no {area})").format(area=one)


def areas(store: Store, where: str, params: list, reach: sql.Reach, by: str, *, include_empty: bool = False) -> dict:
    level = check_level(by)
    if level == "bureau":
        return bureaux(store, where, params, reach)
    rows = []
    for key, name, dep, contacts, sms, email, population, lat, lon, complete in sql.by_area(
            store, level, where, params, reach, include_empty=include_empty):
        unplaced = key in sql.UNPLACED
        if level == "departement" and not unplaced:
            name = departements.name(key)
        if level == "circonscription" and not unplaced and name is None:
            name = key
        rows.append({
            "code": None if unplaced else key,
            "name": _unplaced_label(level, key) if unplaced else (name or key),
            "departement": None if unplaced else dep,
            "contacts": contacts,
            "sms": sms,
            "sms_share": share(sms, contacts),
            "email": email,
            "email_share": share(email, contacts),
            "population": None if unplaced else population,
            "per_1000": None if unplaced else per_1000(contacts, population),
            "complete": None if unplaced else (bool(complete) if complete is not None else None),
            "lat": None if unplaced or lat is None else round(lat, 5),
            "lon": None if unplaced or lon is None else round(lon, 5),
            "unplaced": sql.UNPLACED[key] if unplaced else None,
        })
    return {"by": level, "rows": rows}


def bureaux(store: Store, where: str, params: list, reach: sql.Reach) -> dict:
    """Coverage by bureau de vote (docs/electoral.md): contacts, reachable, registered, inscrits,
    contacts per 100 inscrits and the turnout of the latest election loaded — where to canvass.
    Contacts without a bureau are one row."""
    election = se.latest_results(store)
    rows = []
    for code, label, commune, contacts, sms, email, registered, inscrits, turnout in se.coverage(
            store, where, params, reach, election):
        rows.append({"code": code, "name": label or code, "departement": (commune or "")[:3 if (commune or "")
                     .startswith("97") else 2] or None, "contacts": contacts, "sms": sms,
                     "sms_share": share(sms, contacts), "email": email, "email_share": share(email, contacts),
                     "registered": registered, "population": inscrits,
                     "per_100_inscrits": round(100 * contacts / inscrits, 1) if inscrits else None,
                     "per_1000": round(1000 * contacts / inscrits, 1) if inscrits else None,
                     "turnout": turnout, "complete": None, "lat": None, "lon": None, "unplaced": None})
    missing = se.without_bureau(store, where, params)
    if missing:
        rows.append({"code": None, "name": "(no bureau de vote)", "departement": None, "contacts": missing,
                     "sms": None, "sms_share": None, "email": None, "email_share": None, "registered": None,
                     "population": None, "per_100_inscrits": None, "per_1000": None, "turnout": None,
                     "complete": None, "lat": None, "lon": None, "unplaced": "no bureau"})
    return {"by": "bureau", "election": election, "rows": rows}


def growth(store: Store, where: str, params: list, period: str, since: str | None) -> dict:
    per_period: dict[str, dict[str, int]] = {}
    imports: set[int] = set()
    raw = list(sql.growth(store, where, params, period, since))
    for p, imp, n in raw:
        if imp is not None:
            imports.add(imp)
    labels = sql.import_labels(store, sorted(imports))
    source_totals: dict[str, int] = {}
    for p, imp, n in raw:
        label = _source_label(labels.get(imp)) if imp is not None else "added by hand"
        per_period.setdefault(p, {})
        per_period[p][label] = per_period[p].get(label, 0) + n
        source_totals[label] = source_totals.get(label, 0) + n
    start_total = sql.count_before(store, where, params, since) if since else 0
    running = start_total
    periods = []
    for p in sorted(per_period):
        new = sum(per_period[p].values())
        running += new
        periods.append({"period": p, "new": new, "total": running, "sources": per_period[p]})
    sources = [{"source": k, "new": v} for k, v in sorted(source_totals.items(), key=lambda kv: (-kv[1], kv[0]))]
    return {"period": period, "start_total": start_total, "periods": periods, "sources": sources}


def _source_label(info: tuple[str, str] | None) -> str:
    if info is None:
        return "import (deleted)"
    from pathlib import PurePath

    return PurePath(info[0]).name or info[0]


def _channel_info(channel_id: str) -> tuple[str, float | None, str]:
    """(consent channel, price per SMS segment or None, currency) of a channel, as configured now."""
    try:
        channel = channels().get(channel_id)
    except Exception:  # noqa: BLE001 - a broken plugin must not break statistics
        channel = None
    if channel is None:
        return channel_id, None, "EUR"
    price = None
    for f in channel.fields:
        if f.name == "price_per_segment" and not f.secret:
            import os

            raw = os.environ.get(f.env) if f.env else None
            value = raw if raw else section(f"channels.{channel.id}").get(f.name, f.default)
            try:
                price = None if value in (None, "") else float(value)
            except (TypeError, ValueError):
                price = None
    return channel.consent_channel or channel_id, price, "EUR"


def campaigns(store: Store, where: str, params: list, since: str | None, *, selection_given: bool) -> list[dict]:
    channel_ids = sql.message_channels(store)
    infos = {c: _channel_info(c) for c in channel_ids}
    consent = {c: info[0] for c, info in infos.items()}
    result = []
    for row in sql.campaign_outcomes(store, where, params, since, consent, selection_given=selection_given):
        item = dict(zip(sql.CAMPAIGN_COLUMNS, row))
        _unused, price, currency = infos.get(item["channel"], (item["channel"], None, "EUR"))
        item["delivery_rate"] = share(item["delivered"], item["sent"])
        item["cost"] = round(item["segments"] * price, 2) if price is not None and item["segments"] else (
            0.0 if price is not None else None)
        item["currency"] = currency if price is not None else None
        result.append(item)
    return result
