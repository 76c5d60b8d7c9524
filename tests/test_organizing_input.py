"""Organizing: bad input gets one clear error naming the value, row or column, and nothing changes."""

import pytest
from test_organizing_support import (  # noqa: F401  (fixtures)
    day_after, fill, import_people, local_text, read_csv, store, table_snapshot, template_store, travel, write_csv,
)

from dbox.errors import InputError
from dbox.organizing import actions, results, sheets
from dbox.streets import parse_address, street_key, walking_order

pytestmark = pytest.mark.engines


def make_action(store, title="Porte-à-porte Mistral", type_="porte-a-porte", days=1, **kw):
    return actions.create(store, actions.ActionInput(title=title, type=type_, date=local_text(day_after(days)),
                                                     target=kw.pop("target", "commune = Grenoble"), **kw))


# -- actions -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["--date", "2026-12-05"], "Error: --date '2026-12-05': add the time (2026-12-05T10:00)"),
    (["--date", "demain"], "Error: --date 'demain': use a date and a time like 2026-12-05T10:00"),
    (["--date", "2026-02-30T10:00"], "Error: --date '2026-02-30T10:00': day is out of range for month"),
    (["--date", "2026-12-05T10:00", "--end", "09:00"], "Error: --end '09:00': the action would end before it starts"),
    (["--date", "2026-12-05T10:00", "--capacity", "0"], "Error: --capacity 0: use a number above zero"),
    (["--date", "2026-12-05T10:00", "--commune", "Grenobel"],
     "Error: --commune 'Grenobel': unknown commune — did you mean \"Grenoble\"?"),
    (["--date", "2026-12-05T10:00", "--type", "porte à porte!!"], None),
    (["--date", "2026-12-05T10:00", "--target", "cantn = X"], 'Error: unknown field "cantn" at column 1 — did you mean "canton"?'),
    (["--date", "2026-12-05T10:00", "--timezone", "Mars/Olympus"], "Error: --timezone 'Mars/Olympus': unknown time zone"),
])
def test_create_refuses_bad_values_and_writes_nothing(store, cli, args, message):
    if "--type" not in args:
        args = ["--type", "porte-a-porte", *args]
    result = cli("action", "create", "Porte-à-porte", *args)
    if message is None:     # a custom type of punctuation folds to a word: accepted
        assert result.exit_code == 0, result.output
        assert actions.get(store, 1).type == "porte-a-porte"
        return
    assert result.exit_code == 3, result.output
    assert message in result.output
    assert store.execute("SELECT count(*) FROM actions").fetchone() == (0,)


def test_types_aliases_custom_and_sheet(store):
    assert actions.parse_type("Door-to-door") == "porte-a-porte"
    assert actions.parse_type("Réunion") == "reunion"
    assert actions.parse_type("Collage d'affiches") == "collage-d-affiches"
    custom = make_action(store, "Collage", "collage", sheet="walk")
    assert (custom.type, custom.sheet, custom.type_label) == ("collage", "walk", "collage")
    with pytest.raises(InputError, match="--sheet 'map': choose walk"):
        make_action(store, "x", sheet="map")


def test_action_names_ids_titles_and_ambiguity(store, cli):
    first = make_action(store, "Tractage marché", "tractage", days=1)
    make_action(store, "Tractage marché", "tractage", days=8)
    result = cli("action", "show", "tractage MARCHE")
    assert result.exit_code == 3
    assert f'2 actions are titled "tractage MARCHE": ids 1 ({first.local_start():%Y-%m-%d}), 2' in result.output
    assert "name one by its id" in result.output
    result = cli("action", "show", "Tractage marche du jeudi")
    assert result.exit_code == 3 and 'unknown action "Tractage marche du jeudi" — did you mean "Tractage marché"?' \
        in result.output
    assert cli("action", "show", "99").output.count("no action with id 99") == 1
    assert "Action 1: Tractage marché" in cli("action", "show", "1").output


def test_edit_moves_the_end_and_cancel_freezes(store, tmp_path, cli):
    who = import_people(store, tmp_path)
    action = make_action(store, end="12:00")
    new_start = day_after(3, 14)
    result = cli("action", "edit", "1", "--date", local_text(new_start))
    assert result.exit_code == 0 and "updated (starts_at, ends_at)" in result.output
    moved = actions.get(store, 1)
    assert moved.local_start() == new_start and moved.local_end().hour == 16
    assert "Action 1: nothing changed." in cli("action", "edit", "1", "--address", "").output
    assert cli("action", "cancel", "1", "--reason", "pluie", "--yes").exit_code == 0
    before = table_snapshot(store)
    alice = str(who["Alice"])
    for args in (("edit", "1", "--capacity", "5"), ("rsvp", "1", alice, "yes"), ("cancel", "1", "--yes"),
                 ("assign", "1", alice), ("sheet", "1"), ("invite", "1", "tag:militant", "--sms")):
        result = cli("action", *args)
        assert result.exit_code == 3, (args, result.output)
        assert "cancel" in result.output
    assert table_snapshot(store) == before
    assert action.id == 1


