"""Results per bureau de vote: both Ministry formats, each bureau's canton and circonscription, and
contacts of split communes placed by their bureau."""

from pathlib import Path

import pytest

from dbox.electoral import rolls
from dbox.electoral.calendar import add_election
from dbox.electoral.results import import_results, insee_code, read_results
from dbox.errors import InputError

pytestmark = pytest.mark.engines

FIX = Path(__file__).resolve().parent / "fixtures" / "electoral"


def test_reads_the_format_up_to_2022_with_unnamed_blocks():
    rows = read_results(FIX / "departementales-2021-t1-bv.csv")
    assert [(r.bureau, r.canton, r.inscrits, r.votants, r.exprimes) for r in rows] == [
        ("38185-0012", "3809", 1000, 420, 405), ("38185-0013", "3810", 900, 350, 340),
        ("38185-0014", "3811", 800, 280, 270)]
    assert rows[1].votes == [(1, "BC-UG", "Mme E - M. F", 120), (2, "BC-RN", "M. G - Mme H", 140),
                             (3, "BC-DVD", "Mme I - M. J", 80)]


def test_reads_the_2024_format_with_numbered_blocks():
    rows = read_results(FIX / "legislatives-2024-t1-bv.csv")
    assert [r.bureau for r in rows] == ["38185-0012", "38185-0013", "38185-0014"]
    assert rows[2].votes == [(1, "UG", "ALPHA", 400), (2, "RN", "BETA", 110)]
    assert rows[0].circo_raw is None


def test_insee_codes():
    assert insee_code("38", "185", "x") == "38185"
    assert insee_code("1", "4", "x") == "01004"
    assert insee_code("2A", "4", "x") == "2A004"
    assert insee_code("ZA", "101", "x") == "97101"
    assert insee_code("", "38185", "x") == "38185"
    with pytest.raises(InputError, match="needs the département"):
        insee_code("", "185", "x")


def test_a_bad_number_names_row_and_column(tmp_path):
    text = (FIX / "departementales-2021-t1-bv.csv").read_bytes().decode("cp1252").replace(";1000;", ";1 0OO;")
    bad = tmp_path / "r.csv"
    bad.write_bytes(text.encode("cp1252"))
    with pytest.raises(InputError, match=r"r.csv: row 2: column 'Inscrits': '1 0OO' is not a whole number"):
        read_results(bad)


def test_split_commune_contacts_get_canton_and_circo_from_their_bureau(store, cli):
    assert cli("import", FIX / "contacts_grenoble.csv").exit_code == 0
    add_election(store, "municipales-2099", ["2099-03-15"], ["commune:38185"])
    rolls.import_roll(store, FIX / "reu_grenoble.csv", "38185", election="municipales-2099", source="mairie")
    assert store.execute("SELECT count(*) FROM contacts WHERE commune_insee = '38185' AND canton_code IS NOT NULL"
                         ).fetchone()[0] == 0
    report = import_results(store, FIX / "departementales-2021-t1-bv.csv", "departementales-2021-t1")
    assert (report.bureaux, report.cantons, report.unplaced) == (3, 3, [])
    cantons = dict(store.execute("SELECT last_name, canton_code FROM contacts WHERE commune_insee = '38185'"))
    assert cantons == {"Martin": "3809", "Durand": "3809", "Petit": "3809", "Nouveau": "3810", "Entre": None,
                       "Pair": "3809", "David": "3811", "Loin": "3810"}
    report = import_results(store, FIX / "legislatives-2022-t1-bv.csv", "legislatives-2022-t1")
    assert report.circos == 3
    circos = dict(store.execute("SELECT last_name, circonscription FROM contacts WHERE commune_insee = '38185'"))
    assert circos["Martin"] == "38-01" and circos["Loin"] == "38-03" and circos["Entre"] is None
    # the 2024 file has no circonscription: it keeps what 2022 said
    import_results(store, FIX / "legislatives-2024-t1-bv.csv", "legislatives-2024-t1")
    assert store.execute("SELECT circonscription FROM bureaux WHERE code = '38185-0013'").fetchone()[0] == "38-03"


def test_cli_results_import(cli):
    result = cli("electoral", "results", "import", FIX / "legislatives-2024-t1-bv.csv", "--election",
                 "legislatives-2024-t1")
    assert result.exit_code == 0, result.output
    assert "Results of legislatives-2024-t1: 3 bureaux" in result.output
    listed = cli("electoral", "results", "list")
    assert "legislatives-2024-t1  3 bureaux, 2\u202f700 inscrits" in listed.output
    bad = cli("electoral", "results", "import", FIX / "reu_grenoble.csv", "--election", "x")
    assert bad.exit_code == 3 and "no column for" in bad.output
