"""Profiles (issue 14 item 7): one config file, several clients; no data crosses profiles.

Each test writes a config.toml with two clients, alpha and bravo, each with its own store file and
SMS settings, and runs dbox through its command line as an agency would.
"""

import json
from pathlib import Path

import pytest
import tomli_w

from dbox.testing.twilio_server import DEFAULT_SID, DEFAULT_TOKEN, TwilioServer

HEADER = "Prénom;Nom;Portable;Code postal;Commune;Accord SMS"


def write_config(folder: Path, base_url: str = "http://127.0.0.1:9") -> Path:
    config = {
        "channels": {"sms": {"sender": "TOPLEVEL", "optout_mention": "STOP TOP"}},
        "profiles": {
            name: {"db": str(folder / f"{name}.sqlite3"),
                   "channels": {"sms": {"account_sid": DEFAULT_SID, "sender": name.upper(), "base_url": base_url,
                                        "optout_mention": f"STOP {name.upper()}", "quiet_hours": False}}}
            for name in ("alpha", "bravo")
        },
    }
    path = folder / "config" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tomli_w.dumps(config).encode())
    return path


def contacts_file(folder: Path, name: str, first: str, numbers: range) -> Path:
    lines = [HEADER] + [f"{first}{i};Nom{i};061{i:07d};38000;Grenoble;oui" for i in numbers]
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def agency(tmp_path, monkeypatch):
    """Two profiles in the config file; DBOX_DB unset (a profile names its own store)."""
    monkeypatch.delenv("DBOX_DB", raising=False)
    monkeypatch.delenv("DBOX_PROFILE", raising=False)
    write_config(tmp_path)
    return tmp_path


def test_each_profile_has_its_own_store(agency, cli):
    alpha = cli("--profile", "alpha", "import", contacts_file(agency, "a.csv", "Alice", range(3)), "--no-show-mapping")
    assert alpha.exit_code == 0, alpha.output
    bravo = cli("--profile", "bravo", "import", contacts_file(agency, "b.csv", "Bruno", range(10, 12)),
                "--no-show-mapping")
    assert bravo.exit_code == 0, bravo.output
    assert (agency / "alpha.sqlite3").exists() and (agency / "bravo.sqlite3").exists()

    listed = cli("--profile", "alpha", "contacts", "list", "--format", "json")
    names = {row["first_name"] for row in json.loads(listed.stdout)}
    assert names == {"Alice0", "Alice1", "Alice2"}
    listed = cli("--profile", "bravo", "contacts", "list", "--format", "json")
    assert {row["first_name"] for row in json.loads(listed.stdout)} == {"Bruno10", "Bruno11"}

    saved = cli("--profile", "alpha", "segment", "save", "alices", "first_name = Alice1")
    assert saved.exit_code == 0, saved.output
    assert "alices" in cli("--profile", "alpha", "segment", "list").output
    bravo_segments = cli("--profile", "bravo", "segment", "list", "--format", "json")
    assert json.loads(bravo_segments.stdout) == []
    unknown = cli("--profile", "bravo", "segment", "query", "--segment", "alices")
    assert unknown.exit_code != 0 and "alices" in unknown.output


def test_a_send_uses_only_its_profiles_settings_and_secrets(agency, cli, monkeypatch):
    with TwilioServer(delivery_delay=0) as twilio:
        write_config(agency, twilio.base_url)
        for name, first, numbers in (("alpha", "Alice", range(3)), ("bravo", "Bruno", range(10, 12))):
            assert cli("--profile", name, "import", contacts_file(agency, f"{name}.csv", first, numbers),
                       "--no-show-mapping").exit_code == 0
        setup = cli("--profile", "alpha", "channels", "setup", "sms", "--secret-stdin", "auth_token",
                    input=DEFAULT_TOKEN + "\n")
        assert setup.exit_code == 0, setup.output

        # bravo has no token of its own: alpha's is never used for it
        refused = cli("--profile", "bravo", "send", "--sms", "-m", "Bonjour", "--yes")
        assert refused.exit_code == 5, refused.output
        assert twilio.outbound() == []

        sent = cli("--profile", "alpha", "send", "--sms", "-m", "Bonjour {{ first_name }}", "--yes")
        assert sent.exit_code == 0, sent.output
        assert sorted(m["to"] for m in twilio.outbound()) == [f"+3361{i:07d}" for i in range(3)]
        assert {m["from"] for m in twilio.outbound()} == {"ALPHA"}
        assert all("STOP ALPHA" in m["body"] for m in twilio.outbound())

        assert cli("--profile", "bravo", "channels", "setup", "sms", "--secret-stdin", "auth_token",
                   input=DEFAULT_TOKEN + "\n").exit_code == 0
        monkeypatch.setenv("DBOX_PROFILE", "bravo")          # the environment picks a profile too
        sent = cli("send", "--sms", "-m", "Bonjour {{ first_name }}", "--yes")
        assert sent.exit_code == 0, sent.output
        bravo_msgs = [m for m in twilio.outbound() if m["from"] == "BRAVO"]
        assert sorted(m["to"] for m in bravo_msgs) == ["+33610000010", "+33610000011"]
        assert all("STOP BRAVO" in m["body"] and "Alice" not in m["body"] for m in bravo_msgs)
        assert len(twilio.outbound()) == 5

    keyring = json.loads((agency / "keyring.json").read_text())
    assert sorted(keyring) == ["dbox\x00profile:alpha:sms.auth_token", "dbox\x00profile:bravo:sms.auth_token"]
    # bravo's campaign list never shows alpha's campaign
    monkeypatch.delenv("DBOX_PROFILE")
    campaigns = cli("--profile", "bravo", "campaigns", "list", "--format", "json")
    assert len(json.loads(campaigns.stdout)) == 1


