"""Provider faults, answered by the local Twilio server to the real twilio client: 429 with
Retry-After, 500, slow answers, hang-ups, 21211, 21610, bad credentials."""

import pytest
from test_send_support import import_contacts, mobile, people, twilio  # noqa: F401

from dbox.config import update_section
from dbox.sending import engine, service
from dbox.sending.compose import Template
from dbox.store import ledger


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    monkeypatch.setattr(engine, "BACKOFF_BASE", 0.01)


def _send(store, message="Info", **kw):
    request = service.SendRequest(channel="sms", selection=service.Selection("1", [], ""),
                                  template=Template(message), **kw)
    plan = service.plan_send(store, request)
    return service.start(store, plan)


def test_429_with_retry_after_is_retried_and_honoured(store, tmp_path, twilio):
    import time

    import_contacts(store, tmp_path, people(4))
    twilio.fail_next(2, status=429, retry_after=0.5)
    t0 = time.monotonic()
    _cid, report = _send(store, workers=1)
    assert time.monotonic() - t0 >= 0.5
    assert report.status == "done" and report.accepted == 4 and report.retries == 2
    assert sorted(twilio.counts_by_number().values()) == [1, 1, 1, 1]
    assert twilio.request_count("create") == 6


def test_500_is_retried(store, tmp_path, twilio):
    import_contacts(store, tmp_path, people(3))
    twilio.fail_next(3, status=500)
    _cid, report = _send(store)
    assert report.accepted == 3 and report.retries == 3
    assert sorted(twilio.counts_by_number().values()) == [1, 1, 1]


def test_provider_down_stops_the_run_with_exit_6_and_keeps_messages_planned(store, tmp_path, twilio, cli):
    import_contacts(store, tmp_path, people(3))
    twilio.fail_next(100, status=503)
    result = cli("send", "--sms", "-m", "Info", "--yes", "--workers", "1")
    assert result.exit_code == 6, result.output
    assert "Error: campaign 1 stopped: gave up after 5 attempts: HTTP 503" in result.output
    assert "3 message(s) left" in result.output and "dbox send --resume 1" in result.output
    assert ledger.state_counts(store, 1)["planned"] == 3
    assert ledger.get_campaign(store, 1).status == "stopped"
    assert twilio.outbound() == []
    twilio.state.faults.clear()
    resumed = cli("send", "--resume", "1", "--yes")
    assert resumed.exit_code == 0, resumed.output
    assert sorted(twilio.counts_by_number().values()) == [1, 1, 1]


def test_21211_marks_the_number_invalid(store, tmp_path, twilio):
    import_contacts(store, tmp_path, people(3))
    twilio.mark_invalid(mobile(1))
    cid, report = _send(store)
    assert report.accepted == 2 and report.failed == 1
    assert ledger.reason_counts(store, cid, "failed") == {"21211": 1}
    status = store.execute("SELECT status FROM contact_points WHERE value = ?", (mobile(1),)).fetchone()[0]
    assert status == "invalid"
    error = store.execute("SELECT error FROM campaign_recipients WHERE address = ?", (mobile(1),)).fetchone()[0]
    assert mobile(1) not in error and "21211" in error
    plan = service.plan_send(store, service.SendRequest("sms", service.Selection("1", [], ""), Template("Autre")))
    assert plan.excluded == {"invalid-address": 1}


def test_21610_records_the_opt_out(store, tmp_path, twilio):
    import_contacts(store, tmp_path, people(3))
    twilio.mark_unsubscribed(mobile(2))
    cid, report = _send(store)
    assert report.failed == 1 and report.accepted == 2
    contact = store.execute("SELECT id FROM contacts WHERE mobile = ?", (mobile(2),)).fetchone()[0]
    assert store.execute("SELECT status, source FROM consents WHERE contact_id = ? AND channel = 'sms'",
                         (contact,)).fetchone() == ("withdrawn", "stop-reply")
    from dbox.store.suppressions import Hasher

    row = store.execute("SELECT kind, reason, channel FROM suppressions WHERE value_hash = ?",
                        (Hasher(store)(mobile(2)),)).fetchone()
    assert row == ("phone", "stop-reply", "sms")
    plan = service.plan_send(store, service.SendRequest("sms", service.Selection("1", [], ""), Template("Autre")))
    assert plan.excluded == {"consent-withdrawn": 1}


