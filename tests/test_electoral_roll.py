"""The electoral roll: reading the REU extract, voters kept apart, matching to contacts, retention."""

from datetime import date
from pathlib import Path

import pytest

from dbox.electoral import rolls
from dbox.electoral.calendar import add_election
from dbox.electoral.roll import bureau_code, read_roll
from dbox.errors import InputError
from dbox.store import electoral as se

pytestmark = pytest.mark.engines

FIX = Path(__file__).resolve().parent / "fixtures" / "electoral"
ROLL = FIX / "reu_grenoble.csv"
CONTACTS = FIX / "contacts_grenoble.csv"


def _bureaux(store):
    return dict(store.execute(
        "SELECT c.last_name, cb.bureau || ':' || cb.registered || ':' || cb.how FROM contact_bureaux cb "
        "JOIN contacts c ON c.id = cb.contact_id").fetchall())


@pytest.fixture
def grenoble(store, cli):
    assert cli("import", CONTACTS).exit_code == 0
    add_election(store, "municipales-2099", ["2099-03-15", "2099-03-22"], ["commune:38185"])
    return store


def test_reads_the_reu_extract_and_keeps_no_origin():
    roll = read_roll(ROLL, "38185")
    assert len(roll.voters) == 17
    first = roll.voters[0]
    assert (first.bureau, first.birth_name, first.first_names, first.sex, first.birth_date) == \
        ("38185-0012", "MARTIN", "Claire Anne", "F", "1961-02-14")
    assert (first.house_number, first.street_key) == (3, "rue lesdiguieres")
    assert set(roll.not_kept) == {"Code de la commune de naissance", "Libellé de la commune de naissance",
                                  "Code du pays de naissance", "Libellé du pays de naissance", "Nationalité"}
    lieu_dit = roll.voters[-1]
    assert (lieu_dit.usage_name, lieu_dit.street, lieu_dit.house_number) == ("GIRARD", "LE HAMEAU DU PARC", None)


def test_bureau_codes():
    assert bureau_code("38185", "12", "x") == "38185-0012"
    assert bureau_code("38185", "0012", "x") == "38185-0012"
    assert bureau_code("38185", "BV 3", "x") == "38185-0003"
    assert bureau_code("38185", "38185_12", "x") == "38185-0012"
    with pytest.raises(InputError, match="no bureau"):
        bureau_code("38185", " ", "x")


def test_import_matches_contacts_and_places_the_rest(grenoble):
    report = rolls.import_roll(grenoble, ROLL, "Grenoble", election="municipales-2099",
                               source="mairie de Grenoble, remis le 2099-01-10")
    a = report.assignment
    assert (a.matched_birth_date, a.matched_address) == (1, 2)
    got = _bureaux(grenoble)
    assert got["Martin"] == "38185-0012:1:roll"          # same name and birth date
    assert got["Durand"] == "38185-0012:1:roll"          # usage name, same address, no birth date
    assert got["Petit"] == "38185-0012:0:address"        # a namesake born another day: not the voter
    assert got["Nouveau"] == "38185-0013:0:address"      # 27 bis: inside the 0013 run
    assert got["Pair"] == "38185-0012:0:address"         # even side, all 0012
    assert got["David"] == "38185-0014:1:roll"           # "5 av. d'Alsace-Lorraine" = "5 AV ALSACE LORRAINE"
    assert got["Loin"] == "38185-0013:0:address"         # past the end of a one-bureau street
    assert "Entre" not in got and "Ailleurs" not in got  # 23: between 0012 (19) and 0013 (25): unsure
    assert [reason for _, _, reason in a.unsure] == ["number 23 lies between bureaux 38185-0012 and 38185-0013"]
    # voters stay voters: no contact was added
    assert grenoble.execute("SELECT count(*) FROM contacts").fetchone()[0] == 9
    assert grenoble.execute("SELECT count(*) FROM voters").fetchone()[0] == 17
    assert se.bureaux_of(grenoble, "38185")[0][:2] == ("38185-0012", "ECOLE LESDIGUIERES")


