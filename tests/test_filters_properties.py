"""Property-based tests (hypothesis) of the filter language.

- Any text either parses or raises FilterSyntaxError — never another exception.
- Any tree prints to a text that parses back to the same tree (quoting, precedence, normal forms).
- Any tree over the sample store either compiles, runs, and selects exactly what a plain-Python
  evaluation selects, or raises FilterSyntaxError (a value that cannot match).
- No value can change the SQL: two trees that differ only in their values (of the same lexical
  kind: a number stays a number) compile to the same WHERE text.
"""

import string

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from dbox import segments
from dbox.filters import FilterSyntaxError, parse, to_text
from dbox.filters import fields as F
from dbox.filters.nodes import (
    And, Compare, Consent, DateWord, InList, IsEmpty, Literal, Not, Or, Reachable, RelativeDate, SegmentRef, Tag,
)
from dbox.store.contacts import count_contacts
from test_segments_support import NOW, Oracle, geo, sample, sample_template, selected_ids  # noqa: F401

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# -- any text ----------------------------------------------------------------------------------------

PIECES = ["tag:", "consent:", "reachable:", "in:", "canton", "commune", "field.age", "created_at", "updated_at",
          "commune.population", "=", "!=", "<", ">=", "^=", "~", "!~", "==", "<>", "and", "or", "not", "in", "is",
          "empty", "(", ")", ",", ":", '"x', '"Grenoble-1"', "'a b'", "«", "»", "3500", "-2", "30", "days", "ago",
          "today", "2026-01-01", "31/02/2026", "2026-01-01T10:00Z", "sms", "email", "militant", "é", "\\", "%",
          "\n", "field.", ".", "+33612345678", "38-01", "2A", "0",
          # terms other areas add to the language (dbox.organizing, dbox.social) obey the same rule
          "attended:", "invited:", "network:", "follower:", "x", "volunteer", "support", "last_interaction",
          "attended.count"]


@settings(max_examples=400, **SETTINGS)
@given(st.one_of(st.text(max_size=60), st.lists(st.sampled_from(PIECES), max_size=14).map(" ".join),
                 st.lists(st.sampled_from(PIECES), max_size=14).map("".join)))
def test_any_text_parses_or_raises_filter_syntax_error(text):
    try:
        tree = parse(text)
    except FilterSyntaxError as exc:
        assert 0 <= exc.start <= len(text)
        assert str(exc)
        return
    assert parse(to_text(tree)) == tree


# -- trees ----------------------------------------------------------------------------------------------

free_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
names = st.text(alphabet=string.ascii_letters + "éèàç-' ", min_size=1, max_size=10).filter(lambda s: s.strip())


def literal(kind):
    if kind == "number":
        return st.one_of(st.integers(-10**6, 10**6).map(str),
                         st.decimals(-1000, 1000, places=2, allow_nan=False, allow_infinity=False).map(
                             lambda d: format(d.normalize(), "f") if d != d.to_integral_value() else str(int(d))))
    if kind == "date":
        return st.one_of(
            st.dates().map(lambda d: Literal(f"{d.year:04d}-{d.month:02d}-{d.day:02d}", "date")),
            st.datetimes().map(lambda t: Literal(f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:"
                                                 f"{t.minute:02d}:{t.second:02d}Z", "date")),
            st.builds(RelativeDate, st.integers(0, 100_000), st.sampled_from(F.TIME_UNITS)),
            st.sampled_from(F.DATE_WORDS).map(DateWord))
    raise AssertionError(kind)


def value_for(field):
    spec = F.lookup(field)
    if spec.kind == "date":
        return literal("date")
    if spec.kind == "number":
        return literal("number").map(lambda t: Literal(t, "number"))
    if spec.kind == "departement":
        return st.sampled_from(["01", "38", "2A", "2B", "971", "974"]).map(Literal)
    if spec.kind == "circonscription":
        return st.sampled_from(["38-01", "2A-02", "974-06"]).map(Literal)
    if spec.kind == "postal_code":
        return st.integers(0, 99999).map(lambda n: Literal(f"{n:05d}"))
    if spec.kind == "enum":
        return st.sampled_from(F.GEO_STATUSES).map(Literal)
    if spec.kind == "code":
        return st.sampled_from(["38185", "FR", "RE", "2A004"]).map(Literal)
    return free_text.map(Literal)


