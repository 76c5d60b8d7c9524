"""The hooks through which an area contributes to features that span areas (one short file: the
area API). Channels have their own hook, ``dbox.channels.hookspecs.register_channels``.

Each hook is called with a ``register`` callback and returns nothing; the registry that reads it
checks what it is given. Built-in areas implement these hooks exactly as a third-party package
would (see :mod:`dbox.plugins`), so the built-ins prove the API.
"""

import pluggy

hookspec = pluggy.HookspecMarker("dbox")
hookimpl = pluggy.HookimplMarker("dbox")


@hookspec
def register_filter_terms(register):
    """Add terms to the filter language: call ``register(term)`` with a
    :class:`dbox.filters.terms.FilterTerm` for each one (a field name or a ``prefix:``, how to
    parse it, and a compiler per store engine)."""


@hookspec
def register_personal_data(register):
    """Declare personal data an area holds: call ``register(holding)`` with a
    :class:`dbox.privacy.holdings.Holding` (its tables, how to export them for a person), so that
    ``dbox privacy export`` presents it and ``forget``/retention know it is there."""


@hookspec
def register_stats_sections(register):
    """Add a section to ``dbox stats`` and ``dbox report``: call ``register(section)`` with a
    :class:`dbox.stats_sections.StatsSection` (its name, where it goes among the others, and a
    function of a :class:`dbox.stats_sections.StatsQuery` returning a JSON-ready dictionary)."""


@hookspec
def register_web_routes(register):
    """Add pages or endpoints to ``dbox serve``: call ``register(route)`` with a Starlette
    ``Route`` or ``Mount`` for each (import Starlette inside the hook: it is only called when the
    server starts). A route reaches the store through ``dbox.serve.app.in_store``; its path
    template, not the requested path, is what the access log shows (docs/serve.md)."""
