"""One-click unsubscribe served by ``dbox serve`` (``/u/...``): the same rules as the queueing
endpoint (tests/test_privacy_optouts.py), applied to the store at once."""

import logging

import requests

from dbox.config import update_section

from dbox.privacy import unsubscribe
from dbox.store import privacy as sp
from dbox.store import suppressions
from serve_support import live_server  # noqa: F401  (a fixture)
from tests.conftest import write_csv

PEOPLE = ("Nom;Prénom;Courriel;Tél. portable;Accord SMS;Accord e-mail\n"
          "Martin;Alice;alice@exemple.fr;0612345678;oui;oui\n"
          "Durand;Bruno;bruno@exemple.fr;0623456789;oui;oui\n"
          "Petit;Chloé;chloe@exemple.fr;0634567890;oui;oui\n")


def state(store):
    return {(cid, ch): st for cid, ch, st in store.execute("SELECT contact_id, channel, status FROM consents")}


def snapshot(store):
    return [store.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
            for t in ("consents", "consent_events", "suppressions", "audit_log")]


def test_one_click_unsubscribe_is_applied_within_the_request(cli, store, tmp_path, live_server, caplog):
    assert cli("import", write_csv(tmp_path / "people.csv", PEOPLE)).exit_code == 0
    update_section("channels.email", {"from_name": "l'équipe de Marie Curie"})
    server = live_server()
    base = server.url
    token = unsubscribe.make_token(store, 2)
    before = snapshot(store)

    with caplog.at_level(logging.INFO, logger="dbox.serve"):
        page = requests.get(f"{base}/u/{token}", timeout=5)
        assert page.status_code == 200 and "Me désinscrire" in page.text
        assert requests.head(f"{base}/u/{token}", timeout=5).status_code == 200
        assert snapshot(store) == before                               # a GET never unsubscribes
        missing = requests.post(f"{base}/u/{token}", data={}, timeout=5)
        assert missing.status_code == 400 and snapshot(store) == before
        forged = "1." + "0" * 24
        assert requests.post(f"{base}/u/{forged}", data={"List-Unsubscribe": "One-Click"}, timeout=5).status_code == 404
        assert requests.post(f"{base}/u/not-a-token", data={"List-Unsubscribe": "One-Click"},
                             timeout=5).status_code == 404
        too_long = requests.post(f"{base}/u/{token}", data={"List-Unsubscribe": "One-Click", "x": "y" * 5000},
                                 timeout=5)
        assert too_long.status_code == 413
        assert snapshot(store) == before                               # nothing changed so far

        ok = requests.post(f"{base}/u/{token}", data={"List-Unsubscribe": "One-Click"}, timeout=5)
        assert ok.status_code == 200 and "Vous ne recevrez plus d'e-mails de l&#x27;équipe de Marie Curie" in ok.text
        assert ok.headers["Cache-Control"] == "no-store"
        # within the request: the consent is withdrawn and the address suppressed already
        assert state(store)[(2, "email")] == "withdrawn"
        assert state(store)[(2, "sms")] == "granted" and state(store)[(1, "email")] == "granted"
        hasher = suppressions.Hasher(store)
        assert sp.suppressed_hashes(store, [hasher("bruno@exemple.fr")], "email")
        events = store.execute("SELECT source, detail FROM consent_events WHERE contact_id = 2 AND channel = 'email' "
                               "AND action = 'withdraw'").fetchall()
        assert events == [("unsubscribe", "one-click unsubscribe (dbox serve)")]

        again = requests.post(f"{base}/u/{token}", data={"List-Unsubscribe": "One-Click"}, timeout=5)
        assert again.status_code == 200                                # twice is harmless
        assert store.execute("SELECT count(*) FROM consent_events WHERE contact_id = 2 AND channel = 'email' "
                             "AND action = 'withdraw'").fetchone()[0] == 1
        by_query = requests.post(f"{base}/u?token={unsubscribe.make_token(store, 3)}",
                                 data="List-Unsubscribe=One-Click",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=5)
        assert by_query.status_code == 200 and state(store)[(3, "email")] == "withdrawn"
    assert token not in caplog.text and "bruno" not in caplog.text
    assert {r.getMessage().split('"route":"')[1].split('"')[0] for r in caplog.records} == {"/u/{token}", "/u"}


def test_an_erased_contacts_link_does_nothing(cli, store, tmp_path, live_server):
    assert cli("import", write_csv(tmp_path / "people.csv", PEOPLE)).exit_code == 0
    token = unsubscribe.make_token(store, 1)
    assert cli("privacy", "forget", "1", "--yes").exit_code == 0
    before = snapshot(store)
    server = live_server()
    answer = requests.post(f"{server.url}/u/{token}", data={"List-Unsubscribe": "One-Click"}, timeout=5)
    assert answer.status_code == 404
    assert snapshot(store)[:3] == before[:3]