SYNTAX_FIELDS = [name for name in F.FIELDS] + ["field.profession", "field.age"]


@st.composite
def predicate(draw):
    kind = draw(st.sampled_from(["compare", "compare", "compare", "in", "empty", "tag", "consent", "reachable", "in:"]))
    if kind == "tag":
        return Tag(draw(free_text.filter(lambda s: s.strip() == s and s)))
    if kind == "in:":
        return SegmentRef(draw(names.filter(lambda s: s.strip() == s)))
    if kind == "consent":
        return Consent(draw(st.sampled_from(F.CONSENT_CHANNELS)))
    if kind == "reachable":
        return Reachable(draw(st.sampled_from(F.REACHABLE_CHANNELS)))
    field = draw(st.sampled_from(SYNTAX_FIELDS))
    spec = F.lookup(field)
    if kind == "empty":
        assume(spec.allows_empty)
        return IsEmpty(field, draw(st.booleans()))
    if kind == "in":
        assume(spec.allows_in)
        return InList(field, tuple(draw(st.lists(value_for(field), min_size=1, max_size=3))), draw(st.booleans()))
    op = draw(st.sampled_from(sorted(spec.operators)))
    if spec.kind == "custom" and op in F.ORDER:
        return Compare(field, op, draw(st.one_of(literal("number").map(lambda t: Literal(t, "number")),
                                                 free_text.map(Literal))))
    if spec.kind == "postal_code" and op == "^=":
        return Compare(field, op, draw(st.integers(0, 999).map(lambda n: Literal(str(n)))))
    if spec.kind == "circonscription" and op == "^=":
        return Compare(field, op, draw(st.sampled_from(["38", "2A", "97"]).map(Literal)))
    return Compare(field, op, draw(value_for(field)))


def combine(children):
    return st.one_of(
        st.lists(children, min_size=2, max_size=3).map(lambda items: _flat(And, items)),
        st.lists(children, min_size=2, max_size=3).map(lambda items: _flat(Or, items)),
        children.map(Not))


def _flat(cls, items):
    flat = []
    for item in items:
        flat.extend(item.items if isinstance(item, cls) else (item,))
    return cls(tuple(flat))


trees = st.recursive(predicate(), combine, max_leaves=6)


@settings(max_examples=500, **SETTINGS)
@given(trees)
def test_every_tree_prints_and_parses_back(tree):
    text = to_text(tree)
    assert parse(text) == tree, text


# -- trees over the sample store ---------------------------------------------------------------------

POOLS = {
    "first_name": ["Éléonore", "jean", "loic", "Zoé", "jean-pierre", "x"],
    "last_name": ["dupont", "DUPONT", "Dupont-Moreau", "n'diaye", "tour", "é", "de", "m", "zzz"],
    "address": ["stade", "église", "rue", "1", "zzz"],
    "email": ["contact1@exemple.fr", "contact1", "exemple", "CONTACT2", "zzz"],
    "commune": ["Grenoble", "38185", "Lyon", "69123", "Saint-Denis", "97411", "Trifouilly-les-Oies", "Pétaouchnok",
                "Peaugres", "Grenoblle", "saint", "la"],
    "canton": ["Grenoble-1", "Annonay-2", "3806", "Saint-Denis-1", "Meylan", "grenoble", "annonay", "Grenble-1"],
    "departement": ["38", "07", "73", "974", "99"],
    "circonscription": ["38-01", "07-02", "38-04", "38-12"],
    "postal_code": ["38000", "07340", "99999", "69000"],
    "commune_insee": ["38185", "07172", "97411"],
    "geo_status": list(F.GEO_STATUSES),
    "civility": ["Mme", "M.", "madame"],
    "phone_region": ["FR", "MQ"],
    "field.profession": ["enseignant", "enseign", "retraité", "ARTISAN", "x"],
    "field.age": ["nc", "34", "x"],
    "mobile": ["06", "0610", "+3361", "12", "61"],
    "fixed": ["04", "0476", "76"],
}
NUMBERS = {"id": ["1", "5", "50", "99", "120"], "commune.population": ["1000", "2200", "3500", "20000", "158000"],
           "field.age": ["0", "18", "40", "12.5", "-5"]}
