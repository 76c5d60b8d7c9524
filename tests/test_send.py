"""dbox send: SMS through the real twilio client to the local Twilio server, end to end."""

import pytest
from test_send_support import contact_id, import_contacts, mobile, people, share_number, smtp, twilio  # noqa: F401

from dbox.sending import service
from dbox.sending.compose import Template
from dbox.store import ledger

pytestmark = pytest.mark.engines


def _request(message="Bonjour {{ first_name }}, réunion jeudi.", **kw):
    return service.SendRequest(channel="sms", selection=service.Selection("TRUE", [], ""),
                               template=Template(message), **kw)


def test_send_sms_library_end_to_end(store, tmp_path, twilio):
    rows = people(5)
    rows[1]["sms"] = "non"                                 # a refusal (issue 12: its own reason)
    rows[2]["mobile"] = ""
    rows[3]["mobile"] = ""                                 # no mobile
    import_contacts(store, tmp_path, rows)
    share_number(store, mobile(0))                        # a later contact holding contact 0's number
    plan = service.plan_send(store, _request())
    assert plan.planned == 2
    assert plan.excluded == {"consent-refused": 1, "duplicate-address": 1, "no-address": 2}
    campaign_id, report = service.start(store, plan)
    assert report.status == "done" and report.accepted == 2
    sent = twilio.outbound()
    assert sorted(m["to"] for m in sent) == [mobile(0), mobile(4)]
    body = next(m["body"] for m in sent if m["to"] == mobile(0))
    assert body == "MonParti : Bonjour Prénom0, réunion jeudi.\nSTOP au 36173" or body.endswith("STOP au 36173")
    counts = ledger.state_counts(store, campaign_id)
    assert counts["accepted"] == 2 and counts["skipped"] == 4


def test_send_sms_cli_confirms_masks_and_reruns_resume(store, tmp_path, twilio, cli):
    import_contacts(store, tmp_path, people(3))
    result = cli("send", "--sms", "-m", "Bonjour {{ first_name }} !", "--yes")
    assert result.exit_code == 0, result.output
    assert "recipients: 3" in result.output
    assert "SMS segments: 3 (GSM-7: 3)" in result.output
    assert "estimated cost 0.15 EUR" in result.output
    assert "Campaign 1: 3 sent, 0 failed" in result.output
    assert mobile(0) not in result.output                  # masked: +336•••••000 style
    assert "+336\u2022\u2022\u2022\u2022\u2022000" in result.output
    assert len(twilio.outbound()) == 3
    again = cli("send", "--sms", "-m", "Bonjour {{ first_name }} !", "--yes")
    assert again.exit_code == 1
    assert "campaign 1 already sent this message to this audience" in again.output
    assert "--new-campaign" in again.output
    assert len(twilio.outbound()) == 3


def test_no_terminal_and_no_yes_refuses_and_writes_nothing(store, tmp_path, twilio, cli):
    import_contacts(store, tmp_path, people(2))
    result = cli("send", "--sms", "-m", "Salut")
    assert result.exit_code == 1
    assert "Not confirmed: no terminal to ask on" in result.output and "add --yes" in result.output
    assert twilio.outbound() == []
    assert list(ledger.list_campaigns(store)) == []


def test_dry_run_sends_nothing_and_writes_a_file(store, tmp_path, twilio, cli):
    import_contacts(store, tmp_path, people(3))
    out = tmp_path / "preview.csv"
    result = cli("send", "--sms", "-m", "Bonjour {{ first_name }}", "--dry-run", "-o", out)
    assert result.exit_code == 0, result.output
    assert "This was a dry run" in result.output
    text = out.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "contact_id,to,segments,subject,body"
    assert mobile(2) in text and "Bonjour Prénom2" in text and "STOP au 36173" in text
    assert twilio.outbound() == [] and list(ledger.list_campaigns(store)) == []
    terminal = cli("send", "--sms", "-m", "Bonjour {{ first_name }}", "--dry-run")
    assert "--- contact 1, to +336\u2022\u2022\u2022\u2022\u2022000, 1 segment(s) GSM-7" in terminal.output
    assert mobile(0) not in terminal.output


