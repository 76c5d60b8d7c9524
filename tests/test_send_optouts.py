"""Opt-outs flowing back (inbound STOP replies), delivery statuses, campaigns list/show."""

import json

import pytest
from test_send_support import contact_id, import_contacts, mobile, people, share_number, twilio  # noqa: F401

from dbox.sending.service import optout_keyword
from dbox.store import ledger


@pytest.mark.parametrize("body, keyword", [("STOP", "stop"), ("stop sms", "stop"), ("ARRET", "arret"),
                                           ("Arrêt svp", "arret"), ("  Stop.", "stop"), ("STOPALL", "stopall"),
                                           ("Merci, à jeudi !", None), ("", None), ("Je ne veux pas stop", None)])
def test_optout_keywords(body, keyword):
    assert optout_keyword(body) == keyword


def test_optouts_sync_withdraws_consent_for_every_holder_once(store, tmp_path, twilio, cli):
    import_contacts(store, tmp_path, people(4))
    other = share_number(store, mobile(0))
    twilio.add_inbound(mobile(0), "STOP")
    twilio.add_inbound(mobile(1), "Arrêt SMS")
    twilio.add_inbound(mobile(2), "Merci pour l'info")
    twilio.add_inbound("+33799999999", "STOP")                     # not a contact: suppressed all the same
    result = cli("optouts", "sync", "--log", tmp_path / "steps.log")
    assert result.exit_code == 0, result.output
    assert "4 new replies, 3 opt-out(s): consent withdrawn for 3 contact(s)." in result.output
    withdrawn = {cid for (cid,) in store.execute(
        "SELECT contact_id FROM consents WHERE channel = 'sms' AND status = 'withdrawn' AND source = 'stop-reply'")}
    assert withdrawn == {contact_id(store, mobile(0)), other, contact_id(store, mobile(1))}
    assert store.execute("SELECT count(*) FROM suppressions WHERE channel = 'sms' AND reason = 'stop-reply'"
                         ).fetchone()[0] == 3
    log = (tmp_path / "steps.log").read_text()
    assert "opt-out channel=sms from=+336\u2022\u2022\u2022\u2022\u2022000 keyword=stop" in log
    assert mobile(0) not in log
    again = cli("optouts", "sync")
    assert "0 new replies, 0 opt-out(s)" in again.output
    assert store.execute("SELECT count(*) FROM consent_events WHERE source = 'stop-reply'").fetchone()[0] == 3
    send = cli("send", "--sms", "-m", "Info", "--yes")
    assert "recipients: 2" in send.output and "consent withdrawn" in send.output
    assert sorted(m["to"] for m in twilio.outbound()) == [mobile(2), mobile(3)]


def test_an_opt_out_arriving_mid_campaign_is_honoured(store, tmp_path, twilio, cli):
    from datetime import datetime, timedelta, timezone

    import_contacts(store, tmp_path, people(3))
    at = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert cli("send", "--sms", "-m", "Info", "--at", at, "--yes").exit_code == 0     # frozen: 3 planned
    twilio.add_inbound(mobile(1), "STOP")
    assert cli("optouts", "sync").exit_code == 0
    result = cli("send", "--resume", "1", "--now", "--yes")
    assert "2 sent, 0 failed, 1 skipped at send time" in result.output
    assert "skipped: consent-withdrawn 1" in result.output
    assert mobile(1) not in twilio.counts_by_number()


def test_campaigns_sync_list_and_show(store, tmp_path, twilio, cli):
    rows = people(4)
    rows[3]["sms"] = "non"
    import_contacts(store, tmp_path, rows)
    twilio.mark_undeliverable(mobile(2))
    assert cli("send", "--sms", "-m", "Fête {{ first_name }}", "--yes").exit_code == 0
    synced = cli("campaigns", "sync")
    assert synced.exit_code == 0, synced.output
    assert "campaign 1: 3 checked, 2 delivered, 1 undelivered, 0 failed, 0 pending" in synced.output
    assert ledger.state_counts(store, 1)["delivered"] == 2
    listed = json.loads(cli("campaigns", "list", "-f", "json").output)
    assert listed[0]["id"] == 1 and listed[0]["status"] == "done" and listed[0]["sent"] == 3
    assert listed[0]["delivered"] == 2 and listed[0]["failed"] == 1 and listed[0]["skipped"] == 1
    shown = cli("campaigns", "show", "1").output
    assert "campaign 1 (sms): done" in shown
    assert "text: Fête {{ first_name }}" in shown
    assert "states: skipped 1, delivered 2, undelivered 1" in shown or "states: delivered 2" in shown
    assert "skipped: consent-refused 1" in shown and "undelivered: 30003 1" in shown   # "non": a refusal (issue 12)
    assert "SMS segments sent: 3" in shown and "created" in shown and "done" in shown
    assert cli("campaigns", "show", "9").exit_code == 3
    nothing = cli("campaigns", "sync")
    assert "No campaign waits for delivery statuses." in nothing.output
