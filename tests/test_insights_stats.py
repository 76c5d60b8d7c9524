"""dbox stats: counts by area, reachability, density, growth, followers and campaign outcomes,
checked against numbers worked out independently (the geography table read directly, Python
counting over the contacts), through the library and the CLI."""

import csv
import io
import json
from datetime import date, datetime, timedelta, timezone

import pytest
from test_send_support import import_contacts, mobile, twilio  # noqa: F401

from dbox import segments
from dbox.errors import InputError
from dbox.insights import stats
from dbox.store import social as store_social

pytestmark = pytest.mark.engines

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)

# Grenoble (38185) is split between cantons; Peaugres (07172, 07340) lies wholly in one canton;
# Lyon 3e is an arrondissement of Lyon (no canton); Saint-Denis de La Réunion is overseas; the
# last commune does not exist.
PLACES = [("38000", "Grenoble")] * 4 + [("07340", "Peaugres")] * 3 + [("69003", "Lyon")] + \
         [("97400", "Saint-Denis")] + [("38999", "Nulle-Part")]


def _people():
    rows = []
    for i, (cp, commune) in enumerate(PLACES):
        rows.append({"first": f"Prénom{i}", "last": f"Nom{i}", "mobile": f"061{i:07d}", "email": f"p{i}@example.org",
                     "cp": cp, "commune": commune, "sms": "oui" if i % 2 == 0 else "non",
                     "mail": "oui" if i % 3 == 0 else "", "job": ""})
    return rows


@pytest.fixture
def people_store(store, tmp_path):
    import_contacts(store, tmp_path, _people())
    return store


def _compute(store, expression=None, **options):
    options.setdefault("now", NOW)
    return stats.compute(store, segments.select(store, expression), stats.Options(**options))


def _population(store, insee):
    return store.execute("SELECT population FROM geo_communes WHERE insee = ?", (insee,)).fetchone()[0]


def test_summary_counts_match_the_filter_language(people_store):
    s = _compute(people_store)["summary"]
    count = lambda e: segments.count(people_store, segments.select(people_store, e))  # noqa: E731
    assert s["contacts"] == len(PLACES) == count(None)
    assert s["reachable_sms"] == count("reachable:sms") == 5            # consent given to every other one
    assert s["reachable_email"] == count("reachable:email") == 4        # 0, 3, 6, 9
    assert s["reachable_sms_share"] == 50.0 and s["reachable_email_share"] == 40.0
    assert s["with_mobile"] == 10 and s["with_email"] == 10
    assert s["located"] == 9                                            # Nulle-Part is not
    assert s["communes"] == 4 and s["departements"] == 4                # 38, 07, 69, 974
    assert s["geo_status"]["resolved"] == 9 and sum(s["geo_status"].values()) == 10
    assert s["new_since"] is None


def test_by_commune_counts_population_and_density(people_store):
    rows = _compute(people_store, by="commune")["areas"]["rows"]
    by_code = {r["code"]: r for r in rows}
    grenoble = by_code["38185"]
    assert grenoble["name"] == "Grenoble" and grenoble["departement"] == "38"
    assert grenoble["contacts"] == 4 and grenoble["sms"] == 2 and grenoble["sms_share"] == 50.0
    assert grenoble["email"] == 2 and grenoble["email_share"] == 50.0            # contacts 0 and 3
    assert grenoble["population"] == _population(people_store, "38185")
    assert grenoble["per_1000"] == round(4000 / grenoble["population"], 2)
    lat, lon = people_store.execute("SELECT lat, lon FROM geo_communes WHERE insee = '38185'").fetchone()
    assert (grenoble["lat"], grenoble["lon"]) == (round(lat, 5), round(lon, 5))
    assert by_code["07172"]["contacts"] == 3 and by_code["07172"]["name"] == "Peaugres"
    assert by_code["69383"]["contacts"] == 1                                      # the arrondissement itself
    unplaced = [r for r in rows if r["code"] is None]
    assert len(unplaced) == 1 and unplaced[0]["contacts"] == 1
    assert unplaced[0]["name"] == "(commune not located)" and unplaced[0]["per_1000"] is None
    assert [r["contacts"] for r in rows] == sorted((r["contacts"] for r in rows), reverse=True)
    assert sum(r["contacts"] for r in rows) == len(PLACES)


