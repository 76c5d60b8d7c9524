"""Compiling a filter's syntax tree into a parameterized SQL ``WHERE`` clause over ``contacts c``.

No text from the user is ever put into the SQL: every value becomes a ``?`` parameter (a list of
values becomes one parameter: JSON read with ``json_each`` on SQLite, an array compared with
``= ANY`` on PostgreSQL: ``store.values_in``), so the SQL depends only on the shape of the
expression, never on its values. Values that cannot match anything (an unknown canton, commune,
tag, custom field or saved segment) are reported with their position, like syntax errors.

Logic: every condition is true or false, never unknown. SQL's NULL is treated as false, and ``not``
compiles to ``(x) IS NOT 1`` (``IS NOT TRUE`` on PostgreSQL), so ``not canton = X`` includes contacts without a canton, exactly as
``canton != X`` does.

The rules for each field are in docs/filters.md; this module is their implementation.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from dbox.filters import fields as F
from dbox.filters import terms
from dbox.filters.errors import FilterSyntaxError, Source
from dbox.filters.keys import commune_key, contact_keys, text_key
from dbox.filters.nodes import (
    And, Compare, Consent, DateWord, InList, IsEmpty, Node, Not, Or, Reachable,
    RelativeDate, SegmentRef, Tag, Value,
)
from dbox.filters.parser import parse, suggest
from dbox.store.db import Store
from dbox.text import fold
from dbox.geo import _ARRONDISSEMENT, commune_key as commune_words
from dbox.normalize import ValueRejected, normalize_phone, normalize_civility
from dbox.store import segments as saved
from dbox.store.suppressions import Hasher
from dbox.i18n import _, grouped

_PREFIX_END = "\U0010ffff"       # every string that starts with p sorts before p + this
_INSEE = re.compile(r"\d[\dAB]\d{3}")
_PHONE_NOISE = re.compile(r"[\s.\-/()\u00a0]")
# Paris, Lyon and Marseille: the commune and its arrondissements (INSEE code prefixes).
_PLM = {"75056": "751", "69123": "6938", "13055": "132"}
_BATCH = 5000
# A saved segment may use others (in:NAME), which may use others: a definition of a few words can
# stand for an exponential number of conditions (l10 = in:l9 or in:l9). Past this many conditions
# once every in: is replaced, the expression is refused (before a segment using it is saved).
MAX_CONDITIONS = 10_000
# SQLite parses "a OR b OR c ..." into a tree as deep as the chain is long and refuses past 1000
# levels ("Expression tree is too large"): long chains are written as nested groups of this many.
_FLAT_CHAIN = 32

# Columns of contacts and how a kind of field reads them.
_NAME_COLUMNS = {"first_name": ("c.first_name", "c.first_name_key"),
                 "last_name": ("c.last_name", "c.last_name_key"),
                 "address": ("c.address", "c.address_key")}
_PLAIN_COLUMNS = {"email": "c.email", "mobile": "c.mobile", "fixed": "c.fixed", "postal_code": "c.postal_code",
                  "commune_insee": "c.commune_insee", "phone_region": "c.phone_region", "civility": "c.civility",
                  "geo_status": "c.geo_status", "departement": "c.departement",
                  "circonscription": "c.circonscription", "created_at": "c.created_at",
                  "updated_at": "c.updated_at", "id": "c.id"}
_NEGATED = {"!=": "=", "!~": "~"}
# (The unary + keeps SQLite from reading the canton index for "IS NULL": the commune index is the one.)
_SPLIT_CANTON = ("({plus}c.canton_code IS NULL AND c.commune_insee IN (SELECT insee FROM geo_commune_cantons "
                 "WHERE {codes}))")
_SPLIT_CIRCO = ("({plus}c.circonscription IS NULL AND c.commune_insee IN (SELECT insee FROM "
                "geo_commune_circonscriptions WHERE {codes}))")


@dataclass
class Split:
    """A canton or circonscription condition: contacts in communes split over several of them have
    no canton (circonscription) and are not matched; ``left out`` counts them."""

    kind: str                 # canton | circonscription
    label: str                # the value as written
    codes: list[str]
    positive: bool            # not under a "not": then "left out" makes sense


@dataclass
class Compiled:
    where: str
    params: list
    expanded: Node | None                 # the tree with saved segments replaced by their definitions
    needs_keys: bool = False              # uses folded keys (refresh_keys before running)
    needs_hashes: bool = False            # uses address hashes (refresh_hashes before running)
    splits: list[Split] = field(default_factory=list)
    segments: list[str] = field(default_factory=list)
    # PostgreSQL: ``where`` with the driving ``c.id IN (SELECT ...)`` of its top-level "and" (tags,
    # consents, fields, when other conditions go with them) read first into an array,
    # ``c.id = ANY(ARRAY(SELECT ...))``, for statements where the WHERE stands alone over
    # ``contacts c`` (counts, exports): contacts are then probed by their key in id order instead of
    # being scanned whole (bench/segment_bench.py, 3 M contacts: a quarter to a half of the server's
    # CPU). Never inside an expression evaluated per row (a CASE, an OR): ``= ANY`` of a computed
    # array is a linear search there. None when there is no such form.
    driving_where: str | None = None


def compile_filter(store: Store, tree: Node | None, *, now: datetime | None = None,
                   split_at: int | None = None,
                   segment_override: dict[str, Node | None] | None = None) -> Compiled:
    """The WHERE clause (over ``contacts c``) and parameters for ``tree``; ``None`` is every contact.

    ``split_at=i`` replaces the i-th canton/circonscription condition by "in a commune partly in it,
    with no canton of its own" (see ``Split``). ``segment_override`` maps saved segment keys to
    trees, for checking a definition before it is saved.
    """
    if tree is None:
        return Compiled("TRUE", [], None)
    compiler = _Compiler(store, now or datetime.now(timezone.utc), split_at, segment_override or {})
    compiler.stack = list(segment_override or {})   # a definition being saved must not reach itself
    expanded = compiler.expand(tree)
    compiler.root = expanded
    where, params = compiler.sql(expanded, negated=False)
    driving = None
    if compiler.driving_in is not None:
        first, array = compiler.driving_in
        driving = where.replace(first, array, 1)     # the top-level one comes first in the text
    return Compiled(where, params, expanded, compiler.needs_keys, compiler.needs_hashes,
                    compiler.splits, compiler.segments, driving)


def _prefix_bounds(prefix: str) -> list[str]:
    return [prefix, prefix + _PREFIX_END]


Fragment = tuple[str, list]

# Conditions an index on contacts answers well: with one of them in an "and", tags, consents and
# custom fields are checked contact by contact (EXISTS) instead of being read whole.
_STRONG = {
    "canton": {"=", "^=", "~"}, "commune": {"="}, "departement": {"="}, "circonscription": {"=", "^="},
    "postal_code": {"=", "^="}, "commune_insee": {"=", "^="}, "email": {"=", "^="}, "mobile": {"=", "^="},
    "last_name": {"=", "^="}, "id": {"="},
}
_MEMBER_RANK = {"contact_fields": 0, "contact_tags": 1, "consents": 2}


@dataclass
class _Member:
    """A condition answered by a table of (contact_id, ...) rows: a tag, a custom field, a consent.
    ``where`` uses ``{t}`` for the table's alias."""

    table: str
    where: str
    params: list
    estimate: int = 0


