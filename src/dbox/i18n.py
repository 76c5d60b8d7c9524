"""dbox speaks English or French: the language, the message catalogs, and the local formats.

The language is chosen like every Unix tool chooses it (docs/i18n.md), strongest first:
``--lang fr|en`` on the command line, ``lang`` in the ``[dbox]`` table of config.toml, then the
locale: the first of ``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG`` that is set. French for a
French locale (``fr_FR.UTF-8``, ``fr_BE``, ``fr``), English otherwise (``C``, ``POSIX``, ``en_GB``,
``de_DE``).

Messages are written in English in the code, marked ``_("...")`` (``ngettext`` for plurals,
``N_`` to mark a string translated later); the French catalog is
``dbox/locale/fr/LC_MESSAGES/dbox.po``, compiled to the ``.mo`` beside it (``scripts/i18n.py``).
Help text of commands and options is not marked in the code: ``dbox.commands.framework`` translates
the whole command tree once it is built, so no help string can escape the catalog.

``_()`` is called when a message is shown, never at import time: the language is known only once
the command line has been read.

The format helpers (``format_datetime``, ``format_decimal``, ``format_euros``,
``format_local_time``) load Babel when first called, never at start-up.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Optional

from dbox.paths import config_file

LANGUAGES = ("en", "fr")
DEFAULT_LANGUAGE = "en"
DOMAIN = "dbox"
LOCALE_DIR = Path(__file__).with_name("locale")
LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

_language: Optional[str] = None
_translations = None


class _English:
    """The source language: messages as written."""

    @staticmethod
    def gettext(message: str) -> str:
        return message

    @staticmethod
    def ngettext(singular: str, plural: str, n: int) -> str:
        return singular if n == 1 else plural


def language_of_locale(value: str) -> Optional[str]:
    """``fr_FR.UTF-8`` -> ``fr``; ``C``/``POSIX`` -> ``en``; a language dbox lacks -> None."""
    code = value.split(".")[0].split("@")[0].split("_")[0].split("-")[0].strip().lower()
    if code in ("c", "posix"):
        return "en"
    return code if code in LANGUAGES else None


def language_from_environment(environ: Mapping[str, str] = os.environ) -> str:
    """The language the locale asks for, as gettext reads it: the first variable set wins;
    ``LANGUAGE`` may list several (``de:fr``): the first one dbox speaks."""
    for name in LOCALE_VARIABLES:
        value = environ.get(name, "")
        if not value:
            continue
        for entry in value.split(":"):
            language = language_of_locale(entry)
            if language:
                return language
        if name != "LANGUAGE":
            return DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


def _dbox_setting(key: str):
    """``key`` of the ``[dbox]`` table of config.toml, read here rather than through dbox.config
    (whose messages are translated: the language comes first). A config file that cannot be read
    gives None: the command that needs it reports it."""
    import tomllib

    try:
        with config_file().open("rb") as fh:
            table = tomllib.load(fh).get("dbox", {})
    except (OSError, tomllib.TOMLDecodeError):
        return None
    return table.get(key) if isinstance(table, dict) else None


def configured_language() -> Optional[str]:
    """``lang`` of the ``[dbox]`` table of config.toml, if it names a language dbox speaks."""
    value = _dbox_setting("lang")
    return language_of_locale(value) if isinstance(value, str) else None


def choose_language(option: Optional[str] = None, environ: Mapping[str, str] = os.environ) -> str:
    """``--lang``, else the config file, else the locale."""
    if option:
        language = language_of_locale(option)
        if language:
            return language
    return configured_language() or language_from_environment(environ)


def use(language: str, translations=None) -> None:
    """Speak ``language`` from now on. ``translations`` (anything with ``gettext`` and
    ``ngettext``) replaces the catalog: the pseudo-locale tests install one."""
    global _language, _translations
    if translations is None:
        if language == DEFAULT_LANGUAGE:
            translations = _English()
        else:
            import gettext

            translations = gettext.translation(DOMAIN, LOCALE_DIR, languages=[language], fallback=True)
    _language, _translations = language, translations


def reset() -> None:
    """Forget the language: the next message chooses it again (tests, between runs)."""
    global _language, _translations
    _language = _translations = None


def current_language() -> str:
    if _language is None:
        use(DEFAULT_LANGUAGE)        # while choosing, a message (a broken config's error) is in English
        use(choose_language())
    return _language


def _catalog():
    if _translations is None:
        current_language()
    return _translations


def _(message: str) -> str:
    """The message in the current language (the English text when the catalog lacks it)."""
    return _catalog().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _catalog().ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """The message as said in ``context``: one English word, two French ones ("planned": "prévus"
    for messages, "prévue" for an action)."""
    catalog = _catalog()
    translate = getattr(catalog, "pgettext", None)
    return translate(context, message) if translate else catalog.gettext(message)


def NC_(context: str, message: str) -> tuple[str, str]:
    """``N_`` with a context: marks the message, translated later with ``pgettext(*value)``."""
    return context, message


def N_(message: str) -> str:
    """Marks a string for the catalog without translating it now (tables built at import time);
    translate it with ``_(value)`` where it is shown."""
    return message


# -- local formats ----------------------------------------------------------------------------------

def _locale() -> str:
    return "fr_FR" if current_language() == "fr" else "en_GB"


def grouped(value, digits: Optional[int] = None) -> str:
    """A count or an amount in running text, without loading Babel: 12345 -> '12 345' in French
    (narrow no-break space, decimal comma), '12,345' in English; ``digits`` after the point."""
    if value is None:
        return "–"
    text = f"{value:,}" if digits is None else f"{value:,.{digits}f}"
    if current_language() == "fr":
        text = text.replace(",", "\u202f").replace(".", ",")
    return text


def percent(ratio, digits: int = 1) -> str:
    """0.125 -> '12,5 %' in French (no-break space), '12.5%' in English."""
    if ratio is None:
        return "–"
    if current_language() == "fr":
        return f"{ratio * 100:.{digits}f}".replace(".", ",") + "\u00a0%"
    return f"{ratio:.{digits}%}"


def format_decimal(value, digits: Optional[int] = None) -> str:
    """1234.5 -> '1 234,5' in French (narrow no-break space), '1,234.5' in English."""
    from babel.numbers import format_decimal as babel_decimal

    if value is None:
        return "–"
    pattern = None if digits is None else "#,##0." + "0" * digits if digits else "#,##0"
    return babel_decimal(value, format=pattern, locale=_locale())


def format_euros(value) -> str:
    """84.83 -> '84,83 €' in French, '€84.83' in English."""
    from babel.numbers import format_currency

    if value is None:
        return "–"
    return format_currency(value, "EUR", locale=_locale())


def format_datetime(moment) -> str:
    """An appointment as people say it: 'jeudi 3 décembre 2026 à 19 h' ('19 h 30'),
    'Thursday 3 December 2026 at 7 pm' ('7:30 pm'). ``moment`` is shown in its own zone."""
    from babel.dates import format_date

    day = format_date(moment, "EEEE d MMMM y", locale=_locale())
    if current_language() == "fr":
        hour = f"{moment.hour} h" + (f" {moment.minute:02d}" if moment.minute else "")
        return f"{day} à {hour}"
    twelve = moment.hour % 12 or 12
    suffix = "am" if moment.hour < 12 else "pm"
    hour = f"{twelve}{':%02d' % moment.minute if moment.minute else ''} {suffix}"
    return f"{day} at {hour}"


# Short day names (Monday first, as ``date.weekday()``): "Mon" / "lun.".
WEEKDAYS_SHORT = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))


def weekday_short(index: int) -> str:
    """``date.weekday()`` -> 'Mon' in English, 'lun.' in French."""
    return _(WEEKDAYS_SHORT[index])


def format_clock(moment) -> str:
    """A time of day: '10:00', '10:30' in English; '10 h', '10 h 30' in French."""
    if current_language() == "fr":
        return f"{moment.hour} h" + (f" {moment.minute:02d}" if moment.minute else "")
    return f"{moment.hour:02d}:{moment.minute:02d}"


def format_local_time(moment, zone: Optional[str] = None) -> str:
    """A time in listings, in the campaign's zone and naming it: '03/12/2026 19:00 (Europe/Paris)'
    in French, '2026-12-03 19:00 (Europe/Paris)' in English. A naive ``moment`` is UTC;
    ``zone`` defaults to the ``[dbox] timezone`` of config.toml (Europe/Paris)."""
    from datetime import timezone
    from zoneinfo import ZoneInfo

    if zone is None:
        zone = str(_dbox_setting("timezone") or "Europe/Paris")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    local = moment.astimezone(ZoneInfo(zone))
    shown = f"{local:%d/%m/%Y %H:%M}" if current_language() == "fr" else f"{local:%Y-%m-%d %H:%M}"
    return f"{shown} ({zone})"
