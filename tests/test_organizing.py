"""Organizing, the whole cycle on a small store: create an action, invite a segment by SMS through the
local Twilio server (the real twilio client on 127.0.0.1), answers, volunteers and their sheets
(PDF text read back, HTML, CSV), results brought back, segments on attendance and support,
statistics, the timeline, and the person's rights (export, erasure)."""

import json

import pytest

from test_organizing_support import (  # noqa: F401  (fixtures)
    day_after, fill, import_people, local_text, pdf_text, read_csv, store, table_snapshot, template_store, travel,
    twilio, write_csv,
)

from test_send_support import smtp  # noqa: F401  (fixture)

from dbox import segments
from dbox.organizing import actions, people, results, sheets, stats
from dbox.organizing.timeline import timeline
from dbox.store import ledger

pytestmark = pytest.mark.engines

TITLE = "Porte-à-porte quartier Mistral"
WORDING = "J'accepte de recevoir des SMS de Mon Parti (porte-à-porte du 5/12)"


def ids_of(store, expression: str) -> list[int]:
    sel = segments.select(store, expression)
    return [row[0] for row in segments.rows(store, sel, ["id"])]


def create_action(cli, when, *extra):
    result = cli("action", "create", TITLE, "--type", "porte-a-porte", "--date", local_text(when), "--end", "12:00",
                 "--commune", "Grenoble", "--address", "Place Mistral", "--capacity", "20",
                 "--target", "commune = Grenoble", "--consent-wording", WORDING,
                 "--script", "Bonjour, nous sommes bénévoles de Mon Parti.", *extra)
    assert result.exit_code == 0, result.output
    return result