class _Compiler:
    def __init__(self, store: Store, now: datetime, split_at: int | None, overrides: dict):
        self.store = store
        self.now = now if now.tzinfo else now.replace(tzinfo=timezone.utc)
        self.needs_keys = False
        self.needs_hashes = False
        self.splits: list[Split] = []
        self.segments: list[str] = []
        self.split_at = split_at
        self.overrides = overrides
        self.stack: list[str] = []   # saved segments being expanded (cycle detection)
        self.conditions = 0          # conditions in the expansion so far (MAX_CONDITIONS)
        self.outer_ref: Node | None = None   # the in: of the expression itself being expanded
        self._cantons = None
        self._has_geo = None
        self._trees: dict[str, Node] = {}   # saved segment key -> its parsed definition, read once per compile
        self._tag_ids: dict[str, int] = {}  # folded tag name -> id, looked up once per compile
        self._expanded: dict[str, Node] = {}  # saved segment key -> its expansion, one object (_distinct)
        self.root: Node | None = None        # the expanded tree being compiled
        self.driving_in: tuple[str, str] | None = None   # see Compiled.driving_where

    def error(self, message: str, node: Node, *, suggestion: str | None = None,
              hint: str | None = None, at_field: bool = False) -> FilterSyntaxError:
        source = node.source or Source("")
        start, end = node.field_span if at_field and getattr(node, "field_span", (0, 0)) != (0, 0) else node.span
        return FilterSyntaxError(message, source, start, end, suggestion=suggestion, hint=hint)

    # -- pass 1: saved segments replaced by their definitions -------------------------------------

    def expand(self, node: Node) -> Node:
        if isinstance(node, (And, Or)):
            items = []
            for item in node.items:
                item = self.expand(item)
                items.extend(item.items if type(item) is type(node) else (item,))
            return type(node)(tuple(items), span=node.span, source=node.source)
        if isinstance(node, Not):
            return Not(self.expand(node.item), span=node.span, source=node.source)
        if isinstance(node, SegmentRef):
            return self.segment(node)
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            where = self.outer_ref or node
            through = f" (reached through in:{where.name})" if isinstance(where, SegmentRef) else ""
            raise self.error(_("too many conditions: more than {MAX_CONDITIONS} once saved segments are replaced by their definitions{through}").format(
                                 MAX_CONDITIONS=grouped(MAX_CONDITIONS), through=through), where,
                             hint=_("segments that use another one twice double at each level; simplify them"))
        return node

    def segment(self, node: SegmentRef) -> Node:
        key = saved.segment_key(node.name)
        if key in self.stack:
            chain = " -> ".join(f"in:{name}" for name in [*self.stack[self.stack.index(key):], key])
            raise self.error(_('segment "{name}" refers to itself ({chain})').format(name=node.name, chain=chain), node)
        if key in self.overrides:
            tree = self.overrides[key]
        elif key in self._trees:        # a segment used twice (or at every level) is read and parsed once
            tree = self._trees[key]
        else:
            row = saved.get(self.store, key)
            if row is None:
                names = [r.name for r in saved.list_all(self.store)]
                raise self.error(_('unknown segment "{name}"').format(name=node.name), node,
                                 suggestion=suggest(node.name, names), hint=_("dbox segment list shows them"))
            tree = self._trees[key] = parse(Source(row.expression, kind="segment", name=row.name))
        if key not in self.segments:
            self.segments.append(key)
        outermost = self.outer_ref is None and node.source is not None and node.source.kind != "segment"
        if outermost:
            self.outer_ref = node
        self.stack.append(key)
        try:
            expanded = self.expand(tree)     # walked each time: its conditions count towards the limit
        finally:
            self.stack.pop()
            if outermost:
                self.outer_ref = None
        # A segment used again is the same object, which the SQL pass writes once (_distinct).
        return self._expanded.setdefault(key, expanded)

    # -- pass 2: SQL -----------------------------------------------------------------------------

    def sql(self, node: Node, negated: bool) -> Fragment:
        if isinstance(node, And):
            return self.conjunction(_distinct(node.items), negated)
        if isinstance(node, Or):
            return _chain("OR", [self.sql(item, negated) for item in _distinct(node.items)])
        if isinstance(node, Not):
            inner, params = self.sql(node.item, not negated)
            return f"({inner} IS NOT 1)", params
        member = self.member(node)
        if member is not None:
            sql, params = self.group_in([member])
            if isinstance(node, Reachable):
                rest, rest_params = self.reachable_rest(node)
                return f"({sql} AND {rest})", params + rest_params
            return sql, params
        return self.leaf(node, negated)

    def conjunction(self, items, negated: bool) -> Fragment:
        strong = any(_is_strong(item) for item in items)
        has_members = any(isinstance(item, (Tag, Consent, Reachable)) for item in items)
        members, parts = [], []
        for item in items:
            member = self.member(item)
            if member is None:
                if (strong or has_members) and isinstance(item, Compare) and item.field == "commune.population" \
                        and item.op not in _NEGATED:
                    # Another condition drives: look the commune up for each contact it finds.
                    parts.append(("EXISTS (SELECT 1 FROM geo_communes g WHERE g.insee = c.commune_insee "
                                  f"AND g.population {item.op} ?)", [_number(item.value.text)]))
                    continue
                parts.append(self.sql(item, negated))
                continue
            members.append(member)
            if isinstance(item, Reachable):
                parts.append(self.reachable_rest(item))
        if members:
            tags = [m for m in members if m.table == "contact_tags"]
            if len(tags) > 1:   # smallest tag first: same SQL, parameters in a better order
                for m in tags:
                    m.estimate = self.tag_size(m.params[0])
            members.sort(key=lambda m: (_MEMBER_RANK[m.table], m.estimate))
            if strong:
                parts[:0] = [self.member_exists(m) for m in members]
            else:
                # the array form pays when other conditions are checked contact by contact (it then
                # probes only the candidates, in id order); alone, a large tag counts faster as it is
                top = bool(parts) and items is getattr(self.root, "items", None) and not negated
                parts.insert(0, self.group_in(members, top=top))
        return _chain("AND", parts)

    def group_in(self, members: list[_Member], top: bool = False) -> Fragment:
        """``c.id IN (...)`` over the members joined on contact_id, the first one driving. ``top``:
        the top-level "and" of the filter (its PostgreSQL array form is kept: Compiled.driving_where)."""
        tables, wheres, params = [], [], []
        for i, m in enumerate(members, 1):
            alias = f"t{i}"
            tables.append(f"{m.table} {alias}")
            wheres.append(m.where.format(t=alias))
            params.extend(m.params)
            if i > 1:
                wheres.append(f"{alias}.contact_id = t1.contact_id")
        select = f"SELECT t1.contact_id FROM {' CROSS JOIN '.join(tables)} WHERE {' AND '.join(wheres)}"
        if top and self.store.engine == "postgresql" and self.driving_in is None:
            self.driving_in = (f"c.id IN ({select})", f"c.id = ANY(ARRAY({select}))")
        return f"c.id IN ({select})", params

    def member_exists(self, m: _Member) -> Fragment:
        return f"EXISTS (SELECT 1 FROM {m.table} t WHERE {m.where.format(t='t')} AND t.contact_id = c.id)", m.params

    def tag_size(self, tag_id: int, cap: int = 100_000) -> int:
        return self.store.execute("SELECT count(*) FROM (SELECT 1 FROM contact_tags WHERE tag_id = ? LIMIT ?) AS s",
                                  (tag_id, cap)).fetchone()[0]

    def member(self, node: Node) -> _Member | None:
        """The table condition a node stands for, when it is one (positive conditions only)."""
        if isinstance(node, Tag):
            return _Member("contact_tags", "{t}.tag_id = ?", [self.tag_id(node)])
        if isinstance(node, (Consent, Reachable)):
            if isinstance(node, Reachable):
                self.needs_hashes = True
            return _Member("consents", "{t}.channel = ? AND {t}.status = 'granted'", [node.channel])
        if isinstance(node, (Compare, InList)) and node.field.startswith(F.CUSTOM_PREFIX):
            if isinstance(node, InList) and not node.negated:
                name = self.custom_name(node)
                keys, keys_params = self.store.values_in("{t}.value_key", [text_key(v.text) for v in node.values])
                return _Member("contact_fields", "{t}.name = ? AND " + keys, [name, *keys_params])
            if isinstance(node, Compare) and node.op not in _NEGATED:
                where, params = self.custom_condition(node, node.op)
                return _Member("contact_fields", where, params)
        return None

    def reachable_rest(self, node: Reachable) -> Fragment:
        """reachable:X besides its consent: a primary address, valid, not suppressed."""
        column, kind = ("c.mobile", "mobile") if node.channel == "sms" else ("c.email", "email")
        return (f"({column} IS NOT NULL AND EXISTS (SELECT 1 FROM contact_points p WHERE p.contact_id = c.id "
                f"AND p.kind = ? AND p.value = {column} AND p.status = 'valid' AND NOT EXISTS "
                f"(SELECT 1 FROM suppressions s WHERE s.value_hash = p.value_hash "
                f"AND (s.channel IS NULL OR s.channel = ?))))"), [kind, node.channel]

    def leaf(self, node: Node, negated: bool) -> Fragment:
        registered = terms.compile_node(self.store.engine, self, node)   # an area's term (organizing, social, ...)
        if registered is not None:
            return registered
        if isinstance(node, IsEmpty):
            sql, params = self.is_empty(node)
            return (f"({sql} IS NOT 1)" if node.negated else sql), params
        if isinstance(node, InList):
            sql, params = self.in_list(node, negated != node.negated)
            return (f"({sql} IS NOT 1)" if node.negated else sql), params
        if isinstance(node, Compare):
            if node.op in _NEGATED:
                sql, params = self.compare(node, _NEGATED[node.op], not negated)
                return f"({sql} IS NOT 1)", params
            return self.compare(node, node.op, negated)
        raise TypeError(f"not a filter node: {node!r}")

    # -- tags -------------------------------------------------------------------------------------

    def tag_id(self, node: Tag) -> int:
        key = fold(node.name)
        if key in self._tag_ids:          # the same tag all over an expanded segment: one lookup
            return self._tag_ids[key]
        row = self.store.execute("SELECT id FROM tags WHERE key = ?", (key,)).fetchone()
        if row is None:
            names = [n for (n,) in self.store.execute("SELECT name FROM tags ORDER BY name")]
            keys = {fold(n): n for n in names}
            close = suggest(key, keys)
            raise self.error(_('unknown tag "{name}"').format(name=node.name), node, suggestion=keys.get(close),
                             hint=_("dbox tag list shows the tags"))
        self._tag_ids[key] = row[0]
        return row[0]

    # -- is empty, in, comparisons ----------------------------------------------------------------

    def is_empty(self, node: IsEmpty) -> Fragment:
        name = node.field
        spec = F.lookup(name)
        if spec.kind == "custom":
            return ("(EXISTS (SELECT 1 FROM contact_fields f WHERE f.contact_id = c.id AND f.name = ? "
                    "AND f.value <> '') IS NOT 1)"), [self.custom_name(node)]
        if name == "commune.population":
            return ("(c.commune_insee IN (SELECT insee FROM geo_communes WHERE population IS NOT NULL) "
                    "IS NOT 1)"), []
        if name == "canton":
            return "(c.canton_code IS NULL OR c.canton_code = '')", []
        if name == "commune":
            return "(c.commune_name IS NULL OR c.commune_name = '')", []
        column = _NAME_COLUMNS[name][0] if name in _NAME_COLUMNS else _PLAIN_COLUMNS[name]
        return f"({column} IS NULL OR {column} = '')", []

    def in_list(self, node: InList, negated: bool) -> Fragment:
        spec = F.lookup(node.field)
        name = node.field
        if spec.kind == "canton":
            codes = sorted({c for v in node.values for c in self.canton_codes(v, "=")})
            return self.split_in("canton", node, codes, negated)
        if spec.kind == "commune":
            codes, keys = set(), set()
            for value in node.values:
                c, k = self.commune_codes(value)
                codes.update(c)
                keys.update(k)
            return self.commune_sql(sorted(codes), sorted(keys))
        if spec.kind == "circonscription":
            codes = sorted({self.circonscription(v) for v in node.values})
            return self.split_in("circonscription", node, codes, negated)
        if spec.kind == "custom":
            name = self.custom_name(node)
            keys, params = self.store.values_in("f.value_key", [text_key(v.text) for v in node.values])
            return ("EXISTS (SELECT 1 FROM contact_fields f WHERE f.contact_id = c.id AND f.name = ? "
                    f"AND {keys})"), [name, *params]
        if name == "commune.population":
            numbers, params = self.store.values_in("population", [_number(v.text) for v in node.values])
            return f"c.commune_insee IN (SELECT insee FROM geo_communes WHERE {numbers})", params
        if spec.kind == "name":
            self.needs_keys = True
            return self.store.values_in(_NAME_COLUMNS[name][1], [text_key(v.text) for v in node.values])
        if spec.kind == "number":
            return self.store.values_in(_PLAIN_COLUMNS[name], [_number(v.text) for v in node.values])
        return self.store.values_in(_PLAIN_COLUMNS[name], [self.plain_value(name, spec, v, "=") for v in node.values])

    def compare(self, node: Compare, op: str, negated: bool) -> Fragment:
        """``node`` with operator ``op`` (``!=`` and ``!~`` arrive here as ``=`` and ``~``)."""
        spec = F.lookup(node.field)
        name, value = node.field, node.value
        if spec.kind == "date":
            return self.date_compare(_PLAIN_COLUMNS[name], op, value)
        if spec.kind == "canton":
            return self.split_in("canton", node, self.canton_codes(value, op), negated)
        if spec.kind == "commune":
            if op == "=":
                return self.commune_sql(*self.commune_codes(value))
            self.needs_keys = True
            return _key_match("c.commune_key", op, self.nonempty_key(commune_key(value.text), node))
        if spec.kind == "circonscription" and op == "=":
            return self.split_in("circonscription", node, [self.circonscription(value)], negated)
        if spec.kind == "custom":
            where, params = self.custom_condition(node, op)
            return f"EXISTS (SELECT 1 FROM contact_fields f WHERE {where.format(t='f')} AND f.contact_id = c.id)", params
        if name == "commune.population":
            return f"c.commune_insee IN (SELECT insee FROM geo_communes WHERE population {op} ?)", [_number(value.text)]
        if spec.kind == "number":
            return f"{_PLAIN_COLUMNS[name]} {op} ?", [_number(value.text)]
        if spec.kind == "name":
            self.needs_keys = True
            key = text_key(value.text)
            if op in ("^=", "~"):
                key = self.nonempty_key(key, node)
            return _key_match(_NAME_COLUMNS[name][1], op, key)
        column = _PLAIN_COLUMNS[name]
        if op in ("^=", "~"):
            return _key_match(column, op, self.plain_fragment(name, value, node))
        return f"{column} {op} ?", [self.plain_value(name, spec, value, op)]

    def nonempty_key(self, key: str, node: Node) -> str:
        if not key:
            value = getattr(node, "value", None)
            raise self.error(_("this value has no letter or digit to look for"), value or node,
                             hint=_("~ and ^= ignore case, accents, spaces and punctuation"))
        return key

    # -- plain columns: e-mail, phones, codes ------------------------------------------------------

    def plain_value(self, name: str, spec: F.Field, value: Value, op: str) -> str:
        text = value.text
        if spec.kind == "email":
            return text.strip().lower()
        if spec.kind == "phone":
            return self.phone(name, value)
        if spec.kind == "civility":
            return normalize_civility(text) or text.strip()
        if spec.kind == "departement":
            if self.has_geo() and self.store.execute(
                    "SELECT 1 FROM geo_communes WHERE departement = ? LIMIT 1", (text,)).fetchone() is None:
                raise self.error(_('unknown département "{text}"').format(text=text), value)
            return text
        if spec.kind == "circonscription":
            return self.circonscription(value)
        return text

    def plain_fragment(self, name: str, value: Value, node: Node) -> str:
        """What ``^=`` and ``~`` look for in a plain column."""
        text = value.text.strip()
        if name in ("mobile", "fixed"):
            digits = _PHONE_NOISE.sub("", text)
            if digits.startswith("00"):
                digits = "+" + digits[2:]
            if node.op == "^=" and digits.startswith("0"):
                digits = "+33" + digits[1:]
            elif digits.startswith("0"):
                digits = digits.lstrip("0")
            text = digits
        elif name == "email":
            text = text.lower()
        elif name in ("commune_insee", "circonscription", "phone_region"):
            text = text.upper()
        if not text:
            raise self.error(_("this value is empty: there is nothing to look for"), value)
        return text

    def phone(self, name: str, value: Value) -> str:
        try:
            phone = normalize_phone(value.text)
        except ValueRejected:
            raise self.error(_('"{text}" is not a phone number').format(text=value.text), value,
                             hint=_("use ^= or ~ to look for part of a number")) from None
        if phone.kind != name:
            other = "fixed" if name == "mobile" else "mobile"
            raise self.error(_('"{text}" is a {kind} number: it is never in {name}').format(
                                 text=value.text, kind=phone.kind, name=name), value,
                             hint=f"{other} = {value.text}")
        return phone.e164

    # -- dates ----------------------------------------------------------------------------------

    def date_compare(self, column: str, op: str, value: Value) -> Fragment:
        start, end = self.date_bounds(value)
        if op == "=":
            return f"({column} >= ? AND {column} < ?)", [start, end]
        bound, sql_op = {"<": (start, "<"), "<=": (end, "<"), ">": (end, ">="), ">=": (start, ">=")}[op]
        return f"{column} {sql_op} ?", [bound]

    def date_bounds(self, value: Value) -> tuple[str, str]:
        """[start, end) of the day, or of the second, that a date value denotes, as ISO UTC text."""
        now = self.now.replace(microsecond=0)
        if isinstance(value, DateWord):
            if value.word == "now":
                return _iso(now), _iso(now + timedelta(seconds=1))
            day = now.date() - timedelta(days=1 if value.word == "yesterday" else 0)
            return _day_bounds(day)
        if isinstance(value, RelativeDate):
            moment = _minus(now, value.amount, value.unit)
            if value.unit in ("minute", "hour"):
                return _iso(moment), _iso(moment + timedelta(seconds=1))
            return _day_bounds(moment.date())
        text = value.text
        if "T" in text:
            moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
            try:
                after = moment + timedelta(seconds=1)
            except OverflowError:
                return text, "9999-12-31T23:59:59Z" + _PREFIX_END
            return text, _iso(after)
        return _day_bounds(datetime.strptime(text, "%Y-%m-%d").date())

    # -- custom fields --------------------------------------------------------------------------

    def custom_name(self, node: Node) -> str:
        self.needs_keys = True
        name = node.field[len(F.CUSTOM_PREFIX):]
        if self.store.execute("SELECT 1 FROM contact_fields WHERE name = ? LIMIT 1", (name,)).fetchone() is None:
            known = custom_field_names(self.store)
            close = suggest(name, known)
            raise self.error(_('unknown custom field "{field}"').format(field=node.field), node, at_field=True,
                             suggestion=F.CUSTOM_PREFIX + close if close else None,
                             hint=_("custom fields: {items}").format(
                                 items=", ".join(F.CUSTOM_PREFIX + k for k in known[:20])
                                 or _("none yet (they come from imports)")))
        return name

    def custom_condition(self, node: Compare, op: str) -> Fragment:
        """A condition on one contact_fields row (alias ``{t}``): its name and value."""
        name = self.custom_name(node)
        value = node.value
        if op in F.ORDER and value.kind == "number":
            if self.store.engine == "postgresql":    # the leading number, as SQLite's CAST reads it
                return ("{t}.name = ? AND {t}.value ~ '^-?[0-9]' AND CAST(substring(replace({t}.value, ',', '.') "
                        "FROM '^-?[0-9]+(?:[.][0-9]*)?(?:[eE][-+]?[0-9]+)?') AS DOUBLE PRECISION) "
                        f"{op} ?"), [name, _number(value.text)]
            return ("{t}.name = ? AND ({t}.value GLOB '[0-9]*' OR {t}.value GLOB '-[0-9]*') "
                    f"AND CAST(replace({{t}}.value, ',', '.') AS REAL) {op} ?"), [name, _number(value.text)]
        key = text_key(value.text)
        if op in ("^=", "~"):
            key = self.nonempty_key(key, node)
        sql, params = _key_match("{t}.value_key", op, key)
        return "{t}.name = ? AND " + sql, [name, *params]

    # -- geography ------------------------------------------------------------------------------

    def has_geo(self) -> bool:
        if self._has_geo is None:
            self._has_geo = self.store.execute("SELECT 1 FROM geo_communes LIMIT 1").fetchone() is not None
        return self._has_geo

    def cantons(self) -> list[tuple[str, str, str]]:
        """(code, name, key) of every canton (a few thousand rows)."""
        if self._cantons is None:
            self._cantons = [(code, name, name_key.replace(" ", "")) for code, name, name_key in
                             self.store.execute("SELECT code, name, name_key FROM geo_cantons ORDER BY code")]
        return self._cantons

    def canton_codes(self, value: Value, op: str) -> list[str]:
        text = value.text.strip()
        if op == "=":
            # The usual case, from the indexes: a code, or the name as INSEE writes it.
            codes = [c for (c,) in self.store.execute(
                "SELECT code FROM geo_cantons WHERE code = ? UNION SELECT code FROM geo_cantons WHERE name_key = ? "
                "ORDER BY 1", (text.upper(), fold(text)))]
            if codes:
                return codes
        cantons = self.cantons()
        if not cantons:
            raise self.error(_('unknown canton "{text}"').format(text=text), value,
                             hint=_("the geography reference is not loaded in this store (docs/geography.md)"))
        key = text_key(text)
        if op == "=":
            codes = [code for code, _unused, k in cantons if code == text.upper() or k == key]
        elif op == "^=":
            codes = [code for code, _unused, k in cantons if k.startswith(self.nonempty_key(key, value))]
        else:
            codes = [code for code, _unused, k in cantons if self.nonempty_key(key, value) in k]
        if not codes:
            if op == "=":
                close = suggest(key, {k: n for _unused, n, k in cantons})
                name = next((n for _unused, n, k in cantons if k == close), None)
                raise self.error(_('unknown canton "{text}"').format(text=text), value, suggestion=name,
                                 hint=_("a canton is written as INSEE names it (Grenoble-1) or by its code"))
            raise self.error(_('no canton name {value} "{text}"').format(
                                 value='starts with' if op == '^=' else 'contains', text=text), value)
        return codes

    def split_in(self, kind: str, node: Node, codes: list[str], negated: bool) -> Fragment:
        """``c.canton_code`` (``c.circonscription``) in ``codes``, noted as a Split; for the
        ``split_at``-th one, who it leaves out instead."""
        index = len(self.splits)
        label = ", ".join(v.text for v in node.values) if isinstance(node, InList) else node.value.text
        self.splits.append(Split(kind, label, codes, positive=not negated))
        if index == self.split_at:
            sql, params = self.store.values_in("canton_code" if kind == "canton" else "circonscription", codes)
            template = _SPLIT_CANTON if kind == "canton" else _SPLIT_CIRCO
            return template.format(plus="+" if self.store.engine == "sqlite" else "", codes=sql), params
        return self.store.values_in("c.canton_code" if kind == "canton" else "c.circonscription", codes)

    def commune_codes(self, value: Value) -> tuple[list[str], list[str]]:
        """The INSEE codes a commune value names, and the name keys that match contacts whose commune
        was not resolved. Raises when neither the reference nor any contact knows the name."""
        text = value.text.strip()
        if _INSEE.fullmatch(text.upper()):
            code = text.upper()
            if self.store.execute("SELECT 1 FROM geo_communes WHERE insee = ?", (code,)).fetchone() is None:
                if self.store.execute("SELECT 1 FROM contacts WHERE commune_insee = ? LIMIT 1",
                                      (code,)).fetchone() is None:
                    raise self.error(_('unknown commune code "{text}"').format(text=text), value)
            return self.with_arrondissements([code]), []

        words = commune_words(text)
        key = words.replace(" ", "")
        if not key:
            raise self.error(_("this value has no letter or digit to look for"), value)
        codes = [c for (c,) in self.store.execute("SELECT insee FROM geo_communes WHERE name_key = ?", (words,))]
        match = _ARRONDISSEMENT.match(words)
        if not codes and match:
            codes = [c for (c,) in self.store.execute(
                "SELECT insee FROM geo_communes WHERE name_key = ?",
                (f"{match.group(1)} {match.group(2)}e arrondissement",))]
        if not codes and self.has_geo():
            codes = [c for c, k in self.store.execute("SELECT insee, name_key FROM geo_communes")
                     if k.replace(" ", "") == key]
        self.needs_keys = True
        if not codes:
            # Not in the reference: some contacts whose commune was not resolved may bear the name.
            refresh_keys(self.store)
            if self.store.execute("SELECT 1 FROM contacts WHERE commune_insee IS NULL AND commune_key = ? LIMIT 1",
                                  (key,)).fetchone() is None:
                names = {k.replace(" ", ""): n for n, k in self.store.execute(
                    "SELECT name, name_key FROM geo_communes WHERE substr(name_key, 1, 1) = ?", (words[:1],))}
                close = suggest(key, names)
                raise self.error(_('unknown commune "{text}"').format(text=text), value, suggestion=names.get(close),
                                 hint=_("a commune is written as INSEE names it (Saint-Égrève) or by its INSEE code"))
        return self.with_arrondissements(codes), [key]

    def with_arrondissements(self, codes: list[str]) -> list[str]:
        extra = []
        for code in codes:
            prefix = _PLM.get(code)
            if prefix:
                extra += [c for (c,) in self.store.execute(
                    "SELECT insee FROM geo_communes WHERE insee >= ? AND insee < ? AND insee <> ?",
                    (prefix, prefix + _PREFIX_END, code))]
        return sorted(set(codes) | set(extra))

    def commune_sql(self, codes: list[str], keys: list[str]) -> Fragment:
        codes_sql, codes_params = self.store.values_in("c.commune_insee", codes)
        keys_sql, keys_params = self.store.values_in("c.commune_key", keys)
        return f"({codes_sql} OR (c.commune_insee IS NULL AND {keys_sql}))", [*codes_params, *keys_params]

    def circonscription(self, value: Value) -> str:
        code = value.text
        if self.store.execute("SELECT 1 FROM geo_commune_circonscriptions WHERE circonscription = ? LIMIT 1",
                              (code,)).fetchone() is None:
            known = [c for (c,) in self.store.execute(
                "SELECT DISTINCT circonscription FROM geo_commune_circonscriptions WHERE circonscription >= ? "
                "AND circonscription < ?", (code[:code.index('-') + 1], code[:code.index('-') + 1] + _PREFIX_END))]
            hint = (f"{code[:code.index('-')]} has {', '.join(known)}" if known else
                    "the geography reference is not loaded in this store (docs/geography.md)"
                    if not self.has_geo() else None)
            raise self.error(_('unknown circonscription "{code}"').format(code=code), value, hint=hint)
        return code


