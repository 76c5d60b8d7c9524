"""Exports people can use (issue 12, item 11): phones as a phone bank dials them, the formula guard
only where a formula would start, `contacts show` without internal keys, the default store named."""

import csv
import io

import pytest

from dbox.output import excel_safe, starts_formula
from tests.conftest import write_csv

PEOPLE = ("Prénom;Nom;Portable;Fixe;Adresse\n"
          "Alice;Martin;07 85 81 23 50;04 76 00 00 00;=HYPERLINK(\"http://x\")\n"
          "Bob;Smith;+44 7911 123456;;-2+3+cmd|' /C calc'!A0\n"
          "Chloé;Petit;0692 12 34 56;;12 rue des Lilas\n")


@pytest.fixture
def people(store_file, cli, tmp_path):
    assert cli("import", write_csv(tmp_path / "p.csv", PEOPLE)).exit_code == 0


def _rows(path, excel):
    text = path.read_bytes().decode("utf-8-sig" if excel else "utf-8")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";" if excel else ","))


def test_excel_exports_have_national_phones_and_no_quote_before_them(people, cli, tmp_path):
    out = tmp_path / "phoning.csv"
    result = cli("contacts", "list", "-c", "first_name,mobile,fixed,address", "--format", "csv", "--excel", "-o", out)
    assert result.exit_code == 0, result.output
    rows = _rows(out, excel=True)
    assert rows[1] == ["Alice", "07 85 81 23 50", "04 76 00 00 00", "'=HYPERLINK(\"http://x\")"]
    assert rows[2] == ["Bob", "+44 7911 123456", "", "'-2+3+cmd|' /C calc'!A0"]
    assert rows[3][:2] == ["Chloé", "0692 12 34 56"]
    # the same through a segment export, and E.164 when asked
    seg = tmp_path / "seg.csv"
    assert cli("segment", "-c", "first_name,mobile", "--excel", "--phone-format", "e164", "-o", seg).exit_code == 0
    assert _rows(seg, excel=True)[1] == ["Alice", "+33785812350"]


def test_plain_csv_keeps_e164_without_a_quote_and_national_on_request(people, cli, tmp_path):
    out = tmp_path / "a.csv"
    assert cli("segment", "-c", "first_name,mobile", "-o", out).exit_code == 0
    assert _rows(out, excel=False)[1] == ["Alice", "+33785812350"]
    national = cli("contacts", "list", "-c", "first_name,mobile", "--format", "csv", "--phone-format", "national")
    assert "Alice,07 85 81 23 50" in national.stdout
    bad = cli("contacts", "list", "--format", "csv", "--phone-format", "intl")
    assert bad.exit_code == 3 and "Error: --phone-format intl: choose national or e164" in bad.output


@pytest.mark.parametrize("cell, guarded", [
    ("+33785812350", False), ("+33 7 85 81 23 50", False), ("-12,5", False), ("-3", False), ("+", False),
    ("=1+1", True), ("@SUM(A1)", True), ("\tcmd", True), ("\r=1", True), ("+1+cmd|x", True),
    ("-2+3+cmd|' /C calc'!A0", True), ("+A1", True), ("-SUM(A1)", True), ("Martin", False),
])
def test_the_formula_guard(cell, guarded):
    assert starts_formula(cell) is guarded
    assert excel_safe(cell) == ("'" + cell if guarded else cell)


def test_contacts_show_hides_internal_keys_unless_all(people, cli):
    assert cli("segment", "--count", "first_name = Alice").stdout == "1\n"     # fills the search keys
    shown = cli("contacts", "show", "1")
    assert shown.exit_code == 0 and "first_name: Alice" in shown.stdout
    assert "_key" not in shown.stdout
    everything = cli("contacts", "show", "1", "--all")
    assert "first_name_key: alice" in everything.stdout and "address_key" in everything.stdout
    as_json = cli("contacts", "show", "1", "--format", "json")
    assert "_key" not in as_json.stdout


def test_the_default_store_is_named_on_stderr(cli, tmp_path, monkeypatch):
    monkeypatch.delenv("DBOX_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    result = cli("contacts", "count")
    assert result.exit_code == 0 and result.stdout == "0\n"
    default = tmp_path / "data" / "dbox" / "dbox.sqlite3"
    assert result.stderr == f"Store: {default} (the default; choose another with --db or DBOX_DB)\n"
    named = cli("--db", tmp_path / "other.sqlite3", "contacts", "count")
    assert named.stdout == "0\n" and named.stderr == ""
    monkeypatch.setenv("DBOX_DB", str(tmp_path / "env.sqlite3"))
    assert cli("contacts", "count").stderr == ""
