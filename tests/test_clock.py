"""One clock (issue 11 item 5): every --at and date option reads the same formats through
dbox.clock, in the configured timezone (default Europe/Paris, never the server's), echoes the time
back in that zone, and listings and the timeline show local time naming the zone."""

from datetime import date, datetime, timezone

import pytest
from test_send_support import import_contacts, people, twilio  # noqa: F401

from dbox import clock
from dbox.config import update_section
from dbox.errors import InputError
from dbox.organizing.actions import parse_local
from dbox.organizing.interactions import parse_at as interaction_at
from dbox.sending.window import parse_when
from dbox.social.posting import parse_at as post_at

NOW = datetime(2099, 12, 1, 9, 0, tzinfo=timezone.utc)      # 10:00 in Paris
WANT = datetime(2099, 12, 5, 17, 30, tzinfo=timezone.utc)    # 18:30 in Paris


@pytest.mark.parametrize("typed", ["2099-12-05 18:30", "2099-12-05T18:30", "2099-12-05T18:30:00", "05/12/2099 18h30",
                                   "05/12/2099 18:30", "2099-12-05 18h30", "  2099-12-05   18:30 ",
                                   "2099-12-05T17:30:00Z", "2099-12-05T18:30+01:00"])
def test_send_post_action_and_interaction_read_the_same_formats(typed, monkeypatch):
    monkeypatch.setenv("TZ", "UTC")                     # the server's zone never matters
    assert parse_when(typed) == WANT                                        # send --at
    assert post_at(typed, now=NOW) == "2099-12-05T17:30:00Z"                # post --at
    assert parse_local(typed, "Europe/Paris") == WANT                       # action create/edit --date
    assert interaction_at(typed) == "2099-12-05T17:30:00Z"                  # interaction --at


def test_a_time_alone_is_today_and_a_day_alone_needs_the_time():
    assert clock.parse_when("18h30", now=NOW) == datetime(2099, 12, 1, 17, 30, tzinfo=timezone.utc)
    assert clock.parse_when("18h", now=NOW) == datetime(2099, 12, 1, 17, 0, tzinfo=timezone.utc)
    with pytest.raises(InputError, match=r"--date '2099-12-05': add the time"):
        clock.parse_when("2099-12-05", option="--date")
    with pytest.raises(InputError, match=r"--at '25:00': not a time of day"):
        clock.parse_when("25:00")
    with pytest.raises(InputError, match=r"--at 'demain': use a date and a time like 2026-12-05T10:00"):
        clock.parse_when("demain")


def test_days_for_retention_and_the_audit_log():
    assert clock.parse_day("2027-06-20", "--as-of") == clock.parse_day("20/06/2027", "--as-of") == date(2027, 6, 20)
    with pytest.raises(InputError, match=r"--since: expected a date like 2027-06-20, got 'hier'"):
        clock.parse_day("hier", "--since")


def test_the_configured_zone_is_used_everywhere_and_named():
    update_section("dbox", {"timezone": "America/Cayenne"})                # UTC-3
    assert parse_when("2099-12-05 18:30") == datetime(2099, 12, 5, 21, 30, tzinfo=timezone.utc)
    assert parse_local("05/12/2099 18h30", None) == datetime(2099, 12, 5, 21, 30, tzinfo=timezone.utc)
    assert clock.local_text("2099-12-05T21:30:00Z") == "Sat 2099-12-05 18:30 America/Cayenne"
    update_section("dbox", {"timezone": "Mars/Olympus"})
    with pytest.raises(InputError, match="timezone 'Mars/Olympus': unknown time zone"):
        parse_when("18:00")


def test_cli_dates_are_read_and_echoed_in_the_zone(store, tmp_path, twilio, cli):
    import_contacts(store, tmp_path, people(2))
    sent = cli("send", "--sms", "-m", "Rappel", "--at", "05/12/2099 18h30", "--yes")
    assert sent.exit_code == 0, sent.output
    assert "scheduled for Sat 2099-12-05 18:30 Europe/Paris" in sent.output
    listed = cli("campaigns", "list")
    assert "(Europe/Paris)" in listed.output                                        # the column names the zone
    assert "2099-12-05 18:30" in listed.output and "17:30" not in listed.output
    as_json = cli("campaigns", "list", "-f", "json")
    assert '"due_at": "2099-12-05T17:30:00Z"' in as_json.output                     # machines keep UTC
    shown = cli("campaigns", "show", "1")
    assert "due Sat 2099-12-05 18:30 Europe/Paris" in shown.output and "journal (Europe/Paris):" in shown.output
    action = cli("action", "create", "Réunion publique", "--type", "reunion", "--date", "05/12/2099 18h30")
    assert action.exit_code == 0, action.output
    retention = cli("privacy", "retention", "--as-of", "20/06/2099")
    assert retention.exit_code == 0, retention.output


def test_the_timeline_shows_local_time_and_names_the_zone(store, tmp_path, twilio, cli):
    import_contacts(store, tmp_path, people(1))
    assert cli("send", "--sms", "-m", "Bonjour", "--yes", "--now").exit_code == 0
    result = cli("contacts", "timeline", "1")
    assert result.exit_code == 0, result.output
    assert "times in Europe/Paris" in result.output
    at = store.execute("SELECT done_at FROM campaign_recipients").fetchone()[0]
    assert clock.local_column(at) in result.output
