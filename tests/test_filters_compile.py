"""Compiling filters against a store filled by the real import pipeline: every construct's result is
checked against a plain-Python evaluation (test_segments_support.Oracle), and every value error is
reported at its position with nothing changed."""

import json
import sqlite3

import pytest

pytestmark = pytest.mark.engines

from dbox import segments
from dbox.filters import FilterSyntaxError, parse
from dbox.store import filters as store_filters
from test_segments_support import (NOW, Oracle, geo, sample, sample_oracle, sample_template,  # noqa: F401
                                   selected_ids)

EXPRESSIONS = [
    # tags, consent, reachability
    "tag:militant", 'tag:"Porte-à-porte"', "tag:PORTE-A-PORTE", "tag:benevole", "tag:relance",
    "tag:militant and tag:sympathisant", "tag:élu or tag:donateur", "not tag:militant",
    "consent:sms", "consent:email", "not consent:sms", "consent:phone or consent:post",
    "reachable:sms", "reachable:email", "not reachable:sms", "reachable:sms and reachable:email",
    "tag:militant and consent:sms and commune.population < 3500",
    "tag:militant and tag:élu and consent:sms", "tag:sympathisant and reachable:sms and departement = 38",
    # geography
    'canton = "Grenoble-1"', 'canton = "grenoble 1"', "canton = 3806", "canton = Annonay-2", "canton != Annonay-2",
    "canton = Saint-Denis-1", "canton in (Annonay-1, Annonay-2, Meylan)", "canton not in (Meylan)",
    "canton ~ grenoble", "canton ^= annonay", "canton !~ annonay", "canton is empty", "canton is not empty",
    "commune = Grenoble", "commune = grenoble", "commune = 38185", "commune = Lyon", "commune = 69123",
    'commune = "Saint-Denis"', "commune = 97411", "commune = Saint-Égrève", 'commune = "st egreve"',
    'commune = "Trifouilly-les-Oies"', "commune = Pétaouchnok", "commune != Grenoble",
    'commune in (Voiron, "La Mure", 07172)', "commune ~ saint", "commune ^= la", "commune !~ saint",
    "commune is empty", "commune is not empty",
    "departement = 38", "departement in (07, 73)", "departement = 974", "departement != 38",
    "departement is empty",
    "circo = 38-01", "circonscription = 07-02", "circo in (38-04, 38-09)", "circo ^= 38", "circo is empty",
    "commune.population < 3500", "commune.population >= 20000", "commune.population = 158000",
    "commune.population != 158000", "commune.population in (1000, 2200)", "commune.population is empty",
    "commune.population is not empty", "not commune.population < 3500",
    "postal_code = 38000", "postal_code ^= 38", "postal_code ^= 0", "postal_code < 38000", "postal_code >= 69000",
    "postal_code in (38000, 38100)", "postal_code is empty", "commune_insee = 38185", "commune_insee ^= 38",
    "commune_insee is empty", "geo_status = resolved", "geo_status in (unknown, missing)",
    "geo_status != resolved", "phone_region = FR", "phone_region = fr",
    # people
    "last_name = dupont", "last_name = DUPONT", 'last_name = "Dupont-Moreau"', "last_name ~ dup", "last_name ~ DIAYE",
    'last_name ~ "n\'diaye"', "last_name ^= de", "last_name !~ dup", "last_name < m", "last_name >= m",
    "last_name in (martin, muller)", "last_name is empty", "last_name is not empty",
    "first_name = eleonore", "first_name ~ é", "first_name = Hélène", "first_name ^= jean", "first_name is empty",
    "address ~ stade", "address ~ eglise", 'address ~ "l\'église"', "address is empty",
    "civility = Mme", "civility = madame", "civility = m", "civility is empty", "civility in (mme, m)",
    "email = contact1@exemple.fr", "email = CONTACT1@EXEMPLE.FR", "email ~ contact1", "email ^= contact2",
    "email !~ contact1", "email is empty", "email in (contact3@exemple.fr, contact4@exemple.fr)",
    "mobile is empty", "mobile is not empty", "mobile ^= 0610", "mobile ^= +33610", "mobile ~ 12",
    "fixed is not empty", "fixed ^= 0476", "fixed ~ 476",
    "id = 3", "id < 10", "id >= 95", "id in (1, 2, 99)", "id != 3",
    # dates (now = 2026-11-23T17:00:00Z)
    "created_at = 2026-01-15", "created_at >= 2026-11-10", "created_at < 2026-11-10", "created_at > 2026-01-15",
    "created_at <= 2026-01-15", "created_at = 15/01/2026", "created_at != 2026-01-15",
    "created_at >= 2026-01-15T09:30:00Z", "created_at > 2026-01-15T09:30:00Z", "created_at = 2026-01-15T09:30:00Z",
    "created_at < 2026-01-15T10:30:00+01:00", "updated_at > 30 days ago", "updated_at >= 13 days ago",
    "updated_at = 13 days ago", "updated_at < 1 month ago", "updated_at > 1 year ago", "updated_at >= 3 hours ago",
    "updated_at > 2 weeks ago", "updated_at < today", "updated_at >= yesterday", "created_at < now",
    "updated_at = 3 days ago", "updated_at > 0 days ago",
    # custom fields
    "field.profession = enseignant", "field.profession = ENSEIGNANTE", "field.profession ~ enseign",
    "field.profession ^= inf", "field.profession !~ enseign", "field.profession != retraite",
    "field.profession in (artisan, étudiant)", "field.profession not in (artisan)", "field.profession is empty",
    "field.profession is not empty", "field.age > 40", "field.age <= 18", "field.age < 0", "field.age >= 12.5",
    "field.age = 34", "field.age > m", "field.age = nc", "field.age is empty",
    "field.profession = enseignant and tag:militant", "field.profession ~ enseign and canton ~ annonay",
    # logic
    "(tag:militant or tag:élu) and not (consent:sms or commune = Grenoble)",
    "not (not tag:militant)", "tag:militant or not tag:militant", "tag:militant and not tag:militant",
    "canton = Grenoble-1 or commune = Grenoble", "not canton = Annonay-2 and departement = 07",
    "",
]


