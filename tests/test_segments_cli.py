"""``dbox segment ...`` and ``dbox tag ...`` through the CLI (CliRunner, in-process)."""

import csv
import io
import json

import pytest

pytestmark = pytest.mark.engines

from dbox import segments
from test_segments_support import NOW, geo, sample, sample_template  # noqa: F401


def ids_of(csv_text: str) -> list[int]:
    return [int(row["id"]) for row in csv.DictReader(io.StringIO(csv_text))]


def count(store, expression):
    return segments.count(store, segments.select(store, expression, now=NOW))


# -- dbox segment [EXPR] --------------------------------------------------------------------------

def test_preview_table(sample, cli):
    n = count(sample, "departement = 38")
    assert n > 20
    result = cli("segment", "departement = 38", "--columns", "id,last_name")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"{n} contacts match: departement = 38"
    assert "┃ id" in result.stdout and "last_name" in result.stdout
    assert lines[-1] == f"… and {n - 20} more: --limit N shows more, --output FILE exports them all"
    result = cli("segment", "departement = 38", "-n", "3", "-c", "id")
    assert result.stdout.splitlines()[-1] == f"… and {n - 3} more: --limit N shows more, --output FILE exports them all"


def test_no_expression_is_everyone_and_zero_matches_prints_no_table(sample, cli):
    assert cli("segment", "--count").stdout == f"{count(sample, '')}\n"
    result = cli("segment", "tag:militant and not tag:militant")
    assert result.stdout == "0 contacts match: tag:militant and not tag:militant\n"


def test_count_and_shortcut_flags(sample, cli):
    assert cli("segment", "--canton", "Annonay-2", "--count").stdout == f"{count(sample, 'canton = Annonay-2')}\n"
    args = ["segment", "consent:email", "--departement", "38", "--tag", "militant", "--reachable", "email", "--count"]
    assert cli(*args).stdout == f"{count(sample, 'consent:email and departement = 38 and tag:militant and reachable:email')}\n"
    assert cli("segment", "--commune", "Lyon", "--count").stdout == f"{count(sample, 'commune = Lyon')}\n"
    assert cli("segment", "--circo", "38-1", "--count").stdout == f"{count(sample, 'circo = 38-01')}\n"
    assert cli("segment", "--dep", "7", "--count").stdout == f"{count(sample, 'departement = 07')}\n"


def test_csv_and_json_to_stdout_export_everything(sample, cli):
    n = count(sample, "departement = 38")
    result = cli("segment", "departement = 38", "--format", "csv", "--columns", "id,commune,field.profession")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "id,commune,field.profession"
    assert len(ids_of(result.stdout)) == n > 20
    data = json.loads(cli("segment", "departement = 38", "-f", "json", "-c", "id,tags").stdout)
    assert len(data) == n and set(data[0]) == {"id", "tags"}
    assert len(ids_of(cli("segment", "departement = 38", "-f", "csv", "-c", "id", "--limit", "5").stdout)) == 5


def test_export_to_a_file_is_excel_safe(sample, cli, tmp_path):
    target = tmp_path / "export.csv"
    result = cli("segment", "address ~ hyperlink or field.age = -3", "-c", "id,address,mobile,field.age", "-o", target)
    assert result.exit_code == 0
    n = count(sample, "address ~ hyperlink or field.age = -3")
    assert result.stderr == f"Wrote {n} contacts to {target}\n" and result.stdout == ""
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"))))
    cells = [cell for row in rows[1:] for cell in row]
    assert any(cell.startswith("'=HYPERLINK") for cell in cells)
    # issue 12 item 11: the guard only where a cell would start a formula; a phone or a negative
    # number is written as it is (was "'+33..." and "'-3")
    assert any(cell.startswith("+33") for cell in cells)
    assert "-3" in cells
    from dbox.output import starts_formula

    assert not any(starts_formula(cell) for cell in cells)


def _odd_notes(sample):
    # The import trims cells, so such values only come from elsewhere: write them directly.
    sample.execute("INSERT INTO contact_fields (contact_id, name, value) VALUES "
                   "(1, 'note', '@SUM(A1)'), (2, 'note', '\tcmd'), (3, 'note', '\r=1+1')")


def test_tab_cr_and_at_are_escaped_in_excel_exports(sample, cli, tmp_path):
    _odd_notes(sample)
    target = tmp_path / "n.csv"
    result = cli("segment", "field.note is not empty", "-c", "id,field.note", "--excel", "-o", target)
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(target.read_bytes().decode("utf-8-sig"), newline=""), delimiter=";"))
    assert [row[1] for row in rows[1:]] == ["'@SUM(A1)", "'\tcmd", "'\r=1+1"]


