"""Sign-up forms, event pages and volunteers' pages over real HTTP against the running server
(uvicorn on 127.0.0.1), with a real SMTP server (aiosmtpd) for the double opt-in mail."""

import re
from html import unescape
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from conftest import write_csv
from serve_support import live_server  # noqa: F401  (a fixture)
from test_send_support import smtp  # noqa: F401  (a fixture)

from dbox.store import forms as sf

pytestmark = pytest.mark.engines


WORDING_SMS = "J'accepte de recevoir les SMS de l'équipe Mon Parti (formulaire bénévoles)"
WORDING_EMAIL = "J'accepte de recevoir la lettre d'information de Mon Parti par e-mail"


def token_of(html: str, index: int = 0) -> str:
    return re.findall(r'name="csrf_token" value="([^"]+)"', html)[index]


def make_form(cli, slug="benevoles", consent="sms,email"):
    wordings = {"sms": WORDING_SMS, "email": WORDING_EMAIL}
    options = [x for c in consent.split(",") for x in ("--wording", f"{c}={wordings[c]}")]
    result = cli("forms", "create", slug, "--title", "Devenez bénévole", "--fields",
                 "first_name,last_name,email,mobile,postal_code", "--consent", consent, *options,
                 "--tag", "benevole", "--required", "first_name,last_name")
    assert result.exit_code == 0, result.output
    return result


PERSON = {"first_name": "Léa", "last_name": "Martin", "email": "lea.martin@exemple.fr", "mobile": "06 12 34 56 78",
          "postal_code": "38000"}


def post_form(server, slug="benevoles", values=None, consents=("sms", "email"), token=None, **extra):
    session = requests.Session()
    page = session.get(f"{server.url}/f/{slug}")
    assert page.status_code == 200
    data = {**(PERSON if values is None else values), "consent": list(consents), **extra}
    if token is not False:
        data["csrf_token"] = token or token_of(page.text)
    return session.post(f"{server.url}/f/{slug}", data=data, allow_redirects=False)


def contacts(store):
    return store.execute("SELECT id, first_name, last_name, email, mobile FROM contacts ORDER BY id").fetchall()


def consent_of(store, contact_id, channel):
    row = store.execute("SELECT status, source FROM consents WHERE contact_id = ? AND channel = ?",
                        (contact_id, channel)).fetchone()
    return tuple(row) if row else None


def wording_of(store, contact_id, channel):
    return store.execute(
        "SELECT w.wording FROM consent_events e JOIN consent_wordings w ON w.event_id = e.id "
        "WHERE e.contact_id = ? AND e.channel = ? AND e.action = 'grant' ORDER BY e.id DESC", (contact_id, channel)
    ).fetchone()[0]


# -- sign-up forms ------------------------------------------------------------------------------------------

