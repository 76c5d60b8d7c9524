"""The filter language on its own: lexer, parser, canonical text, and every error with its position."""

import pytest

from dbox.errors import InputError
from dbox.filters import FilterSyntaxError, Source, parse, to_text, tree_lines
from dbox.filters.lexer import tokenize
from dbox.filters.nodes import (
    And, Compare, Consent, DateWord, InList, IsEmpty, Literal, Not, Or, Reachable, RelativeDate, SegmentRef,
    Tag,
)
from dbox.filters.parser import flag_value, normalize_date


def T(text, kind="text"):
    return Literal(text, kind)


# -- lexer ----------------------------------------------------------------------------------------

def test_tokens_keep_their_positions():
    tokens = tokenize('canton = "Grenoble-1" and tag:militant')
    assert [(t.kind, t.value, t.start, t.end) for t in tokens] == [
        ("WORD", "canton", 0, 6), ("OP", "=", 7, 8), ("STRING", "Grenoble-1", 9, 21), ("WORD", "and", 22, 25),
        ("WORD", "tag", 26, 29), ("COLON", ":", 29, 30), ("WORD", "militant", 30, 38), ("EOF", "", 38, 38)]


@pytest.mark.parametrize("text, kind, value", [
    ("2026-01-31", "DATE", "2026-01-31"),
    ("31/01/2026", "DATE", "31/01/2026"),
    ("2026-01-31T08:00:00Z", "DATE", "2026-01-31T08:00:00Z"),
    ("2026-01-31T08:00+02:00", "DATE", "2026-01-31T08:00+02:00"),
    ("3500", "NUMBER", "3500"),
    ("-3.5", "NUMBER", "-3.5"),
    ("+33612345678", "NUMBER", "+33612345678"),
    ("Grenoble-1", "WORD", "Grenoble-1"),
    ("L'Isle-d'Abeau", "WORD", "L'Isle-d'Abeau"),
    ("jean@exemple.fr", "WORD", "jean@exemple.fr"),
    ("porte-à-porte", "WORD", "porte-à-porte"),
    ('"say \\"hi\\" \\\\ now"', "STRING", 'say "hi" \\ now'),
    ("'single'", "STRING", "single"),
    ("“curly”", "STRING", "curly"),
    ("« Saint-Égrève »", "STRING", "Saint-Égrève"),
    ("!=", "OP", "!="), ("<>", "OP", "<>"), ("<=", "OP", "<="), (">=", "OP", ">="), ("==", "OP", "=="),
    ("^=", "OP", "^="), ("!~", "OP", "!~"), ("~", "OP", "~"), ("<", "OP", "<"), (">", "OP", ">"),
])
def test_token_kinds(text, kind, value):
    token = tokenize(text)[0]
    assert (token.kind, token.value) == (kind, value)


def test_unexpected_character():
    with pytest.raises(FilterSyntaxError) as info:
        tokenize("canton = %x")
    assert str(info.value) == 'unexpected character "%" at column 10\n  canton = %x\n           ^'


def test_unterminated_string():
    with pytest.raises(FilterSyntaxError) as info:
        parse('commune = "Grenoble')
    assert info.value.message == 'unterminated text: the " has no closing "'
    assert info.value.column == 11


def test_too_long():
    with pytest.raises(FilterSyntaxError, match="expression too long"):
        parse("tag:x or " * 3000 + "tag:y")


# -- every construct --------------------------------------------------------------------------------