def test_cr_inside_a_cell_stays_inside_it_in_plain_csv(sample, cli, tmp_path):
    _odd_notes(sample)
    target = tmp_path / "n.csv"
    cli("segment", "field.note is not empty", "-c", "id,field.note", "-o", target)
    rows = list(csv.reader(io.StringIO(target.read_bytes().decode("utf-8"), newline="")))
    assert [row[1] for row in rows[1:]] == ["'@SUM(A1)", "'\tcmd", "'\r=1+1"]


def test_excel_flag_writes_bom_and_semicolons(sample, cli, tmp_path):
    target = tmp_path / "excel.csv"
    result = cli("segment", "--tag", "militant", "-c", "id,last_name,commune", "--excel", "-o", target)
    assert result.exit_code == 0
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfid;last_name;commune\r\n")
    text = raw.decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(text), delimiter=";"))) == count(sample, "tag:militant") + 1
    assert "é" in text or "è" in text or "ç" in text   # UTF-8, accents intact


def test_bad_expression_exits_3_with_a_caret(sample, cli, tmp_path):
    target = tmp_path / "never.csv"
    result = cli("segment", 'cantn = "Grenoble-1"', "-o", target)
    assert result.exit_code == 3
    assert result.stderr == ('Error: unknown field "cantn" at column 1 — did you mean "canton"?\n'
                             '  cantn = "Grenoble-1"\n'
                             '  ^^^^^\n')
    assert not target.exists()
    result = cli("segment", "canton = Grenble-1")
    assert result.exit_code == 3
    assert result.stderr.splitlines()[0] == 'Error: unknown canton "Grenble-1" at column 10 — did you mean "Grenoble-1"?'
    result = cli("segment", "--canton", "Grenble-1")
    assert result.stderr.splitlines()[0] == 'Error: --canton: unknown canton "Grenble-1" — did you mean "Grenoble-1"?'


def test_bad_options_exit_3_and_write_nothing(sample, cli, tmp_path):
    target = tmp_path / "x.csv"
    result = cli("segment", "tag:militant", "-c", "id,phone", "-o", target)
    assert result.exit_code == 3 and "unknown column 'phone'" in result.stderr
    result = cli("segment", "tag:militant", "-f", "xml", "-o", target)
    assert result.exit_code == 3 and "unknown format 'xml'" in result.stderr
    result = cli("segment", "tag:militant", "-f", "json", "--excel", "-o", target)
    assert result.exit_code == 3 and "--excel is for CSV" in result.stderr
    assert not target.exists()


def test_split_commune_warning_goes_to_stderr(sample, cli):
    n = count(sample, "commune = Grenoble")
    result = cli("segment", "--canton", "Grenoble-1", "--count")
    assert result.stdout == f"{count(sample, 'canton = Grenoble-1')}\n"
    assert result.stderr == (f"Warning: canton Grenoble-1: {n} more contacts live in communes split between several "
                             f'cantons (Grenoble) and are not included; add "or commune = Grenoble" to include them\n')


def test_help_links_to_the_reference(cli):
    for args in (["segment", "--help"], ["segment", "query", "--help"], ["tag", "add", "--help"]):
        result = cli(*args)
        assert result.exit_code == 0 and "docs/filters.md" in result.stdout


# -- saved segments ----------------------------------------------------------------------------------

