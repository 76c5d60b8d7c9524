"""Exactly once across machines (issue 14 item 2), end to end: two team members' processes share
nothing but the PostgreSQL store (their own HOME, config, data folders and keyring) and send one
campaign through the Twilio look-alike. One is killed mid-run (SIGKILL); both then resume at once.
Every reachable contact gets exactly one message, counted at the server."""

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

from test_send_machines import machine
from test_send_support import import_contacts, people, twilio  # noqa: F401

from dbox.sending.locks import campaign_lock, is_free
from dbox.store import ledger


def _wait(condition, seconds=60.0, what="condition"):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def _with_sms(env: dict, twilio_env: dict) -> dict:
    """A team member's machine with the SMS channel set up on it: settings in its own config file,
    credentials in its own environment (as cron would have them)."""
    config = os.path.join(env["XDG_CONFIG_HOME"], "dbox")
    os.makedirs(config, exist_ok=True)
    with open(os.path.join(config, "config.toml"), "w", encoding="utf-8") as f:
        f.write('[channels.sms]\noptout_mention = "STOP au 36173"\nquiet_hours = false\n')
    return {**env, **twilio_env}


def _dbox(env, *args):
    return subprocess.Popen([sys.executable, "-m", "dbox", *map(str, args)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
@pytest.mark.engine("postgresql")
def test_two_machines_kill_and_resume_one_campaign_exactly_once(engine, store, tmp_path, twilio):
    rows = people(200) + people(20, sms="non", start=200)          # 20 without consent
    import_contacts(store, tmp_path, rows)
    twilio_env = {k: os.environ[k] for k in os.environ if k.startswith("DBOX_TWILIO_")}
    one = _with_sms(machine(tmp_path, "one"), twilio_env)
    two = _with_sms(machine(tmp_path, "two"), twilio_env)

    at = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    created = subprocess.run([sys.executable, "-m", "dbox", "send", "--sms", "-m", "Réunion jeudi, {{ first_name }}",
                              "--at", at, "--yes"], env=one, capture_output=True, text=True, timeout=120)
    assert created.returncode == 0, created.stderr
    campaign = 1                                                      # a fresh database

    first = _dbox(one, "send", "--resume", campaign, "--now", "--yes", "--workers", "4", "--rate", "100/s")
    try:
        _wait(lambda: twilio.request_count("create") >= 60 or first.poll() is not None, what="60 messages")
        assert first.poll() is None, first.communicate()
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    sent_before = len(twilio.outbound())
    assert 60 <= sent_before < 200
    _wait(lambda: is_free(campaign_lock(store, campaign)), seconds=30, what="the dead process's lock")

    # both team members resume at the same moment: one runs it, the other is told it is running
    # (or, if the first has already finished, finds nothing left to send)
    a = _dbox(one, "send", "--resume", campaign, "--now", "--yes", "--rate", "100/s")
    b = _dbox(two, "send", "--resume", campaign, "--now", "--yes", "--rate", "100/s")
    out_a, err_a = a.communicate(timeout=180)
    out_b, err_b = b.communicate(timeout=180)
    codes = sorted([a.returncode, b.returncode])
    assert codes in ([0, 0], [0, 7]), (out_a, err_a, out_b, err_b)
    if codes == [0, 7]:
        refused = err_a if a.returncode == 7 else err_b
        assert refused.startswith(f"Error: campaign {campaign} is already running"), refused

    by_number = twilio.counts_by_number()
    assert max(by_number.values()) == 1                               # never twice, whoever sent it
    counts = ledger.state_counts(store, campaign)
    assert counts["claimed"] == 0 and counts["planned"] == 0
    assert counts["skipped"] == 20

    # what was in flight at the kill is in doubt: never resent automatically; once reconciled
    # against the provider, a retry completes the campaign and still sends nobody twice
    if counts["in-doubt"]:
        reconciled = subprocess.run([sys.executable, "-m", "dbox", "campaigns", "reconcile", str(campaign)],
                                    env=two, capture_output=True, text=True, timeout=120)
        assert reconciled.returncode == 0, reconciled.stderr
        retried = subprocess.run([sys.executable, "-m", "dbox", "send", "--resume", str(campaign),
                                  "--retry-in-doubt", "--yes"], env=two, capture_output=True, text=True,
                                 timeout=180)
        assert retried.returncode == 0, retried.stderr
    planned = {a for (a,) in store.execute(
        "SELECT address FROM campaign_recipients WHERE campaign_id = ? AND state <> 'skipped'", (campaign,))}
    assert len(planned) == 200
    by_number = twilio.counts_by_number()
    assert set(by_number) == planned and set(by_number.values()) == {1}
    assert ledger.get_campaign(store, campaign).status == "done"
    assert not [p for p in tmp_path.rglob("*.lock")]                 # no machine locked with a file
