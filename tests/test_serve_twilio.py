"""Twilio's webhooks on the real server: signatures as Twilio computes them (the twilio library's
own RequestValidator), STOP honoured within the request, statuses by callback, the inbox, replies
read as RSVPs, and the rehearsal of the whole loop against the Twilio look-alike."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
import requests
from test_send_support import contact_id, import_contacts, mobile, people, share_number, twilio  # noqa: F401
from twilio.request_validator import RequestValidator

from dbox.store import ledger
from dbox.testing.twilio_server import DEFAULT_SID, DEFAULT_TOKEN
from serve_support import live_server  # noqa: F401  (a fixture)

pytestmark = pytest.mark.engines


def inbound_params(sid: str, from_: str, body: str) -> dict[str, str]:
    return {"MessageSid": sid, "SmsSid": sid, "AccountSid": DEFAULT_SID, "From": from_, "To": "+33700000000",
            "Body": body, "NumMedia": "0"}


def post(url: str, params: dict, *, signature: str | None = "sign", token: str = DEFAULT_TOKEN, sign_url=None,
         sign_params=None):
    """POST like Twilio: the signature over the URL and the params (or over others, to tamper)."""
    headers = {}
    if signature == "sign":
        headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(sign_url or url,
                                                                                  sign_params or params)
    elif signature is not None:
        headers["X-Twilio-Signature"] = signature
    return requests.post(url, data=params, headers=headers, timeout=10)


def snapshot(store):
    return [store.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
            for t in ("inbox_messages", "inbound_replies", "consents", "consent_events", "suppressions",
                      "status_callbacks", "campaign_recipients")]


def states(store, campaign_id: int) -> dict[str, int]:
    return {k: v for k, v in ledger.state_counts(store, campaign_id).items() if v}


def consent(store, cid: int, channel: str = "sms") -> str:
    return store.execute("SELECT status FROM consents WHERE contact_id = ? AND channel = ?", (cid, channel)).fetchone()[0]


@pytest.fixture
def server(store, twilio, live_server, monkeypatch):
    """dbox serve over the test's store; the sms channel on the look-alike, its public URL set."""
    srv = live_server()
    monkeypatch.setenv("DBOX_PUBLIC_URL", srv.url)
    return srv


def test_signatures_valid_tampered_missing_replayed(store, tmp_path, server):
    import_contacts(store, tmp_path, people(2))
    url = server.url + "/twilio/inbound"
    params = inbound_params("SM" + "a" * 32, mobile(0), "Bonjour, c'est pour quand ?")
    before = snapshot(store)

    assert post(url, params, signature=None).status_code == 403                      # missing
    assert post(url, params, signature="bm90IGEgc2lnbmF0dXJl").status_code == 403    # garbage
    tampered = dict(params, Body="STOP")                                             # signed, then changed
    assert post(url, tampered, sign_params=params).status_code == 403
    assert post(url, params, token="another-token").status_code == 403               # another account's key
    assert post(url, params, sign_url="https://elsewhere.example/twilio/inbound").status_code == 403
    assert post(server.url + "/twilio/status", params, sign_url=url).status_code == 403   # signed for the other hook
    assert snapshot(store) == before                                                 # nothing changed

    ok = post(url, params)
    assert ok.status_code == 200 and ok.headers["content-type"].startswith("text/xml")
    assert "<Response></Response>" in ok.text
    after = snapshot(store)
    rows = store.execute("SELECT provider_id, sender, body, contact_id, kind, read_at FROM inbox_messages").fetchall()
    assert rows == [(params["MessageSid"], mobile(0), "Bonjour, c'est pour quand ?", contact_id(store, mobile(0)),
                     "message", None)]

    replayed = post(url, params)                                                     # the same request again
    assert replayed.status_code == 200
    assert snapshot(store) == after


def test_stop_is_honoured_within_the_request(store, tmp_path, server, twilio, cli):
    import_contacts(store, tmp_path, people(3))
    other = share_number(store, mobile(0))
    first = contact_id(store, mobile(0))
    answer = post(server.url + "/twilio/inbound", inbound_params("SM" + "b" * 32, mobile(0), "Stop SMS"))
    assert answer.status_code == 200
    # when the answer arrives, the consent is already withdrawn and the number suppressed
    assert consent(store, first) == "withdrawn" and consent(store, other) == "withdrawn"
    assert consent(store, first, "email") == "granted"
    assert store.execute("SELECT count(*) FROM suppressions WHERE channel = 'sms' AND reason = 'stop-reply'"
                         ).fetchone()[0] == 1
    assert store.execute("SELECT kind, read_at IS NOT NULL FROM inbox_messages").fetchall() == [("optout", 1)]
    for word, n in (("ARRET", 1), ("Arrêt", 2), ("stop.", 3)):
        sid = f"SM{n:032d}"
        assert post(server.url + "/twilio/inbound", inbound_params(sid, "+33799999999", word)).status_code == 200
    send = cli("send", "--sms", "-m", "Info", "--yes")
    assert send.exit_code == 0, send.output
    assert sorted(m["to"] for m in twilio.outbound()) == [mobile(1), mobile(2)]


