"""One clock: send and post read --at with the same parser, in the configured timezone (default
Europe/Paris), never the server's own zone."""

from datetime import datetime, timezone

from dbox.config import update_section
from dbox.sending.window import parse_when
from dbox.social.posting import parse_at

NOON_UTC = datetime(2099, 12, 1, 12, 0, tzinfo=timezone.utc)


def test_a_time_alone_is_today_in_paris_for_send_and_post(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")                  # a server in UTC: 16:53 still means Paris time
    assert parse_when("16:53", now=NOON_UTC) == datetime(2099, 12, 1, 15, 53, tzinfo=timezone.utc)
    assert parse_at("16:53", now=NOON_UTC) == "2099-12-01T15:53:00Z"
    assert parse_at("2099-07-01 18:00") == "2099-07-01T16:00:00Z"          # summer: UTC+2
    assert parse_at("2099-07-01T18:00:00Z") == "2099-07-01T18:00:00Z"       # an explicit zone wins


def test_the_configured_timezone_applies_to_both():
    update_section("dbox", {"timezone": "America/Cayenne"})
    assert parse_at("2099-12-01 18:00") == "2099-12-01T21:00:00Z"
    assert parse_when("2099-12-01 18:00") == datetime(2099, 12, 1, 21, 0, tzinfo=timezone.utc)
