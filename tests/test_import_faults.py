"""Issue 12, items 1-5: import faults reproduced through the CLI (quotes, encodings, separators,
long fields, conflicting consent, strangers merged, bad cells, duplicate headers), and the
property "the most restrictive consent wins across any order of files and rows"."""

import csv
import itertools
import json
import os
import shutil
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_send_support import twilio  # noqa: F401

from dbox.importing.pipeline import ImportOptions, import_file
from dbox.store import privacy as sp
from dbox.store.contacts import contact_details, count_contacts, find_contact
from dbox.store.db import open_store
from tests.conftest import write_csv


def _count():
    with open_store(os.environ["DBOX_DB"]) as s:
        return count_contacts(s)


def _details(ref):
    with open_store(os.environ["DBOX_DB"]) as s:
        return contact_details(s, find_contact(s, ref))


def _error_line(result):
    return result.output.strip().splitlines()[0]


# -- 1. quotes, encodings, separators, field cap ------------------------------------------------

@pytest.fixture(autouse=True)
def _empty_store(store_file):
    """The tests import into the empty store at $DBOX_DB, copied from the session's template rather
    than made by their first import (half a second of geography each)."""


def test_unclosed_quote_is_refused_with_the_row_where_it_opened(cli, tmp_path):
    path = write_csv(tmp_path / "q.csv", "Nom;Prénom;Courriel;Ville\r\n"
                     "Q1;A;q1@example.fr;Lyon\r\n"
                     'Q2;"B;q2@example.fr;Lyon\r\n'
                     "Q3;C;q3@example.fr;Lyon\r\n"
                     "Q4;D;q4@example.fr;Lyon\r\n")
    result = cli("import", path)
    assert result.exit_code == 3
    assert _error_line(result) == (f"Error: {path}: row 3: a quote opened in column 'Prénom' is not closed: "
                                   f"it would take in the 2 lines after it as one value")
    assert _count() == 0


def test_a_closed_multi_line_cell_is_still_read(cli, tmp_path):
    path = write_csv(tmp_path / "m.csv", 'Nom;Adresse;Courriel\r\nDupont;"3 rue Haute\r\nBâtiment B";d@example.fr\r\n')
    assert cli("import", path).exit_code == 0
    assert _details("d@example.fr")["address"] == "3 rue Haute Bâtiment B"


def test_cp1252_file_with_a_byte_cp1252_lacks_names_the_row(cli, tmp_path):
    text = "Nom;Prénom;Courriel\r\nLefèvre;Zoé;z@example.fr\r\nMartin;Léa;l@example.fr\r\n"
    path = tmp_path / "c.csv"
    path.write_bytes(text.encode("cp1252") + b"Le\x81vre;Jean;j@example.fr\r\nPetit;Hugo;h@example.fr\r\n")
    result = cli("import", path)
    assert result.exit_code == 3
    assert _error_line(result) == f"Error: {path}: row 4: byte 0x81 is not cp1252"
    assert "--encoding cp850" in result.output      # another code page only when the user names it
    assert _count() == 0
    for byte in (b"\x8f", b"\x90", b"\x9d"):        # what made the old detection pick mac_roman
        path.write_bytes(text.encode("cp1252") + b"Le" + byte + b"vre;Jean;j@example.fr\r\n")
        assert cli("import", path).exit_code == 3
    # The same file without the stray byte is cp1252: the header and the names read right.
    path.write_bytes(text.encode("cp1252"))
    result = cli("import", path)
    assert result.exit_code == 0 and "cp1252" in result.output
    assert (_details("z@example.fr")["first_name"], _details("z@example.fr")["last_name"]) == ("Zoé", "Lefèvre")


def test_utf8_file_with_one_cp1252_row(cli, tmp_path):
    path = tmp_path / "u.csv"
    path.write_bytes("Nom;Prénom;Courriel\r\nLefèvre;Zoé;z@example.fr\r\n".encode()
                     + "Müller;Hélène;h@example.fr\r\n".encode("cp1252")
                     + "Orléans;Jérôme;j@example.fr\r\n".encode())
    result = cli("import", path)
    assert result.exit_code == 3
    assert _error_line(result) == f"Error: {path}: row 3: bytes that are not utf-8 (0xFC)"
    assert "--encoding utf-8,cp1252" in result.output
    # The hint damages no other row: UTF-8 rows stay UTF-8, the one cp1252 row is named.
    result = cli("import", path, "--encoding", "utf-8,cp1252")
    assert result.exit_code == 0, result.output
    assert "1 row read as cp1252, not utf-8: row 3" in result.output
    assert [_details(e)["last_name"] for e in ("z@example.fr", "h@example.fr", "j@example.fr")] == [
        "Lefèvre", "Müller", "Orléans"]
    assert _details("h@example.fr")["first_name"] == "Hélène"


