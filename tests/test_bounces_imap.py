"""``dbox bounces sync`` against a real IMAP server: Debian's Dovecot (dovecot-imapd), started on
127.0.0.1 on a free port with a temporary configuration and Maildir, stopped at once
(dbox.testing.imap_server). The reports are delivered into it through IMAP APPEND."""

import bounce_samples as samples
import pytest
from test_send_support import import_contacts, people, smtp  # noqa: F401

from dbox.sending import service
from dbox.sending.compose import Template
from dbox.store import bounces as store_bounces
from dbox.testing.imap_server import PASSWORD, USER, DovecotServer, dovecot_binary

pytestmark = pytest.mark.skipif(
    dovecot_binary() is None,
    reason="Debian's dovecot-imapd is not installed (.ci/run installs it: apt-get install -y dovecot-imapd)")


@pytest.fixture
def imap(tmp_path, monkeypatch):
    with DovecotServer() as server:
        monkeypatch.setenv("DBOX_IMAP_HOST", "127.0.0.1")
        monkeypatch.setenv("DBOX_IMAP_PORT", str(server.port))
        monkeypatch.setenv("DBOX_IMAP_SECURITY", "none")
        monkeypatch.setenv("DBOX_IMAP_USERNAME", USER)
        monkeypatch.setenv("DBOX_IMAP_PASSWORD", PASSWORD)
        yield server


def _send_email(store, subject="Votre newsletter"):
    request = service.SendRequest(channel="email", selection=service.Selection("1", [], ""),
                                  template=Template("Bonjour {{ first_name }}", subject=subject))
    cid, report = service.start(store, service.plan_send(store, request))
    assert report.status == "done"
    return cid


def _original(inbox, address) -> bytes:
    [msg] = inbox.to(address)
    return msg.as_bytes()


def _state(store, address):
    return store.execute("SELECT state FROM campaign_recipients WHERE address = ?", (address,)).fetchone()[0]


def test_bounces_sync_reads_the_imap_mailbox_once_and_only_new_messages_after(store, tmp_path, smtp, imap, cli):
    import_contacts(store, tmp_path, people(4))
    _send_email(store)
    imap.append(samples.postfix(_original(smtp, "p0@example.org"), "p0@example.org"),
                samples.microsoft(_original(smtp, "p1@example.org"), "p1@example.org"),
                samples.arf(_original(smtp, "p2@example.org"), "p2@example.org"))
    result = cli("bounces", "sync")
    assert result.exit_code == 0, result.output
    assert f"imap 127.0.0.1/INBOX: 3 message(s) read (0 already seen): 2 hard bounce(s)" in result.output
    assert "1 complaint(s)" in result.output and "2 address(es) suppressed" in result.output
    assert _state(store, "p0@example.org") == _state(store, "p1@example.org") == "undelivered"
    # the mailbox is left as it was (read-only): nothing flagged, nothing deleted
    conn = imap.client()
    conn.select("INBOX")
    assert conn.search(None, "UNSEEN")[1][0].split() == [b"1", b"2", b"3"]
    conn.logout()
    # a second run reads nothing (the last UID is remembered); a new report is read alone
    again = cli("bounces", "sync")
    assert "0 message(s) read" in again.output
    imap.append(samples.gmail(_original(smtp, "p3@example.org"), "p3@example.org", action="delayed", status="4.4.1"))
    third = cli("bounces", "sync")
    assert "1 message(s) read (0 already seen)" in third.output and "1 delayed" in third.output
    assert store_bounces.report_counts(store) == {"hard": 2, "complaint": 1, "delayed": 1}


def test_a_new_uidvalidity_reads_the_folder_again_and_records_nothing_twice(store, tmp_path, smtp, imap):
    from dbox.sending.bounces import sync
    from dbox.store import ledger

    import_contacts(store, tmp_path, people(2))
    _send_email(store)
    imap.append(samples.exim(_original(smtp, "p0@example.org"), "p0@example.org"))
    assert sync(store).hard == 1
    key = next(k for (k,) in store.execute("SELECT key FROM meta WHERE key LIKE 'bounces.imap.%'"))
    ledger.set_meta(store, key, "1:99")            # as if the folder had been recreated
    summary = sync(store)
    assert (summary.read, summary.already, summary.hard) == (1, 1, 0)


def test_run_due_reads_the_bounce_mailbox(store, tmp_path, smtp, imap, cli):
    import_contacts(store, tmp_path, people(2))
    _send_email(store)
    imap.append(samples.orange(_original(smtp, "p1@example.org"), "p1@example.org"))
    result = cli("run-due")
    assert result.exit_code == 0, result.output
    assert "bounces: 1 message(s) read (0 already seen): 1 hard bounce(s)" in result.output
    assert _state(store, "p1@example.org") == "undelivered"


def test_run_due_without_the_imap_password_exits_5_naming_the_variable(store, imap, cli, monkeypatch):
    monkeypatch.delenv("DBOX_IMAP_PASSWORD")
    result = cli("run-due")
    assert result.exit_code == 5, result.output
    assert "DBOX_IMAP_PASSWORD not set" in result.output


def test_a_wrong_password_is_one_error_line_exit_6(store, imap, cli, monkeypatch):
    monkeypatch.setenv("DBOX_IMAP_PASSWORD", "wrong")
    result = cli("bounces", "sync")
    assert result.exit_code == 6, result.output
    assert "Error: bounce mailbox 127.0.0.1: login refused for bounces" in result.output
    assert "Traceback" not in result.output