def compile_left_out(store: Store, tree: Node, index: int, *, now: datetime | None = None) -> tuple[str, list]:
    """``tree`` with its ``index``-th canton/circonscription condition replaced by "lives in a commune
    partly in it and has no canton (circonscription) of its own": who that condition leaves out."""
    compiled = compile_filter(store, tree, now=now, split_at=index)
    return compiled.where, compiled.params


# -- keys and hashes the filters need ---------------------------------------------------------------

_KEYS_MISSING = ("first_name_key IS NULL OR last_name_key IS NULL OR address_key IS NULL "
                 "OR commune_key IS NULL")


def keys_missing(store: Store) -> bool:
    """Whether some contact or custom field lacks its folded search key."""
    return (store.execute(f"SELECT 1 FROM contacts WHERE {_KEYS_MISSING} LIMIT 1").fetchone() is not None
            or store.execute("SELECT 1 FROM contact_fields WHERE value_key IS NULL LIMIT 1").fetchone() is not None)


def hashes_missing(store: Store) -> bool:
    return store.execute("SELECT 1 FROM contact_points WHERE value_hash IS NULL LIMIT 1").fetchone() is not None


def _in_transaction(store: Store, work: Callable[[], int]) -> int:
    if store.in_transaction:
        return work()
    with store.transaction(immediate=True):
        return work()