def test_limit_caps_a_first_run_and_the_same_command_continues(store, tmp_path, twilio, cli):
    import_contacts(store, tmp_path, people(5))
    first = cli("send", "--sms", "-m", "Test", "--limit", "2", "--yes")
    assert first.exit_code == 0, first.output
    assert "Campaign 1: 2 sent" in first.output and "--limit reached" in first.output
    assert len(twilio.outbound()) == 2
    second = cli("send", "--sms", "-m", "Test", "--yes")
    assert "Campaign 1 (stopped" in second.output and "3 message(s) left" in second.output
    assert len(twilio.outbound()) == 5
    assert sorted(twilio.counts_by_number().values()) == [1] * 5


def test_unknown_template_field_is_an_error_before_anything(store, tmp_path, twilio, cli):
    import_contacts(store, tmp_path, [{**p, "job": "Infirmière"} for p in people(2)])
    result = cli("send", "--sms", "-m", "Bonjour {{ prenom }}", "--yes")
    assert result.exit_code == 3
    assert "Error: message, line 1: unknown field {{ prenom }}" in result.output
    bad_custom = cli("send", "--sms", "-m", "{{ fields.metier }}", "--yes")
    assert bad_custom.exit_code == 3 and "unknown custom field fields.metier" in bad_custom.output
    assert "custom fields: profession" in bad_custom.output
    ok = cli("send", "--sms", "-m", "{{ fields.profession }} {{ last_name|default('ami') }}", "--dry-run")
    assert ok.exit_code == 0 and "Infirmière Nom0" in ok.output
    syntax = cli("send", "--sms", "-m", "Bonjour {{ first_name", "--yes")
    assert syntax.exit_code == 3 and "message, line 1: template error" in syntax.output
    assert twilio.outbound() == [] and list(ledger.list_campaigns(store)) == []


def test_sandbox_refuses_unsafe_templates(store, tmp_path, twilio, cli):
    import_contacts(store, tmp_path, people(1))
    result = cli("send", "--sms", "-m", "{{ first_name.__class__.__mro__ }}", "--dry-run")
    assert result.exit_code == 3
    assert twilio.outbound() == []


def test_sms_channel_without_optout_mention_refuses(store, tmp_path, twilio, cli):
    from dbox.config import load_config, save_config

    config = load_config()
    del config["channels"]["sms"]["optout_mention"]
    save_config(config)
    import_contacts(store, tmp_path, people(1))
    result = cli("send", "--sms", "-m", "Salut", "--yes")
    assert result.exit_code == 5
    assert "channel sms is not configured: optout_mention missing" in result.output
    assert "dbox channels setup sms" in result.output
    assert twilio.outbound() == []


def test_ucs2_segments_and_mention_not_doubled(store, tmp_path, twilio, cli):
    import_contacts(store, tmp_path, people(1))
    text = "Fête de quartier " + "x" * 60 + " STOP au 36173"
    result = cli("send", "--sms", "-m", text, "--dry-run")
    assert result.exit_code == 0
    assert "2 segment(s) UCS-2" in result.output
    assert result.output.count("STOP au 36173") == 1


def test_email_end_to_end_headers_one_connection(store, tmp_path, smtp, cli):
    import_contacts(store, tmp_path, people(4) + [{"first": "Sans", "last": "Accord", "email": "non@example.org",
                                                    "mail": "non"}])
    result = cli("send", "--email", "--subject", "Réunion à {{ commune }}", "-m",
                 "Bonjour {{ first_name }},\nà jeudi.", "--yes", "--workers", "1")
    assert result.exit_code == 0, result.output
    assert "recipients: 4" in result.output and "consent refused" in result.output   # "non" (issue 12)
    assert len(smtp.messages) == 4
    assert len({peer for *_x, peer in smtp.messages}) == 1          # one connection for the batch
    msg = smtp.to("p1@example.org")[0]
    assert msg["Subject"] == "Réunion à Grenoble"
    assert msg["From"] == "Mon Parti <equipe@monparti.example>"
    campaign = ledger.get_campaign(store, 1)
    cid = store.execute("SELECT id FROM contacts WHERE email = 'p1@example.org'").fetchone()[0]
    assert msg["Message-ID"] == f"<dbox.{campaign.uid}.{cid}@monparti.example>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsub = msg["List-Unsubscribe"]
    assert unsub.startswith("<mailto:desinscription@monparti.example?subject=unsubscribe%20")
    assert "<https://monparti.example/desinscription?t=" in unsub
    token = unsub.split("?t=")[1].rstrip(">")
    from dbox.sending.compose import verify_token

    assert verify_token(store, token) == cid
    assert verify_token(store, token[:-1] + ("0" if token[-1] != "0" else "1")) is None
    body = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert body.startswith("Bonjour Prénom1,\nà jeudi.")
    assert f"Pour ne plus recevoir nos messages : https://monparti.example/desinscription?t={token}" in body
    rows = store.execute("SELECT provider_id FROM campaign_recipients WHERE state = 'accepted'").fetchall()
    assert len(rows) == 4 and all(r[0].startswith(f"<dbox.{campaign.uid}.") for r in rows)


