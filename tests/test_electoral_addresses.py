"""The INSEE address table, and properties of the number ranges (never a guess)."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dbox.electoral.addresses import import_addresses, read_addresses
from dbox.electoral.streets import derive_ranges, find_bureau, match_key, side_of, split_address
from dbox.errors import InputError

pytestmark = pytest.mark.engines

FIX = Path(__file__).resolve().parent / "fixtures" / "electoral"


def test_street_keys():
    assert match_key("Rue de la République") == match_key("R REPUBLIQUE") == "rue republique"
    assert match_key("av. d'Alsace-Lorraine") == match_key("AV ALSACE LORRAINE")
    assert match_key("Bd St-Exupéry") == "boulevard saint exupery"
    assert split_address("12 bis av. Jean-Jaurès").number == 12


def test_reads_the_insee_table():
    table = read_addresses(FIX / "table-adresses-reu.csv")
    assert set(table) == {"38185", "38544"}
    assert table["38185"]["rue lesdiguieres"].count((3, "38185-0012")) == 4     # nb_adresses
    assert (None, "38185-0014") in table["38185"]["avenue alsace lorraine"]


def test_import_places_contacts_without_a_roll(store, cli):
    assert cli("import", FIX / "contacts_grenoble.csv").exit_code == 0
    report = import_addresses(store, FIX / "table-adresses-reu.csv")
    assert report.communes == ["38185", "38544"]
    got = dict(store.execute("SELECT c.last_name, cb.bureau || ':' || cb.how FROM contact_bureaux cb "
                             "JOIN contacts c ON c.id = cb.contact_id"))
    assert got["Petit"] == "38185-0012:address" and got["Nouveau"] == "38185-0013:address"
    assert got["Ailleurs"] == "38544-0001:address"
    assert "Entre" not in got        # 23: between 19 (0012) and 25 (0013)
    assert got["David"] == "38185-0014:address"      # the whole avenue votes in 0014
    assert got["Loin"] == "38185-0013:address"
    unsure = [reason for a in report.assignments for _, _, reason in a.unsure]
    assert unsure == ["number 23 lies between bureaux 38185-0012 and 38185-0013"]


def test_cli_and_errors(cli, tmp_path):
    result = cli("electoral", "addresses", "import", FIX / "table-adresses-reu.csv")
    assert result.exit_code == 0, result.output
    assert "13 addresses" not in result.output and "2 communes" in result.output
    parquet = tmp_path / "t.parquet"
    parquet.write_bytes(b"PAR1....")
    bad = cli("electoral", "addresses", "import", parquet)
    assert bad.exit_code == 3 and "Parquet" in bad.output


# -- properties -----------------------------------------------------------------------------------------

observations = st.lists(st.tuples(st.one_of(st.none(), st.integers(1, 400)), st.sampled_from("ABC")),
                        min_size=1, max_size=60)


@settings(max_examples=300, deadline=None)
@given(observations)
def test_ranges_keep_every_address(obs):
    ranges = derive_ranges(obs)
    assert sum(r.addresses for r in ranges) == len(obs)
    for r in ranges:
        if r.side != "none":
            assert r.low <= r.high and side_of(r.low) == side_of(r.high) == r.side


@settings(max_examples=300, deadline=None)
@given(observations)
def test_a_number_of_one_bureau_finds_it(obs):
    ranges = derive_ranges(obs)
    by_number = {}
    for number, bureau in obs:
        by_number.setdefault(number, set()).add(bureau)
    for number, bureaux in by_number.items():
        found = find_bureau(ranges, number)
        if number is None:
            continue
        if len(bureaux) == 1:
            assert found.bureau == next(iter(bureaux))
        else:
            assert found.bureau is None           # two bureaux at one number: reported, not guessed


@settings(max_examples=300, deadline=None)
@given(observations, st.integers(1, 450))
def test_never_a_guess(obs, number):
    """A bureau found for a number the roll does not have is the bureau of its nearest known
    neighbours on its side (both), or of the whole street."""
    ranges = derive_ranges(obs)
    found = find_bureau(ranges, number)
    known = [(n, b) for n, b in obs if n is not None]
    if found.bureau is None or any(n == number for n, _ in known):
        return
    street = {b for _, b in obs}
    if street == {found.bureau}:
        return
    same = sorted((n, b) for n, b in known if side_of(n) == side_of(number))
    below = [b for n, b in same if n < number and n == max(m for m, _ in same if m < number)]
    above = [b for n, b in same if n > number and n == min(m for m, _ in same if m > number)]
    assert set(below) == {found.bureau} and set(above) == {found.bureau}