def refresh_keys(store: Store, progress: Callable[[int], None] | None = None) -> int:
    """Compute the missing folded keys of contacts and custom fields; returns how many rows.

    Writers that fill the keys themselves (see docs/filters.md) leave nothing to do here."""
    def work() -> int:
        done = 0
        while True:
            rows = store.execute(
                f"SELECT id, first_name, last_name, address, commune_name FROM contacts "
                f"WHERE {_KEYS_MISSING} LIMIT {_BATCH}").fetchall()
            if not rows:
                break
            store.executemany(
                "UPDATE contacts SET first_name_key = ?, last_name_key = ?, address_key = ?, commune_key = ? "
                "WHERE id = ?", [(*contact_keys(*row[1:]), row[0]) for row in rows])
            done += len(rows)
            if progress:
                progress(done)
        while True:
            rows = store.execute(
                f"SELECT contact_id, name, value FROM contact_fields WHERE value_key IS NULL LIMIT {_BATCH}").fetchall()
            if not rows:
                break
            store.executemany("UPDATE contact_fields SET value_key = ? WHERE contact_id = ? AND name = ?",
                                   [(text_key(value), cid, name) for cid, name, value in rows])
            done += len(rows)
            if progress:
                progress(done)
        return done

    if not keys_missing(store):
        return 0
    return _in_transaction(store, work)