def test_by_canton_keeps_split_communes_apart_and_counts_whole_communes(people_store):
    rows = _compute(people_store, by="canton")["areas"]["rows"]
    cantons_of = {}
    for insee, code in people_store.execute("SELECT insee, canton_code FROM geo_commune_cantons"):
        cantons_of.setdefault(insee, []).append(code)
    assert len(cantons_of["38185"]) > 1 and len(cantons_of["97411"]) > 1 and "69383" not in cantons_of
    split = [r for r in rows if r["name"] == "(commune split between cantons)"]
    assert len(split) == 1 and split[0]["contacts"] == 5                          # Grenoble, Saint-Denis
    no_canton = [r for r in rows if r["name"] == "(commune in no canton)"]
    assert no_canton[0]["contacts"] == 1                                          # Lyon 3e
    unlocated = [r for r in rows if r["name"] == "(commune not located)"]
    assert unlocated[0]["contacts"] == 1                                          # Nulle-Part
    (canton_code,) = [c for (c,) in people_store.execute(
        "SELECT canton_code FROM geo_commune_cantons WHERE insee = '07172'")]
    peaugres = next(r for r in rows if r["code"] == canton_code)
    assert peaugres["contacts"] == 3 and peaugres["departement"] == "07"
    name = people_store.execute("SELECT name FROM geo_cantons WHERE code = ?", (canton_code,)).fetchone()[0]
    assert peaugres["name"] == name
    # population: the communes lying wholly in that canton
    expected = people_store.execute(
        "SELECT sum(g.population) FROM geo_commune_cantons m JOIN geo_communes g ON g.insee = m.insee "
        "WHERE m.canton_code = ? AND (SELECT count(*) FROM geo_commune_cantons x WHERE x.insee = m.insee) = 1",
        (canton_code,)).fetchone()[0]
    assert peaugres["population"] == expected and peaugres["per_1000"] == round(3000 / expected, 2)
    assert sum(r["contacts"] for r in rows) == len(PLACES)


def test_departement_population_leaves_arrondissements_out(people_store):
    rows = {r["code"]: r for r in _compute(people_store, by="departement")["areas"]["rows"]}
    assert rows["69"]["name"] == "Rhône" and rows["974"]["name"] == "La Réunion"
    communes = people_store.execute(
        "SELECT insee, population FROM geo_communes WHERE departement = '69'").fetchall()
    lyon = dict(communes)["69123"]
    arrondissements = sum(p or 0 for i, p in communes if i.startswith("6938"))
    assert arrondissements > 0 and abs(arrondissements - lyon) < 0.05 * lyon     # they add up to Lyon
    assert rows["69"]["population"] == sum(p or 0 for i, p in communes if not i.startswith("6938"))
    assert rows["38"]["contacts"] == 5 and rows["07"]["contacts"] == 3          # Nulle-Part: 38 by its code


def test_empty_areas_show_the_cantons_not_reached(people_store):
    rows = _compute(people_store, by="canton", include_empty=True)["areas"]["rows"]
    ardeche = people_store.execute("SELECT count(*) FROM geo_cantons WHERE departement = '07'").fetchone()[0]
    zeros = [r for r in rows if r["contacts"] == 0]
    assert len([r for r in zeros if r["departement"] == "07"]) == ardeche - 1
    assert {r["departement"] for r in zeros} == {"38", "07", "69", "974"}       # départements reached only
    assert zeros and all(r["per_1000"] in (0, 0.0, None) for r in zeros)
    assert rows.index(zeros[0]) > max(i for i, r in enumerate(rows) if r["contacts"])  # listed after


def test_a_selection_limits_every_count(people_store):
    result = _compute(people_store, "commune = Peaugres", by="commune")
    assert result["summary"]["contacts"] == 3
    assert [(r["code"], r["contacts"]) for r in result["areas"]["rows"]] == [("07172", 3)]
    assert result["selection"] == {"expression": "commune = Peaugres", "everyone": False}


