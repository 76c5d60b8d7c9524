"""Voters of the roll for walk lists: selected by bureau, age, sex and registered only (CNIL)."""

import stat
from datetime import datetime, timezone
from pathlib import Path

import pytest

from dbox.electoral import rolls, voters
from dbox.electoral.calendar import add_election
from dbox.filters import FilterSyntaxError

pytestmark = pytest.mark.engines

FIX = Path(__file__).resolve().parent / "fixtures" / "electoral"
NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


@pytest.fixture
def roll(store, cli):
    assert cli("import", FIX / "contacts_grenoble.csv").exit_code == 0
    add_election(store, "municipales-2099", ["2099-03-15"], ["commune:38185"])
    rolls.import_roll(store, FIX / "reu_grenoble.csv", "38185", election="municipales-2099", source="mairie")
    return store


def names(store, expression):
    return sorted(r[2] for r in voters.rows(store, expression, NOW))


def test_selects_by_bureau_age_sex_and_registered(roll):
    assert voters.count(roll, None, NOW) == 17
    assert names(roll, "bureau = 38185-0014") == ["BERTRAND", "DAVID", "GIRARD", "MOREL"]
    assert names(roll, "bureau ^= 38185 and age >= 75") == ["MOREL", "PETIT"]
    assert names(roll, "sex = F and bureau in (38185-0013)") == ["LEFEBVRE", "ROUX", "SIMON"]
    assert names(roll, "registered") == ["DAVID", "DURAND", "MARTIN"]
    assert names(roll, "not registered and age < 25") == ["DUBOIS", "ROUX"]
    assert names(roll, "age in (65, 25)") == ["MARTIN"]


@pytest.mark.parametrize("expression, message", [
    ("nationalite = FR", "nationality may not be used to select voters"),
    ("tag:militant", "only bureau, age, sex and registered"),
    ("last_name = MARTIN", "only bureau, age, sex and registered"),
    ("bureau = 38185-0099", 'unknown bureau "38185-0099"'),
])
def test_anything_else_is_refused(roll, expression, message):
    with pytest.raises(FilterSyntaxError, match=message):
        voters.count(roll, expression, NOW)


def test_cli_walk_list_is_private(roll, cli, tmp_path):
    out = tmp_path / "liste.csv"
    result = cli("electoral", "voters", "bureau = 38185-0012", "--format", "csv", "-o", out)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "bureau,order,name,first_names,number,street,complement,contact"
    assert len(lines) == 8
    assert cli("electoral", "voters", "sex = F", "--count").output.strip() == "9"
    refused = cli("electoral", "voters", "soundex = x")
    assert refused.exit_code == 3 and "CNIL" in refused.output