def test_sign_up_becomes_a_consented_contact_and_email_waits_for_confirmation(store, cli, live_server, smtp):
    make_form(cli)
    server = live_server()
    page = requests.get(f"{server.url}/f/benevoles")
    assert page.status_code == 200 and "Devenez bénévole" in page.text
    assert WORDING_SMS in unescape(page.text)
    assert "<script" not in page.text                        # works without JavaScript
    response = post_form(server)
    assert response.status_code == 303 and response.headers["location"] == "/f/benevoles?sent=1"
    [(cid, first, last, email, mobile)] = contacts(store)
    assert (first, last, email, mobile) == ("Léa", "Martin", "lea.martin@exemple.fr", "+33612345678")
    tags = store.execute("SELECT t.name FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id WHERE ct.contact_id = ?",
                         (cid,)).fetchall()
    assert tags == [("benevole",)]
    assert consent_of(store, cid, "sms") == ("granted", "form")
    assert wording_of(store, cid, "sms") == WORDING_SMS            # the exact words shown
    assert consent_of(store, cid, "email") is None                 # not reachable by e-mail yet
    # the confirmation mail went through the e-mail channel's SMTP settings
    [mail] = smtp.to("lea.martin@exemple.fr")
    body = mail.get_body(("plain",)).get_content()
    link = re.search(r"(http://\S+/f/confirm/\S+)", body).group(1)
    assert link.startswith(server.url)
    assert WORDING_EMAIL in body
    # GET shows a button and changes nothing (mail scanners follow links)
    shown = requests.get(link)
    assert shown.status_code == 200 and "Confirm my e-mail address" in shown.text
    assert consent_of(store, cid, "email") is None
    confirmed = requests.post(link, data={"csrf_token": token_of(shown.text)})
    assert confirmed.status_code == 200 and "Your address is confirmed" in confirmed.text
    assert consent_of(store, cid, "email") == ("granted", "form")
    assert wording_of(store, cid, "email") == WORDING_EMAIL
    again = requests.get(link)
    assert "already confirmed" in again.text
    # a second sign-up of the same person merges into the same contact, and mails nobody again
    assert post_form(server).status_code == 303
    assert len(contacts(store)) == 1 and len(smtp.to("lea.martin@exemple.fr")) == 1
    shown = cli("forms", "show", "benevoles", "--format", "json")
    assert '"emails_confirmed": 1' in shown.output and '"submissions": 2' in shown.output


def test_a_post_without_a_valid_csrf_token_is_refused_and_writes_nothing(store, cli, live_server, smtp):
    make_form(cli)
    server = live_server()
    missing = post_form(server, token=False)
    assert missing.status_code == 403 and "expired" in missing.text
    assert 'value="lea.martin@exemple.fr"' in missing.text       # the answers are kept, with a new token
    forged = post_form(server, token="1700000000.abc.0123456789abcdef0123456789abcdef")
    assert forged.status_code == 403
    make_form(cli, "autre")
    other = requests.get(f"{server.url}/f/autre")
    assert post_form(server, token=token_of(other.text)).status_code == 403     # another form's token
    session = requests.Session()
    token = token_of(session.get(f"{server.url}/f/benevoles").text)
    cross = session.post(f"{server.url}/f/benevoles", data={**PERSON, "csrf_token": token},
                         headers={"Origin": "https://evil.example"}, allow_redirects=False)
    assert cross.status_code == 403
    assert contacts(store) == [] and smtp.messages == []


def test_a_csrf_token_works_once(store, cli, live_server, smtp):
    make_form(cli)
    server = live_server()
    session = requests.Session()
    token = token_of(session.get(f"{server.url}/f/benevoles").text)
    ok = session.post(f"{server.url}/f/benevoles", data={**PERSON, "csrf_token": token}, allow_redirects=False)
    assert ok.status_code == 303
    replay = session.post(f"{server.url}/f/benevoles", data={**PERSON, "csrf_token": token}, allow_redirects=False)
    assert replay.status_code == 403
    assert len(contacts(store)) == 1


def test_honeypot_and_rate_limit(store, cli, live_server, smtp):
    make_form(cli)
    server = live_server()
    robot = post_form(server, website="http://spam.example")
    assert robot.status_code == 200 and "Thank you!" in robot.text
    assert contacts(store) == []
    statuses = [post_form(server, values={**PERSON, "email": f"p{i}@exemple.fr", "mobile": ""},
                          consents=()).status_code for i in range(5)]
    assert statuses == [303] * 4 + [429]      # 5 per client in 10 minutes, the honeypot's included
    assert len(contacts(store)) == 4
    assert "Too many attempts" in post_form(server).text


def test_bad_values_are_shown_next_to_their_field_and_nothing_is_written(store, cli, live_server, smtp):
    make_form(cli)
    server = live_server()
    response = post_form(server, values={**PERSON, "email": "lea@@exemple", "first_name": ""})
    assert response.status_code == 422
    assert "This is not a valid e-mail address." in response.text
    assert 'aria-invalid="true"' in response.text and 'href="#f-email"' in response.text
    assert "Please fill this in." in response.text
    fixed_line = post_form(server, values={**PERSON, "mobile": "04 76 00 00 00"})
    assert "Text messages need a mobile number." in fixed_line.text
    assert contacts(store) == []