def test_rsvp_and_attend_refuse_bad_values(store, tmp_path, cli, travel):
    who = import_people(store, tmp_path)
    make_action(store)
    result = cli("action", "rsvp", "1", str(who["Alice"]), "bof")
    assert result.exit_code == 3 and "answer 'bof': say yes, no or maybe (oui, non, peut-être)" in result.output
    result = cli("action", "rsvp", "1", "nobody@example.org", "yes")
    assert result.exit_code == 3 and "no contact with email nobody@example.org" in result.output
    result = cli("action", "attend", "1", str(who["Alice"]))
    assert result.exit_code == 3 and "attendance is recorded from that day on" in result.output
    assert store.execute("SELECT count(*) FROM action_people").fetchone() == (0,)
    travel(day_after(1, 11))
    assert "2 recorded as came" in cli("action", "attend", "1", str(who["Alice"]), "bruno@example.org").output
    again = cli("action", "attend", "1", str(who["Alice"]))
    assert "0 recorded as came, 1 already were" in again.output


# -- results ------------------------------------------------------------------------------------------------

def sheet_csv(store, tmp_path, action):
    written = sheets.write(store, sheets.plan(store, action), tmp_path / "out")
    return read_csv(written[0].csv)


def test_results_file_is_checked_whole_and_nothing_is_written(store, tmp_path, cli, travel):
    who = import_people(store, tmp_path)
    action = make_action(store, consent_wording="J'accepte les SMS de Mon Parti")
    header, rows = sheet_csv(store, tmp_path, action)
    travel(day_after(1, 15))
    by_name = {r[header.index("prénom")]: r for r in rows}
    bad = [
        fill(header, by_name["Alice"], soutien="7"),
        fill(header, by_name["Bruno"], ouvert="absent", soutien="4"),
        fill(header, by_name["Chloé"], ouvert="oui"),
        fill(header, by_name["Chloé"], ouvert="oui"),
        fill(header, by_name["David"], ouvert="oui", accord_sms="oui"),
        fill(header, by_name["Emma"], ouvert="oui"),
    ]
    bad[4][header.index("accord sms")] = "oui"
    bad[5][header.index("nouvel e-mail")] = "pas-un-mail"
    path = write_csv(tmp_path / "retour.csv", header, bad)
    before = table_snapshot(store)
    result = cli("action", "import-results", "1", path)
    assert result.exit_code == 3
    first = result.output.splitlines()[0]
    assert first == (f"Error: {path}: row 2, column 'soutien': support '7': a level from 1 (opposed) to 5 (strong "
                     f"supporter) (and 4 more problem(s): `--check` lists them all)")
    assert "nothing was imported" in result.output
    assert table_snapshot(store) == before
    result = cli("action", "import-results", "1", path, "--check")
    assert result.exit_code == 3
    assert f"{path}: row 3, column 'ouvert': a support level is given but the person was not reached (not-home)" \
        in result.output
    assert f"{path}: row 5, column 'n° fiche': contact {who['Chloé']} is also on row 4" in result.output
    assert (f"{path}: row 6, column 'accord sms': consent to sms but no mobile is known for contact {who['David']} "
            f"nor given here") in result.output
    assert f"{path}: row 7, column 'nouvel e-mail': 'pas-un-mail' is not a valid e-mail" in result.output
    assert "5 problem(s) in" in result.output
    assert table_snapshot(store) == before