def test_formula_cells_do_not_fool_the_separator(cli, tmp_path):
    path = write_csv(tmp_path / "f.csv", "Nom;Prénom;Lien\r\n"
                     'Dupont;Jean;"=HYPERLINK(""https://a.example"",""fiche"")"\r\n'
                     'Martin;Léa;"=HYPERLINK(""https://b.example"",""fiche"")"\r\n')
    result = cli("import", path)
    assert result.exit_code == 0, result.output
    assert "separator ';'" in result.output
    with open_store(os.environ["DBOX_DB"]) as s:
        rows = s.execute("SELECT last_name, first_name FROM contacts ORDER BY id").fetchall()
    assert rows == [("Dupont", "Jean"), ("Martin", "Léa")]


def _peak_of(cli, *args):
    tracemalloc.start()
    try:
        result = cli(*args)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_50_mb_field_is_refused_without_reading_it_whole(cli, tmp_path):
    small = write_csv(tmp_path / "small.csv", "Nom;Notes\r\nA;court\r\n")
    cli("import", small, "--dry-run")                      # modules and the geography loaded once
    _, baseline = _peak_of(cli, "import", small, "--dry-run", "--force")
    path = tmp_path / "big.csv"
    with path.open("wb") as fh:
        fh.write(b"Nom;Notes\r\nA;")
        for _ in range(50):
            fh.write(b"x" * (1 << 20))
        fh.write(b"\r\n")
    result, peak = _peak_of(cli, "import", path)
    assert result.exit_code == 3
    assert _error_line(result) == f"Error: {path}: line 2: longer than 131,072 characters"
    # Memory grows by a few read buffers, not by the field's 50 MiB (it grew by 98 MiB before).
    assert peak - baseline < 8 * (1 << 20), f"{(peak - baseline) / (1 << 20):.1f} MiB more than a 1-row file"


# -- 2. consent: most restrictive wins, refusals, wording ----------------------------------------

def test_same_person_twice_in_a_file_the_refusal_wins(cli, tmp_path):
    for order, name in ((("oui", "non"), "a.csv"), (("non", "oui"), "b.csv")):
        path = write_csv(tmp_path / name, "Nom;Prénom;Portable;Accord SMS\r\n"
                         f"Roux;Zoé;0612345678;{order[0]}\r\nRoux;Zoé;0612345678;{order[1]}\r\n")
        result = cli("--db", tmp_path / f"{name}.sqlite3", "import", path)
        assert result.exit_code == 0, result.output
        assert "consent conflicts inside the file (refusal kept)" in result.output
        assert "the refusal is kept (the most restrictive value wins)" in result.output
        with open_store(tmp_path / f"{name}.sqlite3") as s:
            assert sp.current_consent(s, 1, "sms")[0] == "withdrawn"