def test_a_bad_row_writes_nothing(grenoble, tmp_path):
    text = ROLL.read_bytes().decode("cp1252").replace("14/02/1961", "31/02/1961")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(text.encode("cp1252"))
    with pytest.raises(InputError, match=r"bad.csv: row 2: column 'Date de naissance': '31/02/1961' is not a date"):
        rolls.import_roll(grenoble, bad, "38185", election="municipales-2099", source="mairie")
    assert grenoble.execute("SELECT count(*) FROM voters").fetchone()[0] == 0
    assert grenoble.execute("SELECT count(*) FROM electoral_rolls").fetchone()[0] == 0


def test_a_roll_of_another_commune_is_refused(grenoble):
    with pytest.raises(InputError, match="commune 38185 is not the roll's commune"):
        rolls.import_roll(grenoble, ROLL, "Vienne", election="municipales-2099", source="mairie")


def test_needs_an_election_not_over_and_a_source(grenoble):
    with pytest.raises(InputError, match="no election named"):
        rolls.import_roll(grenoble, ROLL, "38185", election="presidentielle-2099", source="mairie")
    with pytest.raises(InputError, match="that election is over"):
        rolls.import_roll(grenoble, ROLL, "38185", election="municipales-2099", source="mairie",
                          today=date(2099, 3, 23))
    with pytest.raises(InputError, match="--source"):
        rolls.import_roll(grenoble, ROLL, "38185", election="municipales-2099", source=" ")


def test_purged_after_its_election(grenoble):
    rolls.import_roll(grenoble, ROLL, "38185", election="municipales-2099", source="mairie")
    assert rolls.purge_due(grenoble, today=date(2099, 3, 22)) == []
    due = rolls.purge_due(grenoble, today=date(2099, 3, 23))
    assert [(c, e, n) for _, c, e, n in due] == [("38185", "municipales-2099", 17)]
    assert grenoble.execute("SELECT count(*) FROM voters").fetchone()[0] == 0
    assert grenoble.execute("SELECT count(*) FROM contact_bureaux WHERE registered = 1").fetchone()[0] == 0
    assert grenoble.execute("SELECT count(*) FROM bureau_streets WHERE source = 'roll'").fetchone()[0] == 0
    audit = grenoble.execute("SELECT command, count FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    assert audit == ("electoral roll purge", 17)


def test_cli_import_and_privacy_export(grenoble, cli):
    result = cli("electoral", "roll", "import", ROLL, "--commune", "38185", "--election", "municipales-2099",
                 "--source", "mairie de Grenoble, 2099-01-10")
    assert result.exit_code == 0, result.output
    assert "17 voters in 3 bureaux" in result.output
    assert "not kept (CNIL: no targeting by origin): Code de la commune de naissance" in result.output
    assert "unsure, left without a bureau: 1" in result.output
    listed = cli("electoral", "roll", "list")
    assert "source: mairie de Grenoble, 2099-01-10" in listed.output
    martin = grenoble.execute("SELECT id FROM contacts WHERE last_name = 'Martin'").fetchone()[0]
    exported = cli("privacy", "export", martin, "-o", Path(grenoble.path).parent / "exp")
    assert exported.exit_code == 0, exported.output
    text = next((Path(grenoble.path).parent / "exp").glob("*.txt")).read_text(encoding="utf-8")
    assert "Liste électorale" in text and "mairie de Grenoble, 2099-01-10" in text
    assert "bureau 38185-0012" in text


def test_cli_bad_file_is_one_error_line(grenoble, cli, tmp_path):
    bad = tmp_path / "r.csv"
    bad.write_text("Nom;Prénoms\nX;Y\n", encoding="utf-8")
    result = cli("electoral", "roll", "import", bad, "--commune", "38185", "--election", "municipales-2099",
                 "--source", "mairie")
    assert result.exit_code == 3
    assert "Error:" in result.output and "no column for bureau, street" in result.output


def test_any_command_purges_a_roll_whose_election_is_over(grenoble, cli):
    add_election(grenoble, "municipales-2021", ["2021-03-14"], ["commune:38185"])
    rolls.import_roll(grenoble, ROLL, "38185", election="municipales-2021", source="mairie",
                      today=date(2021, 1, 10))
    assert grenoble.execute("SELECT count(*) FROM voters").fetchone()[0] == 17
    assert cli("segment", "registered", "--count").exit_code == 0
    assert grenoble.execute("SELECT count(*) FROM voters").fetchone()[0] == 0
    assert grenoble.execute("SELECT count(*) FROM contact_bureaux WHERE registered = 1").fetchone()[0] == 0