def test_email_html_part_and_template_subject(store, tmp_path, smtp, cli):
    import_contacts(store, tmp_path, people(1))
    tpl = tmp_path / "mail.txt"
    tpl.write_text("Subject: Invitation {{ first_name }}\n\nBonjour,\nvenez !\n", encoding="utf-8")
    html = tmp_path / "mail.html"
    html.write_text("<html><body><p>Bonjour {{ first_name }} &amp; co</p></body></html>", encoding="utf-8")
    result = cli("send", "--email", "-t", tpl, "--html", html, "--yes")
    assert result.exit_code == 0, result.output
    msg = smtp.messages[0][2]
    assert msg["Subject"] == "Invitation Prénom0"
    html_part = msg.get_body(("html",)).get_content()
    assert "Bonjour Prénom0 &amp; co" in html_part and "Se désinscrire" in html_part
    assert msg.get_body(("plain",)).get_content().replace("\r\n", "\n").startswith("Bonjour,\nvenez !")


def test_email_refused_recipient_fails_permanently_others_go(store, tmp_path, smtp, cli):
    import_contacts(store, tmp_path, people(3))
    smtp.refuse_rcpt["p1@example.org"] = "550 5.1.1 No such user p1@example.org"
    result = cli("send", "--email", "--subject", "S", "-m", "M", "--yes")
    assert result.exit_code == 0, result.output
    assert "2 sent, 1 failed" in result.output
    row = store.execute("SELECT state, reason, error FROM campaign_recipients WHERE address = 'p1@example.org'").fetchone()
    assert row[0] == "failed" and row[1] == "550"
    assert "p1@example.org" not in row[2] and "p\u2022\u2022\u2022@example.org" in row[2]


def test_email_temporary_refusal_is_retried(store, tmp_path, smtp, cli, monkeypatch):
    import_contacts(store, tmp_path, people(2))
    smtp.data_reply.append("451 4.3.0 Try again later")
    from dbox.sending import engine

    monkeypatch.setattr(engine, "BACKOFF_BASE", 0.01)
    result = cli("send", "--email", "--subject", "S", "-m", "M", "--yes")
    assert result.exit_code == 0, result.output
    assert len(smtp.messages) == 2 and "2 sent" in result.output


def test_email_login_and_a_refused_login_stops_the_run(store, tmp_path, cli, monkeypatch):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult
    from test_send_support import Inbox, free_port

    from dbox.config import update_section

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"equipe" and auth_data.password == b"bon-mot-de-passe"
        return AuthResult(success=ok, handled=False)

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=authenticator,
                            auth_require_tls=False)
    controller.start()
    try:
        update_section("channels.email", {"host": "127.0.0.1", "port": port, "security": "none",
                                          "username": "equipe", "from_address": "equipe@monparti.example", "timeout": 3,
                                          "unsubscribe_mailto": "d@monparti.example",
                                          "unsubscribe_url": "https://monparti.example/d"})
        import_contacts(store, tmp_path, people(2))
        monkeypatch.setenv("DBOX_SMTP_PASSWORD", "mauvais")
        refused = cli("send", "--email", "--subject", "S", "-m", "M", "--yes")
        assert refused.exit_code == 6
        assert "Error: campaign 1 stopped: SMTP login refused" in refused.output
        assert inbox.messages == [] and ledger.state_counts(store, 1)["planned"] == 2
        monkeypatch.setenv("DBOX_SMTP_PASSWORD", "bon-mot-de-passe")
        ok = cli("send", "--resume", "1", "--yes")
        assert ok.exit_code == 0, ok.output
        assert len(inbox.messages) == 2
        assert "?token=" in inbox.messages[0][2]["List-Unsubscribe"]
    finally:
        controller.stop()
