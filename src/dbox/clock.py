"""One clock for every date a user types or reads (issue 11 item 5).

Every ``--at``, ``--date``, ``--end``, ``--as-of``, ``--since`` option reads its value here, in the
same formats, in the configured timezone (``[dbox] timezone`` in config.toml, default
Europe/Paris; never the server's own zone: a server in UTC must not shift a Paris campaign by an
hour), and what dbox shows back names the zone. Dates are stored in UTC (``iso``).

A moment: ``2026-12-01 18:00``, ``2026-12-01T18:00[:SS]``, ``01/12/2026 18h00`` (or ``18h``,
``18:00``), a time alone (``18:00``, ``18h30``: today), or ISO 8601 with an offset or ``Z``
(``2026-12-01T17:00:00Z``), taken as it is. A day: ``2026-12-01`` or ``01/12/2026``.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timezone

from dbox.errors import InputError
from dbox.i18n import N_, _, current_language, weekday_short
from dbox.config import section

DEFAULT_TIMEZONE = "Europe/Paris"
# What Python's date() says of an impossible date, in the user's language.
_DATE_PROBLEMS = {"day is out of range for month": N_("day is out of range for month"),
                  "month must be in 1..12": N_("month must be in 1..12")}
_DAY = r"(?:(\d{4})-(\d{1,2})-(\d{1,2})|(\d{1,2})/(\d{1,2})/(\d{4}))"
_WHEN = re.compile(_DAY + r"(?:(?:T|\s+)(\d{1,2})(?:[:hH](\d{2})?(?::(\d{2}))?)?)?")
_TIME = re.compile(r"(\d{1,2})(?:[:hH](\d{2})?|(?=[hH]))[hH]?")
_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")
FORMATS = '2026-12-05T10:00, "2026-12-05 10:00", "05/12/2026 10h00", or a time like 18:00 (today)'


def configured_timezone() -> str:
    """The zone dates are typed and shown in: ``[dbox] timezone``, default Europe/Paris."""
    return str(section("dbox").get("timezone") or DEFAULT_TIMEZONE)


def zone(tz_name: str | None = None):
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = tz_name or configured_timezone()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(_("timezone {name!r}: unknown time zone").format(name=name), hint=_("e.g. Europe/Paris, America/Cayenne")) from None


def parse_when(text: str, tz_name: str | None = None, now: datetime | None = None, *,
               option: str = "--at") -> datetime:
    """A moment typed by the user (formats above), local to ``tz_name`` (default: the configured
    zone) unless it carries an offset. Returns an aware datetime in UTC."""
    tz = zone(tz_name)
    raw = " ".join(str(text or "").split())
    if _OFFSET.search(raw) and not _TIME.fullmatch(raw):
        try:
            return datetime.fromisoformat(raw.replace("Z", "+00:00")).astimezone(timezone.utc)
        except ValueError:
            pass
    clock_only = _TIME.fullmatch(raw)
    if clock_only:
        today = (now or datetime.now(timezone.utc)).astimezone(tz).date()
        return _local(today, clock_only.group(1), clock_only.group(2), None, tz, text, option)
    match = _WHEN.fullmatch(raw)
    if not match:
        raise InputError(_("{option} {text!r}: use a date and a time like {FORMATS}; this is not a date and time").format(
                             option=option, text=text, FORMATS=FORMATS))
    if match.group(7) is None:
        raise InputError(_("{option} {text!r}: add the time (2026-12-05T10:00)").format(option=option, text=text))
    return _local(_day(match, text, option), match.group(7), match.group(8), match.group(9), tz, text, option)


def parse_day(text, option: str) -> date:
    """A day typed by the user: ``2026-12-05`` or ``05/12/2026``."""
    if isinstance(text, date) and not isinstance(text, datetime):
        return text
    raw = str(text or "").strip()
    match = re.fullmatch(_DAY, raw)
    if not match:
        raise InputError(_("{option}: expected a date like 2027-06-20, got {text!r} (or 20/06/2027)").format(
                             option=option, text=text))
    return _day(match, text, option)


def _day(match, text, option: str) -> date:
    y, m, d = (match.group(1), match.group(2), match.group(3)) if match.group(1) else \
        (match.group(6), match.group(5), match.group(4))
    try:
        return date(int(y), int(m), int(d))
    except ValueError as exc:
        detail = str(exc)
        detail = _(_DATE_PROBLEMS[detail]) if detail in _DATE_PROBLEMS else detail
        raise InputError(_("{option} {text!r}: {detail}").format(option=option, text=text, detail=detail)) from None


def _local(day: date, hour, minute, second, tz, text, option: str) -> datetime:
    try:
        moment = time(int(hour), int(minute or 0), int(second or 0))
    except ValueError:
        raise InputError(_("{option} {text!r}: not a time of day").format(option=option, text=text)) from None
    return datetime.combine(day, moment, tz).astimezone(timezone.utc)


def iso(at: datetime) -> str:
    """The stored form: UTC, ``2026-12-01T17:00:00Z``."""
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def local_text(at: datetime | str, tz_name: str | None = None) -> str:
    """A moment shown back: ``Tue 2026-12-01 18:00 Europe/Paris`` (the zone always named)."""
    if isinstance(at, str):
        at = from_iso(at) if at.endswith("Z") else datetime.fromisoformat(at)
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    name = tz_name or configured_timezone()
    local = at.astimezone(zone(name))
    day = weekday_short(local.weekday())
    if current_language() == "fr":                  # French: "dim. 20/12/2026 18:00 Europe/Paris"
        return f"{day} {local:%d/%m/%Y %H:%M} {name}"
    return f"{day} {local:%Y-%m-%d %H:%M} {name}"


def local_column(value: str | None, tz_name: str | None = None) -> str | None:
    """A stored UTC time for a listing's column: ``2026-12-01 18:00`` in the configured zone (the
    column's title names the zone, see ``zone_label``)."""
    if not value:
        return value
    try:
        at = from_iso(value) if value.endswith("Z") else datetime.fromisoformat(value)
    except ValueError:
        return value
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return f"{at.astimezone(zone(tz_name)):%Y-%m-%d %H:%M}"


def zone_label(tz_name: str | None = None) -> str:
    return tz_name or configured_timezone()


def local_rows(rows, columns: list[str], names: tuple[str, ...], tz_name: str | None = None):
    """A listing for the screen: the ``names`` columns (stored UTC) in local time, their titles
    naming the zone (``due_at (Europe/Paris)``). CSV and JSON keep UTC: machines read those."""
    name = tz_name or configured_timezone()
    index = [i for i, c in enumerate(columns) if c in names]
    shown = [f"{c} ({name})" if i in index else c for i, c in enumerate(columns)]
    rows = [tuple(local_column(v, name) if i in index and isinstance(v, str) else v for i, v in enumerate(row))
            for row in rows]
    return rows, shown
