"""dbox optouts import, and the one-click unsubscribe endpoint over real HTTP on 127.0.0.1."""

import os
import stat
import threading
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
import requests

from dbox.privacy import unsubscribe
from dbox.privacy.unsubscribe_app import make_app, read_queue
from dbox.store import privacy as sp
from dbox.store import suppressions
from tests.conftest import write_csv

PEOPLE = ("Nom;Prénom;Courriel;Tél. portable;Accord SMS;Accord e-mail\n"
          "Martin;Alice;alice@exemple.fr;0612345678;oui;oui\n"
          "Durand;Bruno;bruno@exemple.fr;0623456789;oui;oui\n"
          "Petit;Chloé;chloe@exemple.fr;0634567890;oui;oui\n")


@pytest.fixture
def people(store, cli, tmp_path):
    path = write_csv(tmp_path / "people.csv", PEOPLE)
    assert cli("import", path).exit_code == 0
    return path


def state(store):
    return {(cid, ch): st for cid, ch, st in store.execute("SELECT contact_id, channel, status FROM consents")}


def snapshot(store):
    return [store.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
            for t in ("consents", "consent_events", "suppressions", "audit_log")]


def test_a_provider_export(cli, people, store, tmp_path):
    path = write_csv(tmp_path / "mailchimp.csv", 'Email Address,First Name,UNSUB_TIME\n'
                     '"Bruno@Exemple.fr",Bruno,2026-11-02 10:00:00\n'
                     'inconnu@exemple.fr,,2026-11-03 10:00:00\n'
                     'bruno@exemple.fr,Bruno,2026-11-04 10:00:00\n')
    result = cli("optouts", "import", path)
    assert result.exit_code == 0, result.output
    assert ("mailchimp.csv (emails, column 'Email Address') -> channel email: 3 rows, 2 addresses suppressed, "
            "1 contacts had consent withdrawn, 0 had already withdrawn, 1 match no contact, 1 duplicates.") in result.output
    assert state(store)[(2, "email")] == "withdrawn" and state(store)[(2, "sms")] == "granted"
    event = sp.last_event(store, 2, "email")
    assert event[0] == "withdraw" and event[2] == "unsubscribe" and event[3] == "mailchimp.csv row 2"
    hasher = suppressions.Hasher(store)
    unknown = hasher("inconnu@exemple.fr")
    assert sp.suppressed_hashes(store, [unknown], "email") == {unknown}
    assert sp.suppressed_hashes(store, [unknown], "sms") == set()
    # idempotent
    again = cli("optouts", "import", path)
    assert "0 contacts had consent withdrawn, 1 had already withdrawn" in again.output


def test_a_bare_list_of_phones_without_header(cli, people, store, tmp_path):
    path = write_csv(tmp_path / "stop.txt", "06 12 34 56 78\n+33634567890\n")
    result = cli("optouts", "import", path)
    assert result.exit_code == 0
    assert "(phones, first column, no header) -> channel sms: 2 rows" in result.output
    assert state(store)[(1, "sms")] == "withdrawn" and state(store)[(3, "sms")] == "withdrawn"
    assert state(store)[(1, "email")] == "granted"
    assert sp.last_event(store, 1, "sms")[2] == "stop-reply"


def test_garbled_rows_are_reported_and_the_rest_applied(cli, people, store, tmp_path):
    path = write_csv(tmp_path / "unsub.csv", "courriel\nalice@exemple.fr\npas une adresse@\n\nchloe@exemple.fr\n")
    result = cli("optouts", "import", path)
    assert result.exit_code == 0
    assert "2 contacts had consent withdrawn" in result.output and "1 rows skipped" in result.output
    assert "skipped: unsub.csv: row 3: 'pas une adresse@' is not a valid e-mail" in result.output


@pytest.mark.parametrize("text, args, message", [
    ("nom;ville\nMartin;Grenoble\n", (), "no column of e-mail addresses, phone numbers or unsubscribe tokens "
                                         "(columns: nom, ville)"),
    ("email\nfoo\nbar\n", (), "no row holds a valid email; nothing was changed (unsub.csv: row 2:"),
    ("email\nalice@exemple.fr\n", ("--channel", "sms"), "--channel sms: e-mail addresses opt out of email only"),
    ("email\nalice@exemple.fr\n", ("--column", "mail"), "no column 'mail' (columns: email)"),
])
def test_bad_files_change_nothing(cli, people, store, tmp_path, text, args, message):
    path = write_csv(tmp_path / "unsub.csv", text)
    before = snapshot(store)
    result = cli("optouts", "import", path, *args)
    assert result.exit_code == 3 and message in result.output, result.output
    assert snapshot(store) == before


def test_dry_run(cli, people, store, tmp_path):
    path = write_csv(tmp_path / "u.csv", "email\nalice@exemple.fr\n")
    before = snapshot(store)
    result = cli("optouts", "import", path, "--dry-run")
    assert result.exit_code == 0 and result.output.startswith("Dry run: nothing was written.")
    assert snapshot(store) == before


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def endpoint(tmp_path):
    queue = tmp_path / "desabo.csv"
    server = make_server("127.0.0.1", 0, make_app(queue, sender="l'équipe de Marie Curie"), handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", queue
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_one_click_unsubscribe_over_http(cli, people, store, endpoint):
    base, queue = endpoint
    token = unsubscribe.make_token(store, 2)
    from dbox.sending.compose import verify_token   # the sending side reads the same tokens

    assert verify_token(store, token) == 2
    page = requests.get(f"{base}/u/{token}", timeout=5)
    assert page.status_code == 200 and "Me désinscrire" in page.text
    assert not queue.exists()                                         # a GET never unsubscribes
    missing = requests.post(f"{base}/u/{token}", data={}, timeout=5)
    assert missing.status_code == 400
    ok = requests.post(f"{base}/u/{token}", data={"List-Unsubscribe": "One-Click"}, timeout=5)
    assert ok.status_code == 200 and "Vous ne recevrez plus d'e-mails de l&#x27;équipe de Marie Curie" in ok.text
    by_query = requests.post(f"{base}/u?token={unsubscribe.make_token(store, 3)}",
                             data="List-Unsubscribe=One-Click",
                             headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=5)
    assert by_query.status_code == 200
    forged = "1." + "0" * 24
    assert requests.post(f"{base}/u/{forged}", data={"List-Unsubscribe": "One-Click"}, timeout=5).status_code == 200
    assert requests.post(f"{base}/u/not-a-token", data={"List-Unsubscribe": "One-Click"}, timeout=5).status_code == 404
    assert requests.get(f"{base}/healthz", timeout=5).text == "ok"
    assert stat.S_IMODE(os.stat(queue).st_mode) == 0o600
    assert [t for _, t in read_queue(queue.read_text())] == [token, unsubscribe.make_token(store, 3), forged]

    result = cli("optouts", "import", queue)
    assert result.exit_code == 0, result.output
    assert "(tokens, column 'token') -> channel email: 3 rows" in result.output
    assert f"skipped: desabo.csv: row 4: '{forged}' is not a valid unsubscribe token" in result.output
    assert state(store)[(2, "email")] == "withdrawn" and state(store)[(3, "email")] == "withdrawn"
    assert state(store)[(1, "email")] == "granted"                   # the forged token changed nothing
    assert state(store)[(2, "sms")] == "granted"
    hasher = suppressions.Hasher(store)
    assert sp.suppressed_hashes(store, [hasher("bruno@exemple.fr")], "email")