def test_an_erased_or_opposed_person_is_not_added_back(store, cli, live_server, smtp, tmp_path):
    make_form(cli)
    write_csv(tmp_path / "c.csv", "prénom;nom;email;portable\nLéa;Martin;lea.martin@exemple.fr;0612345678\n"
                                  "Paul;Durand;paul@exemple.fr;0698765432\n")
    assert cli("import", tmp_path / "c.csv").exit_code == 0
    assert cli("privacy", "forget", "lea.martin@exemple.fr", "--yes").exit_code == 0
    assert cli("consent", "withdraw", "paul@exemple.fr", "--channel", "email").exit_code == 0
    server = live_server()
    assert post_form(server).status_code == 303                       # the same page for everyone
    assert [c[3] for c in contacts(store)] == ["paul@exemple.fr"]     # Léa is not back
    paul = {**PERSON, "first_name": "Paul", "last_name": "Durand", "email": "paul@exemple.fr",
            "mobile": "06 98 76 54 32"}
    assert post_form(server, values=paul).status_code == 303
    [(cid, *_)] = contacts(store)
    assert consent_of(store, cid, "email")[0] == "withdrawn"           # not lifted by a form
    assert smtp.messages == []                                         # and no mail to someone who opted out
    assert consent_of(store, cid, "sms") == ("granted", "form")


def test_disabled_and_unknown_forms_answer_404(store, cli, live_server):
    make_form(cli, consent="sms")
    server = live_server()
    assert requests.get(f"{server.url}/f/nope").status_code == 404
    assert cli("forms", "disable", "benevoles").exit_code == 0
    assert requests.get(f"{server.url}/f/benevoles").status_code == 404
    embed = cli("forms", "show", "benevoles", "--embed")
    assert '<iframe src="/f/benevoles"' in embed.output


def test_expired_or_unknown_confirmation_links(store, cli, live_server, smtp, monkeypatch):
    make_form(cli)
    server = live_server()
    assert post_form(server).status_code == 303
    assert requests.get(f"{server.url}/f/confirm/not-a-token").status_code == 404
    with store.transaction():
        store.execute("UPDATE email_confirmations SET expires_at = '2000-01-01T00:00:00Z'")
    [mail] = smtp.to("lea.martin@exemple.fr")
    link = re.search(r"(http://\S+/f/confirm/\S+)", mail.get_body(("plain",)).get_content()).group(1)
    assert "expired" in requests.get(link).text


# -- event pages ---------------------------------------------------------------------------------------------

def _today_action(cli, *extra):
    """An action later today, Paris time (volunteers record results from the action's day on)."""
    now = datetime.now(ZoneInfo("Europe/Paris")).replace(second=0, microsecond=0)
    start = now + timedelta(hours=1)
    if start.date() != now.date():          # after 23:00 in Paris: an hour later is tomorrow
        start = now.replace(hour=23, minute=59)
    result = cli("action", "create", "Porte-à-porte Mistral", "--type", "porte-a-porte", "--date",
                 f"{start:%Y-%m-%dT%H:%M}", "--address", "Place Mistral", "--capacity", "10", *extra)
    assert result.exit_code == 0, result.output
    return int(re.search(r"Action (\d+)", result.output).group(1))


