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
    at = (datetime.now(timezone.utc) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert cli("send", "--sms", "-m", "Rappel", "--at", at, "--yes").exit_code == 0
    monkeypatch.delenv("DBOX_TWILIO_AUTH_TOKEN")
    from dbox.sending import service

    later = lambda: datetime.now(timezone.utc) + timedelta(minutes=5)  # noqa: E731
    results = service.run_due(store, clock=later)
    error = service.run_due_failure(results)
    assert error is not None, results
    assert error.exit_code == 5
    assert "campaign(s) 1 not sent" in str(error) and "DBOX_TWILIO_AUTH_TOKEN" in (str(error) + (error.hint or ""))
    assert twilio.outbound() == []


def test_an_explicit_secrets_file_for_a_server_without_keyring(cli, tmp_path, monkeypatch):
    """Rotating OAuth tokens need a store dbox can write: a file the user names, 0600, refused wider."""
    import os
    import stat

    import keyring
    from keyring.backends import fail

    from dbox.secrets import get_secret, set_secret

    original = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        secrets_file = tmp_path / "private" / "dbox-secrets.json"
        monkeypatch.setenv("DBOX_SECRETS_FILE", str(secrets_file))
        result = cli("channels", "setup", "sms", "--set", "account_sid=AC" + "1" * 32, "--set", "sender=MonParti",
                     "--set", "optout_mention=STOP au 36173", "--secret-stdin", "auth_token", input="jeton\n")
        assert result.exit_code == 0, result.output
        assert "Channel sms: ready." in result.output
        assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
        assert get_secret("sms.auth_token") == "jeton"
        set_secret("social/x/token", '{"access_token": "a2", "refresh_token": "r2"}')    # a refresh rotates it
        assert "r2" in get_secret("social/x/token")
        os.chmod(secrets_file, 0o644)
        refused = cli("send", "--sms", "-m", "Salut", "--yes")
        assert refused.exit_code == 5
        assert "has mode 644, readable by others: run chmod 600" in refused.output
    finally:
        keyring.set_keyring(original)