def test_statuses_arrive_by_callback(store, tmp_path, server, twilio, cli):
    import_contacts(store, tmp_path, people(4))
    twilio.mark_undeliverable(mobile(1))
    twilio.mark_failing_on_delivery(mobile(2), 21610)       # replied STOP to the provider meanwhile
    twilio.mark_failing_on_delivery(mobile(3), 21211)       # not a valid number after all
    result = cli("send", "--sms", "-m", "Réunion jeudi", "--yes")
    assert result.exit_code == 0, result.output
    assert {m["_status_callback"] for m in twilio.outbound()} == {server.url + "/twilio/status"}
    assert states(store, 1) == {"accepted": 4}

    posted = twilio.push_statuses()
    assert all(code == 200 for _, _, code in posted)
    assert sorted(s for _, s, _ in posted) == ["delivered", "failed", "failed", "sent", "sent", "undelivered"]
    assert states(store, 1) == {"delivered": 1, "undelivered": 1, "failed": 2}
    reasons = dict(store.execute("SELECT address, reason FROM campaign_recipients"))
    assert reasons[mobile(2)] == "21610" and reasons[mobile(3)] == "21211"
    assert consent(store, contact_id(store, mobile(2))) == "withdrawn"          # 21610: an opt-out
    assert store.execute("SELECT status FROM contact_points WHERE value = ?", (mobile(3),)).fetchone()[0] == "invalid"

    before = snapshot(store)
    sid, status, _ = posted[0]
    replay = post(server.url + "/twilio/status", {"MessageSid": sid, "MessageStatus": status,
                                                  "AccountSid": DEFAULT_SID})
    assert replay.status_code == 200 and snapshot(store) == before
    unknown = post(server.url + "/twilio/status", {"MessageSid": "SM" + "f" * 32, "MessageStatus": "delivered"})
    assert unknown.status_code == 200 and snapshot(store) == before
    forged = post(server.url + "/twilio/status", {"MessageSid": sid, "MessageStatus": "failed"}, token="x")
    assert forged.status_code == 403 and snapshot(store) == before
    assert "No campaign waits for delivery statuses." in cli("campaigns", "sync").output


def test_no_status_callback_without_a_public_url(store, tmp_path, twilio, cli, monkeypatch):
    monkeypatch.delenv("DBOX_PUBLIC_URL", raising=False)
    import_contacts(store, tmp_path, people(1))
    assert cli("send", "--sms", "-m", "Info", "--yes").exit_code == 0
    assert [m["_status_callback"] for m in twilio.outbound()] == [None]


def _action(cli, title="Réunion publique à la Villeneuve"):
    when = (datetime.now() + timedelta(days=3)).strftime("%Y-%m-%dT18:00")
    result = cli("action", "create", title, "--type", "reunion", "--date", when)
    assert result.exit_code == 0, result.output
    return 1


def _invite(cli, action=1):
    result = cli("action", "invite", str(action), "id > 0", "--sms", "--yes", "-m", "{{ first_name }}, réunion {{ action.when }}. "
                                                                          "Répondez OUI ou NON.")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("body, answer", [("OUI", "yes"), ("oui !", "yes"), ("Oui je serai là jeudi !", "yes"),
                                          ("je viens", "yes"), ("NON", "no"), ("Non, désolée", "no"),
                                          ("je ne viens pas", "no"), ("peut-être", None), ("oui mais je ne pourrai "
                                                                                           "pas rester", None),
                                          ("C'est où ?", None)])
def test_answers_to_an_invitation_become_rsvps(store, tmp_path, server, twilio, cli, body, answer):
    import_contacts(store, tmp_path, people(1))
    _action(cli)
    _invite(cli)
    twilio.inbound_url = server.url + "/twilio/inbound"
    msg = twilio.add_inbound(mobile(0), body)
    assert msg["_webhook_status"] == 200
    cid = contact_id(store, mobile(0))
    rsvp = store.execute("SELECT rsvp, source FROM action_people WHERE action_id = 1 AND contact_id = ?",
                         (cid,)).fetchone()
    row = store.execute("SELECT kind, answer, read_at IS NULL, campaign_id, action_id, body FROM inbox_messages"
                        ).fetchone()
    if answer is None:
        assert rsvp is None
        assert row == ("message", None, 1, 1, 1, body)        # unread: a person reads it
    else:
        assert rsvp == (answer, "sms")
        assert row == ("rsvp", answer, 0, 1, 1, body)
    assert len(twilio.outbound()) == 1                        # no acknowledgement unless the action asks


