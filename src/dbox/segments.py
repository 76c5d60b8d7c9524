"""Segments: choosing contacts with a filter expression, saved segments, bulk tagging.

The entry point is :func:`select`: an expression, a saved segment and shortcut flags, combined
with ``and``, become a :class:`Selection` — a SQL ``WHERE`` clause over ``contacts c`` with its
parameters — that ``dbox.store.contacts.iter_contacts`` / ``count_contacts`` (or any other store
function taking a WHERE over ``c``) runs::

    from dbox import segments
    from dbox.store.contacts import count_contacts, iter_contacts

    sel = segments.select(store, "tag:militant and reachable:sms", shortcuts={"canton": "Grenoble-1"})
    count_contacts(store, sel.where, sel.params)
    for row in iter_contacts(store, ["id", "mobile"], sel.where, sel.params): ...

The language is documented in docs/filters.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from dbox.errors import ConflictError, DboxError, InputError
from dbox.filters import FilterSyntaxError, Source, parse, to_text
from dbox.filters import fields as F
from dbox.filters.nodes import Compare, InList, Literal, Node, SegmentRef, conjoin, walk
from dbox.filters.parser import flag_value, suggest
from dbox.store import filters as store_filters
from dbox.store import segments as store_segments
from dbox.store.db import Store
from dbox.files import atomic_private
from dbox.filters import tree_lines
from dbox.filters.nodes import And, Not, Or, quote, Tag
from dbox.privacy.audit import record
from dbox.output import FORMATS, emit, phone_style, with_phone_format, write_csv, write_json
from dbox.store.contacts import count_contacts, iter_contacts, check_columns
from dbox.i18n import _

# Shortcut flags and the field each stands for (``--canton X`` is ``canton = X``).
SHORTCUTS = {"canton": "canton", "commune": "commune", "departement": "departement",
             "circo": "circonscription", "tag": "tag", "reachable": "reachable"}
_SEGMENT_NAME = re.compile(r"\w[\w.\-]{0,63}")
_TAG_FORBIDDEN = re.compile(r"[,;|]")
# Fields whose values say who a person is: left out of the audit log.
_PERSONAL = {"first_name", "last_name", "email", "mobile", "fixed", "address", "id"}


@dataclass
class Selection:
    where: str          # SQL boolean expression over alias `c` (the contacts table), placeholders only
    params: list        # its parameters
    expression: str     # the canonical text of the whole filter (flags and saved segments folded in)
    expanded: str = ""                                   # with saved segments replaced by their text
    tree: Node | None = field(default=None, repr=False)  # the parsed filter
    splits: list = field(default_factory=list, repr=False)
    segments: list[str] = field(default_factory=list)    # saved segments used (folded names)
    now: datetime | None = field(default=None, repr=False)
    driving_where: str | None = field(default=None, repr=False)   # store.filters.Compiled.driving_where

    @property
    def is_everyone(self) -> bool:
        return self.tree is None


def build_tree(store: Store | None, expression: str | None = None, *, segment: str | None = None,
               shortcuts: dict[str, str] | None = None) -> Node | None:
    """The syntax tree of expression AND saved segment AND shortcut flags (None: every contact)."""
    parts: list[Node | None] = []
    if segment is not None and segment.strip():
        parts.append(flag_value("--segment", "in", segment))
    if expression is not None and expression.strip():
        custom = (lambda: store_filters.custom_field_names(store)) if store is not None else None
        parts.append(parse(expression, custom_fields=custom))
    for name, value in (shortcuts or {}).items():
        if name not in SHORTCUTS:
            raise InputError(_("unknown shortcut {name!r} (shortcuts: {items})").format(
                                 name=name, items=', '.join(SHORTCUTS)))
    for name in SHORTCUTS:  # a fixed order, so the canonical text does not depend on the caller's
        value = (shortcuts or {}).get(name)
        if value is not None:
            parts.append(flag_value(f"--{name}", SHORTCUTS[name], str(value)))
    return conjoin(parts)


def select(store: Store, expression: str | None = None, *, segment: str | None = None,
           shortcuts: dict[str, str] | None = None, now: datetime | None = None) -> Selection:
    """The contacts an expression, a saved segment and shortcut flags select, combined with ``and``.

    Nothing given selects every contact (``where="1"``). Raises ``FilterSyntaxError`` (an
    ``InputError``) for a bad expression or a value that cannot match, with its position.
    """
    tree = build_tree(store, expression, segment=segment, shortcuts=shortcuts)
    return selection_of(store, tree, now=now)


def selection_of(store: Store, tree: Node | None, *, now: datetime | None = None) -> Selection:
    compiled = store_filters.compile_filter(store, tree, now=now)
    if compiled.needs_keys:
        store_filters.refresh_keys(store)
    if compiled.needs_hashes:
        store_filters.refresh_hashes(store)
    return Selection(compiled.where, compiled.params, to_text(tree), to_text(compiled.expanded), tree,
                     compiled.splits, compiled.segments, now, compiled.driving_where)


def count(store: Store, selection: Selection) -> int:
    return count_contacts(store, selection.driving_where or selection.where, selection.params)


def rows(store: Store, selection: Selection, columns: list[str], limit: int | None = None):
    return iter_contacts(store, columns, selection.driving_where or selection.where, selection.params, limit=limit)


def export(store: Store, selection: Selection, columns: list[str], *, fmt: str = "csv",
           output=None, excel: bool = False, limit: int | None = None, command: str = "segment export",
           phone_format: str | None = None) -> int:
    """Write the selection's contacts (streamed) as CSV or JSON to ``output`` (stdout when None);
    returns the row count. A file is written under a temporary name and renamed when complete, so
    a failed export leaves no half-written file. CSV cells are made safe for spreadsheets and
    phones written in ``phone_format`` (see dbox.output). The export is recorded in the audit log."""
    from pathlib import Path

    check_columns(list(columns))
    if fmt not in FORMATS:
        raise InputError(_("unknown format {fmt!r}: choose one of {items}").format(
                             fmt=fmt, items=', '.join(FORMATS)))
    if excel and fmt == "json":
        raise InputError(_("--excel is for CSV files, not JSON"))
    if fmt == "table":
        fmt = "csv"
    style = phone_style(phone_format, excel)
    if output is None:
        written = emit(rows(store, selection, columns, limit), columns, fmt=fmt, excel=excel, phone_format=style)
    else:
        output = Path(output)
        if output.is_dir():
            raise InputError(_("{output} is a folder: give a file name").format(output=output))
        if not output.parent.exists():
            raise InputError(_("{parent}: no such folder").format(parent=output.parent))

        with atomic_private(output, "w", encoding="utf-8-sig" if excel else "utf-8", newline="") as fh:
            source = with_phone_format(rows(store, selection, columns, limit), columns, style)
            written = write_json(source, columns, fh) if fmt == "json" else write_csv(source, columns, fh, excel=excel)
    record_audit(store, command, written, selection, format=fmt + (" excel" if excel else ""),
                 columns=",".join(columns))
    return written


def left_out(store: Store, selection: Selection) -> list[str]:
    """Warnings for canton and circonscription conditions: contacts in communes split between
    several cantons (circonscriptions) have none of their own and are not matched. Says how many
    contacts the condition would catch if such communes counted, and how to include them."""
    notes = []
    for index, split in enumerate(selection.splits):
        if not split.positive:
            continue
        communes = store_filters.split_commune_names(store, split)
        if not communes:
            continue
        where, params = store_filters.compile_left_out(store, selection.tree, index, now=selection.now)
        missed = count_contacts(store, where, params)
        if not missed:
            continue
        what = "cantons" if split.kind == "canton" else "circonscriptions"
        shown = ", ".join(communes[:5]) + (f" and {len(communes) - 5} more" if len(communes) > 5 else "")
        include = " or ".join(f"commune = {_quote(c)}" for c in communes[:3])
        notes.append(f'{split.kind} {split.label}: {missed} more contact{"s" if missed > 1 else ""} '
                     f"live{'s' if missed == 1 else ''} in communes split between several {what} ({shown}) "
                     f"and {'is' if missed == 1 else 'are'} not included; add \"or {include}\" to include them")
    return notes


def explain(store: Store, selection: Selection) -> dict:
    """What ``dbox segment explain`` shows: the parsed form, the SQL, its parameters, the plan."""
    expanded = parse(selection.expanded) if selection.expanded else None
    return {
        "expression": selection.expression,
        "expanded": selection.expanded,
        "tree": tree_lines(expanded if selection.segments else selection.tree),
        "where": selection.where,
        "params": selection.params,
        "plan": store_filters.explain_plan(store, selection.where, selection.params),
    }


def audit_text(selection: Selection) -> str:
    """The expression as the audit log may keep it: values that identify a person are masked."""
    tree = selection.tree
    if tree is None:
        return ""
    if not any(getattr(n, "field", "").startswith(F.CUSTOM_PREFIX) or getattr(n, "field", None) in _PERSONAL
               for n in walk(tree)):
        return selection.expression

    def mask(node):
        if isinstance(node, (And, Or)):
            return type(node)(tuple(mask(i) for i in node.items))
        if isinstance(node, Not):
            return Not(mask(node.item))
        personal = getattr(node, "field", None) in _PERSONAL or getattr(node, "field", "").startswith(F.CUSTOM_PREFIX)
        if personal and isinstance(node, Compare):
            return Compare(node.field, node.op, Literal("…"))
        if personal and isinstance(node, InList):
            return InList(node.field, (Literal("…"),), node.negated)
        return node

    return to_text(mask(tree))


def record_audit(store: Store, command: str, count_: int, selection: Selection, **extra) -> None:
    """One row in the audit log (dbox.privacy.audit)."""
    detail = {"filter": audit_text(selection), **{k: v for k, v in extra.items() if v is not None}}
    record(store, command, count_, detail)


def _quote(text: str) -> str:
    return quote(text)


# -- saved segments ---------------------------------------------------------------------------

@dataclass
class SegmentInfo:
    name: str
    expression: str
    description: str | None
    created_at: str
    updated_at: str
    count: int | None = None
    expanded: str | None = None


def check_segment_name(name: str) -> str:
    name = name.strip()
    if not _SEGMENT_NAME.fullmatch(name) or not any(ch.isalnum() for ch in name):
        raise InputError(_('"{name}" is not a segment name: use letters, digits, "-", "_" or "." (at most 64, starting with a letter or digit)').format(
                             name=name), hint=_("e.g. rural, elus-38, militants_2026"))
    if name.lower() in F.KEYWORDS:
        raise InputError(_('"{name}" is a keyword of the filter language, not a segment name').format(name=name))
    return name


def _get(store: Store, name: str) -> store_segments.SavedSegment:
    found = store_segments.get(store, name)
    if found is None:
        names = [s.name for s in store_segments.list_all(store)]
        close = suggest(name, names)
        message = _('no saved segment "{name}"').format(name=name)
        if close:
            message += _(' — did you mean "{close}"?').format(close=close)
        raise InputError(message, hint=_("dbox segment list shows them"))
    return found


def _references(tree: Node | None) -> set[str]:
    return {store_segments.segment_key(n.name) for n in walk(tree) if isinstance(n, SegmentRef)}


def save_segment(store: Store, name: str, expression: str | None = None, *, segment: str | None = None,
                 shortcuts: dict[str, str] | None = None, description: str | None = None,
                 replace: bool = False) -> SegmentInfo:
    """Save (or with ``replace`` change) a named segment; the definition is checked first: it must
    compile against this store and must not refer to itself, directly or through other segments."""
    name = check_segment_name(name)
    tree = build_tree(store, expression, segment=segment, shortcuts=shortcuts)
    if tree is None:
        raise InputError(_("a saved segment needs an expression or a shortcut flag"),
                         hint=_("dbox segment save rural 'commune.population < 3500'"))
    key = store_segments.segment_key(name)
    existing = store_segments.get(store, key)
    if existing is not None and not replace:
        raise InputError(_('segment "{name}" already exists: {expression}').format(
                             name=existing.name, expression=existing.expression),
                         hint=_("add --replace to change it, or choose another name"))
    store_filters.compile_filter(store, tree, segment_override={key: tree})
    text = to_text(tree)
    try:
        with store.transaction(immediate=True):
            if existing is None:
                store_segments.insert(store, name, text, description)
            else:
                store_segments.update(store, existing.id, name=name, expression=text, description=description)
    except ConflictError:   # saved by another process meanwhile
        raise InputError(_('segment "{name}" already exists').format(name=name), hint=_("add --replace to change it")) from None
    return segment_info(store, name, with_count=True)


def segment_info(store: Store, name: str, *, with_count: bool = True) -> SegmentInfo:
    row = _get(store, name)
    info = SegmentInfo(row.name, row.expression, row.description, row.created_at, row.updated_at)
    if with_count:
        selection = select(store, segment=row.name)
        info.count = count(store, selection)
        info.expanded = selection.expanded
    return info


def list_segments(store: Store, *, with_counts: bool = True) -> list[SegmentInfo]:
    """Every saved segment, with its live count (None when a segment no longer compiles)."""
    infos = []
    for row in store_segments.list_all(store):
        info = SegmentInfo(row.name, row.expression, row.description, row.created_at, row.updated_at)
        if with_counts:
            try:
                info.count = count(store, select(store, segment=row.name))
            except DboxError:   # a stored segment never stops the list (InputError, a store error)
                info.count = None
        infos.append(info)
    return infos


def users_of(store: Store, name: str) -> list[str]:
    """Saved segments whose definition uses ``in:name``."""
    key = store_segments.segment_key(name)
    users = []
    for row in store_segments.list_all(store):
        try:
            tree = parse(Source(row.expression, kind="segment", name=row.name))
        except FilterSyntaxError:
            continue
        if key in _references(tree) and row.key != key:
            users.append(row.name)
    return users


def delete_segment(store: Store, name: str) -> store_segments.SavedSegment:
    row = _get(store, name)
    users = users_of(store, row.name)
    if users:
        raise InputError(_('segment "{name}" is used by {items}').format(name=row.name, items=', '.join(users)),
                         hint=_("change or delete those segments first"))
    with store.transaction(immediate=True):
        store_segments.delete(store, row.id)
    return row


def rename_segment(store: Store, old: str, new: str) -> list[str]:
    """Rename a segment and rewrite the ``in:old`` of the segments that use it; returns their names."""
    row = _get(store, old)
    new = check_segment_name(new)
    new_key = store_segments.segment_key(new)
    other = store_segments.get(store, new_key)
    if other is not None and other.id != row.id:
        raise InputError(_('segment "{name}" already exists').format(name=other.name), hint=_("choose another name"))
    old_key = row.key
    rewrites = []
    for saved in store_segments.list_all(store):
        if saved.id == row.id:
            continue
        tree = parse(Source(saved.expression, kind="segment", name=saved.name))
        if old_key in _references(tree):
            rewrites.append((saved, to_text(_rename_refs(tree, old_key, new))))
    try:
        with store.transaction(immediate=True):
            store_segments.update(store, row.id, name=new)
            for saved, text in rewrites:
                store_segments.update(store, saved.id, expression=text)
    except ConflictError:   # taken by another process meanwhile
        raise InputError(_('segment "{new}" already exists').format(new=new), hint=_("choose another name")) from None
    return [saved.name for saved, _unused in rewrites]


def _rename_refs(node: Node, old_key: str, new: str) -> Node:
    if isinstance(node, (And, Or)):
        return type(node)(tuple(_rename_refs(i, old_key, new) for i in node.items))
    if isinstance(node, Not):
        return Not(_rename_refs(node.item, old_key, new))
    if isinstance(node, SegmentRef) and store_segments.segment_key(node.name) == old_key:
        return SegmentRef(new)
    return node


# -- bulk tagging -----------------------------------------------------------------------------

def check_tag_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise InputError(_("a tag needs a name"))
    if _TAG_FORBIDDEN.search(name):
        raise InputError(_('"{name}" is not a tag name: "," ";" and "|" separate tags in imported files').format(
                             name=name),
                         hint=_("use one tag per command"))
    if len(name) > 100:
        raise InputError(_("a tag name has at most 100 characters"))
    return name


def tag_contacts(store: Store, tag: str, selection: Selection) -> tuple[int, int]:
    """Give ``tag`` to every contact of the selection; returns (newly tagged, already tagged).
    The tag is created when new ("Porte-à-porte" and "porte-a-porte" are one tag)."""
    tag = check_tag_name(tag)
    with store.transaction(immediate=True):
        added, already = store_segments.add_tag(store, tag, selection.where, selection.params)
        record_audit(store, "tag add", added, selection, tag=tag)
    return added, already


def require_tag(store: Store, tag: str) -> int:
    """The id of an existing tag; an error naming the closest tag otherwise."""
    tid = store_segments.tag_id(store, tag)
    if tid is None:
        close = suggest(tag, store_segments.tag_names(store))
        raise InputError(_('unknown tag "{tag}"').format(tag=tag) + (_(' — did you mean "{close}"?').format(close=close) if close else ""),
                         hint=_("dbox tag list shows the tags"))
    return tid


def count_with_tag(store: Store, selection: Selection, tag: str) -> int:
    """How many contacts of the selection bear ``tag`` (what ``untag_contacts`` would change)."""
    return count(store, selection_of(store, conjoin([selection.tree, Tag(tag)]), now=selection.now))


def untag_contacts(store: Store, tag: str, selection: Selection) -> int:
    """Take ``tag`` away from every contact of the selection; returns how many lost it."""
    tid = require_tag(store, tag)
    with store.transaction(immediate=True):
        removed = store_segments.remove_tag(store, tid, selection.where, selection.params)
        record_audit(store, "tag remove", removed, selection, tag=tag)
    return removed


def tag_counts(store: Store) -> list[tuple[str, int]]:
    return store_segments.tag_counts(store)


__all__ = ["Selection", "select", "build_tree", "selection_of", "count", "rows", "left_out", "explain",
           "save_segment", "segment_info", "list_segments", "delete_segment", "rename_segment", "users_of",
           "tag_contacts", "untag_contacts", "require_tag", "count_with_tag", "tag_counts", "export", "SHORTCUTS"]