def test_event_page_takes_answers_as_rsvps(store, cli, live_server):
    action = _today_action(cli, "--description", "On frappe aux portes du quartier")
    server = live_server()
    assert requests.get(f"{server.url}/e/{action}").status_code == 404         # not published yet
    assert cli("action", "publish", str(action)).exit_code == 0
    session = requests.Session()
    page = session.get(f"{server.url}/e/{action}")
    assert page.status_code == 200
    for text in ("Porte-à-porte Mistral", "Place Mistral", "On frappe aux portes", "Places left"):
        assert text in page.text
    data = {"first_name": "Jean", "last_name": "Petit", "email": "jean@exemple.fr", "answer": "yes",
            "csrf_token": token_of(page.text)}
    answered = session.post(f"{server.url}/e/{action}", data=data, allow_redirects=False)
    assert answered.status_code == 303
    [(cid, *_)] = contacts(store)
    assert store.execute("SELECT rsvp, source FROM action_people WHERE action_id = ? AND contact_id = ?",
                         (action, cid)).fetchone() == ("yes", "web")
    assert "Your answer is recorded" in session.get(f"{server.url}/e/{action}?sent=1").text
    no_token = session.post(f"{server.url}/e/{action}", data={**data, "csrf_token": ""}, allow_redirects=False)
    assert no_token.status_code == 403
    shown = cli("action", "show", str(action))
    assert "yes" in shown.output.lower() or "oui" in shown.output.lower()
    assert cli("action", "publish", str(action), "--unpublish").exit_code == 0
    assert requests.get(f"{server.url}/e/{action}").status_code == 404


# -- volunteers' pages ---------------------------------------------------------------------------------------

ROWS = ("prénom;nom;email;portable;adresse;code postal;ville;tags\n"
        "Alice;Bénévole;alice@exemple.fr;0611000001;;38000;Grenoble;\n"
        "Bruno;Bénévole;bruno@exemple.fr;0611000002;;38000;Grenoble;\n"
        "Claire;Habitante;claire@exemple.fr;0611000003;3 rue des Alpes;38000;Grenoble;quartier\n"
        "Denis;Habitant;;0611000004;5 rue des Alpes;38000;Grenoble;quartier\n"
        "Emma;Voisine;;0611000005;2 avenue Jean-Jaurès;38000;Grenoble;quartier\n")


def _volunteers(cli, tmp_path, monkeypatch, server):
    write_csv(tmp_path / "people.csv", ROWS)
    assert cli("import", tmp_path / "people.csv").exit_code == 0
    action = _today_action(cli, "--target", "tag:quartier", "--consent-wording", "J'accepte les SMS de Mon Parti")
    monkeypatch.setenv("DBOX_PUBLIC_URL", server.url)
    links = {}
    for who, street in (("alice@exemple.fr", "rue des Alpes"), ("bruno@exemple.fr", "av. Jean-Jaurès")):
        result = cli("action", "assign", str(action), who, "--streets", street)
        assert result.exit_code == 0, result.output
        links[who] = re.search(r"(http://\S+/v/\S+)", result.output).group(1)
    return action, links


def _contact(store, email):
    return store.execute("SELECT contact_id FROM contact_points WHERE value = ?", (email,)).fetchone()[0]