@pytest.fixture
def oracle(sample_oracle):
    """What the plain-Python evaluation says of the sample (read once per template: test_segments_support)."""
    return sample_oracle


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_sql_agrees_with_python(sample, oracle, expression):
    selection = segments.select(sample, expression, now=NOW)
    assert selected_ids(sample, selection) == oracle.matches(parse(expression))


def test_the_sample_is_varied(sample, oracle):
    """The cases above mean something: each kind of contact is there."""
    statuses = {c["geo_status"] for c in oracle.contacts.values()}
    assert statuses >= {"resolved", "unknown", "missing"}
    assert any(c["commune_insee"] == "38185" and c["canton_code"] is None for c in oracle.contacts.values())
    assert any(c["commune_insee"] == "07172" and c["canton_code"] == "0702" for c in oracle.contacts.values())
    assert len({c["created_at"] for c in oracle.contacts.values()}) == 2
    assert any(c["updated_at"] != c["created_at"] for c in oracle.contacts.values())
    for expression in ["reachable:sms", "consent:sms and not reachable:sms", "canton = Grenoble-1",
                       "commune = Trifouilly-les-Oies", "field.age > 40", "updated_at > 30 days ago",
                       "not updated_at > 30 days ago", "tag:relance"]:
        assert oracle.matches(parse(expression)), expression


def test_reachable_sms_leaves_out_each_reason(sample, oracle):
    """Consent granted, a primary mobile, valid, not suppressed for sms (or every channel)."""
    reachable = oracle.matches(parse("reachable:sms"))
    consent = oracle.matches(parse("consent:sms and mobile is not empty"))
    left_out = consent - reachable
    assert len(left_out) == 2   # one invalid number, one suppressed for every channel
    suppressed_for_email_only = [c for c in oracle.contacts.values()
                                 if c["mobile"] and c["id"] in reachable and
                                 any(h == oracle.hash(c["mobile"]) for h, _ in oracle.suppressed)]
    assert len(suppressed_for_email_only) == 1


def test_reachable_agrees_with_the_sending_ledger(sample):
    """The send ledger decides reachability on its own (dbox.store.ledger); both must agree."""
    from dbox.store import ledger

    for channel, kind in (("sms", "mobile"), ("email", "email")):
        counts = ledger.audience_counts(sample, ledger.Reach(channel, kind), "TRUE")
        ours = segments.count(sample, segments.select(sample, f"reachable:{channel}"))
        assert ours == counts.get("planned", 0) + counts.get("duplicate-address", 0)


def test_not_and_not_equal_include_contacts_without_the_value(sample, oracle):
    without = oracle.matches(parse("canton is empty"))
    assert without <= selected_ids(sample, segments.select(sample, "canton != Annonay-2"))
    assert without <= selected_ids(sample, segments.select(sample, "not canton = Annonay-2"))
    everyone = set(oracle.contacts)
    for a, b in [("tag:militant", "not tag:militant"), ("commune.population < 3500", "not commune.population < 3500"),
                 ("field.age > 40", "not field.age > 40"), ("updated_at > 30 days ago", "not updated_at > 30 days ago")]:
        assert selected_ids(sample, segments.select(sample, a, now=NOW)) | \
            selected_ids(sample, segments.select(sample, b, now=NOW)) == everyone


