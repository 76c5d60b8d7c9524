"""Cancel, pause and resume a campaign or a post; `--resume` of a scheduled campaign waits for its
time unless --now. Every step journalled and audited."""

from datetime import datetime, timedelta, timezone

from test_send_support import import_contacts, people, store, template_store, twilio  # noqa: F401

from dbox.sending import service
from dbox.store import ledger


def _later(hours=2):
    return (datetime.now(timezone.utc) + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _audit_commands(store):
    return [c for (c,) in store.execute("SELECT command FROM audit_log ORDER BY id")]


def test_resume_of_a_scheduled_campaign_waits_unless_now(store, tmp_path, twilio, cli):
    import_contacts(store, tmp_path, people(3))
    assert cli("send", "--sms", "-m", "Plus tard", "--at", _later(), "--yes").exit_code == 0
    waited = cli("send", "--resume", "1", "--yes")
    assert waited.exit_code == 0, waited.output
    assert "is scheduled for" in waited.output and "nothing sent now" in waited.output
    assert twilio.outbound() == [] and ledger.get_campaign(store, 1).status == "scheduled"
    report = service.resume(store, 1)                       # the library waits too
    assert report.status == "scheduled" and report.left == 3 and twilio.outbound() == []
    now = cli("send", "--resume", "1", "--now", "--yes")
    assert now.exit_code == 0, now.output
    assert len(twilio.outbound()) == 3


def test_pause_is_skipped_by_run_due_then_resume(store, tmp_path, twilio, cli):
    import_contacts(store, tmp_path, people(3))
    assert cli("send", "--sms", "-m", "Rappel", "--at", _later(), "--yes").exit_code == 0
    paused = cli("campaigns", "pause", "1")
    assert paused.exit_code == 0 and "Paused campaign 1" in paused.output
    assert "paused" in cli("campaigns", "list", "-f", "csv").output
    later = lambda: datetime.now(timezone.utc) + timedelta(hours=3)  # noqa: E731
    assert service.run_due(store, clock=later) == []
    refused = cli("send", "--resume", "1", "--now", "--yes")
    assert refused.exit_code == 3 and "campaign 1 is paused" in refused.output
    assert "dbox campaigns resume 1" in refused.output
    assert cli("campaigns", "resume", "1").exit_code == 0
    [(cid, report)] = service.run_due(store, clock=later)
    assert cid == 1 and report.accepted == 3
    events = [e for _at, e, _d in ledger.campaign_events(store, 1)]
    assert "paused" in events and "resumed" in events
    assert "campaigns pause" in _audit_commands(store) and "campaigns resume" in _audit_commands(store)


def test_cancel_turns_planned_into_cancelled_and_keeps_the_rest(store, tmp_path, twilio, cli):
    import_contacts(store, tmp_path, people(5))
    assert cli("send", "--sms", "-m", "Info", "--limit", "2", "--yes").exit_code == 0
    # one message in doubt stays as it is
    store.execute("UPDATE campaign_recipients SET state = 'in-doubt' WHERE id = "
                  "(SELECT min(id) FROM campaign_recipients WHERE state = 'planned')")
    needs_yes = cli("campaigns", "cancel", "1")
    assert needs_yes.exit_code != 0 and ledger.get_campaign(store, 1).control is None
    cancelled = cli("campaigns", "cancel", "1", "--yes")
    assert cancelled.exit_code == 0, cancelled.output
    assert "2 planned message(s) will not be sent" in cancelled.output
    counts = ledger.state_counts(store, 1)
    assert counts["accepted"] == 2 and counts["in-doubt"] == 1 and counts["planned"] == 0
    assert ledger.reason_counts(store, 1) == {"cancelled": 2}
    assert "cancelled" in cli("campaigns", "list", "-f", "csv").output
    again = cli("send", "--resume", "1", "--yes")
    assert again.exit_code == 3 and "was cancelled" in again.output
    assert cli("campaigns", "resume", "1").exit_code == 3
    assert len(twilio.outbound()) == 2
    assert "campaigns cancel" in _audit_commands(store)


def test_posts_cancel(store, cli):
    from dbox.social.posting import CHANNEL_PREFIX

    cid, _ = ledger.create_campaign(store, uid="p1", channel=f"{CHANNEL_PREFIX}mastodon",
                                    reach=ledger.Reach("social", "email"), fingerprint="f", expression="",
                                    segment=None, where="0", params=[], template={"body": "Hi"}, status="scheduled",
                                    due_at=_later(), ignore_window=True, settings={}, created_by="t")
    wrong = cli("campaigns", "pause", str(cid))
    assert wrong.exit_code == 3 and "is a post" in wrong.output
    result = cli("posts", "cancel", str(cid), "--yes")
    assert result.exit_code == 0, result.output
    assert ledger.get_campaign(store, cid).control == "cancelled"
    assert ledger.due_campaigns(store, "2999-01-01T00:00:00Z") == []