def refresh_hashes(store: Store, progress: Callable[[int], None] | None = None) -> int:
    """Compute the missing suppression hashes of contact points; returns how many rows."""
    def work() -> int:
        hasher = Hasher(store)
        done = 0
        while True:
            rows = store.execute(
                f"SELECT contact_id, kind, value FROM contact_points WHERE value_hash IS NULL LIMIT {_BATCH}"
            ).fetchall()
            if not rows:
                return done
            store.executemany(
                "UPDATE contact_points SET value_hash = ? WHERE contact_id = ? AND kind = ? AND value = ?",
                [(hasher(value), cid, kind, value) for cid, kind, value in rows])
            done += len(rows)
            if progress:
                progress(done)

    if not hashes_missing(store):
        return 0
    return _in_transaction(store, work)


# -- small look-ups used by the library ---------------------------------------------------------------

def custom_field_names(store: Store) -> list[str]:
    """The distinct custom field names, read by skipping through the (name, value) index."""
    return [n for (n,) in store.execute(
        "WITH RECURSIVE names(name) AS (SELECT min(name) FROM contact_fields UNION ALL "
        "SELECT (SELECT min(name) FROM contact_fields WHERE name > names.name) FROM names "
        "WHERE names.name IS NOT NULL) SELECT name FROM names WHERE name IS NOT NULL")]


