"""Quiet hours: Mon-Sat 10:00-20:00 Europe/Paris, no French public holiday, DST, ValidityPeriod
capped at the end of the window, scheduling outside it, --now."""

from datetime import datetime, timezone

import pytest
from test_send_support import import_contacts, mobile, people, twilio  # noqa: F401

from dbox.config import update_section
from dbox.errors import InputError
from dbox.sending import service
from dbox.sending.compose import Template
from dbox.sending.window import SendWindow, parse_when
from dbox.store import ledger


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


DEFAULT = SendWindow.from_settings({}, True)


def test_default_window_is_the_strict_french_reading():
    assert DEFAULT.describe() == "Mon-Sat 10:00-20:00 Europe/Paris, not on FR public holidays"
    assert not DEFAULT.is_open(utc("2026-11-23T08:59:00"))             # Monday 09:59 Paris (UTC+1)
    assert DEFAULT.next_open(utc("2026-11-23T08:59:00")) == utc("2026-11-23T09:00:00")
    assert DEFAULT.is_open(utc("2026-11-23T11:00:00"))
    assert DEFAULT.validity_seconds(utc("2026-11-23T18:30:00")) == 1800   # 19:30 -> 20:00
    assert not DEFAULT.can_send(utc("2026-11-23T18:59:30"))            # 30 s left: too close
    assert DEFAULT.next_open(utc("2026-11-23T18:59:30")) == utc("2026-11-24T09:00:00")
    assert DEFAULT.is_open(utc("2026-11-28T14:00:00"))                 # Saturday
    assert DEFAULT.next_open(utc("2026-11-29T12:00:00")) == utc("2026-11-30T09:00:00")   # Sunday -> Monday


def test_french_public_holidays_are_closed():
    assert not DEFAULT.is_open(utc("2026-12-25T11:00:00"))             # Christmas, a Friday
    assert DEFAULT.next_open(utc("2026-12-25T11:00:00")) == utc("2026-12-26T09:00:00")
    assert not DEFAULT.is_open(utc("2026-04-06T10:00:00"))             # Easter Monday
    assert not DEFAULT.is_open(utc("2026-07-14T10:00:00"))             # 14 juillet (Tuesday)
    no_holidays = SendWindow.from_settings({"holidays": ""}, True)
    assert no_holidays.is_open(utc("2026-12-25T11:00:00"))


def test_dst_changes_keep_10_to_20_local_time():
    # Saturday 28 March 2026 21:00 Paris (UTC+1); clocks go forward on Sunday 29 March
    assert DEFAULT.next_open(utc("2026-03-28T20:00:00")) == utc("2026-03-30T08:00:00")   # 10:00 CEST
    assert DEFAULT.validity_seconds(utc("2026-03-30T17:00:00")) == 3600                 # 19:00 CEST
    # Saturday 24 October 2026 21:00 CEST; clocks go back on Sunday 25 October
    assert DEFAULT.next_open(utc("2026-10-24T19:00:00")) == utc("2026-10-26T09:00:00")   # 10:00 CET
    assert DEFAULT.closes_at(utc("2026-10-26T12:00:00")) == utc("2026-10-26T19:00:00")


def test_window_settings_and_their_errors():
    w = SendWindow.from_settings({"send_days": "mon-fri", "send_from": "09:30", "send_until": "18:00"}, True)
    assert w.describe() == "Mon-Fri 09:30-18:00 Europe/Paris, not on FR public holidays"
    assert not w.is_open(utc("2026-11-28T10:00:00"))                   # Saturday
    assert SendWindow.from_settings({}, False) is None
    assert SendWindow.from_settings({"quiet_hours": False}, True) is None
    for settings, message in [({"send_days": "lun-ven"}, "send_days 'lun-ven': days are mon, tue"),
                              ({"send_from": "10h"}, "send_from '10h': use HH:MM"),
                              ({"send_from": "21:00"}, "send_from 21:00 must be before send_until 20:00"),
                              ({"timezone": "Europe/Lutece"}, "timezone 'Europe/Lutece': unknown time zone")]:
        with pytest.raises(InputError, match=message):
            SendWindow.from_settings(settings, True)