def test_settings_written_under_a_profile_stay_in_it(agency, cli):
    from dbox import config

    result = cli("--profile", "bravo", "channels", "setup", "sms", "--set", "sender=NOUVEAU")
    assert "Saved sender for channel sms" in result.output   # exit 5: bravo's token is still missing
    whole = config.load_file()
    assert whole["profiles"]["bravo"]["channels"]["sms"]["sender"] == "NOUVEAU"
    assert whole["profiles"]["alpha"]["channels"]["sms"]["sender"] == "ALPHA"
    assert whole["channels"]["sms"]["sender"] == "TOPLEVEL"
    # outside any profile, the top level is in force and holds no profile
    assert config.active_profile() is None
    assert config.section("channels.sms")["sender"] == "TOPLEVEL" and "profiles" not in config.load_config()
    config.use_profile("alpha")
    try:
        assert config.section("channels.sms")["sender"] == "ALPHA"
        assert config.section("dbox") == {}          # nothing inherited from the top level
    finally:
        config.forget_profile()


def test_profiles_list_and_mistakes(agency, cli, monkeypatch):
    listed = cli("--profile", "bravo", "profiles", "list", "--format", "json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert [(r["profile"], r["active"], r["channels"]) for r in rows] == [("alpha", False, "sms"), ("bravo", True, "sms")]
    assert rows[0]["store"] == str(agency / "alpha.sqlite3")
    table = cli("profiles", "list")
    assert "alpha" in table.output and "bravo" in table.output

    unknown = cli("--profile", "charlie", "contacts", "count")
    assert unknown.exit_code == 3
    assert "Error: no profile 'charlie'" in unknown.output
    bad = cli("--profile", "../x", "contacts", "count")
    assert bad.exit_code == 3 and "profile name" in bad.output
    both = cli("--db", agency / "other.sqlite3", "--profile", "alpha", "contacts", "count")
    assert both.exit_code == 3 and "--profile alpha names its own store; --db chooses another" in both.output
    monkeypatch.setenv("DBOX_DB", str(agency / "other.sqlite3"))
    env = cli("--profile", "alpha", "contacts", "count")
    assert env.exit_code == 3 and "DBOX_DB chooses another" in env.output
    assert not (agency / "other.sqlite3").exists()


def test_a_profile_without_db_gets_its_own_file(agency, cli, monkeypatch):
    from dbox.config import load_file

    monkeypatch.setenv("XDG_DATA_HOME", str(agency / "data"))
    whole = load_file()
    whole["profiles"]["charlie"] = {"channels": {}}
    (agency / "config" / "config.toml").write_bytes(tomli_w.dumps(whole).encode())
    result = cli("--profile", "charlie", "init")
    assert result.exit_code == 0, result.output
    assert (agency / "data" / "dbox" / "profiles" / "charlie.sqlite3").exists()
    password = cli("profiles", "list", "--format", "json")
    assert any(r["profile"] == "charlie" for r in json.loads(password.stdout))


def test_a_password_in_a_profiles_url_is_never_shown():
    from dbox.profiles import mask_url

    assert mask_url("postgresql://agence:s3cret@db.example:5432/dupont") == "postgresql://agence:•••@db.example:5432/dupont"
    assert mask_url("postgresql://agence@db.example/dupont") == "postgresql://agence@db.example/dupont"


def test_a_profile_can_name_a_postgresql_store(agency, cli, pg_server, pg_database, monkeypatch):
    """An agency's client on the shared server: the profile's db is a URL; the other stays a file."""
    from dbox.config import load_file

    monkeypatch.delenv("DBOX_DB")              # pg_database set it; the profile names the store instead
    whole = load_file()
    whole["profiles"]["alpha"]["db"] = pg_database
    (agency / "config" / "config.toml").write_bytes(tomli_w.dumps(whole).encode())
    init = cli("--profile", "alpha", "init")
    assert init.exit_code == 0, init.output
    assert pg_database in init.output
    assert cli("--profile", "alpha", "tag", "list", "--format", "json").exit_code == 0
    listed = json.loads(cli("profiles", "list", "--format", "json").stdout)
    assert [r["store"] for r in listed] == [pg_database, str(agency / "bravo.sqlite3")]
    assert not (agency / "alpha.sqlite3").exists()