@pytest.mark.parametrize("text, tree, canonical", [
    ('canton = "Grenoble-1"', Compare("canton", "=", T("Grenoble-1")), "canton = Grenoble-1"),
    ("departement in (38, 73)", InList("departement", (T("38"), T("73"))), "departement in (38, 73)"),
    ("departement not in (1, 2a)", InList("departement", (T("01"), T("2A")), True), "departement not in (01, 2A)"),
    ('postal_code ^= "38"', Compare("postal_code", "^=", T("38")), "postal_code ^= 38"),
    ('last_name ~ "dup"', Compare("last_name", "~", T("dup")), "last_name ~ dup"),
    ('last_name !~ "dup"', Compare("last_name", "!~", T("dup")), "last_name !~ dup"),
    ("commune.population < 3500", Compare("commune.population", "<", T("3500", "number")),
     "commune.population < 3500"),
    ("population >= 3500.50", Compare("commune.population", ">=", T("3500.5", "number")),
     "commune.population >= 3500.5"),
    ("created_at >= 2026-01-01", Compare("created_at", ">=", T("2026-01-01", "date")), "created_at >= 2026-01-01"),
    ("created_at = 31/12/2025", Compare("created_at", "=", T("2025-12-31", "date")), "created_at = 2025-12-31"),
    ('created_at < "2026-01-01T10:00+01:00"', Compare("created_at", "<", T("2026-01-01T09:00:00Z", "date")),
     "created_at < 2026-01-01T09:00:00Z"),
    ("updated_at > 30 days ago", Compare("updated_at", ">", RelativeDate(30, "day")), "updated_at > 30 days ago"),
    ("updated_at > 1 Week AGO", Compare("updated_at", ">", RelativeDate(1, "week")), "updated_at > 1 week ago"),
    ('updated_at > "2 months ago"', Compare("updated_at", ">", RelativeDate(2, "month")),
     "updated_at > 2 months ago"),
    ("updated_at >= today", Compare("updated_at", ">=", DateWord("today")), "updated_at >= today"),
    ("created_at < Yesterday", Compare("created_at", "<", DateWord("yesterday")), "created_at < yesterday"),
    ("email is empty", IsEmpty("email"), "email is empty"),
    ("email is not empty", IsEmpty("email", True), "email is not empty"),
    ('field.profession = "enseignant"', Compare("field.profession", "=", T("enseignant")),
     "field.profession = enseignant"),
    ("field.Profession_Déclarée = x", Compare("field.profession_declaree", "=", T("x")),
     "field.profession_declaree = x"),
    ("field.age > 40", Compare("field.age", ">", T("40", "number")), "field.age > 40"),
    ("field.age > abc", Compare("field.age", ">", T("abc")), "field.age > abc"),
    ("tag:militant", Tag("militant"), "tag:militant"),
    ('tag:"porte-à-porte"', Tag("porte-à-porte"), "tag:porte-à-porte"),
    ('tag:"tête de liste"', Tag("tête de liste"), 'tag:"tête de liste"'),
    ("consent:SMS", Consent("sms"), "consent:sms"),
    ("reachable:email", Reachable("email"), "reachable:email"),
    ("in:rural", SegmentRef("rural"), "in:rural"),
    ("in:rural and not in:elus", And((SegmentRef("rural"), Not(SegmentRef("elus")))), "in:rural and not in:elus"),
    ("tag:a or tag:b and tag:c", Or((Tag("a"), And((Tag("b"), Tag("c"))))), "tag:a or tag:b and tag:c"),
    ("(tag:a or tag:b) and tag:c", And((Or((Tag("a"), Tag("b"))), Tag("c"))), "(tag:a or tag:b) and tag:c"),
    ("not (tag:a and tag:b)", Not(And((Tag("a"), Tag("b")))), "not (tag:a and tag:b)"),
    ("NOT tag:a AND tag:b", And((Not(Tag("a")), Tag("b"))), "not tag:a and tag:b"),
    ("tag:a and (tag:b and tag:c)", And((Tag("a"), Tag("b"), Tag("c"))), "tag:a and tag:b and tag:c"),
    ("((tag:a))", Tag("a"), "tag:a"),
    ("circo = 38-1", Compare("circonscription", "=", T("38-01")), "circonscription = 38-01"),
    ("circonscription = 97203", Compare("circonscription", "=", T("972-03")), "circonscription = 972-03"),
    ("cp = 1000", Compare("postal_code", "=", T("01000")), "postal_code = 01000"),
    ("Ville = Grenoble", Compare("commune", "=", T("Grenoble")), "commune = Grenoble"),
    ("département == 38", Compare("departement", "=", T("38")), "departement = 38"),
    ("nom <> Dupont", Compare("last_name", "!=", T("Dupont")), "last_name != Dupont"),
    ("geo_status = Resolved", Compare("geo_status", "=", T("resolved")), "geo_status = resolved"),
    ("phone_region = re", Compare("phone_region", "=", T("RE")), "phone_region = RE"),
    ("mobile = +33612345678", Compare("mobile", "=", T("+33612345678")), "mobile = +33612345678"),
    ('mobile = "06 12 34 56 78"', Compare("mobile", "=", T("06 12 34 56 78")), 'mobile = "06 12 34 56 78"'),
    ("first_name = 'and'", Compare("first_name", "=", T("and")), 'first_name = "and"'),
    ('last_name = "say \\"hi\\""', Compare("last_name", "=", T('say "hi"')), 'last_name = "say \\"hi\\""'),
    ("id in (1, 2, 3,)", InList("id", (T("1", "number"), T("2", "number"), T("3", "number"))), "id in (1, 2, 3)"),
    ("", None, ""),
    ("   ", None, ""),
])
def test_constructs_and_canonical_text(text, tree, canonical):
    parsed = parse(text)
    assert parsed == tree
    assert to_text(parsed) == canonical
    assert parse(canonical) == parsed


def test_positions_point_into_the_source():
    tree = parse('tag:x and field.age >= 40 and commune = "Saint-Égrève"')
    tag, age, commune = tree.items
    assert tag.span == (4, 5)
    assert age.field_span == (10, 19) and age.value.span == (23, 25)
    assert commune.value.span == (40, 54)
    assert commune.source.text.startswith("tag:x")


