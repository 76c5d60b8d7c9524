"""The registry of ``dbox stats`` sections that other areas contribute (``followers`` from social,
``actions`` from organizing), read through the ``register_stats_sections`` hook.

``dbox stats`` and ``dbox report`` compute their own sections (summary, areas, growth, campaigns)
and ask each registered :class:`StatsSection` for the rest, so insights never imports the areas it
reports on (docs/architecture.md). A section's ``compute`` receives a :class:`StatsQuery` and
returns a JSON-ready dictionary, stored under the section's ``name`` in the result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dbox.plugins import hook


@dataclass(frozen=True)
class StatsQuery:
    """What a section is asked about: the selection (a SQL condition on ``contacts`` and its
    parameters), the start of the period (ISO UTC, or None for all time) and its unit."""
    store: object
    where: str
    params: list
    since: str | None
    period: str
    selection_given: bool


@dataclass(frozen=True)
class StatsSection:
    name: str                                  # the key in the result and the --section word
    compute: Callable[[StatsQuery], dict]
    position: int                              # order among all sections (built-in ones: 10, 20, 30, 50)
    note: str | None = None                    # said when a selection is given but does not apply


def stats_sections() -> list[StatsSection]:
    """Every registered section, in the order of their positions."""
    found: list[StatsSection] = []

    def register(section: StatsSection) -> None:
        if not isinstance(section, StatsSection):
            raise TypeError(f"register_stats_sections: {section!r} is not a dbox.stats_sections.StatsSection")
        found.append(section)

    hook().register_stats_sections(register=register)
    return sorted(found, key=lambda s: s.position)
