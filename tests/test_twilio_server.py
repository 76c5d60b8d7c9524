"""The rehearsal Twilio server, driven by the real twilio client (and plain HTTP for its controls)."""

import json
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from dbox.testing.twilio_server import DEFAULT_SID, DEFAULT_TOKEN, TwilioServer


@pytest.fixture
def server():
    with TwilioServer() as s:
        yield s


def client_for(server, token=DEFAULT_TOKEN):
    client = Client(DEFAULT_SID, token)
    client.api.base_url = server.base_url
    return client


def test_create_fetch_and_delivery(server):
    client = client_for(server)
    msg = client.messages.create(to="+33612345678", from_="MonParti", body="Bonjour", validity_period=600)
    assert msg.sid.startswith("SM") and msg.status == "queued" and msg.direction == "outbound-api"
    fetched = client.messages(msg.sid).fetch()
    assert fetched.status == "delivered" and fetched.body == "Bonjour" and fetched.to == "+33612345678"
    assert server.outbound()[0]["_validity"] == 600
    server.mark_undeliverable("+33600000001")
    bad = client.messages.create(to="+33600000001", messaging_service_sid="MG" + "0" * 32, body="x")
    assert client.messages(bad.sid).fetch().status == "undelivered"
    with pytest.raises(TwilioRestException) as info:
        client.messages("SM" + "f" * 32).fetch()
    assert info.value.status == 404


def test_list_with_filters_and_pages(server):
    client = client_for(server)
    for i in range(5):
        client.messages.create(to=f"+3361234567{i}", from_="MonParti", body=f"m{i}")
    server.add_inbound("+33612345670", "STOP")
    everything = client.messages.list(page_size=2)
    assert len(everything) == 6 and everything[0].direction == "inbound"     # newest first, paged by 2
    assert server.request_count("list") == 3
    to_one = client.messages.list(to="+33612345673")
    assert [m.body for m in to_one] == ["m3"]
    later = client.messages.list(date_sent_after=datetime.now(timezone.utc) + timedelta(hours=1))
    assert later == []
    inbound = [m for m in client.messages.stream(from_="+33612345670") if m.direction == "inbound"]
    assert [m.body for m in inbound] == ["STOP"]


def test_faults_on_demand(server):
    client = client_for(server)
    server.fail_next(1, status=429, retry_after=3)
    with pytest.raises(TwilioRestException) as info:
        client.messages.create(to="+33612345678", from_="X", body="a")
    assert info.value.status == 429 and info.value.code == 20429
    assert client.http_client._test_only_last_response.headers["Retry-After"] == "3"
    server.fail_next(1, status=500)
    with pytest.raises(TwilioRestException) as info:
        client.messages.create(to="+33612345678", from_="X", body="a")
    assert info.value.status == 500
    server.mark_invalid("+33699999999")
    with pytest.raises(TwilioRestException) as info:
        client.messages.create(to="+33699999999", from_="X", body="a")
    assert info.value.code == 21211
    with pytest.raises(TwilioRestException) as info:
        client.messages.create(to="0612345678", from_="X", body="a")
    assert info.value.code == 21211
    server.mark_unsubscribed("+33688888888")
    with pytest.raises(TwilioRestException) as info:
        client.messages.create(to="+33688888888", from_="X", body="a")
    assert info.value.code == 21610
    assert server.outbound() == []


def test_slow_answers_time_out_but_the_message_exists(server):
    import requests
    from twilio.http.http_client import TwilioHttpClient

    client = Client(DEFAULT_SID, DEFAULT_TOKEN, http_client=TwilioHttpClient(timeout=0.3))
    client.api.base_url = server.base_url
    server.slow_next(1, seconds=1.0)
    with pytest.raises(requests.exceptions.ReadTimeout):
        client.messages.create(to="+33612345678", from_="X", body="a")
    assert server.sent_to("+33612345678") == 1


def test_credentials_are_checked(server):
    with pytest.raises(TwilioRestException) as info:
        client_for(server, token="wrong").messages.create(to="+33612345678", from_="X", body="a")
    assert info.value.status == 401 and info.value.code == 20003


def test_http_controls_for_rehearsals(server):
    def post(path, payload):
        req = urllib.request.Request(server.base_url + path, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as resp:
            return json.loads(resp.read())

    reply = post("/_control/inbound", {"from": "+33611111111", "body": "ARRET"})
    assert reply["direction"] == "inbound" and reply["body"] == "ARRET"
    post("/_control/invalid", {"numbers": ["+33622222222"]})
    with pytest.raises(TwilioRestException):
        client_for(server).messages.create(to="+33622222222", from_="X", body="a")


def test_listens_on_loopback_only():
    with pytest.raises(ValueError, match="127.0.0.1"):
        TwilioServer(host="0.0.0.0")