DATES = [Literal("2026-01-15", "date"), Literal("2026-11-10", "date"), Literal("2025-12-31", "date"),
         Literal("2026-01-15T09:30:00Z", "date"), Literal("2026-11-10T13:59:59Z", "date"),
         RelativeDate(13, "day"), RelativeDate(30, "day"), RelativeDate(1, "month"), RelativeDate(2, "week"),
         RelativeDate(3, "hour"), RelativeDate(1, "year"), DateWord("today"), DateWord("yesterday"), DateWord("now")]
TAG_POOL = ["militant", "Porte-a-porte", "élu", "sympathisant", "relance", "bénévole", "inconnu"]
SEGMENTS = {"rural": "commune.population < 3500", "militants": "tag:militant", "loin": "not departement = 38",
            "mix": "in:rural and not in:militants"}
STORE_FIELDS = [f for f in list(POOLS) + list(NUMBERS) + ["created_at", "updated_at"]]


def store_value(field, op, number: bool | None = None):
    spec = F.lookup(field)
    if spec.kind == "date":
        return st.sampled_from(DATES)
    if field in NUMBERS and (spec.kind == "number" or (number and op in F.ORDER)):
        return st.sampled_from(NUMBERS[field]).map(lambda t: Literal(t, "number"))
    return st.sampled_from(POOLS.get(field, ["x"])).map(Literal)


@st.composite
def store_predicate(draw):
    kind = draw(st.sampled_from(["compare"] * 5 + ["in", "empty", "tag", "tag", "consent", "reachable", "in:"]))
    if kind == "tag":
        return Tag(draw(st.sampled_from(TAG_POOL)))
    if kind == "in:":
        return SegmentRef(draw(st.sampled_from([*SEGMENTS, "absent"])))
    if kind == "consent":
        return Consent(draw(st.sampled_from(F.CONSENT_CHANNELS)))
    if kind == "reachable":
        return Reachable(draw(st.sampled_from(F.REACHABLE_CHANNELS)))
    field = draw(st.sampled_from(STORE_FIELDS))
    spec = F.lookup(field)
    if kind == "empty":
        assume(spec.allows_empty)
        return IsEmpty(field, draw(st.booleans()))
    if kind == "in":
        assume(spec.allows_in and field not in ("mobile", "fixed"))
        return InList(field, tuple(draw(st.lists(store_value(field, "="), min_size=1, max_size=3))),
                      draw(st.booleans()))
    ops = sorted(spec.operators)
    if field in ("mobile", "fixed"):
        ops = ["^=", "~", "!~"]
    op = draw(st.sampled_from(ops))
    if field == "postal_code" and op == "^=":
        return Compare(field, op, Literal(draw(st.sampled_from(["38", "0", "9", "381"]))))
    if field == "circonscription" and op == "^=":
        return Compare(field, op, Literal(draw(st.sampled_from(["38", "07"]))))
    return Compare(field, op, draw(store_value(field, op, number=draw(st.booleans()))))


store_trees = st.recursive(store_predicate(), combine, max_leaves=5)


@pytest.fixture
def saved(sample):
    for name, expression in SEGMENTS.items():
        segments.save_segment(sample, name, expression)
    return sample


@settings(max_examples=300, **SETTINGS)
@given(tree=store_trees)
def test_sql_selects_what_python_selects(saved, tree):
    oracle = _oracle(saved)
    text = to_text(tree)
    try:
        selection = segments.select(saved, text, now=NOW)
    except FilterSyntaxError as exc:
        assert exc.message.startswith(("unknown", "no canton", "this value")), exc.message
        return
    assert selected_ids(saved, selection) == oracle.matches(parse(text)), text


_ORACLES = {}


def _oracle(store):
    key = str(store.path)
    if key not in _ORACLES:
        _ORACLES.clear()
        _ORACLES[key] = Oracle(store)
    return _ORACLES[key]


def revalue(tree, data):
    """The same tree with every value drawn again (same field, same lexical kind)."""
    if isinstance(tree, (And, Or)):
        return type(tree)(tuple(revalue(i, data) for i in tree.items))
    if isinstance(tree, Not):
        return Not(revalue(tree.item, data))
    if isinstance(tree, Tag):
        return Tag(data.draw(st.sampled_from(TAG_POOL)))
    if isinstance(tree, Compare):
        if tree.field in ("postal_code", "circonscription") and tree.op == "^=":
            return tree
        number = isinstance(tree.value, Literal) and tree.value.kind == "number"
        return Compare(tree.field, tree.op, data.draw(store_value(tree.field, tree.op, number=number)))
    if isinstance(tree, InList):
        return InList(tree.field, tuple(data.draw(store_value(tree.field, "=")) for _ in tree.values), tree.negated)
    return tree


