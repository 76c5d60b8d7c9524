"""The legal calendar: the electoral silence of Code électoral L49.

From 00:00 on the eve of a round until its polls close, no electronic propaganda may go out: no
SMS, no e-mail, no social post (nor automated calls). dbox holds every send to contacts of the
election's area (and to contacts whose place is unknown: they may live there), and every social
post, during that period.

Times. A round is given by its metropolitan date. The silence starts at 00:00 on the eve in the
earliest-voting part of the area and ends at 20:00 on the day (the latest closing in metropolitan
France) in the latest. For national elections (présidentielle, législatives, européennes), the
Antilles, Guyane, Saint-Pierre-et-Miquelon, French Polynesia and the French of the Americas vote
the day before, so their eve is two days before the metropolitan vote.

``--now`` does not lift it. ``dbox elections allow CAMPAIGN --reason ...`` does, for one campaign,
recorded in the audit log. :func:`check_send` is the one check the sending code calls.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from dbox.errors import DboxError, InputError
from dbox.store import electoral as se
from dbox.store import geo as store_geo
from dbox.store.db import Store, utcnow
from dbox.i18n import _
from dbox.text import fold
from dbox.privacy.audit import os_user, record

NATIONAL = ("presidentielle", "legislatives", "europeennes", "referendum")
AREA_KINDS = ("france", "departement", "commune", "canton", "circonscription")
_AREA_WORDS = {"dep": "departement", "departement": "departement", "département": "departement",
               "commune": "commune", "canton": "canton", "circo": "circonscription",
               "circonscription": "circonscription", "france": "france"}
PARIS = "Europe/Paris"
# Time zone of each overseas département or collectivity (by its code), and whether it votes the
# day before metropolitan France in national elections.
_OVERSEAS = {
    "971": ("America/Guadeloupe", True), "972": ("America/Martinique", True), "973": ("America/Cayenne", True),
    "974": ("Indian/Reunion", False), "975": ("America/Miquelon", True), "976": ("Indian/Mayotte", False),
    "977": ("America/St_Barthelemy", True), "978": ("America/Marigot", True), "986": ("Pacific/Wallis", False),
    "987": ("Pacific/Tahiti", True), "988": ("Pacific/Noumea", False),
}
# The French abroad: the Americas vote the day before (législatives, présidentielle).
_ABROAD = (("America/Miquelon", True), ("Pacific/Honolulu", True), ("Pacific/Kiritimati", False))
CLOSING = time(20, 0)
_EXAMPLES = {"departement": "38", "commune": "38185", "canton": "3809", "circonscription": "38-01"}
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class ElectoralSilence(DboxError):
    """A send or a post during the electoral silence of an election (Code électoral L49)."""

    exit_code = 1

    def __init__(self, message: str, until: str, **kw):
        super().__init__(message, **kw)
        self.until = until


@dataclass(frozen=True)
class Area:
    kind: str
    codes: tuple[str, ...]


def parse_area(specs: list[str]) -> Area:
    """``france``, ``departement:38``, ``commune:38185``, ``circo:38-01``, ``canton:3809`` (repeatable,
    one kind per election; ``departement:38,73`` lists several)."""
    if not specs:
        raise InputError(_("--area: say where the election is held (france, departement:38, commune:38185, circo:38-01, canton:3809)"))
    kinds, codes = set(), []
    for spec in specs:
        word, _unused, rest = spec.partition(":")
        kind = _AREA_WORDS.get(word.strip().lower())
        if kind is None:
            raise InputError(_("--area {spec!r}: unknown kind {word!r}").format(spec=spec, word=word), hint=_("kinds: {items}").format(items=", ".join(AREA_KINDS)))
        kinds.add(kind)
        codes += [c.strip().upper() for c in rest.split(",") if c.strip()]
        if kind != "france" and not rest.strip():
            raise InputError(_("--area {spec!r}: which {kind}? e.g. {kind}:{EXAMPLES}").format(
                                 spec=spec, kind=kind, EXAMPLES=_EXAMPLES[kind]))
    if len(kinds) > 1:
        raise InputError(_("--area: one kind of area per election (add one election per area)"))
    kind = kinds.pop()
    return Area(kind, tuple(sorted(set(codes))) if kind != "france" else ())


def _departements(store: Store, area: Area) -> set[str]:
    if area.kind == "departement":
        return set(area.codes)
    if area.kind == "commune":
        return {c[:3] if c.startswith("97") else c[:2] for c in area.codes}
    if area.kind == "circonscription":
        return {c.split("-")[0] for c in area.codes}
    return store_geo.canton_departements(store, area.codes)


def zones(store: Store, area: Area) -> list[tuple[str, bool]]:
    """(time zone, votes the day before in national elections) of every part of the area."""
    if area.kind == "france":
        return [(PARIS, False), *_OVERSEAS.values(), *_ABROAD]
    found = []
    for dep in _departements(store, area):
        if dep in ("99", "ZZ"):
            found += list(_ABROAD)
        else:
            found.append(_OVERSEAS.get(dep, (PARIS, False)))
    return found or [(PARIS, False)]


def quiet_period(day: date, zone_list: list[tuple[str, bool]], national: bool) -> tuple[str, str]:
    """(start, end) in UTC ISO of the silence of a round held on ``day`` (metropolitan date)."""
    starts, ends = [], []
    for tz_name, early in zone_list:
        tz = ZoneInfo(tz_name)
        vote = day - timedelta(days=1) if national and early else day
        starts.append(datetime.combine(vote - timedelta(days=1), time(0, 0), tz).astimezone(timezone.utc))
        ends.append(datetime.combine(vote, CLOSING, tz).astimezone(timezone.utc))
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    return min(starts).strftime(fmt), max(ends).strftime(fmt)


def is_national(name: str) -> bool:
    return fold(name).startswith(NATIONAL)


def add_election(store: Store, name: str, rounds: list[str], area_specs: list[str]) -> dict:
    """Record an election and the silence of each round."""
    name = name.strip()
    if not name or not re.fullmatch(r"[\w.-]+", name):
        raise InputError(_("election name {name!r}: use letters, digits, '-' and '.', e.g. municipales-2026").format(
                             name=name))
    if not rounds:
        raise InputError(_("--round: give the date of each round (YYYY-MM-DD)"))
    days = []
    for text in rounds:
        if not _DAY.fullmatch(text.strip()):
            raise InputError(_("--round {text!r}: expected a date YYYY-MM-DD").format(text=text))
        try:
            days.append(date.fromisoformat(text.strip()))
        except ValueError:
            raise InputError(_("--round {text!r}: no such date").format(text=text)) from None
    area = parse_area(area_specs)
    if se.election_exists(store, name):
        raise InputError(_("an election named {name!r} exists already").format(name=name), hint=_("dbox elections list"))
    zone_list = zones(store, area)
    national = is_national(name)
    periods = [(d.isoformat(), *quiet_period(d, zone_list, national)) for d in sorted(set(days))]
    with store.transaction(immediate=True):
        se.add_election(store, name, area.kind, list(area.codes), periods, utcnow())
    return next(e for e in se.elections(store) if e["name"] == name)


def _now_iso(now: datetime | None) -> str:
    now = now or datetime.now(timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    return now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def silences_now(store: Store, now: datetime | None = None) -> list[tuple]:
    return se.quiet_rounds_at(store, _now_iso(now))


def check_send(store: Store, channel: str, campaign_id: int | None = None, *, now: datetime | None = None) -> None:
    """Raise :class:`ElectoralSilence` when a send of ``campaign_id`` (or a social post, channel
    ``social:...``) would go out during an election's silence in the area of its recipients.

    A campaign allowed with ``dbox elections allow`` goes out; that is in the audit log already."""
    active = silences_now(store, now)
    if not active:
        return
    if se.override_of(store, campaign_id) is not None:
        return
    post = channel.startswith("social") or campaign_id is None
    for name, kind, areas, day, _start, until in active:
        if not post:
            where, params = se.campaign_audience(campaign_id)
            if not se.count_in_area(store, where, params, kind, areas):
                continue
        what = "a social post" if post else f"campaign {campaign_id} ({channel})"
        raise ElectoralSilence(
            f"electoral silence for {name} (round of {day}): {what} may not go out until the polls close "
            f"at {until} (Code électoral L49; --now does not lift it)", until,
            hint=(f"it goes out with `dbox run-due` after {until}; to send anyway (for example a correction of "
                  f"false information), record why: dbox elections allow {campaign_id} --reason \"...\""
                  if campaign_id is not None else f"post after {until}"))


def allow(store: Store, campaign_id: int, reason: str) -> None:
    """Let one campaign go out during a silence; the reason is kept and audited."""
    if not reason or not reason.strip():
        raise InputError(_("--reason: say why this campaign may go out during the electoral silence"))
    if not se.campaign_exists(store, campaign_id):
        raise InputError(_("no campaign {campaign_id}").format(campaign_id=campaign_id), hint=_("dbox campaigns list"))
    with store.transaction(immediate=True):
        se.add_override(store, campaign_id, reason.strip(), os_user(), utcnow())
        record(store, "elections allow", 1, {"campaign": campaign_id, "reason": reason.strip()[:200]})