def test_nothing_but_placeholders_in_the_sql(sample):
    evil = "x'); DROP TABLE contacts; --"
    for expression in [f'last_name = "{evil}"', f'field.profession ~ "{evil}"', f'email = "{evil}"']:
        selection = segments.select(sample, expression)
        assert evil not in selection.where and "DROP" not in selection.where
        assert evil.lower() in json.dumps(selection.params).lower() or any(
            "droptablecontacts" in str(p) for p in selection.params)
        assert segments.count(sample, selection) == 0
    assert segments.count(sample, segments.select(sample)) == len(Oracle(sample).contacts)


# -- value errors, at their position ------------------------------------------------------------------

@pytest.mark.parametrize("expression, message, column, suggestion", [
    ("canton = Grenble-1", 'unknown canton "Grenble-1"', 10, "Grenoble-1"),
    ("canton in (Meylan, Annnonay-1)", 'unknown canton "Annnonay-1"', 20, "Annonay-1"),
    ("canton ~ zzz", 'no canton name contains "zzz"', 10, None),
    ("canton ^= zzz", 'no canton name starts with "zzz"', 11, None),
    ("commune = Grenoblle", 'unknown commune "Grenoblle"', 11, "Grenoble"),
    ("commune = 38999", 'unknown commune code "38999"', 11, None),
    ('commune = "---"', "this value has no letter or digit to look for", 11, None),
    ("commune ~ '-'", "this value has no letter or digit to look for", 11, None),
    ("tag:militnt", 'unknown tag "militnt"', 5, "militant"),
    ("tag:militant and tag:porte-a-port", 'unknown tag "porte-a-port"', 22, "porte-à-porte"),
    ("in:rural", 'unknown segment "rural"', 4, None),
    ("field.profesion = x", 'unknown custom field "field.profesion"', 1, "field.profession"),
    ("tag:militant and field.agee > 3", 'unknown custom field "field.agee"', 18, "field.age"),
    ("departement = 99", 'unknown département "99"', 15, None),
    ("circo = 38-12", 'unknown circonscription "38-12"', 9, None),
    ("mobile = 0612", '"0612" is not a phone number', 10, None),
    ('mobile = "04 76 00 00 00"', '"04 76 00 00 00" is a fixed number: it is never in mobile', 10, None),
    ("last_name ~ '!!'", "this value has no letter or digit to look for", 13, None),
    ("field.profession ^= ''", "this value has no letter or digit to look for", 21, None),
    ("mobile ^= ''", "this value is empty: there is nothing to look for", 11, None),
])
def test_value_errors(sample, expression, message, column, suggestion):
    before = sample.execute("SELECT count(*), max(updated_at) FROM contacts").fetchone()
    with pytest.raises(FilterSyntaxError) as info:
        segments.select(sample, expression)
    exc = info.value
    assert (exc.message, exc.column, exc.suggestion) == (message, column, suggestion)
    assert str(exc).split("\n")[1] == "  " + expression
    assert sample.execute("SELECT count(*) FROM segments").fetchone()[0] == 0
    assert sample.execute("SELECT count(*), max(updated_at) FROM contacts").fetchone() == before


def test_unknown_geography_says_the_reference_is_missing(tmp_path):
    from dbox.store import geo as store_geo
    from dbox.store.db import open_store

    mp = pytest.MonkeyPatch()
    mp.setattr(store_geo, "_reference_rows", lambda: iter(()))
    try:
        store = open_store(tmp_path / "empty.sqlite3")
    finally:
        mp.undo()
    with pytest.raises(FilterSyntaxError) as info:
        segments.select(store, "canton = Grenoble-1")
    assert info.value.hint == "the geography reference is not loaded in this store (docs/geography.md)"
    with pytest.raises(FilterSyntaxError) as info:
        segments.select(store, "circo = 38-01")
    assert "not loaded" in info.value.hint
    # Without the reference, a département is checked for its form only.
    assert segments.select(store, "departement = 38").params == ["38"]
    store.close()


# -- the shape of the SQL ---------------------------------------------------------------------------

