"""Bounces and complaints read back later (issue 11 item 3): DSNs (RFC 3464) and ARF reports
(RFC 5965) in the shapes real providers send, matched to the campaign and contact that caused them.

The reports are built from the messages a real SMTP server (aiosmtpd) received from dbox; the
mailbox is a Maildir or an mbox file here (tests/test_bounces_imap.py reads a real IMAP server)."""

import mailbox

import bounce_samples as samples
import pytest
from test_send_support import import_contacts, people, smtp  # noqa: F401

from dbox.config import update_section
from dbox.sending import bounces, service
from dbox.sending.compose import Template
from dbox.sending.dsn import classify_status, parse
from dbox.store import bounces as store_bounces
from dbox.store import ledger

ORIGINAL = (b"From: Mon Parti <equipe@monparti.example>\r\nTo: p1@free.fr\r\nSubject: Votre newsletter\r\n"
            b"Message-ID: <dbox.0123456789abcdef.42@monparti.example>\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: text/plain\r\n\r\nBonjour\r\n")


@pytest.mark.parametrize("build, kind, status, recipient", [
    (lambda: samples.postfix(ORIGINAL, "p1@free.fr"), "hard", "5.1.1", "p1@free.fr"),
    (lambda: samples.postfix(ORIGINAL, "p1@free.fr", headers_only=True), "hard", "5.1.1", "p1@free.fr"),
    (lambda: samples.exim(ORIGINAL, "p1@free.fr"), "hard", "5.0.0", "p1@free.fr"),
    (lambda: samples.exim_plain(ORIGINAL, "p1@free.fr"), "hard", "5.1.1", "p1@free.fr"),
    (lambda: samples.gmail(ORIGINAL, "p1@gmail.com"), "hard", "5.1.1", "p1@gmail.com"),
    (lambda: samples.gmail(ORIGINAL, "p1@gmail.com", action="delayed", status="4.2.2", headers_only=True),
     "delayed", "4.2.2", "p1@gmail.com"),
    (lambda: samples.microsoft(ORIGINAL, "p1@outlook.fr"), "hard", "5.1.10", "p1@outlook.fr"),
    (lambda: samples.microsoft(ORIGINAL, "p1@outlook.fr", base64_report=True), "hard", "5.1.10", "p1@outlook.fr"),
    (lambda: samples.orange(ORIGINAL, "p1@orange.fr"), "hard", "5.1.1", "p1@orange.fr"),
    (lambda: samples.orange(ORIGINAL, "p1@orange.fr", status="5.2.2", diagnostic="smtp; 552 5.2.2 Mailbox full"),
     "soft", "5.2.2", "p1@orange.fr"),
    (lambda: samples.postfix(ORIGINAL, "p1@free.fr", status="4.4.7", diagnostic="X-Postfix; delivery temporarily "
                             "suspended: connect to mx1.free.fr: Connection timed out"), "soft", "4.4.7", "p1@free.fr"),
    (lambda: samples.arf(ORIGINAL, "p1@yahoo.fr"), "complaint", "abuse", "p1@yahoo.fr"),
    (lambda: samples.arf(ORIGINAL, None, headers_only=True, agent="SignalSpam/1.0"), "complaint", "abuse", None),
    (lambda: samples.arf(ORIGINAL, "p1@aol.com", feedback_type="not-spam"), "other", "not-spam", "p1@aol.com"),
], ids=["postfix", "postfix-headers", "exim", "exim-plain-text", "gmail", "gmail-delay", "microsoft",
        "microsoft-base64", "orange", "orange-mailbox-full", "postfix-expired", "arf-yahoo", "arf-signalspam-redacted",
        "arf-not-spam"])
def test_each_providers_report_is_read_and_points_at_the_original(build, kind, status, recipient):
    report = parse(build())
    assert (report.kind, report.status, report.recipient) == (kind, status, recipient)
    assert report.origins == [("0123456789abcdef", 42)]
    assert report.report_id.startswith("<") and "dbox." not in report.report_id
    assert "p1@" not in (report.diagnostic or "")           # addresses are masked in what is kept


def test_the_status_rules():
    assert classify_status("failed", "5.1.1") == "hard"
    assert classify_status("failed", "5.1.10") == "hard"
    assert classify_status("failed", "5.2.1") == "hard"        # mailbox disabled
    assert classify_status("failed", "5.4.4") == "hard"        # no such domain
    assert classify_status("failed", "5.2.2") == "soft"        # mailbox full
    assert classify_status("failed", "5.7.1") == "soft"        # refused as spam: not the address
    assert classify_status("failed", "5.4.7") == "soft"        # expired
    assert classify_status("failed", "4.4.7") == "soft"
    assert classify_status("failed", None) == "soft"
    assert classify_status("delayed", "4.4.1") == "delayed"
    assert classify_status("delivered", "2.0.0") == "other"


