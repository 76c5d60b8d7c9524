"""What each area holds on a person, as the areas declare it (``register_personal_data`` hook).

The privacy area presents, erases and ages personal data without importing the areas that keep
it: an area registers a :class:`Holding` (see docs/architecture.md). ``forget`` needs nothing
from a holding beyond its tables: every table about a person has a ``contact_id`` column, which
erasure empties in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dbox.plugins import hook


@dataclass(frozen=True)
class Holding:
    area: str                                   # the key of its section in ``privacy export``
    tables: tuple[str, ...]                     # tables the export presents itself
    export: Callable                            # (store, contact_id) -> dict, JSON-ready
    text_lines: Callable                        # (exported dict) -> [(French title, lines)]


def holdings() -> list[Holding]:
    """Every registered holding, in registration order (built-in areas first)."""
    found: list[Holding] = []

    def register(holding: Holding) -> None:
        if not isinstance(holding, Holding):
            raise TypeError(f"register_personal_data: {holding!r} is not a dbox.privacy.holdings.Holding")
        found.append(holding)

    hook().register_personal_data(register=register)
    return found
