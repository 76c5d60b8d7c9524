"""Coverage by bureau de vote: `dbox stats --by bureau`."""

import json

import pytest
from pathlib import Path

from dbox.electoral import rolls
from dbox.electoral.calendar import add_election
from dbox.electoral.results import import_results

pytestmark = pytest.mark.engines

FIX = Path(__file__).resolve().parent / "fixtures" / "electoral"


def test_stats_by_bureau(store, cli):
    assert cli("import", FIX / "contacts_grenoble.csv").exit_code == 0
    add_election(store, "municipales-2099", ["2099-03-15"], ["commune:38185"])
    rolls.import_roll(store, FIX / "reu_grenoble.csv", "38185", election="municipales-2099", source="mairie")
    roll_only = json.loads(cli("stats", "--by", "bureau", "--section", "areas", "--format", "json").output)
    rows = {r["code"]: r for r in roll_only["areas"]["rows"]}
    assert rows["38185-0012"]["population"] == 7          # voters on the roll when no results are loaded
    import_results(store, FIX / "departementales-2021-t1-bv.csv", "departementales-2021-t1")
    import_results(store, FIX / "legislatives-2024-t1-bv.csv", "legislatives-2024-t1")
    data = json.loads(cli("stats", "--by", "bureau", "--section", "areas", "--format", "json").output)
    assert data["areas"]["election"] == "legislatives-2024-t1"
    rows = {r["code"]: r for r in data["areas"]["rows"]}
    b12 = rows["38185-0012"]
    assert (b12["name"], b12["contacts"], b12["sms"], b12["registered"], b12["population"], b12["turnout"]) == \
        ("ECOLE LESDIGUIERES", 4, 4, 2, 1000, 65.0)
    assert b12["per_100_inscrits"] == 0.4
    assert rows[None]["contacts"] == 2 and rows[None]["name"] == "(no bureau de vote)"
    # Nouveau refused SMS: reachable counts follow the filter language's reachable:sms
    assert rows["38185-0013"]["contacts"] == 2 and rows["38185-0013"]["sms"] == 1
    table = cli("stats", "--by", "bureau", "--section", "areas")
    assert table.exit_code == 0, table.output
    assert "Contacts by bureau de vote" in table.output and "turnout legislatives-2024-t1" in table.output
    csv = cli("stats", "--by", "bureau", "--format", "csv")
    assert csv.output.splitlines()[0].startswith("code,name,contacts,sms")
    selected = json.loads(cli("stats", "registered", "--by", "bureau", "--section", "areas", "--format", "json").output)
    assert sum(r["contacts"] for r in selected["areas"]["rows"]) == 3


def test_report_by_bureau(store, cli, tmp_path):
    assert cli("import", FIX / "contacts_grenoble.csv").exit_code == 0
    add_election(store, "municipales-2099", ["2099-03-15"], ["commune:38185"])
    rolls.import_roll(store, FIX / "reu_grenoble.csv", "38185", election="municipales-2099", source="mairie")
    result = cli("report", "--by", "bureau", "-o", tmp_path / "r.html")
    assert result.exit_code == 0, result.output
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Contacts by bureau de vote" in html and "ECOLE LESDIGUIERES" in html and "Per 1,000 inscrits" in html