def test_results_need_a_wording_for_consent_and_never_lift_a_withdrawal(store, tmp_path, cli, travel):
    from dbox.store import suppressions
    from dbox.store.contacts_write import record_consent_events

    who = import_people(store, tmp_path)
    action = make_action(store)                               # no consent wording on the action
    header, rows = sheet_csv(store, tmp_path, action)
    travel(day_after(1, 15))
    by_name = {r[header.index("prénom")]: r for r in rows}
    line = fill(header, by_name["Emma"], ouvert="oui")
    line[header.index("accord sms")] = "x"
    path = write_csv(tmp_path / "r.csv", header, [line])
    result = cli("action", "import-results", "1", path)
    assert result.exit_code == 3
    assert f"{path}: row 2, column 'accord sms': consent given without the wording the person agreed to" \
        in result.output
    # Emma withdrew SMS consent; Farid's number was erased elsewhere; Gaëlle gives Alice's e-mail
    record_consent_events(store, [(who["Emma"], "sms", "withdraw", "2026-01-01T00:00:00Z", "stop-reply", None)])
    suppressions.add(store, "phone", "+33699887766", "erasure")
    farid = fill(header, by_name["Farid"], ouvert="oui")
    farid[header.index("nouveau téléphone")] = "06 99 88 77 66"
    gaelle = fill(header, by_name["Gaëlle"], ouvert="oui")
    gaelle[header.index("nouvel e-mail")] = "alice@example.org"
    path = write_csv(tmp_path / "r2.csv", header + ["soutein"], [r + ["4"] for r in (line, farid, gaelle)])
    result = cli("action", "import-results", "1", path, "--wording", "J'accepte les SMS de Mon Parti")
    assert result.exit_code == 0, result.output
    assert f"Warning: {path}: column 'soutein' is not read — did you mean \"soutien\"?" in result.output
    assert (f"row 2: contact {who['Emma']} had withdrawn sms consent: kept withdrawn (if they asked again: "
            f"dbox consent grant {who['Emma']} --channel sms --renewed)") in result.output
    assert "row 3: +336\u2022\u2022\u2022\u2022\u2022766 was erased or opposed on every channel: not stored" \
        in result.output
    assert f"belongs to contact {who['Alice']}: not added to contact {who['Gaëlle']}" in result.output
    assert store.execute("SELECT status FROM consents WHERE contact_id = ? AND channel = 'sms'",
                         (who["Emma"],)).fetchone() == ("withdrawn",)
    assert store.execute("SELECT count(*) FROM contact_points WHERE value = '+33699887766'").fetchone() == (0,)


def test_results_are_refused_before_the_day(store, tmp_path, cli):
    import_people(store, tmp_path)
    action = make_action(store, days=5)
    header, rows = sheet_csv(store, tmp_path, action)
    result = cli("action", "import-results", "1", write_csv(tmp_path / "r.csv", header, rows))
    assert result.exit_code == 3 and "results are imported from that day on" in result.output


def test_results_without_a_person_column(store, tmp_path, travel):
    import_people(store, tmp_path)
    action = make_action(store)
    travel(day_after(1, 15))
    path = write_csv(tmp_path / "r.csv", ["nom", "soutien"], [["Martin", "4"]])
    with pytest.raises(InputError, match=r"no column naming the person \(n° fiche, contact, id\)"):
        results.import_results(store, action, path)


# -- interactions -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["--type", "apel"], "unknown interaction type 'apel' — did you mean \"call\"?"),
    (["--type", "call", "--outcome", "no answer", "--support", "4"],
     "support and wants-call need a person reached (outcome 'no-answer' did not reach them)"),
    (["--type", "note"], "a note needs its text (--note)"),
    (["--type", "call", "--amount", "20"], "--amount is for a donation or a membership"),
    (["--type", "donation", "--amount", "vingt"], "amount 'vingt': a sum in euros, e.g. 20 or 20,50"),
    (["--type", "call", "--support", "6"], "support 6: a level from 1 (opposed) to 5 (strong supporter)"),
    (["--type", "call", "--at", "hier"], "--at 'hier': use a date and a time like 2026-12-05T10:00"),
])
@pytest.mark.engine("sqlite")     # refused before the store is read or written: the same on both engines
def test_interaction_add_refuses_bad_values(store, tmp_path, cli, args, message):
    who = import_people(store, tmp_path)
    before = table_snapshot(store)
    result = cli("interaction", "add", str(who["Alice"]), *args)
    assert result.exit_code == 3, result.output
    assert message in result.output
    assert table_snapshot(store) == before