def test_full_cycle(store, tmp_path, twilio, cli, travel):
    who = import_people(store, tmp_path)
    when = day_after(2, 10)

    # -- create ---------------------------------------------------------------------------------
    result = create_action(cli, when)
    assert "Action 1 created: Porte-à-porte quartier Mistral — porte-à-porte" in result.output
    action = actions.get(store, 1)
    assert (action.type, action.sheet, action.capacity, action.commune_insee) == ("porte-a-porte", "walk", 20, "38185")
    assert action.local_start() == when and action.local_end().hour == 12

    # -- invite the militants through the send pipeline -------------------------------------------
    assert cli("segment", "save", "militants-grenoble", "tag:militant and commune = Grenoble").exit_code == 0
    result = cli("action", "invite", TITLE, "--segment", "militants-grenoble", "--sms", "--yes",
                 "-m", "{{ first_name }}, {{ action.type }} « {{ action.title }} » {{ action.when }}, "
                       "{{ action.place }}. Venez !")
    assert result.exit_code == 0, result.output
    assert "recipients: 4" in result.output           # Emma (tag militant) gave no SMS consent
    assert "excluded:   1" in result.output
    sent = {m["to"]: m["body"] for m in twilio.outbound()}
    assert sorted(sent) == ["+33611000001", "+33611000002", "+33611000003", "+33611000007"]
    day = f"{actions.french_date(when, year=False)} à 10h00"
    assert sent["+33611000001"] == (f"Alice, porte-à-porte « {TITLE} » {day}, Place Mistral, Grenoble. "
                                    f"Venez !\nSTOP au 36173")
    campaign = ledger.list_campaigns(store)
    assert len(list(campaign)) == 1
    assert ids_of(store, "invited:1") == sorted(who[n] for n in ("Alice", "Bruno", "Chloé", "Gaëlle"))
    assert ids_of(store, f'invited:"{TITLE.upper()}"') == ids_of(store, "invited:1")

    # the same command again: nobody left to invite, nothing sent twice
    again = cli("action", "invite", "1", "--segment", "militants-grenoble", "--sms", "--yes",
                "-m", "{{ first_name }}, {{ action.type }} « {{ action.title }} » {{ action.when }}, "
                      "{{ action.place }}. Venez !")
    assert again.exit_code == 3
    assert "nobody to invite: no reachable contact in this selection who was not already invited" in again.output
    assert len(twilio.outbound()) == 4

    # -- answers ------------------------------------------------------------------------------------
    for name, answer in (("Alice", "oui"), ("Bruno", "yes"), ("Chloé", "non"), ("Gaëlle", "peut-être")):
        r = cli("action", "rsvp", "1", str(who[name]), answer)
        assert r.exit_code == 0, r.output
    assert "answered no to action 1 (was yes)" in cli("action", "rsvp", "1", "+33611000002", "no").output
    assert cli("action", "rsvp", "1", str(who["Bruno"]), "yes").exit_code == 0
    s = stats.action_stats(store, actions.get(store, 1))
    assert (s.invited, s.replied) == (4, 4)
    listed = json.loads(cli("action", "list", "-f", "json").output)
    assert [(r["id"], r["invited"], r["yes"], r["no"], r["maybe"]) for r in listed] == [(1, 4, 2, 1, 1)]
    assert {k: s.answers[k] for k in ("yes", "no", "maybe")} == {"yes": 2, "no": 1, "maybe": 1}

    # -- volunteers and their sheets -----------------------------------------------------------------
    assert cli("action", "assign", "1", str(who["Alice"]), "--streets", "rue des Alpes").exit_code == 0
    assert cli("action", "assign", "1", "bruno@example.org").exit_code == 0
    out_dir = tmp_path / "feuilles"
    result = cli("action", "sheet", "1", "-o", out_dir)
    assert result.exit_code == 0, result.output
    assert "Action 1: 6 door(s) on 2 sheet(s) (commune = Grenoble)." in result.output
    assert "left out: volunteers of this action 2" in result.output
    alice_pdf = out_dir / f"action-1-volunteer-{who['Alice']}-alice-martin.pdf"
    bruno_pdf = out_dir / f"action-1-volunteer-{who['Bruno']}-bruno-durand.pdf"
    text = pdf_text(alice_pdf)
    assert TITLE in text and "Bénévole : Alice Martin" in text and "Secteur : rue des Alpes" in text
    assert "Bonjour, nous sommes bénévoles de Mon Parti." in text and WORDING in text
    # rue des Alpes in walking order: odd side up (1), then even side down (14); volunteers left out
    assert text.index("Benali Farid") < text.index("Roux Emma")
    assert "Martin Alice" not in text and "Durand Bruno" not in text
    text = pdf_text(bruno_pdf)
    assert "av. Jean Jaurès — Grenoble" in text                 # 3 av. / 8 avenue / 5 bis avenue: one street
    assert text.index("Petit Chloé") < text.index("Nguyen Gaëlle") < text.index("Leroy David")
    assert "Blanc Hugo" in text and "(sans adresse)" in text
    header, rows = read_csv(out_dir / f"action-1-volunteer-{who['Bruno']}-bruno-durand.csv")
    assert header[:3] == ["n° fiche", "bénévole", "nom du bénévole"] and "accord sms" in header
    assert [r[header.index("nom")] for r in rows] == ["Petit", "Nguyen", "Leroy", "Blanc"]
    assert {r[header.index("bénévole")] for r in rows} == {str(who["Bruno"])}
    assert (out_dir / f"action-1-volunteer-{who['Alice']}-alice-martin.csv").stat().st_mode & 0o777 == 0o600

    # -- the day of the action: results come back ----------------------------------------------------------
    travel(when.replace(hour=14))
    filled = []
    for row in rows:
        name = row[header.index("nom")]
        if name == "Petit":
            row = fill(header, row, ouvert="oui", soutien="5", à_rappeler="oui")
            row[header.index("nouvel e-mail")] = " Chloe.P@Example.org "
            row[header.index("accord e-mail")] = "x"
        elif name == "Nguyen":
            row = fill(header, row, ouvert="oui", soutien="4", nouveau_téléphone="04 76 11 22 33")
        elif name == "Leroy":
            row = fill(header, row, ouvert="absent")
        filled.append(row)
    back = write_csv(tmp_path / "retour-bruno.csv", header, filled)
    result = cli("action", "import-results", "1", back)
    assert result.exit_code == 0, result.output
    assert "door(s) 3 new, 0 updated (reached 2, not reached 1)" in result.output
    assert "consents: email 1" in result.output and "volunteers marked present: 1" in result.output
    assert "lines left blank: 1" in result.output
    assert store.execute("SELECT value FROM contact_points WHERE contact_id = ? AND kind = 'email'",
                         (who["Chloé"],)).fetchall() == [("chloe.p@example.org",)]
    event = store.execute("SELECT source, detail FROM consent_events WHERE contact_id = ? AND channel = 'email' "
                          "ORDER BY id DESC LIMIT 1", (who["Chloé"],)).fetchone()
    assert event[0] == "meeting" and event[1].startswith(WORDING + " — action 1 « " + TITLE)
    assert store.execute("SELECT fixed FROM contacts WHERE id = ?", (who["Gaëlle"],)).fetchone() == ("+33476112233",)

    # a corrected sheet comes back: the door is updated, not counted twice
    filled[2] = fill(header, filled[2], ouvert="oui", soutien="2")
    result = cli("action", "import-results", "1", write_csv(tmp_path / "retour-bruno-2.csv", header, filled))
    assert "door(s) 0 new, 3 updated (reached 3, not reached 0)" in result.output
    assert store.execute("SELECT count(*) FROM interactions WHERE action_id = 1").fetchone() == (3,)

    # attendance by hand: Alice came, Gaëlle (maybe) did not
    assert cli("action", "attend", "1", "alice@example.org").exit_code == 0
    assert cli("action", "attend", "1", str(who["Gaëlle"]), "--absent").exit_code == 0

    # -- segments on attendance and support ---------------------------------------------------------------------
    assert ids_of(store, "support >= 4") == sorted([who["Chloé"], who["Gaëlle"]])
    assert ids_of(store, f'attended:"{TITLE}"') == sorted([who["Alice"], who["Bruno"]])
    assert ids_of(store, "attended.count >= 1 and volunteer") == sorted([who["Alice"], who["Bruno"]])
    assert ids_of(store, "support <= 2") == [who["David"]]
    assert who["Hugo"] in ids_of(store, "attended.count = 0")
    assert ids_of(store, "last_interaction >= 7 days ago and support is not empty") == \
        sorted([who["Chloé"], who["David"], who["Gaëlle"]])
    assert ids_of(store, "support >= 4 and reachable:email") == [who["Chloé"]]    # consent given at the door

    # -- statistics -------------------------------------------------------------------------------------------------
    s = stats.action_stats(store, actions.get(store, 1))
    assert s.answers["came"] == 2 and s.answers["absent"] == 1 and s.answers["no_show"] == 0
    assert s.results == {"contacts": 3, "reached": 3, "supporters": 2, "opponents": 1, "wants_call": 1,
                         "gained": 2, "no_volunteer": 0}
    bruno = next(v for v in s.volunteers if v["volunteer_id"] == who["Bruno"])
    assert (bruno["contacts"], bruno["reached"], bruno["gained"]) == (3, 3, 2)
    result = cli("action", "stats", "1")
    assert "invited:         4 (answered: 4)" in result.output
    assert "Bruno Durand" in result.output and "contacts gained   2" in result.output
    result = cli("action", "stats", "--since", f"{when:%Y-%m-%d}", "--format", "json")
    data = json.loads(result.output)
    assert [a["id"] for a in data["actions"]] == [1]
    assert data["volunteers"][0] == {"volunteer_id": who["Bruno"], "volunteer": "Bruno Durand", "actions": 1,
                                     "doors": 3, "calls": 0, "gained": 2}

    # -- the timeline --------------------------------------------------------------------------------------------------
    events = timeline(store, who["Chloé"])
    kinds = [e.kind for e in events]
    assert {"message", "rsvp", "interaction", "consent", "import"} <= set(kinds)
    message = next(e for e in events if e.kind == "message")
    assert message.summary == f"sms invitation to « {TITLE} »: sent"
    door = next(e for e in events if e.kind == "interaction")
    assert door.summary.startswith(f"door answered at « {TITLE} » — support 5/5, wants a call, gave email, "
                                   f"consent:email, by Bruno Durand")
    result = cli("contacts", "timeline", str(who["Chloé"]))
    assert result.exit_code == 0 and f"Contact {who['Chloé']} — support 5/5" in result.output
    assert "door" in result.output and "invitation to" in result.output

    # -- the person's rights ------------------------------------------------------------------------------------------------
    from dbox.privacy import rights

    exported = rights.export(store, who["Chloé"], log=False)
    assert exported["organizing"]["summary"]["support"] == 5
    assert exported["organizing"]["actions"][0]["rsvp"] == "no"
    assert "interactions" not in exported["other_records"]
    assert "Actions militantes" in rights.render_text(exported)
    bruno_export = rights.export(store, who["Bruno"], log=False)
    assert bruno_export["organizing"]["volunteering"][0]["contacts_made"] == 3
    rights.forget(store, who["Bruno"])
    for table in ("action_people", "action_assignments", "interactions"):
        assert store.execute(f"SELECT count(*) FROM {table} WHERE contact_id = ?", (who["Bruno"],)).fetchone() == (0,)
    assert store.execute("SELECT count(*) FROM interactions WHERE volunteer_id = ?", (who["Bruno"],)).fetchone() == (0,)
    assert store.execute("SELECT count(*) FROM interactions WHERE action_id = 1").fetchone() == (3,)   # kept, unsigned
    rights.forget(store, who["Chloé"])
    assert who["Chloé"] not in ids_of(store, "support >= 4")