def test_slow_answer_is_in_doubt_never_resent_and_reconciled(store, tmp_path, twilio, cli):
    update_section("channels.sms", {"timeout": 0.5})
    import_contacts(store, tmp_path, people(3))
    twilio.slow_next(1, seconds=1.5)                # the message is created, the answer comes too late
    cid, report = _send(store, workers=1)
    assert report.in_doubt == 1 and report.accepted == 2
    assert ledger.get_campaign(store, cid).status == "done"
    assert len(twilio.outbound()) == 3
    again = cli("send", "--resume", str(cid), "--yes")
    assert again.exit_code == 0
    assert len(twilio.outbound()) == 3                                  # in-doubt: not resent
    result = cli("campaigns", "reconcile", str(cid))
    assert result.exit_code == 0, result.output
    assert "1 in doubt: 1 found at the provider (now counted as sent), 0 not found." in result.output
    assert ledger.state_counts(store, cid)["in-doubt"] == 0
    assert sorted(twilio.counts_by_number().values()) == [1, 1, 1]


def test_hang_up_before_creating_then_retry_in_doubt_sends_exactly_once(store, tmp_path, twilio, cli):
    import_contacts(store, tmp_path, people(3))
    twilio.hang_up_next(1, create=False)
    cid, report = _send(store, workers=1)
    assert report.in_doubt == 1 and len(twilio.outbound()) == 2
    result = cli("campaigns", "reconcile", str(cid))
    assert "1 in doubt: 0 found at the provider (now counted as sent), 1 not found." in result.output
    assert f"dbox send --resume {cid} --retry-in-doubt" in result.output
    retried = cli("send", "--resume", str(cid), "--retry-in-doubt", "--yes")
    assert retried.exit_code == 0, retried.output
    assert sorted(twilio.counts_by_number().values()) == [1, 1, 1]
    assert ledger.state_counts(store, cid)["accepted"] == 3


def test_hang_up_after_creating_is_found_by_retry_in_doubt_not_resent(store, tmp_path, twilio, cli):
    import_contacts(store, tmp_path, people(2))
    twilio.hang_up_next(1, create=True)
    cid, report = _send(store, workers=1)
    assert report.in_doubt == 1
    retried = cli("send", "--resume", str(cid), "--retry-in-doubt", "--yes")
    assert retried.exit_code == 0, retried.output
    assert sorted(twilio.counts_by_number().values()) == [1, 1]         # looked up first: not resent
    counts = ledger.state_counts(store, cid)
    assert counts["accepted"] == 1 and counts["delivered"] == 1 and counts["in-doubt"] == 0


def test_bad_credentials_stop_at_once(store, tmp_path, twilio, cli, monkeypatch):
    monkeypatch.setenv("DBOX_TWILIO_AUTH_TOKEN", "wrong")
    import_contacts(store, tmp_path, people(3))
    result = cli("send", "--sms", "-m", "Info", "--yes")
    assert result.exit_code == 6
    assert "Error: campaign 1 stopped: HTTP 401 error 20003" in result.output
    assert "check the channel's credentials" in result.output
    assert ledger.state_counts(store, 1)["planned"] == 3 and twilio.outbound() == []


def test_rate_limit_token_bucket_with_a_fake_clock():
    from dbox.sending.rate import TokenBucket, parse_rate

    now = [0.0]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    bucket = TokenBucket(parse_rate("10/s"), clock=lambda: now[0], sleep=sleep)
    for _ in range(6):
        assert bucket.acquire()
    assert round(now[0], 6) == 0.5                  # one at once, then one every 100 ms
    bucket.pause(2.0)                               # Retry-After: 2 -> everyone waits
    bucket.acquire()
    assert round(now[0], 6) == 2.6
    assert parse_rate("300/min") == 5.0 and parse_rate(2) == 2.0


@pytest.mark.parametrize("text", ["fast", "0/s", "10/week", "-1"])
def test_bad_rate_is_an_input_error(text):
    from dbox.errors import InputError
    from dbox.sending.rate import parse_rate

    with pytest.raises(InputError, match="--rate"):
        parse_rate(text)


def test_twilio_logging_is_quiet(store, tmp_path, twilio, caplog):
    import logging

    import_contacts(store, tmp_path, people(1))
    with caplog.at_level(logging.DEBUG):
        _send(store)
    assert not [r for r in caplog.records if r.name.startswith("twilio")]
    assert mobile(0) not in caplog.text