def test_a_person_s_mail_and_an_auto_reply_are_not_reports():
    reply = (b"From: Jeanne <p1@free.fr>\r\nTo: equipe@monparti.example\r\nSubject: Re: Votre newsletter\r\n"
             b"In-Reply-To: <dbox.0123456789abcdef.42@monparti.example>\r\nMessage-ID: <abc@free.fr>\r\n\r\n"
             b"Merci, 550 fois merci !\r\n")
    assert parse(reply).kind == "other"


# --- against a store: the campaign's own messages come back -------------------------------------------

def _send_email(store, subject="Votre newsletter", n_first=None):
    request = service.SendRequest(channel="email", selection=service.Selection("1", [], ""),
                                  template=Template(f"Bonjour {{{{ first_name }}}} ({subject})", subject=subject))
    plan = service.plan_send(store, request)
    cid, report = service.start(store, plan)
    assert report.status == "done"
    return cid


def _original(inbox, address, subject="Votre newsletter") -> bytes:
    [msg] = [m for m in inbox.to(address) if m["Subject"] == subject]
    return msg.as_bytes()


def _maildir(tmp_path, *messages, name="bounces"):
    box = mailbox.Maildir(tmp_path / name, create=True)
    for raw in messages:
        box.add(raw)
    return tmp_path / name


def _recipient(store, cid, address):
    return store.execute("SELECT state, reason FROM campaign_recipients WHERE campaign_id = ? AND address = ?",
                         (cid, address)).fetchone()


def _plan(store):
    request = service.SendRequest("email", service.Selection("1", [], ""), Template("Autre", subject="Autre"))
    return service.plan_send(store, request)


def test_hard_bounce_suppresses_complaint_opts_out_and_a_second_run_changes_nothing(store, tmp_path, smtp, cli):
    import_contacts(store, tmp_path, people(5))
    cid = _send_email(store)
    folder = _maildir(tmp_path,
                      samples.postfix(_original(smtp, "p0@example.org"), "p0@example.org"),
                      samples.gmail(_original(smtp, "p1@example.org"), "p1@example.org"),
                      samples.arf(_original(smtp, "p2@example.org"), None, headers_only=True, agent="SignalSpam/1.0"),
                      samples.gmail(_original(smtp, "p3@example.org"), "p3@example.org", action="delayed",
                                    status="4.2.2"))
    result = cli("bounces", "sync", "--maildir", folder)
    assert result.exit_code == 0, result.output
    assert ("4 message(s) read (0 already seen): 2 hard bounce(s), 0 soft, 1 complaint(s), 1 delayed, 0 not ours, "
            "0 not a report; 2 address(es) suppressed.") in result.output
    assert _recipient(store, cid, "p0@example.org") == ("undelivered", "bounce 5.1.1")
    assert _recipient(store, cid, "p3@example.org") == ("accepted", None)          # only delayed
    contact2 = store.execute("SELECT id FROM contacts WHERE email = 'p2@example.org'").fetchone()[0]
    assert store.execute("SELECT status, source FROM consents WHERE contact_id = ? AND channel = 'email'",
                         (contact2,)).fetchone() == ("withdrawn", "complaint")
    plan = _plan(store)
    assert plan.planned == 2 and plan.excluded == {"bounced": 2, "consent-withdrawn": 1}
    again = cli("bounces", "sync", "--maildir", folder)
    assert again.exit_code == 0
    assert "4 message(s) read (4 already seen): 0 hard bounce(s)" in again.output
    assert store_bounces.report_counts(store) == {"hard": 2, "complaint": 1, "delayed": 1}
    assert store.execute("SELECT count(*) FROM consent_events WHERE source = 'complaint'").fetchone()[0] == 1
    from dbox.privacy.audit import entries

    assert [e.count for e in entries(store, command="bounces sync")] == [0, 3]    # newest first