def test_a_volunteer_sees_and_records_only_their_own_list(store, cli, live_server, tmp_path, monkeypatch):
    server = live_server()
    action, links = _volunteers(cli, tmp_path, monkeypatch, server)
    session = requests.Session()
    page = session.get(links["alice@exemple.fr"])
    assert page.status_code == 200
    assert "Habitante" in page.text and "Habitant" in page.text and "Voisine" not in page.text
    assert page.text.index("3 rue des Alpes") < page.text.index("5 rue des Alpes")     # walking order
    assert "J'accepte les SMS de Mon Parti" in unescape(page.text)
    assert page.headers["x-frame-options"] == "DENY"
    claire = _contact(store, "claire@exemple.fr")
    emma = store.execute("SELECT id FROM contacts WHERE first_name = 'Emma'").fetchone()[0]
    form = {"contact": str(claire), "outcome": "answered", "support": "4", "wants_call": "oui",
            "email": "claire.nouvelle@exemple.fr", "consent": "sms", "note": "Veut tracter samedi",
            "csrf_token": token_of(page.text)}
    saved = session.post(links["alice@exemple.fr"], data=form, allow_redirects=False)
    assert saved.status_code == 303, saved.text
    row = store.execute("SELECT outcome, support, wants_call, note, volunteer_id, source FROM interactions "
                        "WHERE contact_id = ? AND action_id = ?", (claire, action)).fetchone()
    assert row == ("answered", 4, 1, "Veut tracter samedi", _contact(store, "alice@exemple.fr"), "sheet")
    assert consent_of(store, claire, "sms") == ("granted", "meeting")
    assert "claire.nouvelle@exemple.fr" in [v for (v,) in store.execute(
        "SELECT value FROM contact_points WHERE contact_id = ?", (claire,))]
    page = session.get(links["alice@exemple.fr"])
    assert "Recorded" in page.text
    # Emma is on Bruno's list: Alice cannot record her, even by posting her id
    other = session.post(links["alice@exemple.fr"], data={"contact": str(emma), "outcome": "answered",
                                                          "csrf_token": token_of(page.text)}, allow_redirects=False)
    assert other.status_code == 403
    assert store.execute("SELECT count(*) FROM interactions WHERE contact_id = ?", (emma,)).fetchone()[0] == 0
    # the same checks as import-results: a support level for a door that did not open is refused
    page = session.get(links["alice@exemple.fr"])
    denis = store.execute("SELECT id FROM contacts WHERE first_name = 'Denis'").fetchone()[0]
    bad = session.post(links["alice@exemple.fr"], data={"contact": str(denis), "outcome": "not-home", "support": "5",
                                                        "csrf_token": token_of(page.text)}, allow_redirects=False)
    assert bad.status_code == 422 and "not reached" in bad.text
    assert store.execute("SELECT count(*) FROM interactions WHERE contact_id = ?", (denis,)).fetchone()[0] == 0
    bruno = session.get(links["bruno@exemple.fr"])
    assert "Voisine" in bruno.text and "Habitante" not in bruno.text


def test_revoked_expired_and_unknown_links_are_refused(store, cli, live_server, tmp_path, monkeypatch):
    server = live_server()
    action, links = _volunteers(cli, tmp_path, monkeypatch, server)
    assert requests.get(server.url + "/v/not-a-real-token").status_code == 404
    alice = links["alice@exemple.fr"]
    assert requests.get(alice).status_code == 200
    # assigning again gives a new link and ends the old one
    again = cli("action", "assign", str(action), "alice@exemple.fr", "--streets", "rue des Alpes")
    new = re.search(r"(http://\S+/v/\S+)", again.output).group(1)
    assert requests.get(alice).status_code == 410 and requests.get(new).status_code == 200
    assert cli("action", "unassign", str(action), "alice@exemple.fr").exit_code == 0
    refused = requests.get(new)
    assert refused.status_code == 410 and "no longer works" in refused.text
    bruno = links["bruno@exemple.fr"]
    with store.transaction():
        store.execute("UPDATE volunteer_links SET expires_at = '2000-01-01T00:00:00Z' WHERE revoked_at IS NULL")
    expired = requests.get(bruno)
    assert expired.status_code == 410 and "expired" in expired.text
    # only hashes are kept
    tokens = [link.rsplit("/", 1)[1] for link in (alice, new, bruno)]
    held = " ".join(h for (h,) in store.execute("SELECT token_hash FROM volunteer_links"))
    assert not any(t in held for t in tokens)
    assert len(sf.contact_links(store, _contact(store, "alice@exemple.fr"))) == 2


# -- personal data ----------------------------------------------------------------------------------------

