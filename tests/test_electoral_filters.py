"""Filter terms of electoral geography: bureau, registered, age, sex, turnout, share, and the
selections the CNIL forbids."""

from datetime import datetime, timezone
from pathlib import Path

import pytest

from dbox.electoral import rolls
from dbox.electoral.calendar import add_election
from dbox.electoral.results import import_results
from dbox.filters import FilterSyntaxError, parse, to_text
from dbox.store.filters import compile_filter

pytestmark = pytest.mark.engines

FIX = Path(__file__).resolve().parent / "fixtures" / "electoral"
NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


@pytest.fixture
def grenoble(store, cli):
    assert cli("import", FIX / "contacts_grenoble.csv").exit_code == 0
    add_election(store, "municipales-2099", ["2099-03-15"], ["commune:38185"])
    rolls.import_roll(store, FIX / "reu_grenoble.csv", "38185", election="municipales-2099", source="mairie")
    import_results(store, FIX / "departementales-2021-t1-bv.csv", "departementales-2021-t1")
    import_results(store, FIX / "legislatives-2024-t1-bv.csv", "legislatives-2024-t1")
    return store


def names(store, text):
    compiled = compile_filter(store, parse(text), now=NOW)
    return sorted(n for (n,) in store.execute(f"SELECT last_name FROM contacts c WHERE {compiled.where}",
                                              compiled.params))


def test_canonical_text_round_trips():
    for text in ("bureau = 38185-0012", "registered", "turnout:legislatives-2024-t1 < 45",
                 "share:legislatives-2024-t1:UG > 30", "age >= 65 and sex = F", "bureau in (38185-0012, 38185-0013)"):
        assert to_text(parse(text)) == text
        assert parse(to_text(parse(text))) == parse(text)
    assert to_text(parse("inscrit and sexe = f")) == "registered and sex = f"


def test_bureau_and_registered(grenoble):
    assert names(grenoble, 'bureau = "38185-0012"') == ["Durand", "Martin", "Pair", "Petit"]
    assert names(grenoble, "bureau in (38185-0013, 38185-0014)") == ["David", "Loin", "Nouveau"]
    assert names(grenoble, "bureau ^= 38185") == ["David", "Durand", "Loin", "Martin", "Nouveau", "Pair", "Petit"]
    assert names(grenoble, "bureau is empty") == ["Ailleurs", "Entre"]
    assert names(grenoble, "registered") == ["David", "Durand", "Martin"]
    assert names(grenoble, "not registered and bureau = 38185-0012") == ["Pair", "Petit"]
    assert names(grenoble, "bureau != 38185-0012") == ["Ailleurs", "David", "Entre", "Loin", "Nouveau"]


def test_canton_of_a_split_commune_now_finds_its_contacts(grenoble):
    assert names(grenoble, 'canton = "Grenoble-1"') == ["Durand", "Martin", "Pair", "Petit"]
    assert names(grenoble, 'canton = "Grenoble-2" and reachable:sms') == ["Loin"]


def test_age_and_sex_from_the_roll(grenoble):
    # Martin born 1961-02-14 (65 on 2026-06-01), Durand 1975-11-02 (50), David 1985-02-28 (41)
    assert names(grenoble, "age >= 65") == ["Martin"]
    assert names(grenoble, "age = 50") == ["Durand"]
    assert names(grenoble, "age < 50") == ["David"]
    assert names(grenoble, "sex = F") == ["Durand", "Martin"]
    assert names(grenoble, "sexe = homme") == ["David"]


def test_turnout_and_share(grenoble):
    # turnout 2024: 0012 65 %, 0013 42.2 %, 0014 65 %; UG share: 0012 47.6 %, 0013 27.4 %, 0014 78.4 %
    assert names(grenoble, "turnout:legislatives-2024-t1 < 45") == ["Loin", "Nouveau"]
    assert names(grenoble, "share:legislatives-2024-t1:UG > 30") == ["David", "Durand", "Martin", "Pair", "Petit"]
    assert names(grenoble, "share:legislatives-2024-t1:ug > 70") == ["David"]
    assert names(grenoble, "turnout:departementales-2021-t1 < 40 and share:legislatives-2024-t1:RN > 40") == \
        ["Loin", "Nouveau"]


@pytest.mark.parametrize("text, message", [
    ("nationality = FR", "nationality may not be used to select people: the CNIL forbids"),
    ("lieu_de_naissance ~ alger", "birthplace may not be used to select people"),
    ("soundex = x", "name_sound may not be used"),
    ("bureau = 38185-0099", 'unknown bureau "38185-0099"'),
    ("turnout:legislatives-2025-t1 < 40", 'no results loaded for "legislatives-2025-t1"'),
    ("share:legislatives-2024-t1:XYZ > 10", 'no nuance "XYZ"'),
    ("sex = x", '"x" is not a sex on the roll'),
])
def test_refused_and_unknown_values_are_errors_at_their_position(grenoble, text, message):
    with pytest.raises(FilterSyntaxError, match=message):
        compile_filter(grenoble, parse(text), now=NOW)


@pytest.mark.parametrize("text, message", [
    ("turnout:legislatives-2024-t1 45", "expected a comparison after turnout:"),
    ("turnout:legislatives-2024-t1 < 145", "expected a percentage from 0 to 100"),
    ("share:legislatives-2024-t1 > 30", 'expected ":NUANCE"'),
])
def test_syntax_errors(text, message):
    with pytest.raises(FilterSyntaxError, match=message):
        parse(text)


def test_segment_cli(grenoble, cli):
    result = cli("segment", 'canton = "Grenoble-1" and registered', "--count")
    assert result.exit_code == 0, result.output
    assert "2" in result.output
    bad = cli("segment", "nationality = FR", "--count")
    assert bad.exit_code == 3 and "CNIL" in bad.output
