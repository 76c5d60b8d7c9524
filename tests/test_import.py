import csv
import json

import pytest

pytestmark = pytest.mark.engines

from dbox.errors import InputError
from dbox.importing.pipeline import ImportOptions, import_file
from dbox.store import suppressions
from dbox.store.contacts import contact_details, count_contacts, find_contact
from tests.conftest import EXAMPLES, copy_store, write_csv

HEADER_FR = "Civilité;Nom;Prénom;Tél. portable;Courriel;Code postal;Ville;Étiquettes;Profession;Accord SMS\r\n"


def snapshot(store):
    """Every row of every contact table, to prove an import changed nothing."""
    tables = ["contacts", "contact_points", "contact_tags", "tags", "contact_fields", "consents",
              "consent_events", "contact_sources", "imports"]
    return {t: store.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in tables}


def test_french_excel_csv(store, tmp_path):
    path = write_csv(tmp_path / "c.csv", HEADER_FR +
                     "M;DUPONT;jean-pierre;612345678;Jean.Dupont@Example.fr;7340;Peaugres;militant, porte-à-porte;enseignant;oui\r\n"
                     "Mme;de la tour;ANNE-SOPHIE;07 81 23 45 67;anne@exemple.fr;38000;Grenoble;;;non\r\n",
                     "cp1252")
    report = import_file(store, path)
    assert report.info.encoding == "cp1252" and report.info.delimiter == ";"
    assert report.counts["read"] == 2 and report.counts["added"] == 2
    jp = contact_details(store, find_contact(store, "jean.dupont@example.fr"))
    assert (jp["civility"], jp["first_name"], jp["last_name"]) == ("M.", "Jean-Pierre", "Dupont")
    assert jp["mobile"] == "+33612345678" and jp["postal_code"] == "07340"
    assert jp["tags"] == ["militant", "porte-à-porte"]
    assert jp["fields"] == {"profession": "enseignant"}
    assert [c["channel"] for c in jp["consents"]] == ["sms"]
    assert jp["sources"][0]["row"] == 2 and jp["sources"][0]["file"] == "c.csv"
    anne = contact_details(store, find_contact(store, "+33781234567"))
    assert (anne["first_name"], anne["last_name"]) == ("Anne-Sophie", "de La Tour")
    # "non" consents to nothing and, since issue 12, is recorded as a refusal (its own exclusion reason).
    assert [(c["channel"], c["status"]) for c in anne["consents"]] == [("sms", "withdrawn")]


@pytest.mark.parametrize("encoding, sep", [("utf-8-sig", ","), ("utf-8", "\t"), ("utf-8", ";"), ("cp1252", ",")])
def test_encodings_and_separators(store, tmp_path, encoding, sep):
    rows = [["Prénom", "Nom", "E-mail", "CP", "Téléphone"],
            ["Hélène", "Lefèvre", "helene@exemple.fr", "01000", "04 76 00 00 01"]]
    text = "\r\n".join(sep.join(r) for r in rows) + "\r\n"
    report = import_file(store, write_csv(tmp_path / "x.txt", text, encoding))
    assert report.counts["added"] == 1
    d = contact_details(store, 1)
    assert (d["first_name"], d["last_name"], d["postal_code"], d["fixed"]) == ("Hélène", "Lefèvre", "01000", "+33476000001")