def test_an_acknowledgement_only_when_the_action_says_so(store, tmp_path, server, twilio, cli):
    import_contacts(store, tmp_path, people(2))
    _action(cli)
    _invite(cli)
    ack = cli("inbox", "ack", "1", "--yes-text", "Merci {{ first_name }}, à jeudi !")
    assert ack.exit_code == 0, ack.output
    twilio.inbound_url = server.url + "/twilio/inbound"
    twilio.add_inbound(mobile(0), "Oui")
    twilio.add_inbound(mobile(1), "Non")                      # no text for "no": nothing sent
    acks = [m for m in twilio.outbound() if m["body"].startswith("Merci")]
    assert [(m["to"], m["body"].split("\n")[0]) for m in acks] == [(mobile(0), "Merci Prénom0, à jeudi !")]
    assert len(twilio.outbound()) == 3


def test_inbox_commands(store, tmp_path, server, twilio, cli):
    import_contacts(store, tmp_path, people(2))
    twilio.inbound_url = server.url + "/twilio/inbound"
    assert cli("send", "--sms", "-m", "Fête du quartier samedi", "--yes").exit_code == 0
    twilio.add_inbound(mobile(0), "Super, on sera 3 avec les enfants")
    twilio.add_inbound(mobile(1), "Qui êtes-vous ?")
    twilio.add_inbound("+33799999999", "Bonjour")
    cid = contact_id(store, mobile(0))

    listed = json.loads(cli("inbox", "--format", "json").output)
    assert [m["body"] for m in listed] == ["Bonjour", "Qui êtes-vous ?", "Super, on sera 3 avec les enfants"]
    assert listed[2]["contact_id"] == cid and listed[2]["name"] == "Prénom0 Nom0" and listed[2]["campaign"] == 1
    assert listed[0]["contact_id"] is None and listed[0]["campaign"] is None
    assert json.loads(cli("inbox", "list", "--format", "json").output) == listed
    mine = json.loads(cli("inbox", "--contact", str(cid), "-f", "json").output)
    assert [m["body"] for m in mine] == ["Super, on sera 3 avec les enfants"]
    assert len(json.loads(cli("inbox", "--campaign", "1", "-f", "json").output)) == 2

    shown = cli("inbox", "read", mobile(0))
    assert shown.exit_code == 0, shown.output
    assert "Super, on sera 3 avec les enfants" in shown.output and "1 message(s) marked read." in shown.output
    after = json.loads(cli("inbox", "-f", "json").output)
    assert [m["status"] for m in after] == ["unread", "unread", "read"]          # unread first
    assert json.loads(cli("inbox", "--unread", "-f", "json").output)[0]["status"] == "unread"

    replied = cli("inbox", "reply", str(cid), "-m", "Parfait, à samedi !", "--yes")
    assert replied.exit_code == 0, replied.output
    assert [m["body"].split("\n")[0] for m in twilio.outbound() if m["to"] == mobile(0)][-1] == "Parfait, à samedi !"
    again = cli("inbox", "reply", str(cid), "-m", "Parfait, à samedi !", "--yes")   # exactly once
    assert again.exit_code != 0 and "already sent" in again.output
    assert sum(1 for m in twilio.outbound() if m["body"].startswith("Parfait")) == 1

    post(server.url + "/twilio/inbound", inbound_params("SM" + "c" * 32, mobile(1), "STOP"))
    refused = cli("inbox", "reply", mobile(1), "-m", "Désolé du dérangement", "--yes")
    assert refused.exit_code == 3 and "cannot be messaged" in refused.output     # consent withdrawn: not sent
    assert not any(m["body"].startswith("Désolé") for m in twilio.outbound())


def test_the_inbox_follows_privacy_export_and_forget(store, tmp_path, server, twilio, cli):
    import_contacts(store, tmp_path, people(1))
    twilio.inbound_url = server.url + "/twilio/inbound"
    twilio.add_inbound(mobile(0), "Mon voisin veut aussi venir")
    cid = contact_id(store, mobile(0))
    exported = cli("privacy", "export", str(cid), "--format", "json")
    assert exported.exit_code == 0, exported.output
    assert "Mon voisin veut aussi venir" in exported.output
    assert cli("privacy", "forget", str(cid), "--yes").exit_code == 0
    assert store.execute("SELECT count(*) FROM inbox_messages").fetchone()[0] == 0


def test_retention_deletes_messages_from_unknown_numbers(store, tmp_path, server, twilio, cli):
    from datetime import date

    from dbox.privacy import retention

    import_contacts(store, tmp_path, people(1))
    twilio.inbound_url = server.url + "/twilio/inbound"
    twilio.add_inbound(mobile(0), "Je serai là")
    twilio.add_inbound("+33799999999", "Qui est-ce ?")
    rules = retention.load_rules()
    assert retention.plan(store, rules).inbox_due == 0
    later = date.today() + timedelta(days=80)                        # past single_message_months (2)
    plan = retention.plan(store, rules, later)
    assert plan.inbox_due == 1
    report = retention.purge(store, plan)
    assert report.inbox_purged == 1
    assert [b for (b,) in store.execute("SELECT body FROM inbox_messages")] == ["Je serai là"]
