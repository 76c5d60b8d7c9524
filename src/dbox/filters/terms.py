"""The filter-term registry: terms an area adds to the filter language, without editing it.

An area implements the ``register_filter_terms`` hook (:mod:`dbox.hookspecs`) and registers a
:class:`FilterTerm`: the words it adds (a ``prefix:``, fields compared with operators, one-word
flags), how to parse what follows its prefix, and a compiler per store engine. The parser asks
this registry about words it does not know; the store's compiler hands it the nodes it does not
compile itself. See docs/architecture.md ("Adding a filter term") and docs/filters.md.

The language's own terms (the contact fields, ``tag:``, ``consent:``, ``reachable:``, ``in:``)
stay in :mod:`dbox.filters.fields` and :mod:`dbox.filters.parser`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dbox.plugins import hook

if TYPE_CHECKING:
    from dbox.filters.fields import Field
    from dbox.filters.nodes import Node


@dataclass(frozen=True)
class FilterTerm:
    """What one area adds to the filter language.

    - ``prefixes`` and ``parse``: ``prefix:VALUE`` terms; ``parse(parser, prefix)`` is called with
      the parser standing on the token after the colon and returns a node (see
      ``dbox.filters.parser._Parser.prefixed_value`` and ``.error`` for the pieces it can use).
    - ``fields`` (:class:`dbox.filters.fields.Field`) and ``aliases``: ``FIELD OP value`` terms,
      parsed and type-checked like contact fields, compiled by this term.
    - ``flags``: one-word conditions (word as written, folded -> canonical word): a ``Flag`` node.
    - ``nodes``: the node classes ``parse`` produces (``Flag`` when there are flags).
    - ``compile``: store engine (``"sqlite"``) -> ``(compiler, node) -> (sql, params)``, the SQL
      over the contact alias ``c``; ``compiler.error(message, node)`` reports at the node.
    """

    area: str
    compile: Mapping[str, Callable[..., tuple[str, list]]]
    prefixes: tuple[str, ...] = ()
    parse: Callable[..., Node] | None = None
    fields: tuple[Field, ...] = ()
    aliases: Mapping[str, str] = field(default_factory=dict)
    flags: Mapping[str, str] = field(default_factory=dict)
    nodes: tuple[type, ...] = ()


@dataclass
class Registry:
    terms: list[FilterTerm]
    prefixes: dict[str, FilterTerm]      # prefix -> term
    fields: dict[str, Field]             # field name -> field
    aliases: dict[str, str]
    flags: dict[str, str]
    by_field: dict[str, FilterTerm]
    by_node: dict[type, FilterTerm]
    by_flag: dict[str, FilterTerm] = field(default_factory=dict)   # Flag nodes: the term of each word


_registry: Registry | None = None


def registry() -> Registry:
    """Every registered term, read once from the plugin manager (``reload()`` reads again)."""
    global _registry
    if _registry is None:
        _registry = _collect()
    return _registry


def reload() -> None:
    """Forget the registry, for a plugin registered or unregistered meanwhile (tests)."""
    global _registry
    _registry = None


def _collect() -> Registry:
    reg = Registry([], {}, {}, {}, {}, {}, {})

    def register(term: FilterTerm) -> None:
        if not isinstance(term, FilterTerm):
            raise TypeError(f"register_filter_terms: {term!r} is not a dbox.filters.terms.FilterTerm")
        for prefix in term.prefixes:
            if prefix in reg.prefixes:
                raise ValueError(f"filter prefix {prefix!r} registered twice ({reg.prefixes[prefix].area}, {term.area})")
            reg.prefixes[prefix] = term
        for f in term.fields:
            reg.fields[f.name] = f
            reg.by_field[f.name] = term
        reg.aliases.update(term.aliases)
        reg.flags.update(term.flags)
        for canonical in term.flags.values():
            reg.by_flag[canonical] = term
        for cls in term.nodes:
            reg.by_node[cls] = term
        reg.terms.append(term)

    hook().register_filter_terms(register=register)
    return reg


def for_node(node) -> FilterTerm | None:
    """The registered term that compiles ``node``, or None for the language's own nodes."""
    reg = registry()
    term = reg.by_flag.get(node.name) if type(node).__name__ == "Flag" else None
    term = term or reg.by_node.get(type(node))
    if term is None:
        term = reg.by_field.get(getattr(node, "field", None))
    return term


def compile_node(engine: str, compiler, node) -> tuple[str, list] | None:
    """``(sql, params)`` for a registered term's node on a store engine; None when no term claims it."""
    term = for_node(node)
    if term is None:
        return None
    if engine not in term.compile:
        raise NotImplementedError(f"the {term.area} filter terms have no compiler for the {engine} store")
    return term.compile[engine](compiler, node)
