"""Numbers as French readers expect them: ``12 345``, ``12,5 %``-style grouping with no-break spaces.

A leaf helper: the report, the printed summary and ``dbox stats`` all format through it."""

from __future__ import annotations


def format_number(value) -> str:
    """12345 -> '12 345' (French grouping, no-break space); None -> '–'."""
    if value is None:
        return "–"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}".replace(",", "\u00a0")
    return f"{int(value):,}".replace(",", "\u00a0")


def format_percent(value) -> str:
    return "–" if value is None else f"{value:.1f}\u00a0%"


def format_money(value, currency=None) -> str:
    return "–" if value is None else f"{value:,.2f}".replace(",", "\u00a0") + ("\u00a0" + currency if currency else "")
