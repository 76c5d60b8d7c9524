"""Unsubscribe tokens name a random per-contact identifier, never the reusable contact id (issue 12,
item 6), and the endpoint logs neither the IP nor the token."""

import subprocess
import sys

import requests
from test_send_support import people, smtp, store, template_store  # noqa: F401

from dbox.privacy import unsubscribe
from dbox.privacy.unsubscribe_app import append_token
from dbox.store import privacy as sp
from dbox.store.db import open_store
from tests.conftest import write_csv

HEADER = "Prénom;Nom;Courriel;Accord email\n"


def _tokens(smtp_inbox) -> dict[str, str]:
    """address -> token of the List-Unsubscribe link of the e-mails received."""
    found = {}
    for _f, rcpt, msg, _p in smtp_inbox.messages:
        found[rcpt[0]] = msg["List-Unsubscribe"].split("?t=")[1].rstrip(">")
    return found


def test_an_erased_contacts_token_does_nothing_to_the_next_holder_of_its_id(cli, store, smtp, tmp_path):
    path = write_csv(tmp_path / "a.csv", HEADER + "".join(f"P{i};N{i};p{i}@example.org;oui\n" for i in (1, 2, 3)))
    assert cli("import", path).exit_code == 0
    assert cli("send", "--email", "--subject", "Réunion", "-m", "Bonjour", "--yes").exit_code == 0
    old_token = _tokens(smtp)["p3@example.org"]
    assert unsubscribe.verify(store, old_token) == 3
    assert not old_token.startswith("3.")                  # the id is not in the token

    assert cli("privacy", "forget", "3", "--yes").exit_code == 0
    newcomer = write_csv(tmp_path / "b.csv", HEADER + "Nouvelle;Personne;nouvelle@example.org;oui\n")
    assert cli("import", newcomer).exit_code == 0
    assert store.execute("SELECT id FROM contacts WHERE email = 'nouvelle@example.org'").fetchone()[0] == 3

    queue = tmp_path / "desabo.csv"
    append_token(queue, old_token)
    result = cli("optouts", "import", queue)
    assert "is not a valid unsubscribe token" in result.output
    assert sp.current_consent(store, 3, "email")[0] == "granted"      # the newcomer keeps their consent
    # the newcomer's own token works
    assert cli("send", "--email", "--subject", "Réunion 2", "-m", "Bonjour", "--yes").exit_code == 0
    new_token = _tokens(smtp)["nouvelle@example.org"]
    assert new_token != old_token
    append_token(queue, new_token)
    assert cli("optouts", "import", queue).exit_code == 0
    assert sp.current_consent(store, 3, "email")[0] == "withdrawn"


def test_tokens_sent_before_the_upgrade_work_only_for_the_contacts_they_were_sent_to(cli, store, smtp, tmp_path):
    path = write_csv(tmp_path / "a.csv", HEADER + "P1;N1;p1@example.org;oui\nP2;N2;p2@example.org;non\n")
    assert cli("import", path).exit_code == 0
    assert cli("send", "--email", "--subject", "Réunion", "-m", "Bonjour", "--yes").exit_code == 0
    # back to schema 6, when tokens were <contact id>.<HMAC of the id>
    store.execute("DROP TRIGGER contacts_unsubscribe_id")
    store.execute("DROP TABLE unsubscribe_ids")
    for statement in ("ALTER TABLE campaign_recipients DROP COLUMN retry_at",     # schema 9 (sending faults)
                      "ALTER TABLE campaign_recipients DROP COLUMN soft_since",
                      "ALTER TABLE campaigns DROP COLUMN control", "DROP TABLE bounce_reports",
                      "DROP TABLE soft_bounces",
                      "ALTER TABLE audit_log DROP COLUMN host",                      # schema 16 (audit actor)
                      "ALTER TABLE audit_log DROP COLUMN db_role",
                      "DROP TABLE schema_migrations"):     # a store of schema 6 knew only user_version
        store.execute(statement)
    store.execute("PRAGMA user_version = 6")
    key = sp.unsubscribe_key(store)
    legacy = {cid: f"{cid}.{unsubscribe._digest(key, str(cid))}" for cid in (1, 2)}
    with open_store(store.path) as upgraded:
        assert unsubscribe.verify(upgraded, legacy[1]) == 1          # e-mailed: its link keeps working
        assert unsubscribe.verify(upgraded, legacy[2]) is None       # never e-mailed: no token to honour
        assert unsubscribe.verify(upgraded, unsubscribe.make_token(upgraded, 2)) == 2
    assert cli("privacy", "forget", "1", "--yes").exit_code == 0
    assert unsubscribe.verify(store, legacy[1]) is None             # erased: its tokens do nothing


def test_the_endpoint_logs_no_ip_and_no_token(tmp_path):
    queue = tmp_path / "q.csv"
    proc = subprocess.Popen([sys.executable, "-m", "dbox.privacy.unsubscribe_app", "--queue", str(queue),
                             "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        base = line.split("listening on ")[1].split("/u/")[0]
        token = "a" * 32 + "." + "b" * 24
        assert requests.get(f"{base}/u/{token}", timeout=5).status_code == 200
        ok = requests.post(f"{base}/u/{token}", data={"List-Unsubscribe": "One-Click"}, timeout=5)
        assert ok.status_code == 200
        assert requests.get(f"{base}/u/nope", timeout=5).status_code == 404
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=5)
    assert token in queue.read_text()
    logged = line + out + err
    assert "127.0.0.1 -" not in logged and token not in logged and "/u/" not in logged.replace("/u/<token>", "")


def test_a_merge_keeps_the_merged_contacts_links_working(cli, store, tmp_path):
    path = write_csv(tmp_path / "a.csv", HEADER + "P1;N1;p1@example.org;oui\nP2;N2;p2@example.org;oui\n")
    assert cli("import", path).exit_code == 0
    kept, other = unsubscribe.make_token(store, 1), unsubscribe.make_token(store, 2)
    assert sp.move_unsubscribe_ids(store, 2, 1) == 1
    store.execute("DELETE FROM contacts WHERE id = 2")
    assert unsubscribe.verify(store, other) == 1 and unsubscribe.verify(store, kept) == 1
    assert unsubscribe.make_token(store, 1) in (kept, other)
