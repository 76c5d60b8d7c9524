"""The import's fast paths give what the row-by-row rules give (docs/import.md, "speed"): a
memoized normalization refuses a repeated bad value on every row, a new contact written straight
from its row is merged into by a later row of the same chunk or of a later chunk, and the consent
notes name the first row that gave a value whichever chunk it was in.

Whole stores built by the code before and after these paths are compared by
bench/import_equivalence.py (too slow for a unit test)."""

import pytest

from dbox.importing.pipeline import ImportOptions, import_file
from tests.conftest import write_csv

HEADER = "Prénom;Nom;Courriel;Portable;Code postal;Ville;Étiquettes;Accord SMS\n"


@pytest.mark.parametrize("chunk_rows", [1, 100])
def test_a_later_row_merges_into_a_contact_made_from_a_row_in_the_same_or_an_earlier_chunk(store, tmp_path,
                                                                                           chunk_rows):
    path = write_csv(tmp_path / "a.csv", HEADER
                     + "Léa;Martin;lea@exemple.fr;;38000;Grenoble;militant;oui\n"
                     + "Hugo;Petit;hugo@exemple.fr;0612345678;38000;Grenoble;;\n"
                     + "Léa;Martin;lea@exemple.fr;0698765432;;;tractage;non\n"
                     + "Hugo;Petit;;0612345678;38100;Grenoble;;oui\n")
    report = import_file(store, path, ImportOptions(workers=0, chunk_rows=chunk_rows))
    assert report.counts["added"] == 2 and report.counts["duplicates_in_file"] == 2
    lea = store.execute("SELECT id, mobile FROM contacts WHERE email = 'lea@exemple.fr'").fetchone()
    assert lea[1] == "+33698765432"
    tags = [t for (t,) in store.execute("SELECT t.name FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id "
                                        "WHERE ct.contact_id = ? ORDER BY t.name", (lea[0],))]
    assert tags == ["militant", "tractage"]
    assert store.execute("SELECT status FROM consents WHERE contact_id = ? AND channel = 'sms'",
                         (lea[0],)).fetchone() == ("withdrawn",)
    # The consent notes name the row that first gave a value, whatever its chunk.
    assert any("row 4: sms: 'non' here but consent at row 2: the refusal is kept" in c for c in report.conflicts)
    assert any("row 5: postal_code/commune" in c for c in report.conflicts)
    sources = store.execute("SELECT contact_id, row_number FROM contact_sources ORDER BY row_number").fetchall()
    assert [row for _cid, row in sources] == [2, 3, 4, 5]
    points = store.execute("SELECT count(*) FROM contact_points WHERE value_hash IS NOT NULL").fetchone()[0]
    assert points == 4


def test_a_bad_value_repeated_on_many_rows_is_left_out_of_each(store, tmp_path):
    rows = "".join(f"P{i};N{i};p{i}@exemple.fr;;380;Grenoble;;peut-être\n" for i in range(3))
    report = import_file(store, write_csv(tmp_path / "b.csv", HEADER + rows), ImportOptions(workers=0))
    assert report.counts["added"] == 3 and report.counts["values_rejected"] == 6
    rejected = report.rejected_file.read_text(encoding="utf-8-sig").splitlines()[1:]
    assert [line.split(";")[-3:] for line in rejected] == [
        ["Code postal", "380", "'380' is not a 5-digit postal code"],
        ["Accord SMS", "peut-être", "'peut-être' is neither yes nor no (oui/non, yes/no, 1/0, x)"]] * 3
