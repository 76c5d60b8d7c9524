"""Quiet hours: when a channel may deliver. SMS default: Monday to Saturday, 10:00 to 20:00
Europe/Paris, never on a French public holiday (the strictest reading of the operators' rules).

Times are computed in the window's time zone with zoneinfo, so DST changes are handled: the
window opens at 10:00 local time whatever the UTC offset that day. ``validity_seconds`` caps how
long a provider may keep a message queued, so nothing is delivered after the window closes.

Config, per channel (``[channels.sms]`` in config.toml)::

    quiet_hours = true          # false: no window (e-mail's default)
    send_days = "mon-sat"
    send_from = "10:00"
    send_until = "20:00"
    timezone = "Europe/Paris"
    holidays = "FR"             # "" for none
    holidays_subdiv = ""        # e.g. "57" for Moselle's extra days
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any

from dbox import clock
from dbox.errors import InputError
from dbox.i18n import _, format_clock, weekday_short

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULTS = {"send_days": "mon-sat", "send_from": "10:00", "send_until": "20:00", "timezone": "Europe/Paris",
            "holidays": "FR", "holidays_subdiv": ""}
MIN_VALIDITY = 60      # seconds: closer than this to the end of the window counts as closed


def _days(text: str) -> frozenset[int]:
    found: set[int] = set()
    for part in str(text).lower().replace(" ", "").split(","):
        if not part:
            continue
        if "-" in part:
            a, b = part.split("-", 1)
            if a not in DAYS or b not in DAYS:
                raise InputError(_("send_days {text!r}: days are {items} (e.g. mon-sat)").format(
                                     text=text, items=', '.join(DAYS)))
            i, j = DAYS.index(a), DAYS.index(b)
            found.update(range(i, j + 1) if i <= j else [*range(i, 7), *range(0, j + 1)])
        elif part in DAYS:
            found.add(DAYS.index(part))
        else:
            raise InputError(_("send_days {text!r}: days are {items} (e.g. mon-sat)").format(
                                 text=text, items=', '.join(DAYS)))
    if not found:
        raise InputError(_("send_days {text!r}: no day left to send on").format(text=text))
    return frozenset(found)


def _time(text: str, name: str) -> time:
    try:
        return time.fromisoformat(str(text))
    except ValueError:
        raise InputError(_("{name} {text!r}: use HH:MM, e.g. 10:00").format(name=name, text=text)) from None


@lru_cache(maxsize=32)
def _holiday_calendar(country: str, subdiv: str | None, year: int):
    import holidays

    try:
        return holidays.country_holidays(country, subdiv=subdiv or None, years=year)
    except NotImplementedError:
        raise InputError(_("holidays {country!r}: unknown country code").format(country=country)) from None


@dataclass(frozen=True)
class SendWindow:
    days: frozenset[int]
    start: time
    end: time
    tz_name: str
    holidays: str | None = None
    subdiv: str | None = None

    @classmethod
    def from_settings(cls, settings: dict[str, Any], default_on: bool) -> "SendWindow | None":
        if not settings.get("quiet_hours", default_on):
            return None
        values = {k: settings.get(k, v) for k, v in DEFAULTS.items()}
        window = cls(_days(values["send_days"]), _time(values["send_from"], "send_from"),
                     _time(values["send_until"], "send_until"), str(values["timezone"]),
                     str(values["holidays"]).upper() or None, str(values["holidays_subdiv"]) or None)
        if window.start >= window.end:
            raise InputError(_("quiet hours: send_from {start:%H:%M} must be before send_until {end:%H:%M}").format(
                                 start=window.start, end=window.end))
        window.tz  # validate the zone now
        return window

    @property
    def tz(self):
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            return ZoneInfo(self.tz_name)
        except (ZoneInfoNotFoundError, ValueError):
            raise InputError(_("timezone {tz_name!r}: unknown time zone").format(tz_name=self.tz_name)) from None

    def describe(self) -> str:
        """'Mon-Sat 10:00-20:00 Europe/Paris, not on FR public holidays'; in French
        'lun.-sam. 10 h-20 h Europe/Paris, sauf les jours fériés FR'."""
        text = _("{days} {start}-{end} {zone}").format(days=_describe_days(self.days), start=format_clock(self.start),
                                                     end=format_clock(self.end), zone=self.tz_name)
        if self.holidays:
            text += _(", not on {country} public holidays").format(country=self.holidays)
        return text

    def is_holiday(self, day: date) -> bool:
        return bool(self.holidays) and day in _holiday_calendar(self.holidays, self.subdiv, day.year)

    def _day_ok(self, day: date) -> bool:
        return day.weekday() in self.days and not self.is_holiday(day)

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(self.tz)
        return self._day_ok(local.date()) and self.start <= local.time() < self.end

    def closes_at(self, at: datetime) -> datetime:
        """End of the window that contains ``at`` (UTC)."""
        local = at.astimezone(self.tz)
        return datetime.combine(local.date(), self.end, tzinfo=self.tz).astimezone(timezone.utc)

    def validity_seconds(self, at: datetime) -> int:
        """Seconds left before the window closes (0 when closed)."""
        if not self.is_open(at):
            return 0
        return max(0, int((self.closes_at(at) - at).total_seconds()))

    def can_send(self, at: datetime) -> bool:
        return self.validity_seconds(at) >= MIN_VALIDITY

    def next_open(self, at: datetime) -> datetime:
        """``at`` itself when a message may go now, else the next opening (UTC)."""
        if self.can_send(at):
            return at
        local = at.astimezone(self.tz)
        day = local.date()
        for offset in range(0, 400):
            candidate_day = day + timedelta(days=offset)
            if not self._day_ok(candidate_day):
                continue
            opening = datetime.combine(candidate_day, self.start, tzinfo=self.tz)
            if offset == 0 and local.time() >= self.start:
                continue
            return opening.astimezone(timezone.utc)
        raise InputError(_("quiet hours: no day to send on within a year"))  # pragma: no cover


def _describe_days(days: frozenset[int]) -> str:
    ordered = sorted(days)
    if ordered == list(range(ordered[0], ordered[-1] + 1)) and len(ordered) > 2:
        return f"{weekday_short(ordered[0])}-{weekday_short(ordered[-1])}"
    return ",".join(weekday_short(d) for d in ordered)


def parse_when(text: str, tz_name: str | None = None, now: datetime | None = None) -> datetime:
    """``--at``: the one parser (dbox.clock), in the configured timezone unless ``tz_name``."""
    return clock.parse_when(text, tz_name, now, option="--at")


iso = clock.iso
from_iso = clock.from_iso
configured_timezone = clock.configured_timezone


def local_text(at: datetime, tz_name: str | None = None) -> str:
    return clock.local_text(at, tz_name)