def split_commune_names(store: Store, split: Split) -> list[str]:
    """The communes partly in the split's cantons (circonscriptions) and in no single one."""
    table, column = (("geo_commune_cantons", "canton_code") if split.kind == "canton"
                     else ("geo_commune_circonscriptions", "circonscription"))
    codes, params = store.values_in(column, split.codes)
    return [n for (n,) in store.execute(
        f"SELECT g.name FROM geo_communes g WHERE g.insee IN (SELECT insee FROM {table} WHERE {codes}) "
        f"AND (SELECT count(*) FROM {table} t WHERE t.insee = g.insee) > 1 ORDER BY g.name", params)]


def explain_plan(store: Store, where: str, params: list) -> list[str]:
    """The engine's query plan for counting the selection."""
    if store.engine == "postgresql":
        return [row[0] for row in store.execute(f"EXPLAIN SELECT count(*) FROM contacts c WHERE {where}", params)]
    return [row[3] for row in store.execute(f"EXPLAIN QUERY PLAN SELECT count(*) FROM contacts c WHERE {where}",
                                            params)]


def segment_key(name: str) -> str:
    return fold(name)


# -- helpers -------------------------------------------------------------------------------------

def _is_strong(node: Node) -> bool:
    if isinstance(node, Compare):
        return node.op in _STRONG.get(node.field, ())
    if isinstance(node, InList):
        return not node.negated and node.field in _STRONG
    return False


