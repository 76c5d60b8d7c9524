"""The Twilio sender's HTTP client (``dbox.channels.sms._Direct``): requests' adapter without
``Session.send``, sending what requests itself would have sent."""

from __future__ import annotations

import pytest

from dbox.channels.base import OutgoingMessage
from dbox.channels.sms import _Direct, _http_client

from test_send_support import mobile, twilio  # noqa: F401

BASE = "http://127.0.0.1:8765"
MESSAGES = f"{BASE}/2010-04-01/Accounts/AC{'0' * 32}/Messages.json"
AUTH = ("AC" + "0" * 32, "secret-token")
TWILIO_HEADERS = {"User-Agent": "twilio-python/9 (Linux x86_64) Python/3.11", "X-Twilio-Client": "python-9",
                  "Accept-Charset": "utf-8", "Content-Type": "application/x-www-form-urlencoded",
                  "Accept": "application/json"}


def _settled_session():
    client = _http_client(15)
    client.settle_environment(BASE)
    return client


@pytest.mark.parametrize("method, url, params, data", [
    ("POST", MESSAGES, None, {"To": "+33612345678", "From": "MonParti",
                              "Body": "Réunion jeudi à 19h « salle des fêtes » & apéro\nSTOP au 36173",
                              "StatusCallback": "https://equipe.example/twilio/status?x=1&y=é",
                              "ValidityPeriod": 3600}),
    ("POST", MESSAGES, None, {"To": "+33612345678", "MessagingServiceSid": "MG" + "1" * 32, "Body": "x",
                              "MediaUrl": ["https://a.example/1.png", "https://a.example/2 b.png"],
                              "Unset": None}),
    ("GET", MESSAGES, {"To": "+33612345678", "PageSize": 100, "DateSent>": "2026-11-27"}, None),
    ("post", f"{BASE}/2010-04-01/Accounts/AC{'0' * 32}/Messages/SM{'2' * 32}.json", None, {"Body": ""}),
])
def test_the_request_is_the_one_requests_would_prepare(method, url, params, data):
    from requests import Request

    http = _settled_session()
    theirs = http.session.prepare_request(Request(method=method.upper(), url=url, params=params, data=data,
                                                  headers=dict(TWILIO_HEADERS), auth=AUTH))
    for _ in range(2):      # the second time from what the first one kept (URL, credentials)
        ours = http.direct.prepare(method, url, params, data, dict(TWILIO_HEADERS), AUTH)
        assert (ours.method, ours.url, ours.body) == (theirs.method, theirs.url, theirs.body)
        assert dict(ours.headers) == dict(theirs.headers)
    other = http.direct.prepare(method, url, params, data, dict(TWILIO_HEADERS), ("AC" + "1" * 32, "other"))
    assert other.headers["Authorization"] != theirs.headers["Authorization"]   # credentials are not stuck


def test_only_form_requests_to_the_settled_api_take_the_short_path():
    direct = _settled_session().direct
    assert direct.serves(MESSAGES, TWILIO_HEADERS, False)
    assert not direct.serves(MESSAGES, TWILIO_HEADERS, True)                       # redirects: requests' path
    assert not direct.serves(MESSAGES, {**TWILIO_HEADERS, "Content-Type": "application/json"}, False)
    assert not direct.serves("https://api.twilio.com/2010-04-01/Accounts.json", TWILIO_HEADERS, False)
    assert not direct.serves("http://127.0.0.1:87650/x", TWILIO_HEADERS, False)   # a prefix, not a port


def test_a_connected_sender_sends_through_the_adapter_and_twilio_sees_the_same_request(twilio, monkeypatch):
    """A real send to the look-alike (which checks the credentials and reads the form) through the
    short path, counted at the adapter; look-ups outside a sender keep requests' usual path."""
    from dbox.channels import get_channel

    channel = get_channel("sms")
    sender = channel.connect(channel.settings())
    http = sender.client.http_client
    assert isinstance(http.direct, _Direct)
    sent = []
    original = http.direct.adapter.send
    monkeypatch.setattr(http.direct.adapter, "send", lambda request, **kw: sent.append(request) or original(request, **kw))
    body = "Réunion « jeudi » à 19h & apéro"
    result = sender.send(OutgoingMessage(mobile(3), body, validity_seconds=600))
    sender.close()
    assert result.outcome == "accepted" and result.provider_id.startswith("SM")
    assert len(sent) == 1 and sent[0].headers["Authorization"].startswith("Basic ")
    (message,) = twilio.outbound()
    assert message["body"] == body and message["to"] == mobile(3)
    assert channel.client(channel.settings()).http_client.direct is None