def test_soft_bounces_suppress_after_the_limit_in_a_row_and_a_good_campaign_resets_the_count(store, tmp_path, smtp):
    update_section("bounces", {"soft_limit": 2})
    import_contacts(store, tmp_path, people(2))
    full = "p0@example.org"
    first = _send_email(store, "Un")
    second = _send_email(store, "Deux")
    third = _send_email(store, "Trois")
    folder = _maildir(tmp_path, samples.orange(_original(smtp, full, "Un"), full, status="5.2.2",
                                               diagnostic="smtp; 552 5.2.2 Mailbox full"))
    summary = bounces.sync(store, maildir=folder)
    assert (summary.soft, summary.suppressed) == (1, 0) and store_bounces.soft_count(store, full) == 1
    # the second campaign's message was not bounced: the third's soft bounce starts again at 1
    later = _maildir(tmp_path, samples.postfix(_original(smtp, full, "Trois"), full, status="4.4.7",
                                               diagnostic="X-Postfix; mailbox full"), name="later")
    summary = bounces.sync(store, maildir=later)
    assert summary.soft == 1 and store_bounces.soft_count(store, full) == 1
    assert _plan(store).excluded == {}
    # a second report about the same message (a delay, then the failure) counts once
    fourth = _send_email(store, "Quatre")
    last = _maildir(tmp_path, samples.postfix(_original(smtp, full, "Quatre"), full, status="4.2.2",
                                              diagnostic="smtp; 452 4.2.2 Mailbox full"),
                    samples.orange(_original(smtp, full, "Quatre"), full, status="5.2.2",
                                   diagnostic="smtp; 552 5.2.2 Mailbox full"), name="last")
    summary = bounces.sync(store, maildir=last)
    assert store_bounces.soft_count(store, full) == 2 and summary.suppressed == 1
    assert _plan(store).excluded == {"bounced": 1}
    assert second and first < second < third < fourth


def test_reports_in_an_mbox_and_one_that_is_not_ours(store, tmp_path, smtp, cli):
    import_contacts(store, tmp_path, people(2))
    cid = _send_email(store)
    foreign = ORIGINAL.replace(b"p1@free.fr", b"someone@free.fr")
    path = tmp_path / "bounces.mbox"
    box = mailbox.mbox(path, create=True)
    box.add(samples.microsoft(_original(smtp, "p1@example.org"), "p1@example.org"))
    box.add(samples.exim(foreign, "someone@free.fr"))
    box.add(b"From: Jeanne <jeanne@free.fr>\r\nSubject: question\r\nMessage-ID: <q1@free.fr>\r\n\r\nBonjour\r\n")
    box.flush()
    box.close()
    result = cli("bounces", "sync", "--mbox", path)
    assert result.exit_code == 0, result.output
    assert "1 hard bounce(s), 0 soft, 0 complaint(s), 0 delayed, 1 not ours, 1 not a report" in result.output
    assert _recipient(store, cid, "p1@example.org") == ("undelivered", "bounce 5.1.10")
    assert store_bounces.report_counts(store) == {"hard": 1, "unmatched": 1, "other": 1}


def test_a_plain_text_bounce_and_one_naming_only_the_address_are_matched(store, tmp_path, smtp):
    import_contacts(store, tmp_path, people(3))
    cid = _send_email(store)
    no_headers = samples.postfix(b"Subject: x\r\n\r\n(message not returned)\r\n", "p2@example.org")
    folder = _maildir(tmp_path, samples.exim_plain(_original(smtp, "p0@example.org"), "p0@example.org"), no_headers)
    summary = bounces.sync(store, maildir=folder)
    assert (summary.hard, summary.unmatched) == (2, 0)
    assert _recipient(store, cid, "p0@example.org")[0] == "undelivered"
    assert _recipient(store, cid, "p2@example.org")[0] == "undelivered"


def test_verp_return_path_names_the_message_even_without_its_headers(store, tmp_path, smtp):
    update_section("channels.email", {"bounce_address": "bounces@monparti.example"})
    import_contacts(store, tmp_path, people(2))
    cid = _send_email(store)
    uid = ledger.get_campaign(store, cid).uid
    contact = store.execute("SELECT id FROM contacts WHERE email = 'p1@example.org'").fetchone()[0]
    [(mail_from, _rcpt)] = [(f, r) for f, r, _m, _p in smtp.messages if "p1@example.org" in r]
    assert mail_from == f"bounces+{uid}.{contact}@monparti.example"
    # the report quotes nothing of the message and names another address (a forward): the
    # return path it was delivered to is enough
    report = samples.postfix(b"Subject: x\r\n\r\n-\r\n", "forwarded@elsewhere.example",
                             delivered_to=mail_from)
    summary = bounces.sync(store, maildir=_maildir(tmp_path, report))
    assert summary.hard == 1
    assert _recipient(store, cid, "p1@example.org")[0] == "undelivered"
    assert _plan(store).excluded == {"bounced": 1}


def test_a_bad_soft_limit_and_a_missing_folder_are_one_error_line(store, tmp_path, cli):
    result = cli("bounces", "sync", "--maildir", tmp_path / "nowhere")
    assert result.exit_code == 3 and "not a Maildir folder" in result.output
    update_section("bounces", {"soft_limit": "trois"})
    _maildir(tmp_path)
    result = cli("bounces", "sync", "--maildir", tmp_path / "bounces")
    assert result.exit_code == 3 and "soft_limit = 'trois': use a whole number" in result.output


def test_without_a_mailbox_bounces_sync_says_what_to_set(store, cli):
    result = cli("bounces", "sync")
    assert result.exit_code == 5
    assert "no bounce mailbox: imap_host is not set" in result.output