def test_xlsx_numbers_keep_their_zeros(store, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Nom", "Prénom", "Portable", "Code postal", "Ville"])
    ws.append(["Martin", "Léa", 612345678, 7340, "Peaugres"])
    ws.append(["Petit", "Hugo", "0781234567", "01000", "Bourg-en-Bresse"])
    wb.save(tmp_path / "c.xlsx")
    # Detected by content, whatever the name says.
    (tmp_path / "c.xlsx").rename(tmp_path / "contacts.dat")
    report = import_file(store, tmp_path / "contacts.dat")
    assert report.info.kind == "xlsx" and report.counts["added"] == 2
    d = contact_details(store, find_contact(store, "0612345678"))
    assert d["postal_code"] == "07340" and d["mobile"] == "+33612345678"


def test_unknown_columns_become_custom_fields_and_map_overrides(store, tmp_path):
    path = write_csv(tmp_path / "c.csv", "Name,GSM perso,Profession (déclarée),Notes\nJean Dupont,0612345678,infirmier,=cmd\n")
    report = import_file(store, path, ImportOptions(map_specs=["GSM perso=mobile", "Notes=ignore"]))
    described = {h: (t, how) for h, t, how in report.mapping.describe()}
    assert described["GSM perso"] == ("mobile", "override")
    assert described["Profession (déclarée)"] == ("field:profession_declaree", "custom")
    assert described["Name"] == ("full_name", "alias")
    d = contact_details(store, 1)
    assert (d["first_name"], d["last_name"], d["mobile"]) == ("Jean", "Dupont", "+33612345678")
    assert d["fields"] == {"profession_declaree": "infirmier"}


def test_bad_map_names_the_problem(store, tmp_path):
    path = write_csv(tmp_path / "c.csv", "Nom,Tel\nDupont,0612345678\n")
    with pytest.raises(InputError, match=r"--map 'Tel=portable': unknown field 'portable'"):
        import_file(store, path, ImportOptions(map_specs=["Tel=portable"]))
    with pytest.raises(InputError, match=r"--map names no column of the file: gsm"):
        import_file(store, path, ImportOptions(map_specs=["GSM=mobile"]))
    assert count_contacts(store) == 0


def test_file_with_no_usable_column(store, tmp_path):
    path = write_csv(tmp_path / "c.csv", "Profession,Ville\nenseignant,Grenoble\n")
    with pytest.raises(InputError, match=r"c.csv: no column holds a name, an e-mail or a phone"):
        import_file(store, path)


def test_rejected_rows_go_to_a_csv_with_reasons(store, tmp_path):
    path = write_csv(tmp_path / "c.csv", "Nom;Prénom;Courriel;Portable;CP\n"
                     "Dupont;Jean;jean@@x.fr;;38000\n"
                     "Martin;Léa;;12 34;38000\n"
                     ";;;;38000\n"
                     "Petit;Hugo;hugo@exemple.fr;;380\n"
                     "Roux;Zoé;=HYPERLINK(\"x\");;38000\n"
                     "Bon;Élu;elu@exemple.fr;;38000\n")
    report = import_file(store, path)
    # Since issue 12 a bad value rejects the value, not the person: only the row with nothing that
    # identifies a person is rejected whole; the others are kept without their bad cell.
    assert report.counts["rejected"] == 1 and report.counts["added"] == 5
    assert report.counts["values_rejected"] == 4
    assert report.rejected_file == tmp_path / "c.rejected.csv"
    with open(report.rejected_file, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    assert rows[0] == ["Nom", "Prénom", "Courriel", "Portable", "CP", "dbox_row", "dbox_column", "dbox_value",
                       "dbox_reason"]
    cells = [r[-4:] for r in rows[1:]]
    assert cells[0][:3] == ["2", "Courriel", "jean@@x.fr"]
    assert cells[0][3].startswith("'jean@@x.fr' is not a valid e-mail")
    assert cells[1] == ["3", "Portable", "12 34", "'12 34' is not a valid phone number"]
    assert cells[2] == ["4", "", "", "row 4: no name, e-mail or phone"]
    assert cells[3] == ["5", "CP", "380", "'380' is not a 5-digit postal code"]
    assert rows[5][2] == "'=HYPERLINK(\"x\")"  # a formula is neutralized in the file we write
    assert rows[5][-2] == "'=HYPERLINK(\"x\")"
    dupont = contact_details(store, find_contact(store, "1"))
    assert (dupont["last_name"], dupont["email"], dupont["postal_code"]) == ("Dupont", None, "38000")
    # Nothing silently dropped: every row is in the store or in the rejected file, every bad cell listed.
    assert report.counts["added"] + report.counts["rejected"] == report.counts["read"]
    assert len(rows) - 1 == report.counts["rejected"] + report.counts["values_rejected"]


def test_dedupe_inside_the_file_and_against_the_store(store, tmp_path):
    first = write_csv(tmp_path / "a.csv", "Nom;Prénom;Courriel;Portable;CP;Tags\n"
                      "Dupont;Jean;jean@exemple.fr;;38000;militant\n"
                      "DUPONT;JEAN;JEAN@EXEMPLE.FR;0612345678;38000;tractage\n"     # same e-mail
                      "Martin;Léa;;0781234567;07340;\n"
                      "martin;léa;lea@exemple.fr;;07340;\n")                          # same name + CP
    report = import_file(store, first)
    assert (report.counts["added"], report.counts["merged"], report.counts["duplicates_in_file"]) == (2, 2, 2)
    jean = contact_details(store, find_contact(store, "jean@exemple.fr"))
    assert jean["mobile"] == "+33612345678" and jean["tags"] == ["militant", "tractage"]
    lea = contact_details(store, find_contact(store, "0781234567"))
    assert lea["email"] == "lea@exemple.fr"

    second = write_csv(tmp_path / "b.csv", "Nom;Prénom;Portable;Adresse;CP\n"
                       "Dupond;Jean;06 12 34 56 78;3 rue Haute;38100\n")            # same mobile
    report = import_file(store, second)
    assert (report.counts["added"], report.counts["merged"], report.counts["conflicts"]) == (0, 1, 2)
    jean = contact_details(store, jean["id"])
    assert jean["last_name"] == "Dupont" and jean["postal_code"] == "38000"  # filled fields kept
    assert jean["address"] == "3 rue Haute"                                # an empty field filled
    assert any("last_name 'Dupond' not applied: contact 1 has 'Dupont'" in c for c in report.conflicts)

    report = import_file(store, second, ImportOptions(update=True, force=True))
    jean = contact_details(store, jean["id"])
    assert (jean["last_name"], jean["postal_code"]) == ("Dupond", "38100")


def test_reimport_changes_nothing(store, tmp_path):
    path = EXAMPLES / "contacts.csv"
    import shutil

    copy = shutil.copy(path, tmp_path / "contacts.csv")
    first = import_file(store, copy)
    assert first.counts["added"] > 150
    before = snapshot(store)
    again = import_file(store, copy)
    assert again.already_imported is not None
    assert snapshot(store) == before
    # Even forced (or the same content under another name), every row is unchanged.
    other = shutil.copy(path, tmp_path / "copie.csv")
    forced = import_file(store, other, ImportOptions(force=True))
    assert forced.counts["added"] == 0 and forced.counts["merged"] == 0
    assert forced.counts["unchanged"] == first.counts["read"] - first.counts["rejected"]
    after = snapshot(store)
    assert {t: v for t, v in after.items() if t != "imports"} == {t: v for t, v in before.items() if t != "imports"}


def test_dry_run_writes_nothing(store, tmp_path):
    path = write_csv(tmp_path / "c.csv", "Nom;Courriel\nDupont;x@@y\nMartin;m@exemple.fr\n")
    before = snapshot(store)
    report = import_file(store, path, ImportOptions(dry_run=True))
    assert report.dry_run and report.counts["added"] == 2 and report.counts["values_rejected"] == 1
    assert snapshot(store) == before
    assert not (tmp_path / "c.rejected.csv").exists()


def test_fatal_error_mid_file_leaves_the_store_as_it_was(store, tmp_path):
    import_file(store, write_csv(tmp_path / "first.csv", "Nom;Courriel\nDupont;d@exemple.fr\n"))
    before = snapshot(store)
    good = "".join(f"Nom{i};n{i}@exemple.fr\n" for i in range(20000))   # past the detection sample
    raw = ("Nom;Courriel\n" + good).encode("utf-8") + b"Bad\xff;bad@exemple.fr\n"
    path = tmp_path / "broken.csv"
    path.write_bytes(raw)
    with pytest.raises(InputError, match=r"broken.csv: row 20002: bytes that are not utf-8"):
        import_file(store, path, ImportOptions(chunk_rows=1000))
    assert snapshot(store) == before


def test_consent_columns_and_options(store, tmp_path):
    path = write_csv(tmp_path / "c.csv", "Nom;Portable;Courriel;Accord SMS;Accord e-mail\n"
                     "A;0612345671;a@exemple.fr;oui;non\nB;0612345672;b@exemple.fr;;\n")
    with pytest.raises(InputError, match="--consent needs --consent-source"):
        import_file(store, path, ImportOptions(consent=("email",)))
    with pytest.raises(InputError, match="--consent: unknown channel fax"):
        import_file(store, path, ImportOptions(consent=("fax",), consent_source="x"))
    import_file(store, path, ImportOptions(consent=("post",), consent_source="fiche adhésion 2026"))
    a, b = contact_details(store, 1), contact_details(store, 2)
    assert sorted(c["channel"] for c in a["consents"] if c["status"] == "granted") == ["post", "sms"]
    assert [c["channel"] for c in b["consents"]] == ["post"]
    assert "fiche adhésion 2026 (c.csv)" in [e["detail"] for e in b["consent_history"]]


def test_a_file_never_restores_a_withdrawn_consent(store, tmp_path):
    from dbox.store.contacts_write import record_consent_events

    path = write_csv(tmp_path / "c.csv", "Nom;Portable;Accord SMS\nA;0612345671;oui\n")
    import_file(store, path)
    record_consent_events(store, [(1, "sms", "withdraw", "2026-11-23T10:00:00Z", "stop-reply", "STOP")])
    report = import_file(store, path, ImportOptions(force=True))
    assert report.counts["consent_not_restored"] == 1
    assert contact_details(store, 1)["consents"][0]["status"] == "withdrawn"


def test_suppressed_people_are_not_imported_again(store, tmp_path):
    suppressions.add(store, "email", "gone@exemple.fr", "erasure")
    path = write_csv(tmp_path / "c.csv", "Nom;Courriel\nGone;GONE@exemple.fr\nStay;stay@exemple.fr\n")
    report = import_file(store, path)
    assert report.counts["suppressed"] == 1 and report.counts["added"] == 1
    assert count_contacts(store) == 1


def test_parallel_workers_give_the_same_store(tmp_path, examples, template_store):
    from dbox.store.db import open_store

    src = examples / "contacts.csv"
    results = []
    for workers in (0, 2):
        s = open_store(copy_store(template_store, tmp_path / f"w{workers}" / "dbox.sqlite3"))
        import_file(s, src, ImportOptions(workers=workers, chunk_rows=17, dry_run=False))
        rows = s.execute("SELECT first_name, last_name, email, mobile, postal_code, commune_insee, canton_code "
                         "FROM contacts ORDER BY id").fetchall()
        results.append(rows)
        s.close()
        (src.parent / "contacts.rejected.csv").unlink(missing_ok=True)
    assert results[0] == results[1] and len(results[0]) > 150


def test_cli_import_and_contacts(cli, tmp_path):
    path = write_csv(tmp_path / "c.csv", HEADER_FR + "M;DUPONT;jean;0612345678;jean@exemple.fr;38000;Grenoble;;;oui\r\n", "cp1252")
    result = cli("import", path)
    assert result.exit_code == 0, result.output
    assert "Tél. portable" in result.output and "added" in result.output
    result = cli("contacts", "count")
    assert result.output.strip() == "1"
    result = cli("contacts", "list", "--format", "json", "--columns", "id,last_name,mobile,field.profession")
    assert json.loads(result.output) == [{"id": 1, "last_name": "Dupont", "mobile": "+33612345678",
                                          "field.profession": None}]
    result = cli("contacts", "show", "jean@exemple.fr", "--format", "json")
    assert json.loads(result.output)["first_name"] == "Jean"
    result = cli("import", path)
    assert "was already imported" in result.output


def test_cli_errors_are_one_line_with_exit_code(cli, tmp_path):
    result = cli("import", tmp_path / "missing.csv")
    assert result.exit_code == 3
    assert result.output.strip().splitlines()[0] == f"Error: {tmp_path / 'missing.csv'}: no such file"
    result = cli("contacts", "show", "nobody@exemple.fr")
    assert result.exit_code == 3 and "Error: no contact with email nobody@exemple.fr" in result.output
    result = cli("contacts", "list", "--columns", "id,nope")
    assert result.exit_code == 3 and "Error: unknown column 'nope'" in result.output


def test_fatal_error_with_worker_processes_rolls_back_too(store, tmp_path):
    good = "".join(f"Nom{i};n{i}@exemple.fr\n" for i in range(20000))   # past the detection sample
    path = tmp_path / "broken.csv"
    path.write_bytes(("Nom;Courriel\n" + good).encode() + b"Bad\xff;bad@exemple.fr\n" + good.encode())
    before = snapshot(store)
    with pytest.raises(InputError, match=r"broken.csv: row 20002: bytes that are not utf-8"):
        import_file(store, path, ImportOptions(workers=2, chunk_rows=500))
    assert snapshot(store) == before
    assert not (tmp_path / "broken.rejected.csv").exists()
    assert not list(tmp_path.glob(".dbox-rejected-*"))


def test_import_writes_search_keys_and_hashes(store, tmp_path):
    from dbox.store.filters import keys_missing

    path = write_csv(tmp_path / "c.csv", "Nom;Prénom;Portable;Ville;Profession\nN'DIAYE;Hélène;0612345678;St-Égrève;Enseignante\n")
    import_file(store, path)
    assert not keys_missing(store)
    row = store.execute("SELECT first_name_key, last_name_key, commune_key FROM contacts").fetchone()
    assert row == ("helene", "ndiaye", "saintegreve")
    assert store.execute("SELECT value_key FROM contact_fields").fetchone() == ("enseignante",)
    assert store.execute("SELECT count(*) FROM contact_points WHERE value_hash IS NULL").fetchone() == (0,)


def test_erased_person_without_email_or_phone_stays_out(store, tmp_path):
    from dbox.privacy.rights import forget

    path = write_csv(tmp_path / "c.csv", "Nom;Prénom;CP;Ville\nDupont;Jean;38000;Grenoble\n")
    import_file(store, path)
    forget(store, 1)
    report = import_file(store, write_csv(tmp_path / "d.csv", "Nom;Prénom;CP\nDUPONT;jean;38000\n"))
    assert report.counts["suppressed"] == 1 and count_contacts(store) == 0


def test_cli_import_is_audited(cli, tmp_path):
    from dbox.privacy.audit import entries
    from dbox.store.db import open_store
    import os

    path = write_csv(tmp_path / "c.csv", "Nom;Portable\nA;0612345671\nB;0612345672\n")
    cli("import", path)
    with open_store(os.environ["DBOX_DB"]) as s:
        rows = list(entries(s, command="import"))
    assert len(rows) == 1 and rows[0].count == 2 and rows[0].detail["file"] == "c.csv"


def test_every_contact_an_import_adds_gets_one_unsubscribe_id_of_its_own(store, tmp_path):
    # PostgreSQL writes them once per statement (migration 0015), SQLite per row: same result.
    rows = "".join(f"N{i};P{i};06123450{i:02d};p{i}@example.org;oui\n" for i in range(40))
    import_file(store, write_csv(tmp_path / "c.csv", "Nom;Prénom;Portable;Courriel;Accord SMS\n" + rows))
    store.execute("INSERT INTO contacts (first_name, created_at, updated_at) VALUES ('Seule', 'x', 'x')")
    counts = store.execute("SELECT c.id, count(u.uid) FROM contacts c LEFT JOIN unsubscribe_ids u "
                           "ON u.contact_id = c.id GROUP BY c.id").fetchall()
    assert len(counts) == 41 and {n for _id, n in counts} == {1}
    assert store.execute("SELECT count(DISTINCT uid) FROM unsubscribe_ids").fetchone() == (41,)
    assert store.execute("SELECT count(*) FROM consents WHERE channel = 'sms' AND status = 'granted'").fetchone() == (40,)
