"""What social adds to the filter language (docs/social.md), through the ``register_filter_terms``
hook: ``network:x`` (an identity on the network) and ``follower:x`` (follows the campaign there).
Compiled by :func:`dbox.store.social.compile_term`."""

from __future__ import annotations

from dbox.filters.nodes import Node, Social
from dbox.filters.parser import suggest
from dbox.filters.terms import FilterTerm
from dbox.hookspecs import hookimpl
from dbox.store.social import compile_term
from dbox.i18n import _

NETWORKS = ("x", "linkedin", "instagram", "facebook", "mastodon")


def parse_network(parser, prefix: str) -> Node:
    value = parser.prefixed_value(prefix, "a network")
    name = {"twitter": "x"}.get(value.value.lower(), value.value.lower())
    if name not in NETWORKS:
        raise parser.error(_('unknown network "{value}"').format(value=value.value), value.start, value.end,
                           suggestion=suggest(name, NETWORKS), hint=_("networks: {items}").format(
                                                                        items=', '.join(NETWORKS)))
    return Social(prefix, name, span=(value.start, value.end), source=parser.source)


@hookimpl
def register_filter_terms(register):
    register(FilterTerm("social", {"sqlite": compile_term, "postgresql": compile_term}, prefixes=("network", "follower"),
                        parse=parse_network, nodes=(Social,)))