def test_growth_per_week_and_month_by_first_source(people_store, tmp_path):
    days = ["2026-09-07", "2026-09-09", "2026-09-13", "2026-09-14", "2026-10-01", "2026-10-02", "2026-11-20",
            "2026-11-21", "2026-11-22", "2026-11-23"]
    ids = [i for (i,) in people_store.execute("SELECT id FROM contacts ORDER BY id")]
    for cid, day in zip(ids, days):
        people_store.execute("UPDATE contacts SET created_at = ? WHERE id = ?", (f"{day}T10:00:00Z", cid))
    import_contacts(people_store, tmp_path, [{"first": "Nouvelle", "last": "Personne", "mobile": "0698765432"}],
                    name="fete-2026.csv")
    new_id = people_store.execute("SELECT max(id) FROM contacts").fetchone()[0]
    people_store.execute("UPDATE contacts SET created_at = '2026-11-22T09:00:00Z' WHERE id = ?", (new_id,))
    weekly = _compute(people_store, period="week")["growth"]

    def monday(day):
        d = date.fromisoformat(day)
        return (d - timedelta(days=d.weekday())).isoformat()

    expected = {}
    for day in days + ["2026-11-22"]:
        expected[monday(day)] = expected.get(monday(day), 0) + 1
    assert [(p["period"], p["new"]) for p in weekly["periods"]] == sorted(expected.items())
    assert weekly["periods"][-1]["total"] == 11
    assert weekly["sources"] == [{"source": "contacts.csv", "new": 10}, {"source": "fete-2026.csv", "new": 1}]
    assert weekly["periods"][-2] == {"period": "2026-11-16", "new": 4, "total": 10,   # 2026-11-23 is a Monday
                                     "sources": {"contacts.csv": 3, "fete-2026.csv": 1}}
    monthly = _compute(people_store, period="month", since="2026-10-01")
    g = monthly["growth"]
    assert g["start_total"] == 4
    assert [(p["period"], p["new"], p["total"]) for p in g["periods"]] == [("2026-10", 2, 6), ("2026-11", 5, 11)]
    assert monthly["summary"]["new_since"] == 7 and monthly["since"] == "2026-10-01T00:00:00Z"
    # auto: weeks for a short history, months beyond half a year
    assert _compute(people_store)["period"] == "week"
    people_store.execute("UPDATE contacts SET created_at = '2025-01-06T10:00:00Z' WHERE id = ?", (ids[0],))
    assert _compute(people_store)["period"] == "month"


def test_since_accepts_dates_and_spans():
    assert stats.parse_since("2026-09-01", NOW) == "2026-09-01T00:00:00Z"
    assert stats.parse_since("90d", NOW) == "2026-08-25T00:00:00Z"
    assert stats.parse_since("2w", NOW) == "2026-11-09T00:00:00Z"
    assert stats.parse_since("6m", NOW) == "2026-05-23T00:00:00Z"
    assert stats.parse_since("1y", NOW) == "2025-11-23T00:00:00Z"
    assert stats.parse_since("2026-09-01T08:30:00+02:00", NOW) == "2026-09-01T06:30:00Z"
    with pytest.raises(InputError) as err:
        stats.parse_since("last tuesday", NOW)
    assert str(err.value) == ("--since 'last tuesday': give a date (2026-09-01) or a span back from today "
                              "(90d, 12w, 6m, 1y)")


def test_followers_keep_the_last_count_of_each_period(people_store):
    for day, total, new in [("2026-11-02T10:00:00Z", 100, 100), ("2026-11-04T10:00:00Z", 120, 20),
                            ("2026-11-10T10:00:00Z", 150, 30)]:
        store_social.add_snapshot(people_store, "mastodon", "follower", None, "api", total, new)
        people_store.execute("UPDATE follower_snapshots SET taken_at = ? WHERE id = (SELECT max(id) FROM "
                             "follower_snapshots)", (day,))
    f = _compute(people_store, period="week")["followers"]
    # the week of 2 November: two counts, the last one kept, the new ones added up
    assert [(s["period"], s["total"], s["new"]) for s in f["series"]] == [("2026-11-02", 120, 120),
                                                                          ("2026-11-09", 150, 30)]
    assert f["latest"] == [{"network": "mastodon", "relation": "follower", "total": 150, "linked": 0,
                            "taken_at": "2026-11-10T10:00:00Z"}]
    assert _compute(people_store, period="week", since="2026-11-09")["followers"]["latest"][0]["total"] == 150
    assert "the selection does not apply" in " ".join(_compute(people_store, "commune = Grenoble")["notes"])