def test_parse_when_reads_paris_time():
    assert parse_when("2026-12-01 18:00") == utc("2026-12-01T17:00:00")
    assert parse_when("2026-07-01 18:00") == utc("2026-07-01T16:00:00")
    assert parse_when("2026-07-01T18:00:00Z") == utc("2026-07-01T18:00:00")
    with pytest.raises(InputError, match="--at .demain.: use a date and a time like"):
        parse_when("demain")


def _plan(store, clock, **kw):
    request = service.SendRequest("sms", service.Selection("1", [], ""), Template("Info {{ first_name }}"), **kw)
    return service.plan_send(store, request, clock=clock)


def test_outside_the_window_the_send_is_scheduled_then_run_due_sends_it(store, tmp_path, twilio):
    update_section("channels.sms", {"quiet_hours": True})
    import_contacts(store, tmp_path, people(3))
    sunday = utc("2026-11-29T12:00:00")
    plan = _plan(store, lambda: sunday)
    assert plan.due_at == utc("2026-11-30T09:00:00") and plan.due_reason == "quiet hours"
    cid, report = service.start(store, plan, clock=lambda: sunday)
    assert report is None and twilio.outbound() == []
    campaign = ledger.get_campaign(store, cid)
    assert campaign.status == "scheduled" and campaign.due_at == "2026-11-30T09:00:00Z"
    assert service.run_due(store, clock=lambda: utc("2026-11-30T08:59:00")) == []
    monday_evening = utc("2026-11-30T18:00:00")                       # 19:00 Paris: one hour left
    results = service.run_due(store, clock=lambda: monday_evening)
    assert [(c, r.status) for c, r in results] == [(cid, "done")]
    sent = twilio.outbound()
    assert len(sent) == 3
    assert {m["_validity"] for m in sent} == {3600}                    # never delivered after 20:00


def test_now_sends_outside_the_window_without_validity_cap(store, tmp_path, twilio):
    update_section("channels.sms", {"quiet_hours": True})
    import_contacts(store, tmp_path, people(2))
    sunday = utc("2026-11-29T12:00:00")
    plan = _plan(store, lambda: sunday, now=True)
    assert plan.due_at is None
    _cid, report = service.start(store, plan, clock=lambda: sunday)
    assert report.accepted == 2
    assert {m["_validity"] for m in twilio.outbound()} == {None}


def test_window_closing_mid_campaign_waits_for_the_next_opening(store, tmp_path, twilio):
    update_section("channels.sms", {"quiet_hours": True})
    import_contacts(store, tmp_path, people(6))

    def clock():   # 19:58 Paris for the first three messages, then 19:59:30
        return utc("2026-11-30T18:58:00") if len(twilio.outbound()) < 3 else utc("2026-11-30T18:59:30")

    plan = _plan(store, clock, workers=1)
    cid, report = service.start(store, plan, clock=clock)
    assert report.status == "waiting" and report.accepted == 3 and report.left == 3
    assert report.due_at == utc("2026-12-01T09:00:00")
    assert {m["_validity"] for m in twilio.outbound()} == {120}
    campaign = ledger.get_campaign(store, cid)
    assert campaign.status == "waiting" and campaign.due_at == "2026-12-01T09:00:00Z"
    results = service.run_due(store, clock=lambda: utc("2026-12-01T09:00:05"))
    assert results[0][1].status == "done"
    assert sorted(twilio.counts_by_number().values()) == [1] * 6


def test_window_closed_at_claim_time_claims_nothing(store, tmp_path, twilio):
    update_section("channels.sms", {"quiet_hours": True})
    import_contacts(store, tmp_path, people(2))
    open_time = utc("2026-11-30T10:00:00")
    plan = _plan(store, lambda: open_time)
    assert plan.due_at is None
    cid, report = service.start(store, plan, clock=lambda: utc("2026-11-30T20:00:00"))   # 21:00 Paris
    assert report.status == "waiting" and report.accepted == 0 and twilio.outbound() == []
    assert ledger.state_counts(store, cid)["planned"] == 2 and ledger.state_counts(store, cid)["claimed"] == 0