def test_privacy_export_shows_and_forget_erases_confirmations_and_links(store, cli, live_server, smtp, tmp_path,
                                                                        monkeypatch):
    import json

    make_form(cli)
    server = live_server()
    assert post_form(server).status_code == 303
    action, links = _volunteers(cli, tmp_path, monkeypatch, server)
    lea = _contact(store, "lea.martin@exemple.fr")
    exported = json.loads(cli("privacy", "export", str(lea), "--format", "json").output)
    [confirmation] = exported["forms"]["email_confirmations"]
    assert confirmation["email"] == "lea.martin@exemple.fr" and confirmation["form"] == "benevoles"
    assert "token_hash" not in confirmation
    text = cli("privacy", "export", str(lea)).output
    assert "lea.martin@exemple.fr (formulaire benevoles)" in text
    alice = _contact(store, "alice@exemple.fr")
    assert len(json.loads(cli("privacy", "export", str(alice), "--format", "json").output)["forms"]["volunteer_links"]) == 1
    for who in (lea, alice):
        assert cli("privacy", "forget", str(who), "--yes").exit_code == 0
    assert store.execute("SELECT count(*) FROM email_confirmations").fetchone()[0] == 0
    assert store.execute("SELECT count(*) FROM volunteer_links WHERE contact_id = ?", (alice,)).fetchone()[0] == 0
    assert requests.get(links["alice@exemple.fr"]).status_code in (404, 410)


def test_without_smtp_the_sign_up_is_kept_and_the_confirmation_waits(store, cli, live_server):
    make_form(cli)
    server = live_server()
    assert post_form(server).status_code == 303                     # the e-mail channel is not set up
    [(cid, *_)] = contacts(store)
    assert consent_of(store, cid, "email") is None and consent_of(store, cid, "sms") == ("granted", "form")
    shown = cli("forms", "show", "benevoles", "--format", "json")
    assert '"emails_to_confirm": 1' in shown.output
    assert store.execute("SELECT sent_at FROM email_confirmations").fetchone()[0] is None


def test_behind_the_proxy_each_client_has_its_own_limit(store, cli, live_server):
    make_form(cli, consent="sms")
    server = live_server()

    def sign_up(i, client):
        session = requests.Session()
        token = token_of(session.get(f"{server.url}/f/benevoles").text)
        return session.post(f"{server.url}/f/benevoles", allow_redirects=False,
                            data={**PERSON, "email": f"x{i}@exemple.fr", "mobile": "", "csrf_token": token},
                            headers={"X-Forwarded-For": f"198.51.100.7, {client}"}).status_code

    assert [sign_up(i, "203.0.113.1") for i in range(6)] == [303] * 5 + [429]
    assert sign_up(9, "203.0.113.2") == 303                           # another client
    assert len(contacts(store)) == 6


def test_event_pages_of_cancelled_actions_and_opposed_people(store, cli, live_server, tmp_path):
    action = _today_action(cli)
    assert cli("action", "publish", str(action)).exit_code == 0
    write_csv(tmp_path / "c.csv", "prénom;nom;email\nJean;Petit;jean@exemple.fr\n")
    assert cli("import", tmp_path / "c.csv").exit_code == 0
    assert cli("privacy", "forget", "jean@exemple.fr", "--yes").exit_code == 0
    server = live_server()
    session = requests.Session()
    page = session.get(f"{server.url}/e/{action}")
    data = {"first_name": "Jean", "last_name": "Petit", "email": "jean@exemple.fr", "answer": "yes",
            "csrf_token": token_of(page.text)}
    assert session.post(f"{server.url}/e/{action}", data=data, allow_redirects=False).status_code == 303
    assert contacts(store) == []                                      # erased: not added back, no RSVP
    assert store.execute("SELECT count(*) FROM action_people").fetchone()[0] == 0
    no_answer = session.post(f"{server.url}/e/{action}", allow_redirects=False,
                             data={**data, "answer": "", "csrf_token": token_of(session.get(f"{server.url}/e/{action}").text)})
    assert no_answer.status_code == 422 and "Please choose an answer." in no_answer.text
    assert cli("action", "cancel", str(action), "--reason", "pluie", "--yes").exit_code == 0
    page = session.get(f"{server.url}/e/{action}")
    assert "This action was cancelled." in page.text and "<form" not in page.text