@settings(max_examples=300, **SETTINGS)
@given(tree=store_trees, data=st.data())
def test_no_value_changes_the_sql(saved, tree, data):
    other = revalue(tree, data)
    try:
        first = segments.select(saved, to_text(tree), now=NOW)
        second = segments.select(saved, to_text(other), now=NOW)
    except FilterSyntaxError:
        assume(False)
    assert first.where == second.where, (to_text(tree), to_text(other))
    assert first.where.count("?") == len(first.params)


# The fields and nodes the plain-Python evaluation (test_segments_support.Oracle) knows; terms other
# areas add (organizing, social) are checked by the laws below only.
ORACLE_FIELDS = {"first_name", "last_name", "address", "email", "mobile", "fixed", "postal_code", "commune_insee",
                 "phone_region", "geo_status", "departement", "civility", "circonscription", "canton", "commune",
                 "created_at", "updated_at", "id", "commune.population"}


def _oracle_knows(tree) -> bool:
    if isinstance(tree, (And, Or)):
        return all(_oracle_knows(i) for i in tree.items)
    if isinstance(tree, Not):
        return _oracle_knows(tree.item)
    if isinstance(tree, (Tag, Consent, Reachable, SegmentRef)):
        return True
    if isinstance(tree, (Compare, InList, IsEmpty)):
        return tree.field in ORACLE_FIELDS or tree.field.startswith("field.")
    return False


# Conditions that hold on the sample store, written as a person would (other areas' terms included).
CONDITIONS = ["tag:militant", "tag:élu", "canton = Meylan", "commune = Lyon", "commune = Grenoble", "in:rural",
              "in:mix", "consent:sms", "reachable:email", "field.age > 30", "field.age is empty",
              "field.profession ~ enseign", "departement = 38", "departement in (07, 73)", "circo = 38-01",
              "commune.population < 3500", "created_at >= 2026-11-01", "updated_at < 30 days ago",
              "postal_code ^= 38", "email is empty", "mobile is not empty", "first_name = Zoé", "last_name ~ dupont",
              "geo_status = resolved", "network:x", "follower:linkedin", "volunteer", "support >= 3",
              "attended.count = 0", "last_interaction < 30 days ago", "support is empty"]


@st.composite
def written_filters(draw):
    parts = []
    for i in range(draw(st.integers(1, 4))):
        if i:
            parts.append(draw(st.sampled_from(["and", "or", "and not", "or not"])))
        parts.append(("not " if draw(st.booleans()) else "") + draw(st.sampled_from(CONDITIONS)))
    text = " ".join(parts)
    return f"({text})" if draw(st.booleans()) else text


@settings(max_examples=300, **SETTINGS)
@given(text=st.one_of(st.lists(st.sampled_from(PIECES + ["tag:militant", "canton = Meylan", "commune = Lyon",
                                                          "field.age", "field.profession", "in:rural"]),
                               max_size=12).map(" ".join), st.text(max_size=40), written_filters()))
def test_any_text_selects_what_python_selects_or_raises_filter_syntax_error(saved, text):
    """Whatever the text: a FilterSyntaxError, or a selection whose count is the number of contacts
    it lists, whose negation lists every other contact, and which (for the terms the plain-Python
    evaluation knows) lists exactly the contacts that evaluation picks."""
    try:
        selection = segments.select(saved, text, now=NOW)
    except FilterSyntaxError:
        event("syntax error")
        return
    ids = selected_ids(saved, selection)
    assert count_contacts(saved, selection.where, selection.params) == len(ids), text
    tree = parse(text)
    oracle = _oracle(saved)
    if tree is None:
        assert ids == set(oracle.contacts), text
        return
    complement = segments.select(saved, to_text(Not(tree)), now=NOW)
    assert selected_ids(saved, complement) == set(oracle.contacts) - ids, text
    if _oracle_knows(tree):
        event("oracle")
        assert ids == oracle.matches(tree), text
    else:
        event("laws only")
