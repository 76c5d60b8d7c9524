"""What organizing adds to the filter language (docs/organizing.md), through the
``register_filter_terms`` hook: ``attended:ACTION``, ``invited:ACTION``, ``volunteer``, and the
fields ``attended.count``, ``support`` and ``last_interaction``. Compiled by
:func:`dbox.store.organizing.compile_term`."""

from __future__ import annotations

from dbox.filters.fields import EQUALITY, KEYWORDS, ORDER, Field
from dbox.filters.nodes import ActionRef, Flag, Node
from dbox.filters.terms import FilterTerm
from dbox.hookspecs import hookimpl
from dbox.store.organizing import compile_term
from dbox.i18n import _

FIELDS = (
    Field("attended.count", "number", EQUALITY | ORDER, allows_empty=False,
          help="how many actions the contact came to"),
    Field("support", "number", EQUALITY | ORDER,
          help="latest support level recorded: 1 (opposed) to 5 (strong supporter)"),
    Field("last_interaction", "date", EQUALITY | ORDER, allows_in=False,
          help="the last time the person was reached: a door, a call, a meeting, an action attended"),
)
ALIASES = {"soutien": "support", "derniere_interaction": "last_interaction", "last_contact": "last_interaction"}
# Conditions written as one word; value: the canonical word.
FLAGS = {"volunteer": "volunteer", "benevole": "volunteer"}


def parse_action_ref(parser, prefix: str) -> Node:
    """``attended:ACTION`` / ``invited:ACTION``: the action's id or title (the store checks it)."""
    value = parser.tok
    if value.kind not in ("WORD", "NUMBER", "STRING") or not value.value.strip() or \
            (value.kind == "WORD" and value.value.lower() in KEYWORDS):
        raise parser.error(_('expected an action (its id or its title) after "{prefix}:"').format(prefix=prefix), value.start, value.end,
                           hint=_('{prefix}:12 or {prefix}:"Porte-à-porte quartier Mistral"').format(prefix=prefix))
    parser.advance()
    return ActionRef(prefix, " ".join(value.value.split()), span=(value.start, value.end), source=parser.source)


@hookimpl
def register_filter_terms(register):
    register(FilterTerm("organizing", {"sqlite": compile_term, "postgresql": compile_term}, prefixes=("attended", "invited"),
                        parse=parse_action_ref, fields=FIELDS, aliases=ALIASES, flags=FLAGS,
                        nodes=(ActionRef, Flag)))