def test_tree_lines():
    assert tree_lines(parse("tag:a and not (tag:b or consent:sms)")) == [
        "and", "  tag:a", "  not", "    or", "      tag:b", "      consent:sms"]
    assert tree_lines(None) == ["(every contact)"]


def test_normalize_date():
    assert normalize_date("2024-02-29") == "2024-02-29"
    assert normalize_date("2025-02-29") == "invalid"
    assert normalize_date("1/2/2026") == "2026-02-01"
    assert normalize_date("2026-03-01T00:30:00+01:00") == "2026-02-28T23:30:00Z"
    assert normalize_date("2026-03-01T00:30-03:30") == "2026-03-01T04:00:00Z"
    assert normalize_date("hello") is None


# -- every error ------------------------------------------------------------------------------------

def error(text):
    with pytest.raises(FilterSyntaxError) as info:
        parse(text)
    return info.value


def test_unknown_field_message_is_the_documented_one():
    exc = error('cantn = "Grenoble-1"')
    assert str(exc) == ('unknown field "cantn" at column 1 — did you mean "canton"?\n'
                        '  cantn = "Grenoble-1"\n'
                        '  ^^^^^')
    assert isinstance(exc, InputError) and exc.exit_code == 3
    assert (exc.start, exc.end, exc.column, exc.suggestion) == (0, 5, 1, "canton")


@pytest.mark.parametrize("text, message, column, suggestion", [
    ("profesion = x", 'unknown field "profesion"', 1, None),
    ("tag:a and last_nme = x", 'unknown field "last_nme"', 11, "last_name"),
    ("circ = 38-01", 'unknown field "circ"', 1, "circo".replace("circo", "circonscription")),
    ("field. = x", "expected a custom field's name after \"field.\"", 1, None),
    ("tagg:x", 'unknown filter "tagg:"', 1, "tag:"),
    ("reachabel:sms", 'unknown filter "reachabel:"', 1, "reachable:"),
    ("tag:", 'expected a tag name after "tag:"', 5, None),
    ('tag:""', 'expected a tag name after "tag:"', 5, None),
    ("in:)", "expected a saved segment's name after \"in:\"", 4, None),
    ("consent:smss", 'unknown consent channel "smss"', 9, "sms"),
    ("reachable:post", 'unknown reachable channel "post"', 11, None),
    ("canton", 'expected an operator after "canton" (=, !=, ^=, ~, !~, in, is empty), found the end of the expression',
     7, None),
    ("canton < x", '"<" does not apply to canton (use =, !=, ^=, ~, !~, in, is empty)', 8, None),
    ("created_at ~ 2026", '"~" does not apply to created_at (use =, !=, <, <=, >, >=)', 12, None),
    ("created_at in (2026-01-01)", '"in" does not apply to created_at (use =, !=, <, <=, >, >=)', 12, None),
    ("created_at is empty", "created_at is never empty (use =, !=, <, <=, >, >=)", 12, None),
    ("email is blank", 'expected "empty" or "not empty" after "is", found "blank"', 10, None),
    ("canton =", 'expected a value after "=", found the end of the expression', 9, None),
    ("canton = (", 'expected a value after "=", found "("', 10, None),
    ("first_name = and", 'expected a value after "=", found the keyword "and"', 14, None),
    ("departement in 38", 'expected "(" after "in", found "38"', 16, None),
    ("departement in ()", "empty list", 16, None),
    ("departement in (38", 'missing ")" to close the list', 16, None),
    ("departement in (38 73)", 'expected "," or ")" in the list, found "73"', 20, None),
    ("departement in (38,", 'expected a value after "(", found the end of the expression', 20, None),
    ("((tag:x)", 'missing ")" to close this "("', 1, None),
    ("(tag:x", 'missing ")" to close this "("', 1, None),
    ("tag:x)", 'unexpected ")": no "(" to close', 6, None),
    ("()", "empty parentheses", 1, None),
    (")", 'unexpected ")"', 1, None),
    ("tag:x tag:y", 'expected "and", "or" or the end, found "tag"', 7, None),
    ("tag:x and", "expected a condition after \"and\"", 10, None),
    ("not", 'expected a condition after "not"', 4, None),
    ("and tag:x", 'expected a condition, found the keyword "and"', 1, None),
    ("tag:x or or tag:y", 'expected a condition, found the keyword "or"', 10, None),
    ("= 3", 'expected a field, tag:, consent:, reachable: or in:, found "="', 1, None),
    ('"canton" = x', 'expected a field, tag:, consent:, reachable: or in:, found the text "canton"', 1, None),
    ("mobile = 06 12 34", 'expected "and", "or" or the end, found "12"', 13, None),
    ("commune.population < abc", 'commune.population needs a number, found "abc"', 22, None),
    ("id = 1e5", 'id needs a number, found "1e5"', 6, None),
    ("created_at > hello", 'created_at needs a date (2026-01-31, 31/01/2026, today, 30 days ago), found "hello"',
     14, None),
    ("created_at > tday", 'created_at needs a date (2026-01-31, 31/01/2026, today, 30 days ago), found "tday"',
     14, "today"),
    ("created_at > 2026-02-30", 'invalid date "2026-02-30"', 14, None),
    ("created_at > 31/02/2026", 'invalid date "31/02/2026"', 14, None),
    ("created_at > 30 dayz ago", 'unknown unit "dayz"', 17, "days"),
    ("created_at > 30 days", 'expected "ago" after "30 days", found the end of the expression', 21, None),
    ("created_at > 30", 'created_at needs a date; a number must be followed by a unit and "ago" (30 days ago)', 14,
     None),
    ("created_at > 2.5 days ago", "the number of a relative date is a whole number", 14, None),
    ("created_at > 1000000 days ago", "the number of a relative date is between 0 and 100000", 14, None),
    ("postal_code = 38", 'a postal code has 5 digits, found "38"', 15, None),
    ("postal_code ^= 38a", 'postal_code ^= needs 1 to 5 digits, found "38a"', 16, None),
    ("departement = Isère", '"Isère" is not a département code (38, 2A, 971)', 15, None),
    ("circo = 38", '"38" is not a circonscription (38-01: département, dash, number)', 9, None),
    ("geo_status = resolvd", 'unknown geo_status "resolvd"', 14, "resolved"),
])
def test_errors(text, message, column, suggestion):
    exc = error(text)
    assert exc.message == message
    assert exc.column == column
    assert exc.suggestion == suggestion
    lines = str(exc).split("\n")
    assert lines[0].startswith(f"{message} at column {column}")
    assert lines[1] == "  " + text
    assert lines[2].index("^") == column + 1