def test_values_never_change_the_sql(sample):
    pairs = [("canton = Grenoble-1", "canton = Saint-Denis-1"),          # one code, two codes
             ("commune = Grenoble", "commune = 69123"),                  # a name, a code
             ("commune = Lyon", "commune = Trifouilly-les-Oies"),
             ("tag:militant and tag:élu", "tag:élu and tag:sympathisant"),
             ("updated_at > 30 days ago", "updated_at > 2026-01-01"),
             ("updated_at = today", "updated_at = 2026-01-01T10:00:00Z"),
             ("last_name ~ dup", "last_name ~ \"x'); --\""),
             ("field.profession in (a, b)", "field.profession in (c, d)")]
    for a, b in pairs:
        assert segments.select(sample, a).where == segments.select(sample, b).where, (a, b)


def test_explain_shows_tree_sql_params_and_plan(sample):
    info = segments.explain(sample, segments.select(sample, "tag:militant and canton = Annonay-2"))
    assert info["tree"] == ["and", "  tag:militant", "  canton = Annonay-2"]
    assert info["params"][1] == ('["0702"]' if sample.engine == "sqlite" else ["0702"])
    assert "?" in info["where"] and "Annonay" not in info["where"]
    assert any("contacts_canton" in line for line in info["plan"]) or sample.engine == "postgresql"


@pytest.mark.engine("sqlite")
def test_counts_use_indexes(sample):
    """The plans the bench relies on: a canton is an index search; tags and consents are read by
    their primary keys, not scanned."""
    plan = store_filters.explain_plan(sample, *_wp(segments.select(sample, "canton = Annonay-2")))
    assert any("USING COVERING INDEX contacts_canton" in line for line in plan)
    plan = store_filters.explain_plan(
        sample, *_wp(segments.select(sample, "tag:militant and consent:sms and commune.population < 3500")))
    assert "SEARCH c USING INTEGER PRIMARY KEY (rowid=?)" in plan
    assert any("SEARCH t2 USING PRIMARY KEY (channel=? AND contact_id=?)" in line for line in plan)
    plan = store_filters.explain_plan(sample, *_wp(segments.select(sample, "reachable:sms and departement = 38")))
    assert any(line.startswith("SEARCH c USING INDEX contacts_dep") for line in plan)


def _wp(selection):
    return selection.where, selection.params


# -- folded keys and hashes --------------------------------------------------------------------------

def test_missing_keys_and_hashes_are_computed_before_use(sample):
    sample.execute("UPDATE contacts SET last_name = 'Zébulon' WHERE id = 1")   # a writer that forgets the key
    assert sample.execute("SELECT last_name_key FROM contacts WHERE id = 1").fetchone()[0] is None
    assert store_filters.keys_missing(sample)
    selection = segments.select(sample, "last_name = zebulon")
    assert selected_ids(sample, selection) == {1}
    assert not store_filters.keys_missing(sample)
    sample.execute("INSERT INTO contact_points (contact_id, kind, value) VALUES (1, 'email', 'new@exemple.fr')")
    assert store_filters.hashes_missing(sample)
    segments.select(sample, "reachable:email")
    assert not store_filters.hashes_missing(sample)


def test_keys_are_what_the_module_says(sample):
    from dbox.filters.keys import commune_key, contact_keys, text_key

    assert contact_keys("Jean-Pierre", "N'Diaye", "3 place de l'Église", "St-Égrève") == (
        "jeanpierre", "ndiaye", "3placedeleglise", "saintegreve")
    assert text_key(None) == "" and commune_key(None) == ""
    # Whoever wrote the rows (the import fills them, refresh_keys otherwise), keys are the function's.
    sample.execute("UPDATE contacts SET first_name_key = NULL, commune_key = NULL WHERE id <= 10")
    sample.execute("UPDATE contact_fields SET value_key = NULL WHERE contact_id <= 10")
    fields = sample.execute("SELECT count(*) FROM contact_fields WHERE contact_id <= 10").fetchone()[0]
    contacts = sample.execute("SELECT count(*) FROM contacts WHERE id <= 10").fetchone()[0]
    assert store_filters.refresh_keys(sample) == contacts + fields
    assert store_filters.refresh_keys(sample) == 0
    for row in sample.execute("SELECT first_name, last_name, address, commune_name, first_name_key, last_name_key, "
                              "address_key, commune_key FROM contacts"):
        assert contact_keys(*row[:4]) == row[4:]
    for value, key in sample.execute("SELECT value, value_key FROM contact_fields"):
        assert text_key(value) == key


def test_a_store_without_json_each_would_fail_loudly(sample):
    assert sqlite3.sqlite_version_info >= (3, 38)   # json_each is built in from 3.38