def _distinct(items: tuple[Node, ...]) -> tuple[Node, ...]:
    """The items without a saved segment's repeats, in order: ``in:s or in:s`` is ``in:s`` (and
    ``a or a`` is ``a`` in SQL's three-valued logic too). Segments that use another one twice
    double at each level, and SQLite took seconds to plan thousands of copies of one condition.
    Only the same object counts as a repeat (Compiler.segment gives one per segment): what the
    user typed twice is compiled as typed, so the SQL's shape never depends on the values."""
    seen: set[int] = set()
    distinct = tuple(item for item in items if not (id(item) in seen or seen.add(id(item))))
    return items if len(distinct) == len(items) else distinct    # the same tuple when nothing repeats


def _chain(op: str, parts: list[Fragment]) -> Fragment:
    """``(a OP b OP ...)``; past _FLAT_CHAIN items, nested groups of _FLAT_CHAIN, so the tree SQLite
    parses stays shallow (1,000 terms: 3 levels of 32) whatever the chain's length. Same order,
    same parameters: only parentheses are added, and AND and OR are associative."""
    sqls = [sql for sql, _unused in parts]
    while len(sqls) > _FLAT_CHAIN:
        sqls = ["(" + f" {op} ".join(sqls[i:i + _FLAT_CHAIN]) + ")" for i in range(0, len(sqls), _FLAT_CHAIN)]
    return "(" + f" {op} ".join(sqls) + ")", [x for _unused, params in parts for x in params]