def test_save_list_show_explain_rename_delete(sample, cli):
    result = cli("segment", "save", "rural", "commune.population < 3500", "-d", "petites communes")
    n = count(sample, "commune.population < 3500")
    assert result.stdout == f"Saved segment rural: commune.population < 3500 ({n} contacts)\n"
    result = cli("segment", "save", "g1", "--canton", "Grenoble-1", "--tag", "militant")
    assert result.stdout.startswith("Saved segment g1: canton = Grenoble-1 and tag:militant (")
    result = cli("segment", "save", "rural", "tag:élu")
    assert result.exit_code == 3
    assert result.stderr.splitlines() == ['Error: segment "rural" already exists: commune.population < 3500',
                                          "  hint: add --replace to change it, or choose another name"]

    listed = list(csv.DictReader(io.StringIO(cli("segment", "list", "-f", "csv").stdout)))
    assert listed == [{"name": "g1", "contacts": str(count(sample, "canton = Grenoble-1 and tag:militant")),
                       "expression": "canton = Grenoble-1 and tag:militant", "description": ""},
                      {"name": "rural", "contacts": str(n), "expression": "commune.population < 3500",
                       "description": "petites communes"}]
    assert "rural" in cli("segment", "list").stdout
    assert json.loads(cli("segment", "list", "--no-counts", "-f", "json").stdout)[1] == {
        "name": "rural", "expression": "commune.population < 3500", "description": "petites communes"}

    shown = json.loads(cli("segment", "show", "RURAL", "-f", "json").stdout)
    assert shown["contacts"] == n and shown["description"] == "petites communes"
    assert "expression: commune.population < 3500" in cli("segment", "show", "rural").stdout

    assert cli("segment", "--segment", "rural", "--count").stdout == f"{n}\n"
    assert cli("segment", "in:rural and tag:militant", "--count").stdout == \
        f"{count(sample, 'commune.population < 3500 and tag:militant')}\n"

    explained = cli("segment", "explain", "in:rural and not tag:militant").stdout
    assert explained.startswith("Expression: in:rural and not tag:militant\n"
                                "Expanded:   commune.population < 3500 and not tag:militant\n"
                                "Parsed:\n  and\n    commune.population < 3500\n    not\n      tag:militant\n"
                                "SQL (over contacts c):\n  WHERE ")
    assert "Parameters:\n  1. 3500\n" in explained and "Query plan:" in explained
    data = json.loads(cli("segment", "explain", "--tag", "militant", "-f", "json").stdout)
    assert data["expression"] == "tag:militant" and data["where"].count("?") == len(data["params"])

    result = cli("segment", "rename", "rural", "campagne")
    assert result.stdout == "Renamed segment rural to campagne\n"
    cli("segment", "save", "mix", "in:campagne or in:g1")
    result = cli("segment", "delete", "campagne", "--yes")
    assert result.exit_code == 3 and 'segment "campagne" is used by mix' in result.stderr
    result = cli("segment", "delete", "mix")                    # no terminal, no --yes: refused
    assert result.exit_code == 1 and "add --yes" in result.stderr
    assert "mix" in cli("segment", "list", "--no-counts").stdout
    assert cli("segment", "delete", "mix", "--yes").stdout == "Deleted segment mix (was: in:campagne or in:g1)\n"
    result = cli("segment", "show", "mix")
    assert result.exit_code == 3 and result.stderr.startswith('Error: no saved segment "mix"')


def test_empty_list(sample, cli):
    assert cli("segment", "list").stdout == "No saved segments yet: dbox segment save NAME EXPR\n"
    assert cli("segment", "list", "-f", "json").stdout.strip() == "[]"


# -- dbox tag -----------------------------------------------------------------------------------------

def test_tag_add_and_remove(sample, cli):
    n = count(sample, "departement = 38")
    result = cli("tag", "add", "phoning", "departement = 38", "--dry-run")
    assert result.stdout == f"{n} contacts match departement = 38; nothing changed (dry run)\n"
    assert "phoning" not in cli("tag", "list", "-f", "csv").stdout
    result = cli("tag", "add", "phoning", "departement = 38")    # no terminal, no --yes
    assert result.exit_code == 1 and "Not confirmed" in result.stderr
    assert "phoning" not in cli("tag", "list", "-f", "csv").stdout
    result = cli("tag", "add", "phoning", "departement = 38", "--yes")
    assert result.stdout == f'Tagged {n} contacts "phoning"\n'
    militants = count(sample, "departement = 38 and tag:militant")
    result = cli("tag", "add", "Phoning", "--tag", "militant", "--yes")
    assert result.stdout == (f'Tagged {count(sample, "tag:militant") - militants} contacts "Phoning" '
                             f"({militants} already had it)\n")
    tags = dict(csv.reader(io.StringIO(cli("tag", "list", "-f", "csv").stdout)))
    assert tags["phoning"] == str(count(sample, "departement = 38 or tag:militant"))
    result = cli("tag", "remove", "phoning", "--segment", "absent", "--yes")
    assert result.exit_code == 3 and '--segment: unknown segment "absent"' in result.stderr
    cli("segment", "save", "isere", "departement = 38")
    result = cli("tag", "remove", "phoning", "--segment", "isere", "--yes")
    assert result.stdout == f'Removed tag "phoning" from {n} contacts\n'
    assert cli("segment", "tag:phoning", "--count").stdout == f"{count(sample, 'tag:militant and not departement = 38')}\n"


def test_tag_needs_a_selection_or_all(sample, cli):
    result = cli("tag", "add", "tous", "--yes")
    assert result.exit_code == 3
    assert result.stderr.splitlines() == [
        "Error: Tag which contacts? Give a filter expression, --segment NAME or a shortcut flag",
        "  hint: or --all for every contact"]
    assert cli("tag", "add", "tous", "--all", "--yes").stdout == f'Tagged {count(sample, "")} contacts "tous"\n'
    result = cli("tag", "remove", "inconnu", "--all", "--yes")
    assert result.exit_code == 3 and 'unknown tag "inconnu"' in result.stderr


def test_bad_tag_names(sample, cli):
    result = cli("tag", "add", "a;b", "tag:militant", "--yes")
    assert result.exit_code == 3 and '"a;b" is not a tag name' in result.stderr
    result = cli("tag", "add", "x", "cantn = 1", "--yes")
    assert result.exit_code == 3 and "^^^^^" in result.stderr
    assert "x" not in dict(csv.reader(io.StringIO(cli("tag", "list", "-f", "csv").stdout)))
