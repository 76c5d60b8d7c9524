"""The filter language's syntax tree, and its canonical text.

Nodes are frozen dataclasses. Their positions (``span``: start and end offsets in the source
text) and their ``source`` are kept for error messages but left out of equality, so two
expressions that mean the same compare equal: ``parse(to_text(tree)) == tree`` for every tree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dbox.filters.errors import Source
from dbox.filters.fields import KEYWORDS
from dbox.filters.lexer import BARE, NUMBER
from dbox.i18n import _


@dataclass(frozen=True)
class Node:
    span: tuple[int, int] = field(default=(0, 0), compare=False, kw_only=True, repr=False)
    source: Source | None = field(default=None, compare=False, kw_only=True, repr=False)


# -- values ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Literal(Node):
    """A value as written: ``kind`` is what the field made of it (text, number or date)."""

    text: str
    kind: str = "text"   # text | number | date


@dataclass(frozen=True)
class RelativeDate(Node):
    """``30 days ago``: a moment counted back from now when the filter runs."""

    amount: int
    unit: str            # minute hour day week month year


@dataclass(frozen=True)
class DateWord(Node):
    """``today``, ``yesterday``, ``now``."""

    word: str


Value = Literal | RelativeDate | DateWord


# -- predicates and logic ----------------------------------------------------------------------

_FIELD_SPAN = dict(default=(0, 0), compare=False, kw_only=True, repr=False)


@dataclass(frozen=True)
class Compare(Node):
    field: str
    op: str
    value: Value
    field_span: tuple[int, int] = field(**_FIELD_SPAN)


@dataclass(frozen=True)
class InList(Node):
    field: str
    values: tuple[Value, ...]
    negated: bool = False
    field_span: tuple[int, int] = field(**_FIELD_SPAN)


@dataclass(frozen=True)
class IsEmpty(Node):
    field: str
    negated: bool = False
    field_span: tuple[int, int] = field(**_FIELD_SPAN)


@dataclass(frozen=True)
class Tag(Node):
    name: str


@dataclass(frozen=True)
class Consent(Node):
    channel: str


@dataclass(frozen=True)
class Reachable(Node):
    channel: str


@dataclass(frozen=True)
class Social(Node):
    kind: str        # network | follower
    network: str


@dataclass(frozen=True)
class ActionRef(Node):
    """``attended:ACTION`` or ``invited:ACTION``: an action's id or title (dbox.organizing)."""

    prefix: str          # attended | invited
    name: str


@dataclass(frozen=True)
class Flag(Node):
    """A condition of one word: ``volunteer``."""

    name: str


@dataclass(frozen=True)
class SegmentRef(Node):
    name: str


@dataclass(frozen=True)
class And(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not(Node):
    item: Node


PREDICATES = (Compare, InList, IsEmpty, Tag, Consent, Reachable, SegmentRef, Social)


PREDICATES = (*PREDICATES, ActionRef, Flag)


def conjoin(items) -> Node | None:
    """``a and b and ...`` flattened; None for no items."""
    flat: list[Node] = []
    for item in items:
        if item is None:
            continue
        flat.extend(item.items if isinstance(item, And) else (item,))
    if not flat:
        return None
    return flat[0] if len(flat) == 1 else And(tuple(flat))


# -- canonical text ----------------------------------------------------------------------------

def quote(text: str) -> str:
    """A value as the language reads it back: bare when it is one plain word, else in quotes."""
    if BARE.fullmatch(text) and text.lower() not in KEYWORDS and not (text[0] in "+-" and not text[1].isdigit()):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def value_text(value: Value) -> str:
    if isinstance(value, RelativeDate):
        return f"{value.amount} {value.unit}{'' if value.amount == 1 else 's'} ago"
    if isinstance(value, DateWord):
        return value.word
    if value.kind in ("number", "date"):
        return value.text
    return quote(value.text)


def to_text(node: Node | None) -> str:
    """The canonical text of a tree (empty for None: every contact)."""
    if node is None:
        return ""
    if isinstance(node, And):
        return " and ".join(f"({to_text(i)})" if isinstance(i, Or) else to_text(i) for i in node.items)
    if isinstance(node, Or):
        return " or ".join(to_text(i) for i in node.items)
    if isinstance(node, Not):
        inner = to_text(node.item)
        return f"not ({inner})" if isinstance(node.item, (And, Or)) else f"not {inner}"
    if isinstance(node, Compare):
        value = value_text(node.value)
        if (node.field.startswith("field.") and node.op in ("<", "<=", ">", ">=") and isinstance(node.value, Literal)
                and node.value.kind == "text" and NUMBER.fullmatch(node.value.text)):
            value = f'"{node.value.text}"'   # quoted, it stays text: compared as text, not as a number
        return f"{node.field} {node.op} {value}"
    if isinstance(node, InList):
        values = ", ".join(value_text(v) for v in node.values)
        return f"{node.field} {'not in' if node.negated else 'in'} ({values})"
    if isinstance(node, IsEmpty):
        return f"{node.field} is {'not empty' if node.negated else 'empty'}"
    if isinstance(node, Tag):
        return f"tag:{quote(node.name)}"
    if isinstance(node, Consent):
        return f"consent:{node.channel}"
    if isinstance(node, Reachable):
        return f"reachable:{node.channel}"
    if isinstance(node, Social):
        return f"{node.kind}:{node.network}"
    if isinstance(node, ActionRef):
        return f"{node.prefix}:{quote(node.name)}"
    if isinstance(node, Flag):
        return node.name
    if isinstance(node, SegmentRef):
        return f"in:{quote(node.name)}"
    if callable(getattr(node, "to_text", None)):   # an area's own node (dbox.filters.terms)
        return node.to_text()
    raise TypeError(f"not a filter node: {node!r}")


def tree_lines(node: Node | None) -> list[str]:
    """An indented outline of the tree, for ``dbox segment explain``."""
    if node is None:
        return [_("(every contact)")]
    lines: list[str] = []

    def walk(n: Node, depth: int) -> None:
        pad = "  " * depth
        if isinstance(n, (And, Or)):
            lines.append(pad + ("and" if isinstance(n, And) else "or"))
            for item in n.items:
                walk(item, depth + 1)
        elif isinstance(n, Not):
            lines.append(pad + "not")
            walk(n.item, depth + 1)
        else:
            lines.append(pad + to_text(n))

    walk(node, 0)
    return lines


def walk(node: Node | None):
    """Every node of the tree, depth first."""
    if node is None:
        return
    yield node
    if isinstance(node, (And, Or)):
        for item in node.items:
            yield from walk(item)
    elif isinstance(node, Not):
        yield from walk(node.item)
