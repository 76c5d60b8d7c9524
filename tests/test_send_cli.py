"""The sending commands as a person or cron uses them: prompts, --log, help speed, resume checks."""

import subprocess
import sys

import pytest
from test_send_support import import_contacts, mobile, people, twilio  # noqa: F401

from dbox.store import ledger

pytestmark = pytest.mark.engines


def test_dbox_help_does_not_import_provider_libraries():
    code = ("import sys; from dbox.cli import app; "
            "print(sorted(m for m in ('twilio', 'jinja2', 'holidays', 'aiosmtpd', 'gsm0338', 'keyring') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_answering_no_at_the_terminal_sends_nothing(store, tmp_path, twilio, cli, monkeypatch):
    monkeypatch.setattr("dbox.console.is_interactive", lambda: True)
    import_contacts(store, tmp_path, people(2))
    result = cli("send", "--sms", "-m", "Info", input="n\n")
    assert result.exit_code == 1
    assert "Send 2 SMS now? [y/N]" in result.output and "Aborted" in result.output
    assert twilio.outbound() == [] and list(ledger.list_campaigns(store)) == []
    yes = cli("send", "--sms", "-m", "Info", input="y\n")
    assert yes.exit_code == 0, yes.output
    assert len(twilio.outbound()) == 2


def test_log_file_gets_one_masked_line_per_step(store, tmp_path, twilio, cli):
    import_contacts(store, tmp_path, people(3))
    twilio.mark_invalid(mobile(1))
    log = tmp_path / "send.log"
    assert cli("send", "--sms", "-m", "Info", "--yes", "--log", log).exit_code == 0
    lines = log.read_text().splitlines()
    steps = [line.split()[2] for line in lines]
    assert steps == ["created", "started", "failed", "done"]
    assert lines[0].split()[1] == "campaign=1"
    assert "to=+336\u2022\u2022\u2022\u2022\u2022001 code=21211" in lines[2]
    assert mobile(1) not in log.read_text()
    assert "accepted=2 failed=1 skipped=0 in_doubt=0 left=0" in lines[3]
    assert oct(log.stat().st_mode & 0o777) == "0o600"


def test_setup_at_the_terminal_asks_and_hides_the_token(cli, tmp_path, monkeypatch):
    import json

    monkeypatch.setattr("dbox.console.is_interactive", lambda: True)
    answers = "\n".join(["AC" + "2" * 32, "tok-typed", "MonParti", "", "STOP au 36173", "", "", "", ""]) + "\n"
    result = cli("channels", "setup", "sms", input=answers)
    assert result.exit_code == 0, result.output
    assert "Twilio Auth Token" in result.output and "tok-typed" not in result.output
    assert "Channel sms: ready." in result.output
    assert json.loads((tmp_path / "keyring.json").read_text()) == {"dbox\x00sms.auth_token": "tok-typed"}


def test_resume_checks_its_arguments(store, tmp_path, twilio, cli):
    result = cli("send", "--resume", "1", "--sms", "-m", "x", "--yes")
    assert result.exit_code == 3
    assert "--resume takes a campaign id only" in result.output
    missing = cli("send", "--resume", "4", "--yes")
    assert missing.exit_code == 3 and "Error: no campaign with id 4" in missing.output
    both = cli("send", "--sms", "--email", "-m", "x", "--yes")
    assert both.exit_code == 3 and "choose the channel: --sms or --email" in both.output
    neither = cli("send", "-m", "x", "--yes")
    assert neither.exit_code == 3
    no_text = cli("send", "--sms", "--yes")
    assert no_text.exit_code == 3 and "--message TEXT or --template FILE" in no_text.output
    bad_file = cli("send", "--sms", "-t", tmp_path / "nope.txt", "--yes")
    assert bad_file.exit_code == 3 and "nope.txt: cannot read the template" in bad_file.output
    no_subject = cli("send", "--email", "-m", "x", "--yes")
    assert no_subject.exit_code == 3 and "an e-mail needs a subject" in no_subject.output


def test_send_to_a_segment_expression(store, tmp_path, twilio, cli):
    rows = people(4)
    for r in rows[:2]:
        r["job"] = "Infirmière"
    import_contacts(store, tmp_path, rows)
    result = cli("send", "--sms", "field.profession = Infirmière", "-m", "Info", "--yes")
    assert result.exit_code == 0, result.output
    assert "recipients: 2" in result.output
    assert sorted(twilio.counts_by_number()) == [mobile(0), mobile(1)]
    bad = cli("send", "--sms", "field.profession = = x", "-m", "Info", "--yes")
    assert bad.exit_code == 3


def test_rerunning_a_scheduled_command_does_not_send_early(store, tmp_path, twilio, cli):
    from datetime import datetime, timedelta, timezone

    import_contacts(store, tmp_path, people(2))
    at = (datetime.now(timezone.utc) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert cli("send", "--sms", "-m", "Plus tard", "--at", at, "--yes").exit_code == 0
    again = cli("send", "--sms", "-m", "Plus tard", "--at", at, "--yes")
    assert again.exit_code == 0
    assert "Campaign 1 is already scheduled for" in again.output and "add --now" in again.output
    assert twilio.outbound() == []
    now = cli("send", "--sms", "-m", "Plus tard", "--now", "--yes")
    assert now.exit_code == 0 and len(twilio.outbound()) == 2
    assert len(list(ledger.list_campaigns(store))) == 1


def test_segment_counting_agrees_with_the_gsm_codec():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from dbox.sending.sms_parts import _pack, count

    alphabet = st.sampled_from(list("abcXYZ 0123456789.,!?-éèàùÉÇç€[]{}^~|\\\n@£$¥ÑÜßêô😀`'\"") + ["\u2019"])

    @settings(max_examples=300, deadline=None)
    @given(st.text(alphabet, max_size=400))
    def agree(text):
        parts = count(text)
        try:
            encoded = text.encode("gsm03.38")
        except UnicodeEncodeError:
            assert parts.encoding == "UCS-2"
            return
        assert parts.encoding == "GSM-7" and parts.units == len(encoded)
        expected = 1 if len(encoded) <= 160 else _pack([len(ch.encode("gsm03.38")) for ch in text], 153)
        assert parts.segments == expected

    agree()
    assert count("a" * 160).segments == 1 and count("a" * 161).segments == 2
    assert count("a" * 152 + "€").segments == 1 and count("a" * 159 + "€").segments == 2
    assert count("ê" * 70).segments == 1 and count("ê" * 71).segments == 2
    assert count("😀" * 35).units == 70 and count("😀" * 35).segments == 1
    assert count("a" * 66 + "😀" + "b" * 10).segments == 2     # 78 units: a pair never straddles parts


def test_sends_are_recorded_in_the_audit_log(store, tmp_path, twilio, cli):
    import json

    import_contacts(store, tmp_path, people(2))
    assert cli("send", "--sms", "-m", "Info", "--yes").exit_code == 0
    row = store.execute("SELECT command, count, detail FROM audit_log WHERE command = 'send'").fetchone()
    assert row[0] == "send" and row[1] == 2
    assert json.loads(row[2])["campaign"] == 1 and mobile(0) not in row[2]