def test_interaction_add_and_import(store, tmp_path, cli):
    who = import_people(store, tmp_path)
    result = cli("interaction", "add", "alice@example.org", "--type", "don", "--amount", "20,50", "--at", "2026-03-01")
    assert result.exit_code == 0 and "Recorded for contact" in result.output
    assert store.execute("SELECT type, amount_cents, at FROM interactions").fetchone() == \
        ("donation", 2050, "2026-03-01T11:00:00Z")
    path = tmp_path / "appels.csv"
    path.write_text("contact;date;résultat;soutien;rappel;commentaire\n"
                    f"{who['Bruno']};02/03/2026 18:00;répondu;4;oui;Veut tracter\n"
                    "+33611000003;02/03/2026 18:05;répondeur;;;\n"
                    "emma@example.org;02/03/2026;absent;;non;\n", encoding="utf-8")
    result = cli("interaction", "import", path, "--type", "call")
    assert result.exit_code == 0, result.output
    assert "3 interaction(s) (call 3)" in result.output
    rows = store.execute("SELECT contact_id, outcome, reached, support, wants_call FROM interactions WHERE type = "
                         "'call' ORDER BY contact_id").fetchall()
    assert rows == [(who["Bruno"], "answered", 1, 4, 1), (who["Chloé"], "voicemail", 0, None, 0),
                    (who["Emma"], "no-answer", 0, None, 0)]
    before = table_snapshot(store)
    again = cli("interaction", "import", path, "--type", "call")
    assert again.exit_code == 3 and "this file was already imported on" in again.output and "--again" in again.output
    bad = tmp_path / "bad.csv"
    bad.write_text("contact;type;soutien\n" f"{who['Bruno']};call;4\n" f"{who['Alice']};appel;9\n", encoding="utf-8")
    result = cli("interaction", "import", bad)
    assert result.exit_code == 3
    assert f"{bad}: row 3: support '9': a level from 1 (opposed) to 5 (strong supporter)" in result.output
    missing = tmp_path / "missing.csv"
    missing.write_text("contact;type\n999;call\n", encoding="utf-8")
    result = cli("interaction", "import", missing)
    assert result.exit_code == 3 and f"{missing}: row 2, column 'contact': no contact with id 999" in result.output
    assert table_snapshot(store) == before


# -- invitations refused --------------------------------------------------------------------------------------------

def test_invite_refuses_without_selection_cancelled_or_past(store, tmp_path, cli, travel):
    import_people(store, tmp_path)
    make_action(store)
    result = cli("action", "invite", "1", "--sms", "--yes")
    assert result.exit_code == 3 and "whom to invite? give a segment (--segment NAME) or a filter expression" \
        in result.output
    result = cli("action", "invite", "1", "tag:militant", "--sms", "--email")
    assert result.exit_code == 3 and "choose the channel: --sms or --email" in result.output
    travel(day_after(2))
    result = cli("action", "invite", "1", "tag:militant", "--sms", "--yes")
    assert result.exit_code == 3 and "too late to invite" in result.output
    assert store.execute("SELECT count(*) FROM campaigns").fetchone() == (0,)


# -- streets and walking order ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("address, number, suffix, key", [
    ("12 rue des Alpes", 12, "", "rue des alpes"),
    ("12bis av. Jean-Jaurès", 12, "bis", "avenue jean jaures"),
    ("5 B bd Gambetta", 5, "b", "boulevard gambetta"),
    ("Bât. A, 3 allée des Pins", 3, "", "allee des pins"),
    ("3 Boulevard Gambetta", 3, "", "boulevard gambetta"),
    ("Résidence Les Tilleuls", None, "", "residence les tilleuls"),
    ("7 pl. St-Bruno", 7, "", "place saint bruno"),
    ("", None, "", ""),
])
def test_parse_address(address, number, suffix, key):
    parsed = parse_address(address)
    assert (parsed.number, parsed.suffix, parsed.key) == (number, suffix, key)


def test_walking_order_odd_up_even_down():
    addresses = [parse_address(a) for a in ("8 rue X", "1 rue X", "2 rue X", "3 rue X", "3 bis rue X", "rue X",
                                            "10 rue X")]
    ordered = [a.house or "-" for a in sorted(addresses, key=walking_order)]
    assert ordered == ["1", "3", "3 bis", "10", "8", "2", "-"]
    assert street_key("R. du Gal de Gaulle") == "rue du general de gaulle"


def test_sheet_needs_a_target_and_a_known_volunteer(store, tmp_path, cli):
    who = import_people(store, tmp_path)
    actions.create(store, actions.ActionInput(title="PAP", type="pap", date=local_text(day_after(1))))
    result = cli("action", "sheet", "1", "-o", tmp_path / "s")
    assert result.exit_code == 3 and "action 1 has no target: whom should the walk list reach?" in result.output
    result = cli("action", "sheet", "1", "tag:personne", "-o", tmp_path / "s")
    assert result.exit_code == 3 and 'unknown tag "personne"' in result.output
    result = cli("action", "sheet", "1", "commune = Grenoble", "--volunteer", str(who["Alice"]), "-o", tmp_path / "s")
    assert result.exit_code == 3 and f"contact {who['Alice']} is not assigned to action 1" in result.output
    result = cli("action", "sheet", "1", "commune = Grenoble", "--format", "docx", "-o", tmp_path / "s")
    assert result.exit_code == 3 and "--format 'docx': choose pdf or html" in result.output
    assert not (tmp_path / "s").exists()
    result = cli("action", "assign", "1", str(who["Alice"]), "--communes", "Grenobel")
    assert result.exit_code == 3 and "unknown commune" in result.output
    assert store.execute("SELECT count(*) FROM action_assignments").fetchone() == (0,)
