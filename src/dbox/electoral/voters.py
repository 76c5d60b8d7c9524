"""Selecting voters on the roll, for walk lists (door-to-door is the roll's lawful use).

The filter language chooses them with the CNIL's allowed criteria only: ``bureau``, ``age``,
``sex`` and ``registered`` (matched to a contact), joined with and, or, not. Birthplace,
nationality and the sound of a name are refused; so is anything else (tags, consent...), which
belongs to contacts, not to the roll. Voters are listed, never messaged.
"""

from __future__ import annotations

from datetime import datetime, timezone

from dbox.filters import parse
from dbox.store import electoral as se


def select(store, expression: str | None, now: datetime | None = None) -> tuple[str, list]:
    """(SQL over ``voters v``, params) for ``expression``; raises FilterSyntaxError."""
    return se.compile_voters(store, parse(expression), now or datetime.now(timezone.utc))


COLUMNS = ("bureau", "order", "name", "first_names", "number", "street", "complement", "contact")


def rows(store, expression: str | None, now: datetime | None = None):
    where, params = select(store, expression, now)
    return se.selected_voters(store, where, params)


def count(store, expression: str | None, now: datetime | None = None) -> int:
    where, params = select(store, expression, now)
    return se.count_selected_voters(store, where, params)
