"""The rehearsal of issue 15's live loop: ``dbox serve`` as its own process (as a service runs it)
and the Twilio look-alike calling its webhooks, signed as Twilio signs them. A campaign's statuses
arrive by callback, a STOP is honoured within the request, a reply is in ``dbox inbox`` with its
contact, and an OUI to an invitation becomes an RSVP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta

import pytest
from test_send_support import contact_id, free_port, import_contacts, mobile, people, twilio  # noqa: F401

from dbox.store import ledger


@pytest.fixture
def serve_process(store, twilio, monkeypatch):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("DBOX_PUBLIC_URL", url)
    proc = subprocess.Popen([sys.executable, "-m", "dbox", "serve", "--port", str(port)], env=dict(os.environ),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stderr:
            if "Uvicorn running" in line:
                break
        else:
            raise AssertionError("dbox serve did not start")
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.mark.slow
def test_rehearsal(store, tmp_path, twilio, serve_process, cli):
    url, proc = serve_process
    twilio.inbound_url = url + "/twilio/inbound"
    import_contacts(store, tmp_path, people(4))
    twilio.mark_undeliverable(mobile(3))
    when = (datetime.now() + timedelta(days=4)).strftime("%Y-%m-%dT18:30")
    assert cli("action", "create", "Réunion publique Villeneuve", "--type", "reunion", "--date", when).exit_code == 0
    invite = cli("action", "invite", "1", "id > 0", "--sms", "--yes",
                 "-m", "{{ first_name }}, réunion publique {{ action.when }}. Répondez OUI ou NON.")
    assert invite.exit_code == 0, invite.output

    # the campaign's statuses arrive by callback: no campaigns sync
    posted = twilio.push_statuses()
    assert posted and all(code == 200 for _, _, code in posted)
    states = {k: v for k, v in ledger.state_counts(store, 1).items() if v}
    assert states == {"delivered": 3, "undelivered": 1}

    # a STOP is honoured within the request
    stop = twilio.add_inbound(mobile(0), "STOP")
    assert stop["_webhook_status"] == 200
    alice = contact_id(store, mobile(0))
    assert store.execute("SELECT status FROM consents WHERE contact_id = ? AND channel = 'sms'",
                         (alice,)).fetchone()[0] == "withdrawn"

    # an OUI becomes an RSVP; an uncertain answer waits in the inbox with its contact
    assert twilio.add_inbound(mobile(1), "Oui je serai là jeudi !")["_webhook_status"] == 200
    assert twilio.add_inbound(mobile(2), "Peut-être, je vous redis")["_webhook_status"] == 200
    bruno, chloe = contact_id(store, mobile(1)), contact_id(store, mobile(2))
    assert store.execute("SELECT contact_id, rsvp, source FROM action_people").fetchall() == [(bruno, "yes", "sms")]
    unread = json.loads(cli("inbox", "--unread", "--format", "json").output)
    assert [(m["contact_id"], m["name"], m["body"], m["action"]) for m in unread] == [
        (chloe, "Prénom2 Nom2", "Peut-être, je vous redis", 1)]
    everything = json.loads(cli("inbox", "--campaign", "1", "-f", "json").output)
    assert {m["kind"] for m in everything} == {"message", "rsvp", "optout"}

    # the next campaign leaves out the number that said STOP, and the server stops cleanly
    send = cli("send", "--sms", "-m", "Merci à tous", "--yes")
    assert send.exit_code == 0, send.output
    assert mobile(0) not in {m["to"] for m in twilio.outbound() if m["body"].startswith("Merci")}
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0
    access = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert {a["route"] for a in access} == {"/twilio/inbound", "/twilio/status"}
    assert mobile(0) not in err and "Peut-être" not in err and "127.0.0.1" not in err.replace(url, "")
