"""`dbox send`'s policy lives once, in the sending service: one audit row per send, and the
information notice owed to third-party contacts (GDPR art. 14) checked once and printed once."""

import json

from test_send_support import import_contacts, people, store, template_store, twilio  # noqa: F401


def _send_rows(store):
    return [(count, json.loads(detail)) for count, detail in
            store.execute("SELECT count, detail FROM audit_log WHERE command = 'send' ORDER BY id")]


def test_a_send_writes_one_audit_row(store, tmp_path, twilio, cli):
    import_contacts(store, tmp_path, people(3))
    assert cli("send", "--sms", "-m", "Info", "--yes").exit_code == 0
    rows = _send_rows(store)
    assert len(rows) == 1
    count, detail = rows[0]
    assert count == 3 and detail["campaign"] == 1 and detail["accepted"] == 3


def test_a_scheduled_send_writes_one_audit_row(store, tmp_path, twilio, cli):
    import_contacts(store, tmp_path, people(2))
    result = cli("send", "--sms", "-m", "Plus tard", "--at", "2099-12-01 18:00", "--yes")
    assert result.exit_code == 0, result.output
    assert "scheduled for" in result.output and twilio.outbound() == []
    assert _send_rows(store) == [(0, {"campaign": 1, "channel": "sms", "audience": 2, "scheduled": True})]


def test_the_art14_notice_is_printed_once(store, tmp_path, twilio, cli):
    import_contacts(store, tmp_path, people(2))
    assert cli("privacy", "sources", "1", "--third-party", "liste publique des parrainages").exit_code == 0
    dry = cli("send", "--sms", "-m", "Réunion jeudi", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.output.count("this campaign reaches 2 contacts whose data came from a third party") == 1
    sent = cli("send", "--sms", "-m", "Réunion jeudi", "--yes")
    assert sent.exit_code == 0, sent.output
    assert sent.output.count("Warning: this campaign reaches 2 contacts") == 1
    assert len(twilio.outbound()) == 2
    # written to once: the next campaign owes them nothing
    again = cli("send", "--sms", "-m", "Réunion vendredi", "--yes")
    assert again.exit_code == 0 and "whose data came from a third party" not in again.output
