"""The legal calendar: the electoral silence of Code électoral L49 holds sends and posts."""

from datetime import date, datetime, timezone

import pytest
from test_send_support import import_contacts, people, store, template_store, twilio  # noqa: F401

from dbox.electoral.calendar import ElectoralSilence, add_election, allow, check_send, quiet_period, zones, Area
from dbox.errors import InputError
from dbox.sending import service
from dbox.sending.compose import Template
from dbox.store import ledger

pytestmark = pytest.mark.engines


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def test_silence_starts_at_midnight_on_the_eve_and_ends_at_closing():
    # Sunday 2026-03-15, Paris is UTC+1: from Saturday 00:00 (Friday 23:00 UTC) to Sunday 20:00 (19:00 UTC)
    assert quiet_period(date(2026, 3, 15), [("Europe/Paris", False)], national=False) == \
        ("2026-03-13T23:00:00Z", "2026-03-15T19:00:00Z")
    # summer time: UTC+2
    assert quiet_period(date(2024, 6, 30), [("Europe/Paris", False)], national=True) == \
        ("2024-06-28T22:00:00Z", "2024-06-30T18:00:00Z")


def test_overseas_and_abroad_start_earlier_in_national_elections(store):
    france = zones(store, Area("france", ()))
    start, end = quiet_period(date(2024, 6, 30), france, national=True)
    # Saint-Pierre-et-Miquelon (UTC-2 in summer) votes on Saturday: its eve starts Friday 00:00 local
    assert start == "2024-06-28T02:00:00Z"
    assert end == "2024-06-30T18:00:00Z"
    # a local election in Guadeloupe is held on Sunday there (UTC-4)
    assert quiet_period(date(2026, 3, 15), zones(store, Area("departement", ("971",))), national=False) == \
        ("2026-03-14T04:00:00Z", "2026-03-16T00:00:00Z")
    assert quiet_period(date(2026, 3, 15), zones(store, Area("departement", ("971",))), national=True)[0] == \
        "2026-03-13T04:00:00Z"


def test_add_election_and_its_errors(store):
    e = add_election(store, "municipales-2026", ["2026-03-15", "2026-03-22"], ["commune:38185"])
    assert [r["day"] for r in e["rounds"]] == ["2026-03-15", "2026-03-22"]
    assert e["rounds"][0]["quiet_from"] == "2026-03-13T23:00:00Z"
    for args, message in [(("x y", ["2026-03-15"], ["france"]), "use letters"),
                          (("a", ["15/03/2026"], ["france"]), "expected a date"),
                          (("a", ["2026-02-30"], ["france"]), "no such date"),
                          (("a", ["2026-03-15"], ["ville:x"]), "unknown kind"),
                          (("a", ["2026-03-15"], ["dep:38", "commune:38185"]), "one kind"),
                          (("municipales-2026", ["2026-03-15"], ["france"]), "exists already")]:
        with pytest.raises(InputError, match=message):
            add_election(store, *args)


def _plan(store, clock, **kw):
    request = service.SendRequest("sms", service.Selection("TRUE", [], ""), Template("Info {{ first_name }}"), **kw)
    return service.plan_send(store, request, clock=clock)


def test_a_send_on_the_eve_is_held_even_with_now(store, tmp_path, twilio):
    import_contacts(store, tmp_path, [{**p, "cp": "38000", "commune": "Grenoble"} for p in people(3)])
    add_election(store, "municipales-2026", ["2026-03-15"], ["commune:38185"])
    eve = utc("2026-03-14T10:00:00")
    plan = _plan(store, lambda: eve, now=True)
    with pytest.raises(ElectoralSilence, match="electoral silence for municipales-2026.*--now does not lift it"):
        service.start(store, plan, clock=lambda: eve)
    assert twilio.outbound() == []
    cid = store.execute("SELECT max(id) FROM campaigns").fetchone()[0]
    campaign = ledger.get_campaign(store, cid)
    assert campaign.status == "waiting" and campaign.due_at == "2026-03-15T19:00:00Z"
    # run-due keeps holding it during the silence, then sends it after the closing
    held = service.run_due(store, clock=lambda: utc("2026-03-15T18:00:00"))
    assert held == [] and twilio.outbound() == []
    results = service.run_due(store, clock=lambda: utc("2026-03-15T19:00:01"))
    assert results[0][1].accepted == 3