def test_a_later_file_saying_non_ends_consent_and_is_its_own_exclusion_reason(cli, tmp_path, twilio):  # noqa: F811
    first = write_csv(tmp_path / "a.csv", "Nom;Portable;Accord SMS\r\nA;0612345671;oui\r\nB;0612345672;oui\r\n")
    assert cli("import", first, "--consent-wording", "J'accepte les SMS de l'équipe").exit_code == 0
    second = write_csv(tmp_path / "b.csv", "Nom;Portable;Accord SMS\r\nA;0612345671;non\r\n")
    result = cli("import", second)
    assert result.exit_code == 0
    assert "merged" in result.output and "consents ended by a refusal" in result.output
    with open_store(os.environ["DBOX_DB"]) as s:
        assert sp.current_consent(s, 1, "sms")[:1] == ("withdrawn",)
        last = sp.last_event(s, 1, "sms")
    assert last[0] == "withdraw" and last[2] == "import"
    assert last[3] == "refused: 'non' in column 'Accord SMS' of b.csv, row 2"
    result = cli("send", "--sms", "-m", "Réunion jeudi", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "consent refused" in result.output and "no consent recorded" not in result.output


def test_consent_wording_is_stored_and_show_flags_consents_without_it(cli, tmp_path):
    path = write_csv(tmp_path / "c.csv", "Nom;Portable;Courriel;Accord SMS;Accord e-mail\r\n"
                     "A;0612345671;a@example.fr;oui;oui\r\n")
    result = cli("import", path, "--consent-wording", "sms=J'accepte de recevoir des SMS (formulaire 2026)")
    assert result.exit_code == 0
    assert "1 consents recorded without the wording" in result.output
    data = json.loads(cli("consent", "show", "a@example.fr", "--format", "json").output)
    assert data["current"]["sms"]["without_wording"] is False
    assert data["current"]["email"]["without_wording"] is True
    wordings = {e["channel"]: e["wording"] for e in data["history"]}
    assert wordings == {"sms": "J'accepte de recevoir des SMS (formulaire 2026)", "email": None}
    text = cli("consent", "show", "a@example.fr").output
    assert "NO WORDING RECORDED" in text and "consent without the wording the person agreed to: email" in text
    # A grant by hand keeps its wording as before.
    assert cli("consent", "grant", "a@example.fr", "-C", "post", "--source", "form",
               "--wording", "Courrier OK").exit_code == 0
    data = json.loads(cli("consent", "show", "a@example.fr", "--format", "json").output)
    assert data["current"]["post"]["without_wording"] is False


PEOPLE = [("Alice", "Martin", "0612000001"), ("Bruno", "Durand", "0612000002"), ("Chloé", "Petit", "0612000003")]
value = st.sampled_from(["oui", "non", ""])
a_file = st.lists(st.tuples(st.integers(0, len(PEOPLE) - 1), value, value), min_size=1, max_size=5)


def _strictest(values):
    return "withdrawn" if "non" in values else "granted" if "oui" in values else None


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(st.lists(a_file, min_size=1, max_size=3), st.randoms(use_true_random=False))
def test_the_most_restrictive_consent_wins_in_any_order(tmp_path_factory, files, rnd):
    """Whatever the order of files (and of rows in them), each person ends with the most
    restrictive value any row gave: a refusal if any "non", else consent if any "oui", else none."""
    folder = tmp_path_factory.mktemp("order")
    template = tmp_path_factory.getbasetemp() / "restrictive-template.sqlite3"
    if not template.exists():
        open_store(template).close()
    expected = {}
    for i in range(len(PEOPLE)):
        rows = [r for f in files for r in f if r[0] == i]
        expected[i] = {"sms": _strictest([r[1] for r in rows]), "email": _strictest([r[2] for r in rows])}
    orders = list(itertools.permutations(range(len(files))))
    for attempt, order in enumerate(rnd.sample(orders, min(2, len(orders)))):
        path = folder / f"s{attempt}.sqlite3"
        shutil.copyfile(template, path)
        os.chmod(path, 0o600)
        store = open_store(path)
        try:
            for n in order:
                rows = list(files[n])
                rnd.shuffle(rows)
                lines = ["Prénom;Nom;Portable;Accord SMS;Accord e-mail"]
                lines += [f"{PEOPLE[i][0]};{PEOPLE[i][1]};{PEOPLE[i][2]};{sms};{mail}" for i, sms, mail in rows]
                csv_path = folder / f"f{attempt}-{n}.csv"
                csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
                import_file(store, csv_path, ImportOptions(force=True))
            for i in {r[0] for f in files for r in f}:
                cid = find_contact(store, PEOPLE[i][2])
                for channel in ("sms", "email"):
                    got = sp.current_consent(store, cid, channel)
                    assert (got[0] if got else None) == expected[i][channel], (i, channel, order)
        finally:
            store.close()


# -- 3. dedupe by name + postal code only without contradiction; duplicates; merge ----------------

LAMBERT = ("Nom;Prénom;Portable;Courriel;Code postal;Étiquettes;Accord SMS\r\n"
           "Lambert;François;0612345671;francois.l@example.fr;38000;militant;oui\r\n"
           "LAMBERT;francois;0698765432;flambert@example.org;38000;élu;non\r\n")


def test_two_people_with_one_name_and_postal_code_stay_two(cli, tmp_path):
    result = cli("import", write_csv(tmp_path / "l.csv", LAMBERT))
    assert result.exit_code == 0
    assert "possible duplicates" in result.output
    assert _count() == 2
    first, second = _details("0612345671"), _details("0698765432")
    assert first["id"] != second["id"]
    assert first["tags"] == ["militant"] and second["tags"] == ["élu"]
    assert [p["value"] for p in first["points"] if p["kind"] == "mobile"] == ["+33612345671"]
    # Same name and postal code and nothing contradicting: still the same person.
    result = cli("import", write_csv(tmp_path / "m.csv", "Nom;Prénom;Code postal;Adresse\r\nLambert;François;38000;3 rue Haute\r\n"))
    assert "merged" in result.output and _count() == 2
    listed = json.loads(cli("contacts", "duplicates", "--format", "json").output)
    assert [(d["reason"], [c["id"] for c in d["contacts"]]) for d in listed] == [
        ("same name and postal code", [first["id"], second["id"]])]
    assert "dbox contacts merge KEEP OTHER" in cli("contacts", "duplicates").output


def test_merge_combines_everything_and_keeps_the_most_restrictive_consent(cli, tmp_path):
    from dbox.privacy.audit import entries

    cli("import", write_csv(tmp_path / "l.csv", LAMBERT))
    keep, other = _details("0612345671")["id"], _details("0698765432")["id"]
    result = cli("contacts", "merge", keep, other, "--yes")
    assert result.exit_code == 0, result.output
    assert f"Contact {other} merged into {keep}" in result.output
    merged = _details(str(keep))
    assert _count() == 1
    assert sorted(p["value"] for p in merged["points"]) == [
        "+33612345671", "+33698765432", "flambert@example.org", "francois.l@example.fr"]
    assert merged["email"] == "francois.l@example.fr"              # KEEP's fields win
    assert merged["tags"] == ["militant", "élu"]
    assert [(c["channel"], c["status"]) for c in merged["consents"]] == [("sms", "withdrawn")]
    assert [e["action"] for e in merged["consent_history"]] == ["grant", "withdraw"]
    assert sorted(s["row"] for s in merged["sources"]) == [2, 3]
    with open_store(os.environ["DBOX_DB"]) as s:
        logged = list(entries(s, command="contacts merge"))
    assert len(logged) == 1 and logged[0].detail["keep"] == keep and logged[0].detail["other"] == other
    assert json.loads(cli("contacts", "duplicates", "--format", "json").output) == []
    result = cli("contacts", "merge", keep, other, "--yes")
    assert result.exit_code == 3 and _error_line(result) == f"Error: contacts merge: no contact with id {other}"


# -- 4. a bad value rejects the value, not the person ---------------------------------------------

def test_a_bad_cell_keeps_the_person_and_is_listed(cli, tmp_path):
    path = write_csv(tmp_path / "c.csv", "Nom;Prénom;Portable;Courriel;Adresse;Code postal\r\n"
                     "Dupont;Jean;061234567;jean@example.fr;3 rue Haute;38000\r\n"
                     ";;12;;;38000\r\n")
    result = cli("import", path)
    assert result.exit_code == 0
    jean = _details("jean@example.fr")
    assert (jean["last_name"], jean["address"], jean["postal_code"], jean["mobile"]) == (
        "Dupont", "3 rue Haute", "38000", None)
    with open(tmp_path / "c.rejected.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    assert rows[0][-4:] == ["dbox_row", "dbox_column", "dbox_value", "dbox_reason"]
    assert rows[1][-4:] == ["2", "Portable", "061234567", "'061234567' is not a valid phone number"]
    # Nothing identifies the person of row 3: rejected whole, its bad cell listed too.
    assert rows[2][-4:] == ["3", "", "", "row 3: no name, e-mail or phone"]
    assert rows[3][-4:] == ["3", "Portable", "12", "'12' is not a valid phone number"]
    assert "values left out (bad cells; contact kept)" in result.output
    # The rejects file, fixed, imports back into the same person; dbox's own columns are skipped.
    rows[1][2] = "06 12 34 56 70"
    fixed = tmp_path / "fixed.csv"
    with open(fixed, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, delimiter=";").writerows(rows[:2])
    result = cli("import", fixed)
    assert result.exit_code == 0 and "dbox rejects column" in result.output
    jean = _details("jean@example.fr")
    assert jean["mobile"] == "+33612345670" and jean["fields"] == {} and _count() == 1


def test_likely_typos_in_email_domains_are_reported_not_changed(cli, tmp_path):
    path = write_csv(tmp_path / "c.csv", "Nom;Courriel\r\nA;a@gmail.con\r\nB;b@yahoo.fe\r\nC;c@free.fr\r\n")
    result = cli("import", path)
    assert result.exit_code == 0
    assert "row 2, column 'Courriel': 'a@gmail.con': did you mean @gmail.com? (imported as written)" in result.output
    assert "'b@yahoo.fe': did you mean @yahoo.fr?" in result.output
    assert "c@free.fr" not in result.output
    assert _details("a@gmail.con")["email"] == "a@gmail.con"


# -- 5. duplicate header names --------------------------------------------------------------------

def test_duplicate_header_names_warn_and_fail_with_strict(cli, tmp_path):
    path = write_csv(tmp_path / "d.csv", "Nom;Courriel;Courriel\r\nA;a@example.fr;a2@example.fr\r\n")
    result = cli("import", path, "--strict")
    assert result.exit_code == 3
    assert _error_line(result) == ("Error: d.csv: columns 2 and 3 are both named 'Courriel'; the second is read as "
                                   "'Courriel (2)'")
    assert _count() == 0
    result = cli("import", path)
    assert result.exit_code == 0
    assert "Warning: d.csv: columns 2 and 3 are both named 'Courriel'" in result.output