def test_nesting_is_bounded():
    exc = error("(" * 70 + "tag:x" + ")" * 70)
    assert exc.message.startswith("expression nested too deeply")
    exc = error("not " * 80 + "tag:x")
    assert exc.message.startswith("expression nested too deeply")


def test_hints():
    assert error("tag:a tag:b").hint == 'join conditions with "and" or "or"'
    assert "quotes" in error("commune = Saint Pierre").hint
    assert error("profesion = x").hint.startswith("custom fields are written field.<name>")
    assert error("postal_code = 38").hint == "postal_code ^= 38 selects every code that starts with 38"


def test_custom_fields_are_suggested_when_known():
    with pytest.raises(FilterSyntaxError) as info:
        parse("profesion = x", custom_fields=lambda: ["profession", "age"])
    assert info.value.suggestion == "field.profession"


def test_a_long_expression_shows_a_window_around_the_error():
    text = "tag:a and " * 20 + "cantn = x" + " and tag:b" * 20
    lines = str(error(text)).split("\n")
    assert lines[1].startswith("  …") and lines[1].endswith("…")
    assert lines[1][lines[2].index("^"):].startswith("cantn")


def test_errors_from_a_saved_segment_say_so():
    with pytest.raises(FilterSyntaxError) as info:
        parse(Source("tag:x and cantn = y", kind="segment", name="rural"))
    assert str(info.value).startswith('in saved segment "rural": unknown field "cantn" at column 11')


# -- shortcut flags ---------------------------------------------------------------------------------

def test_flags_are_one_value_whatever_they_hold():
    node = flag_value("--canton", "canton", 'Grenoble-1" or tag:x')
    assert node == Compare("canton", "=", T('Grenoble-1" or tag:x'))
    assert to_text(node) == 'canton = "Grenoble-1\\" or tag:x"'
    assert flag_value("--departement", "departement", "2a") == Compare("departement", "=", T("2A"))
    assert flag_value("--circo", "circonscription", "38-1") == Compare("circonscription", "=", T("38-01"))
    assert flag_value("--tag", "tag", "porte-à-porte") == Tag("porte-à-porte")
    assert flag_value("--reachable", "reachable", "SMS") == Reachable("sms")


@pytest.mark.parametrize("flag, field, value, message", [
    ("--departement", "departement", "Isère", '--departement: "Isère" is not a département code (38, 2A, 971)'),
    ("--reachable", "reachable", "smss", '--reachable: unknown channel "smss" — did you mean "sms"?'),
    ("--circo", "circonscription", "x", '--circo: "x" is not a circonscription (38-01: département, dash, number)'),
    ("--canton", "canton", "  ", "--canton: needs a value"),
])
def test_flag_errors_name_the_flag(flag, field, value, message):
    with pytest.raises(FilterSyntaxError) as info:
        flag_value(flag, field, value)
    assert str(info.value) == message