def test_campaign_outcomes_through_a_real_send(people_store, tmp_path, twilio, cli):
    twilio.mark_unsubscribed(mobile(2))          # Twilio 21610: failed, and dbox records the opt-out
    twilio.mark_undeliverable(mobile(4))         # accepted, then undelivered
    result = cli("send", "--sms", "-m", "Réunion publique jeudi à 19 h", "--yes")
    assert result.exit_code == 0, result.output
    assert cli("campaigns", "sync").exit_code == 0
    twilio.add_inbound(mobile(0), "STOP")        # a reply after the message
    synced = cli("optouts", "sync")
    assert synced.exit_code == 0, synced.output
    (c,) = _compute(people_store)["campaigns"]
    assert c["channel"] == "sms" and c["status"] == "done"
    assert c["recipients"] == 10 and c["skipped"] == 5                   # no SMS consent
    assert c["sent"] == 4 and c["delivered"] == 3 and c["undelivered"] == 1
    assert c["failed"] == 2                                              # 21610 + undelivered
    assert c["opted_out"] == 1
    assert c["segments"] == 4                                            # one GSM-7 part each
    assert c["cost"] == 0.2 and c["currency"] == "EUR"                   # at 0.05 EUR a segment
    assert c["delivery_rate"] == 75.0
    # limited to a selection: only its recipients count
    (grenoble,) = _compute(people_store, "commune = Grenoble")["campaigns"]
    assert grenoble["recipients"] == 4 and grenoble["skipped"] == 2        # contacts 1 and 3: no consent
    assert grenoble["sent"] == 1 and grenoble["opted_out"] == 1              # contact 0, who replied STOP
    assert grenoble["failed"] == 1                                           # contact 2, refused (21610)
    assert _compute(people_store, since="2030-01-01")["campaigns"] == []


def test_actions_and_volunteers(people_store, cli):
    def ok(*args):
        result = cli(*args)
        assert result.exit_code == 0, result.output
        return result

    ok("action", "create", "Porte-à-porte Peaugres", "--type", "porte-a-porte", "--date", "2026-11-14T10:00",
       "--commune", "Peaugres")
    ok("action", "create", "Réunion annulée", "--type", "reunion", "--date", "2026-11-15T18:00")
    ok("action", "cancel", "2", "--yes")
    ok("action", "rsvp", "1", "p0@example.org", "yes")            # Grenoble
    ok("action", "rsvp", "1", "p4@example.org", "yes")            # Peaugres
    ok("action", "rsvp", "1", "p5@example.org", "maybe")          # Peaugres
    ok("action", "attend", "1", "p0@example.org", "p4@example.org")
    ok("action", "assign", "1", "p1@example.org")                 # a volunteer from Grenoble
    ok("interaction", "add", "p5@example.org", "--type", "door", "--outcome", "answered", "--support", "5",
       "--action", "1", "--by", "p1@example.org", "--at", "2026-11-14 10:30")
    ok("interaction", "add", "p6@example.org", "--type", "door", "--outcome", "not-home", "--action", "1",
       "--by", "p1@example.org", "--at", "2026-11-14 10:40")
    result = _compute(people_store)["actions"]
    (action,) = result["actions"]                                 # the cancelled one is left out
    assert action["title"] == "Porte-à-porte Peaugres" and action["type"] == "porte-a-porte"
    assert (action["yes"], action["maybe"], action["no"], action["came"], action["volunteers"]) == (2, 1, 0, 2, 1)
    assert (action["doors_or_calls"], action["reached"], action["supporters"], action["gained"]) == (2, 1, 1, 0)
    assert action["invited"] == 0
    # active volunteers as docs/organizing.md counts them: assigned, or came to a walk or call action
    assert result["volunteers"] == {"active": 3, "doors": 2, "calls": 0, "gained": 0}
    peaugres = _compute(people_store, "commune = Peaugres")["actions"]
    (local,) = peaugres["actions"]
    assert (local["yes"], local["maybe"], local["came"], local["volunteers"], local["doors_or_calls"]) == (1, 1, 1, 0, 2)
    assert peaugres["volunteers"] == {"active": 1, "doors": 0, "calls": 0, "gained": 0}   # p4; p1 is in Grenoble
    assert _compute(people_store, since="2026-11-15")["actions"]["actions"] == []
    table = cli("stats", "--section", "actions")
    assert "Porte-à-porte Peaugres" in table.output and "Volunteers active: 3 (doors 2" in table.output