def _key_match(column: str, op: str, key: str) -> Fragment:
    if op == "^=":
        return f"({column} >= ? AND {column} < ?)", _prefix_bounds(key)
    if op == "~":
        return f"instr({column}, ?) > 0", [key]
    return f"{column} {op} ?", [key]


def _number(text: str) -> int | float:
    return float(text) if "." in text else int(text)


def _iso(moment: datetime) -> str:
    return (f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
            f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}Z")


def _day_bounds(day) -> tuple[str, str]:
    start = f"{day.year:04d}-{day.month:02d}-{day.day:02d}T00:00:00Z"
    try:
        after = day + timedelta(days=1)
    except OverflowError:
        return start, "9999-12-31T23:59:59Z" + _PREFIX_END
    return start, f"{after.year:04d}-{after.month:02d}-{after.day:02d}T00:00:00Z"


def _minus(now: datetime, amount: int, unit: str) -> datetime:
    """``now`` minus ``amount`` units; months and years keep the day (clamped: 31 March - 1 month
    is 28 or 29 February). Far in the past, it stops at year 1."""
    try:
        if unit in ("month", "year"):
            months = amount * (12 if unit == "year" else 1)
            index = now.year * 12 + now.month - 1 - months
            year, month = divmod(index, 12)
            if year < 1:
                return datetime(1, 1, 1, tzinfo=timezone.utc)
            day = min(now.day, calendar.monthrange(year, month + 1)[1])
            return now.replace(year=year, month=month + 1, day=day)
        delta = {"minute": timedelta(minutes=amount), "hour": timedelta(hours=amount),
                 "day": timedelta(days=amount), "week": timedelta(weeks=amount)}[unit]
        return now - delta
    except (OverflowError, ValueError):
        return datetime(1, 1, 1, tzinfo=timezone.utc)
