"""Actions: door-to-door, leafleting, phone banks, meetings, events, and custom kinds.

An action has a title, a type, a start (and maybe an end) in local time (Europe/Paris unless told),
a place (address and commune), an optional capacity, and what its sheets need: the target (a filter
expression naming whom the walk or call lists reach), the script read at doors or on the phone,
and the wording of the consent people may give on the spot.

An action is named on the command line by its id or by its title (case and accents ignored); a
title several actions share must be given as an id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dbox.errors import InputError
from dbox.store import organizing as so
from dbox.clock import configured_timezone, parse_when
from dbox.store.db import Store, utcnow
from dbox.text import fold
from dbox.filters.parser import suggest
from dbox.geo import commune_key
from dbox.privacy import audit
from dbox.segments import select
from dbox.i18n import N_, _


@dataclass(frozen=True)
class ActionType:
    key: str
    label: str          # as printed on sheets and in invitations (French)
    sheet: str          # walk | call | list
    aliases: tuple[str, ...] = ()


TYPES = {t.key: t for t in (
    ActionType("porte-a-porte", "porte-à-porte", "walk", ("door-to-door", "pap", "canvassing", "porte-porte")),
    ActionType("tractage", "tractage", "walk", ("leafleting", "leaflets", "tracts", "distribution")),
    ActionType("phoning", "phoning", "call", ("phone-bank", "phonebank", "appels", "telephone")),
    ActionType("reunion", "réunion", "list", ("meeting", "reunion-publique", "assemblee")),
    ActionType("evenement", "événement", "list", ("event", "fete", "meeting-public")),
)}
_ALIASES = {alias: t.key for t in TYPES.values() for alias in (t.key, *t.aliases)}
SHEETS = ("walk", "call", "list")
# The kind of interaction a result line records, by sheet.
RESULT_TYPES = {"walk": "door", "call": "call", "list": "meeting"}
_CUSTOM_TYPE = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
_DAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
              "novembre", "décembre")
_TIME = re.compile(r"\s*(\d{1,2})(?:[:hH](\d{2})?)?\s*")
MAX_TITLE = 200


@dataclass
class Action:
    id: int
    title: str
    type: str
    sheet: str
    starts_at: str
    ends_at: str | None
    timezone: str
    address: str | None
    commune_name: str | None
    commune_insee: str | None
    capacity: int | None
    description: str | None
    target: str
    script: str | None
    consent_wording: str | None
    status: str
    cancel_reason: str | None
    cancelled_at: str | None
    created_at: str
    updated_at: str

    @classmethod
    def from_row(cls, row: dict) -> "Action":
        return cls(**{k: v for k, v in row.items() if k != "title_key"})

    @property
    def cancelled(self) -> bool:
        return self.status == "cancelled"

    @property
    def type_label(self) -> str:
        return TYPES[self.type].label if self.type in TYPES else self.type.replace("-", " ")

    @property
    def result_type(self) -> str:
        return RESULT_TYPES[self.sheet]

    def local_start(self) -> datetime:
        return from_iso(self.starts_at).astimezone(ZoneInfo(self.timezone))

    def local_end(self) -> datetime | None:
        return from_iso(self.ends_at).astimezone(ZoneInfo(self.timezone)) if self.ends_at else None

    @property
    def place(self) -> str:
        return ", ".join(x for x in (self.address, self.commune_name) if x)

    def when_text(self) -> str:
        """'samedi 5 décembre 2026 à 10h00 – 12h00'"""
        start = self.local_start()
        text = f"{french_date(start)} à {french_time(start)}"
        end = self.local_end()
        if end is not None:
            text += f" – {french_time(end)}" if end.date() == start.date() else \
                f" – {french_date(end)} à {french_time(end)}"
        return text

    def merge_fields(self) -> dict[str, str]:
        """The fields an invitation can use as ``{{ action.<name> }}``."""
        start, end = self.local_start(), self.local_end()
        return {
            "id": str(self.id), "title": self.title, "type": self.type_label,
            "date": french_date(start), "time": french_time(start),
            "end_time": french_time(end) if end else "",
            "when": f"{french_date(start, year=False)} à {french_time(start)}",
            "address": self.address or "", "commune": self.commune_name or "", "place": self.place,
            "description": self.description or "",
        }


def french_date(moment: datetime, year: bool = True) -> str:
    day = "1er" if moment.day == 1 else str(moment.day)
    text = f"{_DAYS_FR[moment.weekday()]} {day} {_MONTHS_FR[moment.month - 1]}"
    return f"{text} {moment.year}" if year else text


def french_time(moment: datetime | None) -> str:
    return "" if moment is None else f"{moment.hour}h{moment.minute:02d}"


def from_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- reading what the user typed ------------------------------------------------------------------------

def parse_type(text: str) -> str:
    """'Porte-à-porte', 'door-to-door' -> 'porte-a-porte'; an unknown word is a custom type."""
    key = fold(text).replace(" ", "-")
    if not key:
        raise InputError(_("--type: empty"), hint=_("types: {items}, or a word of your own").format(items=", ".join(TYPES)))
    if key in _ALIASES:
        return _ALIASES[key]
    if not _CUSTOM_TYPE.fullmatch(key):
        raise InputError(_("--type {text!r}: a type is a word of letters, digits and dashes (at most 40)").format(
                             text=text))
    return key


def parse_sheet(text: str | None) -> str | None:
    if text is None:
        return None
    value = text.strip().lower()
    if value not in SHEETS:
        raise InputError(_("--sheet {text!r}: choose walk (addresses by street), call (phones and script) or list (names, for an attendance list)").format(
                             text=text))
    return value


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(_("--timezone {name!r}: unknown time zone").format(name=name), hint=_("e.g. Europe/Paris, America/Cayenne")) from None
    return name


def parse_local(text: str, tz_name: str, option: str = "--date") -> datetime:
    """'2026-12-05T10:00', '2026-12-05 10h', '05/12/2026 10:00' (local time) -> aware datetime:
    the one parser of dates (dbox.clock), as send --at and post --at."""
    return parse_when(text, tz_name, option=option)


def parse_end(text: str, start: datetime, tz_name: str) -> datetime:
    """``--end``: a time the same day ('12:00', '12h30') or a date and time; after the start."""
    match = _TIME.fullmatch(text or "")
    if match:
        try:
            local = start.astimezone(ZoneInfo(tz_name))
            end = local.replace(hour=int(match.group(1)), minute=int(match.group(2) or 0))
        except ValueError as exc:
            raise InputError(_("--end {text!r}: {exc}").format(text=text, exc=exc)) from None
    else:
        end = parse_local(text, tz_name, "--end")
    if end <= start:
        raise InputError(_("--end {text!r}: the action would end before it starts").format(text=text))
    return end


def parse_capacity(value: int | None) -> int | None:
    if value is not None and value < 1:
        raise InputError(_("--capacity {value}: use a number above zero (or leave it out)").format(value=value))
    return value


def check_title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title or not fold(title):
        raise InputError(_("the title is empty"), hint=_('dbox action create "Porte-à-porte quartier Mistral" ...'))
    if len(title) > MAX_TITLE:
        raise InputError(_("the title is {n} characters long (at most {MAX_TITLE})").format(
                             n=len(title), MAX_TITLE=MAX_TITLE))
    return title


def check_target(store: Store, expression: str | None) -> str:
    """The target as canonical filter text (checked now, with its position on error)."""
    if expression is None or not expression.strip():
        return ""

    return select(store, expression).expression


def resolve_commune(store: Store, text: str) -> tuple[str, str | None]:
    """(name, INSEE code or None) of ``--commune``: an INSEE code, a name, or 'Name (38)'."""
    raw = " ".join((text or "").split())
    if not raw:
        return "", None
    if re.fullmatch(r"\d[\dABab]\d{3}", raw):
        found = so.commune_by_code(store, raw.upper())
        if found is None:
            raise InputError(_("--commune {text!r}: no commune has this INSEE code").format(text=text))
        return found[1], found[0]
    dep = None
    match = re.fullmatch(r"(.+?)\s*\((\d{2,3}|2[ABab])\)", raw)
    if match:
        raw, dep = match.group(1), match.group(2).upper()
    if not so.has_geography(store):
        return raw, None
    key = commune_key(raw)
    found = so.commune_codes_named(store, key)
    if dep:
        found = [f for f in found if f[2] == dep]
    if len(found) == 1:
        return found[0][1], found[0][0]
    if not found:
        names = {k: n for n, k in so.communes_starting(store, key[:1])}
        close = suggest(key, names)
        where = _(" in département {dep}").format(dep=dep) if dep else ""
        raise InputError(_("--commune {text!r}: unknown commune{where}").format(text=text, where=where) +
                         (_(' — did you mean "{close}"?').format(close=names[close]) if close else ""),
                         hint=_("a commune is written as INSEE names it (Saint-Égrève) or by its INSEE code"))
    listed = ", ".join(f"{name} ({d}, {code})" for code, name, d in found[:8])
    raise InputError(_("--commune {text!r}: several communes have this name: {listed}").format(
                         text=text, listed=listed),
                     hint=_('add the département, e.g. --commune "{found} ({found2})", or give the INSEE code').format(
                              found=found[0][1], found2=found[0][2]))


# -- finding an action ---------------------------------------------------------------------------------------

def get(store: Store, action_id: int) -> Action:
    row = so.get_action(store, action_id)
    if row is None:
        raise InputError(_("no action with id {action_id}").format(action_id=action_id), hint=_("dbox action list shows them"))
    return Action.from_row(row)


def find(store: Store, ref: str | int) -> Action:
    """An action from its id or its title (case and accents ignored)."""
    text = str(ref).strip()
    if text.isdigit():
        return get(store, int(text))
    ids = ids_for(store, text, what=N_("action"))
    return get(store, ids[0]) if len(ids) == 1 else _ambiguous(store, text, ids)


def ids_for(store: Store, ref: str, *, what: str = "action") -> list[int]:
    """Every action an id or a title names (a title may name several); raises when none does."""
    text = " ".join(str(ref).split())
    if text.isdigit():
        if not so.existing_action_ids(store, [int(text)]):
            raise InputError(_("no {what} with id {text}").format(what=_(what), text=text), hint=_("dbox action list shows them"))
        return [int(text)]
    rows = so.actions_with_key(store, fold(text))
    if rows:
        return [r[0] for r in rows]
    raise InputError(_('unknown {what} "{text}"').format(what=_(what), text=text) + _near(store, text),
                     hint=_("dbox action list shows them"))


def suggestion(store: Store, text: str) -> str | None:
    titles = {key: title for _unused, title, key in so.action_titles(store)}
    close = suggest(fold(text), titles)
    return titles[close] if close else None


def _near(store: Store, text: str) -> str:
    close = suggestion(store, text)
    return f' — did you mean "{close}"?' if close else ""


def _ambiguous(store: Store, text: str, ids: list[int]) -> Action:
    rows = [get(store, i) for i in ids]
    listed = ", ".join(f"{a.id} ({a.local_start():%Y-%m-%d})" for a in rows)
    raise InputError(_('{n} actions are titled "{text}": ids {listed}').format(n=len(ids), text=text, listed=listed), hint=_("name one by its id"))


# -- create, edit, cancel ------------------------------------------------------------------------------------

@dataclass
class ActionInput:
    """What ``create`` and ``edit`` accept; None leaves a value as it is (``edit``)."""

    title: str | None = None
    type: str | None = None
    date: str | None = None
    end: str | None = None
    commune: str | None = None
    address: str | None = None
    capacity: int | None = None
    description: str | None = None
    target: str | None = None
    script: str | None = None
    consent_wording: str | None = None
    sheet: str | None = None
    timezone: str | None = None


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def create(store: Store, data: ActionInput) -> Action:
    if not data.title:
        raise InputError(_("an action needs a title"))
    if not data.type:
        raise InputError(_("an action needs a type (--type)"),
                         hint=_("types: {items}, or a word of your own").format(items=", ".join(TYPES)))
    if not data.date:
        raise InputError(_("an action needs a date and time (--date 2026-12-05T10:00)"))
    values = _values(store, data, None)
    now = utcnow()
    with store.transaction(immediate=True):
        action_id = so.insert_action(store, values, now)
        _audit(store, "action create", action_id)
    return get(store, action_id)


def edit(store: Store, action: Action, data: ActionInput) -> tuple[Action, list[str]]:
    """Change what ``data`` gives; returns the action and the names of what changed."""
    if action.cancelled:
        raise InputError(_("action {id} is cancelled ({cancelled_at}); it cannot be edited").format(
                             id=action.id, cancelled_at=action.cancelled_at[:10]))
    values = _values(store, data, action)
    before = so.get_action(store, action.id)
    changed = [k for k, v in values.items() if before.get(k) != v and k != "title_key"]
    if not changed:
        return action, []
    with store.transaction(immediate=True):
        so.update_action(store, action.id, values, utcnow())
        _audit(store, "action edit", action.id, fields=changed)
    return get(store, action.id), changed


def cancel(store: Store, action: Action, reason: str | None = None) -> Action:
    if action.cancelled:
        raise InputError(_("action {id} is already cancelled ({cancelled_at})").format(
                             id=action.id, cancelled_at=action.cancelled_at[:10]))
    with store.transaction(immediate=True):
        so.cancel_action(store, action.id, _text(reason), utcnow())
        _audit(store, "action cancel", action.id)
    return get(store, action.id)


def _values(store: Store, data: ActionInput, current: Action | None) -> dict:
    values: dict = {}
    if data.title is not None:
        values["title"] = check_title(data.title)
        values["title_key"] = fold(values["title"])
    tz_name = check_timezone(data.timezone) if data.timezone else (current.timezone if current else configured_timezone())
    if data.timezone:
        values["timezone"] = tz_name
    if data.type is not None:
        values["type"] = parse_type(data.type)
    sheet = parse_sheet(data.sheet)
    if sheet:
        values["sheet"] = sheet
    elif "type" in values and (current is None or values["type"] != current.type):
        values["sheet"] = TYPES[values["type"]].sheet if values["type"] in TYPES else \
            (current.sheet if current else "list")
    start = parse_local(data.date, tz_name) if data.date else (from_iso(current.starts_at) if current else None)
    if data.date:
        values["starts_at"] = iso(start)
    if data.end is not None:
        values["ends_at"] = iso(parse_end(data.end, start, tz_name)) if data.end.strip() else None
    elif data.date and current is not None and current.ends_at:
        # moving the start moves the end with it
        values["ends_at"] = iso(start + (from_iso(current.ends_at) - from_iso(current.starts_at)))
    if data.commune is not None:
        values["commune_name"], values["commune_insee"] = resolve_commune(store, data.commune)
        values["commune_name"] = values["commune_name"] or None
    for name in ("address", "description", "script", "consent_wording"):
        if getattr(data, name) is not None:
            values[name] = _text(getattr(data, name))
    if data.capacity is not None:
        values["capacity"] = parse_capacity(data.capacity)
    if data.target is not None:
        values["target"] = check_target(store, data.target)
    return values


def _audit(store: Store, command: str, action_id: int, **detail) -> None:
    audit.record(store, command, 0, {"action": action_id, **detail})


# -- listing -------------------------------------------------------------------------------------------------

def clock() -> datetime:
    """The current time (UTC); tests replace it to move an action's day."""
    return datetime.now(timezone.utc)


def list_(store: Store, *, when: str = "upcoming", type_: str | None = None, include_cancelled: bool = False,
          now: datetime | None = None) -> list[dict]:
    """Actions with their counts. ``when``: upcoming (from today), past, all."""
    now = now or clock()
    today = iso(now.replace(hour=0, minute=0, second=0, microsecond=0))
    since, until = {"upcoming": (today, None), "past": (None, today), "all": (None, None)}[when]
    return so.list_actions(store, since=since, until=until, include_cancelled=include_cancelled,
                           type_=parse_type(type_) if type_ else None)


def started(action: Action, now: datetime | None = None) -> bool:
    """Whether the action's day has come (in its own time zone)."""
    now = now or clock()
    return action.local_start().date() <= now.astimezone(ZoneInfo(action.timezone)).date()


def is_past(action: Action, now: datetime | None = None) -> bool:
    """Whether the action is over (its end, or three hours after its start)."""
    now = now or clock()
    end = from_iso(action.ends_at) if action.ends_at else from_iso(action.starts_at) + timedelta(hours=3)
    return end < now
