"""A headless server: no keyring, no terminal, cron. Settings saved whatever happens, missing ones
exit 5 naming them, run-due with a missing secret exits 5 naming the variable."""

from datetime import datetime, timedelta, timezone

from test_send_support import import_contacts, people, store, template_store, twilio  # noqa: F401

from dbox.config import section


def test_setup_without_a_terminal_and_settings_missing_exits_5(cli):
    result = cli("channels", "setup", "email", "--set", "host=smtp.example.org")
    assert result.exit_code == 5
    assert "channel email: from_address, unsubscribe_mailto, unsubscribe_url still missing" in result.output
    assert "--set name=value" in result.output and "DBOX_SMTP_FROM" in result.output
    assert section("channels.email")["host"] == "smtp.example.org"       # what was given is kept


def test_run_due_with_the_token_missing_exits_5_naming_the_variable(store, tmp_path, twilio, cli, monkeypatch):
    import_contacts(store, tmp_path, people(2))
    # an hour ahead, not a second: on a busy machine the send itself can take longer than a second
    at = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert cli("send", "--sms", "-m", "Rappel", "--at", at, "--yes").exit_code == 0
    monkeypatch.delenv("DBOX_TWILIO_AUTH_TOKEN")
    from dbox.sending import service

    later = lambda: datetime.now(timezone.utc) + timedelta(hours=2)  # noqa: E731
    results = service.run_due(store, clock=later)
    error = service.run_due_failure(results)
    assert error.exit_code == 5
    assert "campaign(s) 1 not sent" in str(error) and "DBOX_TWILIO_AUTH_TOKEN" in (str(error) + (error.hint or ""))
    assert twilio.outbound() == []