def test_cli_json_is_the_library_result(people_store, cli):
    result = cli("stats", "--by", "canton", "--format", "json", "--since", "2026-01-01")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    library = stats.compute(people_store, segments.select(people_store, None),
                            stats.Options(by="canton", since="2026-01-01"))
    for data in (printed, library):
        data.pop("generated_at")
    assert printed == library
    assert set(printed) >= {"summary", "areas", "growth", "followers", "campaigns", "actions", "selection", "period"}


def test_cli_csv_and_table(people_store, cli, tmp_path):
    result = cli("stats", "--by", "commune", "--format", "csv", "reachable:sms")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert rows[0].keys() >= {"code", "name", "contacts", "sms_share", "population", "per_1000"}
    assert sum(int(r["contacts"]) for r in rows) == 5
    growth = cli("stats", "--format", "csv", "--section", "growth")
    assert growth.output.splitlines()[0] == "period,source,new"
    out = tmp_path / "areas.csv"
    excel = cli("stats", "--format", "csv", "--excel", "-o", out)
    assert excel.exit_code == 0 and out.read_bytes().startswith(b"\xef\xbb\xbfcode;name;")
    table = cli("stats", "--by", "commune", "--top", "2")
    assert table.exit_code == 0
    assert "Contacts by commune" in table.output and "Grenoble" in table.output and "Peaugres" in table.output
    assert "… 3 more (--top 0 for all, or --format csv)" in table.output
    assert "Campaigns: none in this period." in table.output


@pytest.mark.parametrize("args, message", [
    (["--by", "region"], "Error: --by 'region': choose departement, canton, commune or circo"),
    (["--since", "hier"], "Error: --since 'hier': give a date (2026-09-01) or a span back from today"),
    (["--period", "day"], "Error: --period 'day': choose week, month or auto"),
    (["--section", "money"], "Error: --section 'money': choose among summary, areas, growth, followers, campaigns, "
                             "actions"),
    (["--format", "xml"], "Error: unknown format 'xml': choose one of table, csv, json"),
    (["--format", "csv", "--section", "summary,growth"], "Error: CSV holds one table: choose one --section"),
    (["--format", "json", "--excel"], "Error: --excel is for CSV (--format csv)"),
    (["--top", "-1"], "Error: --top must be 0 (all) or more"),
    (["commune = Nowhere-sur-Mer"], 'Error: unknown commune "Nowhere-sur-Mer" at column 11'),
    (["tag:militant and ("], 'Error: expected a condition after "(" at column 19'),
])
def test_bad_input_is_one_clear_error_and_writes_nothing(people_store, cli, tmp_path, args, message):
    out = tmp_path / "out.json"
    before = people_store.execute("SELECT count(*), max(updated_at) FROM contacts").fetchone()
    result = cli("stats", *args, "-o", out)
    assert result.exit_code == 3, result.output
    assert result.output.startswith(message)
    assert len([line for line in result.output.splitlines() if line.startswith("Error:")]) == 1
    assert not out.exists()
    assert people_store.execute("SELECT count(*), max(updated_at) FROM contacts").fetchone() == before


def test_empty_store(store, cli):
    result = cli("stats", "--format", "json")
    data = json.loads(result.output)
    assert data["summary"]["contacts"] == 0 and data["summary"]["reachable_sms_share"] is None
    assert data["areas"]["rows"] == [] and data["growth"]["periods"] == [] and data["campaigns"] == []
    table = cli("stats")
    assert table.exit_code == 0 and "Growth: no new contact in this period." in table.output
