"""The built-in ``sms`` channel: Twilio's Messages API through the official ``twilio`` client.

Registered through the ``dbox`` entry-point group like any third-party plugin. ``twilio`` and
``requests`` are imported only when a message is sent or looked up, so ``dbox --help`` stays fast.
To rehearse a campaign, point ``base_url`` (or ``DBOX_TWILIO_BASE_URL``) at
``python -m dbox.testing.twilio_server``.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

from dbox.channels.base import Channel, ComposeRules, Delivery, InboundMessage, OutgoingMessage, Sender, \
    SendResult, SettingField
from dbox.channels.hookspecs import hookimpl
from dbox.errors import InputError, NotConfiguredError, ProviderError
from dbox.masking import scrub
from dbox.i18n import N_, _
from dbox.config import public_url

_SID = re.compile(r"^(AC|MG)[0-9a-fA-F]{32}$")
_ALPHA_SENDER = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
# Twilio error codes: https://www.twilio.com/docs/api/errors
INVALID_NUMBER_CODES = {21211, 21614}      # not a valid phone number / not a mobile number
OPTED_OUT_CODES = {21610}                  # the recipient replied STOP
AUTH_CODES = {20003, 20005}                # authentication failed / account suspended
FINAL_STATES = {"delivered": "delivered", "undelivered": "undelivered", "failed": "failed",
                "canceled": "undelivered"}
VALIDITY_MAX = 36_000                      # Twilio's ValidityPeriod ceiling, in seconds


def _account_sid(value: str) -> str:
    value = str(value).strip()
    if not (_SID.match(value) and value.startswith("AC")):
        raise InputError(_("{value!r} is not a Twilio Account SID (AC followed by 32 hex digits)").format(
                             value=value))
    return value


def sender_kind(value: str) -> str:
    """'service' (Messaging Service SID), 'number' (E.164) or 'alphanumeric' (sender ID)."""
    if _SID.match(value) and value.startswith("MG"):
        return "service"
    if _E164.match(value):
        return "number"
    if _ALPHA_SENDER.match(value):
        return "alphanumeric"
    raise InputError(_("{value!r} is not a sender: use an alphanumeric sender ID (1-11 letters or digits, at least one letter), a number in E.164 form (+33...), or a Messaging Service SID (MG...)").format(
                         value=value))


def _sender(value: str) -> str:
    value = str(value).strip()
    sender_kind(value)
    return value


def _optout(value: str) -> str:
    value = " ".join(str(value).split())
    if "stop" not in value.lower():
        raise InputError(_('the opt-out mention must tell how to opt out with STOP (e.g. "STOP au 36173"), got {value!r}').format(
                             value=value))
    return value


def _number(value: str) -> str:
    value = str(value).strip()
    if not (_E164.match(value) or re.fullmatch(r"\d{5}", value)):
        raise InputError(_("{value!r} is neither an E.164 number nor a 5-digit short code").format(value=value))
    return value


def _price(value) -> float:
    try:
        price = float(value)
    except (TypeError, ValueError):
        raise InputError(_("{value!r} is not a price").format(value=value)) from None
    if price < 0:
        raise InputError(_("a price cannot be negative"))
    return price


def _base_url(value: str) -> str:
    value = str(value).strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+$", value):
        raise InputError(_("{value!r} is not a base URL like http://127.0.0.1:8765").format(value=value))
    return value


class TwilioSms(Channel):
    id = "sms"
    title = N_("SMS through Twilio")
    consent_channel = "sms"
    address_kind = "mobile"
    default_rate = "10/s"
    default_workers = 4
    max_length = 1600               # Twilio's limit for a message body
    quiet_hours = True
    setup_command = "dbox channels setup sms"
    supports_lookup = supports_status = supports_inbound = True
    fields = (
        SettingField("account_sid", N_("Twilio Account SID"), env="DBOX_TWILIO_ACCOUNT_SID", required=True,
                     validate=_account_sid),
        SettingField("auth_token", N_("Twilio Auth Token"), secret=True, env="DBOX_TWILIO_AUTH_TOKEN", required=True),
        SettingField("sender", N_("Sender: alphanumeric sender ID (up to 11 characters), number (+33...) "
                               "or Messaging Service SID (MG...)"), env="DBOX_TWILIO_SENDER", required=True,
                     validate=_sender),
        SettingField("sender_name", N_("Name every SMS is signed with (required unless the sender is an "
                                    "alphanumeric sender ID)")),
        SettingField("optout_mention", N_("Opt-out mention appended to every SMS, e.g. \"STOP au 36173\""),
                     required=True, validate=_optout),
        SettingField("reply_number", N_("Number or short code that receives replies (for dbox optouts sync; "
                                     "optional)"), validate=_number),
        SettingField("price_per_segment", N_("Estimated price per SMS segment (EUR)"), default=0.08, validate=_price),
        SettingField("timeout", N_("Seconds to wait for Twilio's answer"), default=15),
        SettingField("base_url", N_("API base URL: only to rehearse against dbox.testing.twilio_server"),
                      env="DBOX_TWILIO_BASE_URL", validate=_base_url),
    )

    def missing(self, settings: dict[str, Any], *, secrets: bool = True) -> list[str]:
        missing = super().missing(settings, secrets=secrets)
        sender = settings.get("sender")
        if sender and not settings.get("sender_name") and sender_kind(sender) != "alphanumeric":
            missing.append("sender_name")
        return missing

    def compose_rules(self, settings: dict[str, Any]) -> ComposeRules:
        sender = settings.get("sender") or ""
        name = settings.get("sender_name")
        if not name and sender and sender_kind(sender) == "alphanumeric":
            name = None   # the sender ID itself names the sender on the handset
        return ComposeRules(kind="text", optout_mention=settings.get("optout_mention"), sender_name=name,
                            price_per_segment=settings.get("price_per_segment"))

    # -- talking to Twilio -----------------------------------------------------------------------
    def client(self, settings: dict[str, Any], timeout: float = 15.0):
        self.check(settings)
        _quiet_twilio_logging()
        from twilio.rest import Client

        client = Client(settings["account_sid"], settings["auth_token"], http_client=_http_client(timeout))
        if settings.get("base_url"):
            client.api.base_url = settings["base_url"]
        return client

    def connect(self, settings: dict[str, Any]) -> Sender:
        base = public_url()     # dbox serve is reachable: Twilio pushes the statuses there
        client = self.client(settings, float(settings.get("timeout") or 15))
        client.http_client.settle_environment(settings.get("base_url") or "https://api.twilio.com")
        return TwilioSender(client, settings["sender"], status_callback=f"{base}/twilio/status" if base else None)

    def pushed_status(self, provider_id: str, status: str, code: str | None) -> tuple[Delivery, str | None]:
        code = _code(code)
        number = int(code) if code and code.isdigit() else None
        effect = ("invalid-address" if number in INVALID_NUMBER_CODES else
                  "opted-out" if number in OPTED_OUT_CODES else None)
        return Delivery(provider_id, status, FINAL_STATES.get(status), code), effect

    def lookup(self, settings, to, since, body) -> Delivery | None:
        client = self.client(settings)
        start = _parse_iso(since) - timedelta(minutes=1)
        candidates = []
        try:
            # newest first; no DateSent filter: a message still queued has no date_sent yet
            for m in client.messages.stream(to=to, page_size=100, limit=500):
                created = m.date_created or m.date_sent
                if created is not None and created < start:
                    break                      # older than the claim: nothing further can be ours
                if m.direction and not m.direction.startswith("outbound"):
                    continue
                candidates.append(m)
        except Exception as exc:
            raise _provider_error("looking a message up", exc) from None
        if body is not None:
            exact = [m for m in candidates if (m.body or "") == body]
            candidates = exact or candidates
        if not candidates:
            return None
        m = candidates[0]
        return Delivery(m.sid, m.status, FINAL_STATES.get(m.status), _code(m.error_code))

    def delivery_statuses(self, settings, provider_ids, since) -> Iterator[Delivery]:
        client = self.client(settings)
        wanted = set(provider_ids)
        try:
            if since:
                for m in client.messages.stream(date_sent_after=_parse_iso(since).replace(second=0),
                                                page_size=1000):
                    if m.sid in wanted:
                        wanted.discard(m.sid)
                        yield Delivery(m.sid, m.status, FINAL_STATES.get(m.status), _code(m.error_code))
                    if not wanted:
                        return
            for sid in sorted(wanted):
                m = client.messages(sid).fetch()
                yield Delivery(m.sid, m.status, FINAL_STATES.get(m.status), _code(m.error_code))
        except Exception as exc:
            raise _provider_error("fetching delivery statuses", exc) from None

    def inbound(self, settings, since) -> Iterator[InboundMessage]:
        client = self.client(settings)
        kwargs: dict[str, Any] = {"page_size": 1000}
        if settings.get("reply_number"):
            kwargs["to"] = settings["reply_number"]
        if since:
            kwargs["date_sent_after"] = _parse_iso(since) - timedelta(minutes=5)
        try:
            for m in client.messages.stream(**kwargs):
                if m.direction != "inbound":
                    continue
                at = m.date_sent or m.date_created
                yield InboundMessage(m.sid, m.from_, m.body or "",
                                     at.strftime("%Y-%m-%dT%H:%M:%SZ") if at else None)
        except Exception as exc:
            raise _provider_error("reading inbound replies", exc) from None


class TwilioSender(Sender):
    def __init__(self, client, sender: str, status_callback: str | None = None):
        self.client = client
        self.sender = sender
        self.kind = sender_kind(sender)
        self.status_callback = status_callback

    def send(self, message: OutgoingMessage) -> SendResult:
        import requests
        from twilio.base.exceptions import TwilioException, TwilioRestException

        kwargs: dict[str, Any] = {"to": message.to, "body": message.body}
        if self.kind == "service":
            kwargs["messaging_service_sid"] = self.sender
        else:
            kwargs["from_"] = self.sender
        if self.status_callback:
            kwargs["status_callback"] = self.status_callback
        if message.validity_seconds:
            kwargs["validity_period"] = max(1, min(VALIDITY_MAX, int(message.validity_seconds)))
        http = self.client.http_client
        try:
            created = self.client.messages.create(**kwargs)
        except TwilioRestException as exc:
            return _classify(exc, http.last_headers())
        except requests.exceptions.ConnectTimeout as exc:
            return SendResult("retry", error=f"could not connect to Twilio: {type(exc).__name__}")
        except requests.exceptions.ReadTimeout:
            return SendResult("unknown", error="Twilio did not answer in time: the message may have been created")
        except requests.exceptions.ConnectionError as exc:
            if _never_connected(exc):
                return SendResult("retry", error=f"could not connect to Twilio: {scrub(_short(exc))}")
            return SendResult("unknown", error=f"connection lost during the request: {scrub(_short(exc))}")
        except (requests.exceptions.RequestException, TwilioException) as exc:
            return SendResult("unknown", error=f"{type(exc).__name__}: {scrub(_short(exc))}")
        return SendResult("accepted", provider_id=created.sid, status=created.status)

    def close(self) -> None:
        session = getattr(self.client.http_client, "session", None)
        if session is not None:
            session.close()


def _classify(exc, headers) -> SendResult:
    code = exc.code if isinstance(exc.code, int) else None
    text = scrub(f"HTTP {exc.status}" + (f" error {code}" if code else "") + f": {_twilio_message(exc)}")
    if exc.status == 429 or (exc.status or 0) >= 500:
        return SendResult("retry", code=str(code or exc.status), error=text, retry_after=_retry_after(headers))
    if exc.status in (401, 403) or code in AUTH_CODES:
        return SendResult("fatal", code=str(code or exc.status), error=text)
    if code in INVALID_NUMBER_CODES:
        return SendResult("failed", code=str(code), error=text, effect="invalid-address")
    if code in OPTED_OUT_CODES:
        return SendResult("failed", code=str(code), error=text, effect="opted-out")
    return SendResult("failed", code=str(code or exc.status), error=text)


def _twilio_message(exc) -> str:
    msg = str(exc.msg or "")
    return msg.split(": ", 1)[1] if msg.startswith("Unable to ") and ": " in msg else msg


def _retry_after(headers) -> float | None:
    if not headers:
        return None
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, (parsedate_to_datetime(value) - datetime.now(timezone.utc)).total_seconds())
        except (TypeError, ValueError):
            return None


def _never_connected(exc) -> bool:
    """A refused or unreachable connection: the request never left, a retry is safe."""
    from urllib3.exceptions import NewConnectionError

    reason = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)
    return isinstance(reason, NewConnectionError) or "NewConnectionError" in repr(reason)


def _short(exc) -> str:
    text = str(exc)
    return text if len(text) < 200 else text[:197] + "..."


def _code(value) -> str | None:
    return None if value in (None, 0, "") else str(value)


def _parse_iso(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def _provider_error(what: str, exc: Exception) -> ProviderError:
    from twilio.base.exceptions import TwilioRestException

    if isinstance(exc, TwilioRestException):
        if exc.status in (401, 403) or exc.code in AUTH_CODES:
            return ProviderError(_("Twilio refused the credentials while {what} (HTTP {status})").format(
                                     what=what, status=exc.status),
                                 hint=_("check the Account SID and token: dbox channels setup sms"))
        return ProviderError(scrub(f"Twilio error while {what}: HTTP {exc.status} {_twilio_message(exc)}"))
    if isinstance(exc, NotConfiguredError):
        return exc
    return ProviderError(scrub(f"could not reach Twilio while {what}: {type(exc).__name__}: {_short(exc)}"))


def _quiet_twilio_logging() -> None:
    """The twilio library logs every request at INFO (URLs with phone numbers): keep it quiet."""
    for name in ("twilio", "twilio.http_client"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.WARNING)
        logger.propagate = False


_http_client_class = None


def _http_client(timeout: float):
    """A TwilioHttpClient that keeps the last response's headers (Retry-After) per thread, and,
    once told where it sends (``settle_environment``), sends through requests' HTTP adapter
    directly (``_Direct``)."""
    global _http_client_class
    if _http_client_class is None:
        from twilio.http.http_client import TwilioHttpClient

        class HeaderKeepingClient(TwilioHttpClient):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self._local = threading.local()
                self.logger.disabled = False
                self.direct = None

            def request(self, method, url, params=None, data=None, headers=None, auth=None, timeout=None,
                        allow_redirects=False):
                self._local.headers = None
                direct = self.direct
                if direct is not None and direct.serves(url, headers, allow_redirects):
                    if timeout is None:
                        timeout = self.timeout
                    elif timeout <= 0:
                        raise ValueError(timeout)
                    response = direct.request(method, url, params, data, headers, auth, timeout)
                else:
                    response = super().request(method, url, params=params, data=data, headers=headers, auth=auth,
                                               timeout=timeout, allow_redirects=allow_redirects)
                self._local.headers = response.headers
                return response

            def last_headers(self):
                return getattr(self._local, "headers", None)

            def settle_environment(self, url):
                """Read the proxy and CA bundle settings of the environment (``HTTPS_PROXY``,
                ``NO_PROXY``, ``REQUESTS_CA_BUNDLE``...) once, for a sender's whole batch, and send
                the batch's requests to ``url`` through requests' adapter directly (``_Direct``)."""
                session = self.session
                if session is None:
                    return
                if session.trust_env:
                    found = session.merge_environment_settings(url, {}, None, None, None)
                    session.proxies = found["proxies"]
                    session.verify = found["verify"]
                    session.cert = found["cert"]
                    session.trust_env = False
                self.direct = _Direct(session, url)

            def log_request(self, kwargs):
                pass

            def log_response(self, status_code, response):
                pass

        _http_client_class = HeaderKeepingClient
    return _http_client_class(timeout=timeout, logger=logging.getLogger("twilio.http_client"))


class _Direct:
    """Requests to one API, sent through the session's HTTP adapter without ``Session.send``.

    For each request ``requests.Session`` merges cookies, hooks and settings, reads the
    environment, resolves redirects and times the call, and ``PreparedRequest.prepare`` parses the
    URL again, encodes the authentication and walks the form through a runtime ``Protocol`` check
    per field. A sender's batch needs none of that again and again (Twilio sets no cookies;
    twilio's client asks for no redirects and no hooks; the URL and the credentials do not
    change), and it was about a third of a message's CPU in the send loop (bench/send_bench.py,
    docs/sending.md "Speed"). What stays the same: the adapter (its connection pool, TLS
    verification, the proxy and CA settings read once from the environment), the session's
    default headers, the request requests would prepare (the same method, URL, headers, body and
    ``Authorization``: tests/test_send_transport.py compares them) and requests' exceptions (a
    timeout or a lost connection is told apart exactly as before)."""

    def __init__(self, session, url: str):
        from requests.models import PreparedRequest
        from requests.structures import CaseInsensitiveDict
        from twilio.http.response import Response

        self._prepared_request, self._response = PreparedRequest, Response   # imported once per sender
        self.prefix = url.rstrip("/") + "/"
        self.adapter = session.get_adapter(url)
        self.headers = CaseInsensitiveDict(session.headers)
        self.settings = {"proxies": dict(session.proxies), "verify": session.verify, "cert": session.cert}
        self._url = self._prepared_url = None
        self._auth = self._authorization = None

    def serves(self, url: str, headers, allow_redirects: bool) -> bool:
        """Form requests to the settled API only; JSON bodies and redirects take requests' own path."""
        return (url.startswith(self.prefix) and not allow_redirects
                and "json" not in ((headers or {}).get("Content-Type") or ""))

    def prepare(self, method, url, params, data, headers, auth):
        """The ``PreparedRequest`` requests would send, made with the parts that change only."""
        merged = self.headers.copy()
        merged.update(headers or {})
        prepared = self._prepared_request()
        prepared.prepare_method(method)
        if params:
            prepared.prepare_url(url, params)
        else:
            if url != self._url:
                prepared.prepare_url(url, None)
                self._url, self._prepared_url = url, prepared.url
            prepared.url = self._prepared_url
        prepared.prepare_headers(merged)
        prepared.prepare_body(_form(data) if data else None, None)
        if auth:
            prepared.headers["Authorization"] = self._basic(auth)
        return prepared

    def _basic(self, auth) -> str:
        if auth != self._auth:
            from requests.auth import HTTPBasicAuth

            probe = self._prepared_request()
            probe.prepare_headers({})
            HTTPBasicAuth(*auth)(probe)
            self._auth, self._authorization = auth, probe.headers["Authorization"]
        return self._authorization

    def request(self, method, url, params, data, headers, auth, timeout):
        prepared = self.prepare(method, url, params, data, headers, auth)
        answer = self.adapter.send(prepared, timeout=timeout, **self.settings)
        return self._response(int(answer.status_code), answer.text, answer.headers)


def _form(data: dict) -> str:
    """A form body as requests encodes a dict: a list value repeats its key, None is left out."""
    pairs = []
    for key, values in data.items():
        for value in values if isinstance(values, (list, tuple)) else (values,):
            if value is not None:
                pairs.append((key, value))
    return urlencode(pairs)


@hookimpl
def register_channels(register):
    register(TwilioSms())