def test_html_sheets_call_list_and_attendance_list(store, tmp_path, cli, travel):
    who = import_people(store, tmp_path)
    when = day_after(1, 18)
    r = cli("action", "create", "Phoning militants", "--type", "phone-bank", "--date", local_text(when),
            "--target", "tag:militant", "--script", "Bonjour, c'est Mon Parti : serez-vous là samedi ?")
    assert r.exit_code == 0, r.output
    from dbox.store.contacts_write import record_consent_events

    record_consent_events(store, [(who["Gaëlle"], "phone", "withdraw", "2026-01-01T00:00:00Z", "manual", None)])
    for name in ("Alice", "Bruno"):
        assert cli("action", "assign", "1", str(who[name])).exit_code == 0
    result = cli("action", "sheet", "1", "-o", tmp_path / "calls", "--format", "html")
    assert result.exit_code == 0, result.output
    assert "left out: phone consent withdrawn 1, volunteers of this action 2" in result.output
    html_files = sorted((tmp_path / "calls").glob("*.html"))
    assert len(html_files) == 2
    page = "".join(p.read_text(encoding="utf-8") for p in html_files)
    assert "Bonjour, c&#39;est Mon Parti : serez-vous là samedi ?" in page     # escaped, not raw HTML
    assert "+33611000003" in page and "+33611000005" in page and "Nguyen" not in page
    header, rows = read_csv(html_files[0].with_suffix(".csv"))
    assert "répondu" in header and "portable connu" in header

    # a meeting: the attendance list holds those who said yes or maybe
    r = cli("action", "create", "Réunion publique", "--type", "meeting", "--date", local_text(when), "--address",
            "Salle des fêtes")
    assert r.exit_code == 0
    people.rsvp(store, actions.get(store, 2), who["Hugo"], "yes")
    people.rsvp(store, actions.get(store, 2), who["Farid"], "maybe")
    people.rsvp(store, actions.get(store, 2), who["Emma"], "no")
    result = cli("action", "sheet", "2", "-o", tmp_path / "list")
    assert result.exit_code == 0, result.output
    text = pdf_text(tmp_path / "list" / "action-2-unassigned.pdf")
    assert "Liste d'émargement" in text and "Blanc Hugo" in text and "Benali Farid" in text and "Roux" not in text
    travel(when)
    header, rows = read_csv(tmp_path / "list" / "action-2-unassigned.csv")
    rows = [fill(header, r, venu="oui" if r[header.index("nom")] == "Blanc" else "non") for r in rows]
    report = results.import_results(store, actions.get(store, 2), write_csv(tmp_path / "venus.csv", header, rows))
    assert (report.came, report.absent) == (1, 1)
    assert ids_of(store, "attended:2") == [who["Hugo"]]
    assert ids_of(store, "volunteer") == sorted([who["Alice"], who["Bruno"]])   # a meeting makes no volunteer