def test_contacts_outside_the_area_are_not_held(store, tmp_path, twilio):
    import_contacts(store, tmp_path, [{**p, "cp": "38200", "commune": "Vienne"} for p in people(2)])
    add_election(store, "municipales-2026", ["2026-03-15"], ["commune:38185"])
    eve = utc("2026-03-14T10:00:00")
    _cid, report = service.start(store, _plan(store, lambda: eve, now=True), clock=lambda: eve)
    assert report.accepted == 2


def test_an_explicit_allow_lifts_it_and_is_audited(store, tmp_path, twilio):
    import_contacts(store, tmp_path, [{**p, "cp": "38000", "commune": "Grenoble"} for p in people(2)])
    add_election(store, "municipales-2026", ["2026-03-15"], ["commune:38185"])
    eve = utc("2026-03-14T10:00:00")
    with pytest.raises(ElectoralSilence):
        service.start(store, _plan(store, lambda: eve, now=True), clock=lambda: eve)
    cid = store.execute("SELECT max(id) FROM campaigns").fetchone()[0]
    with pytest.raises(InputError, match="--reason"):
        allow(store, cid, " ")
    allow(store, cid, "correction d'une fausse information")
    report = service.resume(store, cid, now=True, clock=lambda: eve)
    assert report.accepted == 2
    audit = store.execute("SELECT command, detail FROM audit_log WHERE command = 'elections allow'").fetchone()
    assert audit[0] == "elections allow" and "correction" in audit[1]


def test_social_posts_are_held_during_any_silence(store):
    add_election(store, "legislatives-2027", ["2027-06-13"], ["circo:38-01"])
    check_send(store, "social:x", None, now=utc("2027-06-10T12:00:00"))
    with pytest.raises(ElectoralSilence, match="a social post"):
        check_send(store, "social:x", None, now=utc("2027-06-12T12:00:00"))


def test_cli_elections(cli):
    result = cli("elections", "add", "legislatives-2027", "--round", "2027-06-13", "--round", "2027-06-20",
                 "--area", "circo:38-01,38-02")
    assert result.exit_code == 0, result.output
    assert "round 2027-06-13: silence from" in result.output
    listed = cli("elections", "list")
    assert "legislatives-2027  (circonscription 38-01, 38-02)" in listed.output
    bad = cli("elections", "add", "x", "--round", "2027-13-01", "--area", "france")
    assert bad.exit_code == 3 and "Error:" in bad.output


def test_a_scheduled_campaign_due_in_the_silence_is_held_not_failed(store, tmp_path, twilio):
    # cron's run-due during the silence: the campaign is held, the run did its work (exit 0)
    import_contacts(store, tmp_path, [{**p, "cp": "38000", "commune": "Grenoble"} for p in people(2)])
    add_election(store, "municipales-2026", ["2026-03-15"], ["commune:38185"])
    before = utc("2026-03-10T10:00:00")
    _cid, report = service.start(store, _plan(store, lambda: before, at="2026-03-14 11:00"), clock=lambda: before)
    cid = store.execute("SELECT max(id) FROM campaigns").fetchone()[0]
    assert ledger.get_campaign(store, cid).status == "scheduled"
    results = service.run_due(store, clock=lambda: utc("2026-03-14T10:30:00"))
    assert [(c, r.split(":")[0]) for c, r in results] == [(cid, "held")]
    assert service.run_due_failure(results) is None and twilio.outbound() == []
    assert ledger.get_campaign(store, cid).due_at == "2026-03-15T19:00:00Z"
    sent = service.run_due(store, clock=lambda: utc("2026-03-15T19:00:01"))
    assert sent[0][1].accepted == 2 and len(twilio.outbound()) == 2
