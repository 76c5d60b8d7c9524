"""Crash safety and cron: SIGKILL in the middle of a campaign, resume, exactly one message per
reachable contact (counted at the server); two concurrent run-due; stale claims become in-doubt."""

import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

from test_send_support import import_contacts, people, twilio  # noqa: F401

from dbox.config import update_section
from dbox.store import ledger


def _dbox(*args):
    return subprocess.Popen([sys.executable, "-m", "dbox", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _wait(condition, seconds=60.0, what="condition"):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


@pytest.mark.slow
def test_sigkill_mid_campaign_then_resume_sends_exactly_one_each(store, tmp_path, twilio, cli):
    rows = people(300) + people(40, sms="non", start=300)          # 40 without consent
    import_contacts(store, tmp_path, rows)
    # 100/s rather than the channel's 10/s: the same run, cut at the same point, in seconds not half a minute
    proc = _dbox("send", "--sms", "-m", "Réunion publique jeudi, {{ first_name }}", "--yes", "--workers", "4",
                 "--rate", "100/s")
    try:
        _wait(lambda: twilio.request_count("create") >= 120 or proc.poll() is not None, what="120 messages")
        assert proc.poll() is None, proc.communicate()
        before = twilio.request_count("create")
        twilio.slow_next(4, seconds=3)          # the next four are created, their answers never arrive
        _wait(lambda: twilio.request_count("create") >= before + 4, what="4 requests in flight")
        time.sleep(0.1)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    sent_before_resume = len(twilio.outbound())
    assert 120 <= sent_before_resume < 300
    counts = ledger.state_counts(store, 1)
    assert counts["claimed"] >= 4                                    # claims committed before the calls
    assert ledger.get_campaign(store, 1).status == "running"

    # cron's run-due finds the campaign its dead process left running, and finishes it
    resumed = cli("run-due")
    assert resumed.exit_code == 0, resumed.output
    counts = ledger.state_counts(store, 1)
    assert counts["claimed"] == 0 and counts["planned"] == 0
    in_doubt = counts["in-doubt"]
    assert in_doubt >= 4                                             # never resent automatically
    by_number = twilio.counts_by_number()
    assert max(by_number.values()) == 1

    reconciled = cli("campaigns", "reconcile", "1")
    assert reconciled.exit_code == 0, reconciled.output
    retried = cli("send", "--resume", "1", "--retry-in-doubt", "--yes")
    assert retried.exit_code == 0, retried.output

    planned = {a for (a,) in store.execute(
        "SELECT address FROM campaign_recipients WHERE campaign_id = 1 AND state <> 'skipped'")}
    assert len(planned) == 300
    by_number = twilio.counts_by_number()
    assert set(by_number) == planned                                 # every reachable contact ...
    assert set(by_number.values()) == {1}                            # ... exactly once
    assert ledger.state_counts(store, 1)["skipped"] == 40
    assert ledger.get_campaign(store, 1).status == "done"


@pytest.mark.slow
def test_two_concurrent_run_due_one_sends_the_other_exits_7(store, tmp_path, twilio, cli):
    import_contacts(store, tmp_path, people(40))
    at = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    update_section("channels.sms", {"timeout": 120})       # the held answer below is not a timeout
    scheduled = cli("send", "--sms", "-m", "Rappel", "--at", at, "--rate", "100/s", "--yes")
    assert scheduled.exit_code == 0, scheduled.output
    assert "Campaign 1 scheduled for" in scheduled.output and "(--at)" in scheduled.output
    not_yet = cli("run-due")
    assert not_yet.exit_code == 0 and twilio.outbound() == []
    # the hour goes by (instead of sleeping until --at): the run-due processes below read the real clock
    past = (datetime.now(timezone.utc) - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ledger.set_status(store, 1, "scheduled", due_at=past)
    release = twilio.hold_next(1, seconds=110)   # the first run-due is busy until the second is done
    first = _dbox("run-due")
    _wait(lambda: twilio.request_count("create") >= 1 or first.poll() is not None, what="first run-due")
    second = _dbox("run-due")
    try:
        out2, err2 = second.communicate(timeout=60)
    finally:
        release.set()
    out1, err1 = first.communicate(timeout=60)
    assert second.returncode == 7, (out2, err2)
    assert err2.strip().splitlines() == [err2.strip()]               # one line
    assert err2.startswith("Error: another `dbox run-due` is already running (pid ")
    assert first.returncode == 0, (out1, err1)
    assert "campaign 1: 40 sent" in out1
    assert sorted(twilio.counts_by_number().values()) == [1] * 40
    assert ledger.get_campaign(store, 1).status == "done"


def test_a_claim_left_by_a_dead_process_becomes_in_doubt(store, tmp_path, twilio, cli):
    import_contacts(store, tmp_path, people(3))
    at = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert cli("send", "--sms", "-m", "Info", "--at", at, "--yes").exit_code == 0
    first = store.execute("SELECT id FROM campaign_recipients ORDER BY id LIMIT 1").fetchone()[0]
    assert ledger.claim(store, first, ledger.Reach("sms", "mobile")) is None      # a process claimed it, then died
    result = cli("send", "--resume", "1", "--now", "--yes")   # scheduled: --now sends before its time
    assert result.exit_code == 0, result.output
    assert "2 sent, 0 failed, 0 skipped at send time, 1 in doubt, 0 left (done)" in result.output
    assert "1 message(s) in doubt" in result.output and "dbox campaigns reconcile 1" in result.output
    assert len(twilio.outbound()) == 2
    assert store.execute("SELECT state FROM campaign_recipients WHERE id = ?", (first,)).fetchone()[0] == "in-doubt"


def test_a_campaign_being_sent_cannot_be_resumed_twice(store, tmp_path, twilio, cli):
    from dbox.sending.locks import campaign_lock

    import_contacts(store, tmp_path, people(2))
    at = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert cli("send", "--sms", "-m", "Info", "--at", at, "--yes").exit_code == 0
    with campaign_lock(store, 1):
        result = cli("send", "--resume", "1", "--now", "--yes")
    assert result.exit_code == 7
    assert "Error: campaign 1 is already running" in result.output
    assert twilio.outbound() == []