@pytest.mark.engine("sqlite")     # the PDF's fonts: nothing of the store's engine
def test_pdf_without_unicode_font_spells_latin1(store, tmp_path, monkeypatch, travel):
    """With no TrueType font, the built-in one prints what Latin-1 can and spells the rest."""
    rows = [("Łukasz", "Œuvray", "0611000009", "", "", "2 rue de l’Église", "oui", "")]
    who = import_people(store, tmp_path, rows)
    action = actions.create(store, actions.ActionInput(title="Tractage “marché”", type="tractage",
                                                       date=local_text(day_after(1)), target="commune = Grenoble"))
    monkeypatch.setattr(sheets, "find_font", lambda: None)
    written = sheets.write(store, sheets.plan(store, action), tmp_path / "s")
    text = pdf_text(written[0].printable)
    assert 'Tractage "marché"' in text and "OEuvray Lukasz" in text and "rue de l'Église" in text
    assert who["Łukasz"]


def test_invite_by_email_dry_run_and_bad_field(store, tmp_path, cli, smtp, twilio):
    from dbox.store.contacts_write import record_consent_events

    who = import_people(store, tmp_path)
    record_consent_events(store, [(who[n], "email", "grant", "2026-01-01T00:00:00Z", "form", "newsletter")
                                  for n in ("Alice", "Bruno")])
    create_action(cli, day_after(3))
    result = cli("action", "invite", "1", "tag:militant", "--email", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Subject: Invitation : Porte-à-porte quartier Mistral," in result.output
    assert "recipients: 2" in result.output and "Nous vous invitons : porte-à-porte" in result.output
    assert "This was a dry run: nothing was sent" in result.output
    assert store.execute("SELECT count(*) FROM campaigns").fetchone() == (0,)
    assert store.execute("SELECT count(*) FROM action_invitations").fetchone() == (0,)
    bad = cli("action", "invite", "1", "tag:militant", "--sms", "-m", "{{ action.titre }}", "--yes")
    assert bad.exit_code == 3
    assert "message, line 1: unknown field {{ action.titre }}" in bad.output
    assert store.execute("SELECT count(*) FROM campaigns").fetchone() == (0,)
