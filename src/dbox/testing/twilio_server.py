"""A local HTTP server that speaks the part of Twilio's Messages API dbox uses: create a message,
fetch one, list them (outbound and inbound, with Twilio's filters and paging). It answers 429,
500, slow responses, hang-ups, 21211 (invalid number) and 21610 (recipient replied STOP) on
demand, so a campaign can be rehearsed end to end with the real ``twilio`` client::

    python -m dbox.testing.twilio_server --port 8765
    export DBOX_TWILIO_BASE_URL=http://127.0.0.1:8765    # dbox then talks to it, not to Twilio

It listens on 127.0.0.1 only. Faults are set from Python (``server.fail_next(...)``) or over
HTTP (``POST /_control/...`` with a JSON body; see ``_control``).
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit
from dbox.i18n import _

API = "/2010-04-01/Accounts/"
DEFAULT_SID = "AC" + "0" * 32
DEFAULT_TOKEN = "rehearsal-token"
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


@dataclass
class Fault:
    kind: str                 # status | slow | hangup
    count: int
    status: int = 500
    code: int | None = None
    retry_after: float | None = None
    seconds: float = 0.0
    create: bool = True       # slow / hangup: is the message created anyway?
    release: threading.Event | None = None   # slow: answer as soon as this is set (seconds: at the latest)


@dataclass
class _State:
    messages: list[dict] = field(default_factory=list)
    by_sid: dict[str, dict] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    invalid_numbers: set[str] = field(default_factory=set)
    unsubscribed: set[str] = field(default_factory=set)
    undeliverable: set[str] = field(default_factory=set)
    fail_on_delivery: dict[str, int] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)


class TwilioServer:
    """``with TwilioServer() as server: client.api.base_url = server.base_url``"""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, account_sid: str = DEFAULT_SID,
                 auth_token: str = DEFAULT_TOKEN, delivery_delay: float = 0.0):
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the rehearsal server listens on this machine only (127.0.0.1)")
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.delivery_delay = delivery_delay
        self.state = _State()
        self.inbound_url: str | None = None     # where add_inbound posts (dbox serve's /twilio/inbound)
        self.lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"server_state": self})
        self.httpd = _QuietServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "TwilioServer":
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01},
                                       name="twilio-server", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        # serve_forever sees the request at its next poll (10 ms): a test's teardown is not delayed
        with self.lock:
            for fault in self.state.faults:
                if fault.release is not None:
                    fault.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- faults and fixtures -----------------------------------------------------------------
    def fail_next(self, count: int = 1, status: int = 500, code: int | None = None,
                  retry_after: float | None = None) -> None:
        """The next ``count`` creates answer ``status`` (429 with Retry-After, 500, 503, ...)."""
        with self.lock:
            self.state.faults.append(Fault("status", count, status=status, code=code, retry_after=retry_after))

    def slow_next(self, count: int = 1, seconds: float = 2.0, create: bool = True) -> None:
        """The next ``count`` creates wait ``seconds`` before answering (the message is created)."""
        with self.lock:
            self.state.faults.append(Fault("slow", count, seconds=seconds, create=create))

    def hold_next(self, count: int = 1, seconds: float = 60.0) -> threading.Event:
        """The next ``count`` creates are created, then answered only once the returned event is set
        (or after ``seconds``): a sender is kept busy exactly as long as a test needs, no sleep."""
        release = threading.Event()
        with self.lock:
            self.state.faults.append(Fault("slow", count, seconds=seconds, release=release))
        return release

    def hang_up_next(self, count: int = 1, create: bool = True) -> None:
        """The next ``count`` creates close the connection without an answer (after creating)."""
        with self.lock:
            self.state.faults.append(Fault("hangup", count, create=create))

    def mark_invalid(self, *numbers: str) -> None:
        """Sending to these numbers answers 21211 (invalid 'To' number)."""
        with self.lock:
            self.state.invalid_numbers.update(numbers)

    def mark_unsubscribed(self, *numbers: str) -> None:
        """Sending to these numbers answers 21610 (the recipient replied STOP)."""
        with self.lock:
            self.state.unsubscribed.update(numbers)

    def mark_undeliverable(self, *numbers: str) -> None:
        with self.lock:
            self.state.undeliverable.update(numbers)

    def mark_failing_on_delivery(self, number: str, code: int) -> None:
        """Messages to ``number`` are accepted, then fail with ``code`` (21610, 21211, 30003...) in
        their status callback, as a Messaging Service does."""
        with self.lock:
            self.state.fail_on_delivery[number] = code

    def add_inbound(self, from_: str, body: str, to: str = "+33700000000", at: datetime | None = None) -> dict:
        """A reply received from ``from_`` (STOP, ARRET, ...), visible in the list of messages, and
        posted to ``inbound_url`` when set (as Twilio calls a number's webhook, signed); the
        webhook's HTTP status is in ``msg["_webhook_status"]``."""
        now = at or datetime.now(timezone.utc)
        msg = self._record(to=to, from_=from_, body=body, direction="inbound", status="received", at=now)
        if self.inbound_url:
            msg["_webhook_status"] = self.post_signed(self.inbound_url, {
                "MessageSid": msg["sid"], "SmsSid": msg["sid"], "SmsMessageSid": msg["sid"],
                "AccountSid": self.account_sid, "From": from_, "To": to, "Body": body, "NumMedia": "0",
                "NumSegments": "1", "SmsStatus": "received", "ApiVersion": "2010-04-01"})
        return msg

    def push_statuses(self) -> list[tuple[str, str, int]]:
        """Deliver every outbound message that has a StatusCallback and post its statuses there as
        Twilio does (``sent``, then ``delivered``/``undelivered``/``failed`` with ErrorCode), signed.
        Returns (sid, status, HTTP status of the callback) for each post."""
        posted = []
        for msg in self.outbound():
            url = msg.get("_status_callback")
            if not url or msg.get("_pushed"):
                continue
            with self.lock:
                code = self.state.fail_on_delivery.get(msg["to"])
            if code is not None:
                msg["status"], msg["error_code"] = ("failed" if code in (21610, 21211, 21614) else "undelivered"), code
            else:
                self._progress(msg, force=True)
            msg["_pushed"] = True
            steps = ["sent", msg["status"]] if msg["status"] in ("delivered", "undelivered") else [msg["status"]]
            for status in steps:
                params = {"MessageSid": msg["sid"], "SmsSid": msg["sid"], "AccountSid": self.account_sid,
                          "From": msg["from"] or "", "To": msg["to"], "MessageStatus": status,
                          "SmsStatus": status, "ApiVersion": "2010-04-01"}
                if status in ("undelivered", "failed") and msg["error_code"]:
                    params["ErrorCode"] = str(msg["error_code"])
                posted.append((msg["sid"], status, self.post_signed(url, params)))
        return posted

    def post_signed(self, url: str, params: dict[str, str]) -> int:
        """POST ``params`` to ``url`` with the X-Twilio-Signature Twilio would compute (the twilio
        library's RequestValidator, keyed by this account's auth token); the HTTP status."""
        import urllib.error
        import urllib.request

        from twilio.request_validator import RequestValidator

        signature = RequestValidator(self.auth_token).compute_signature(url, params)
        request = urllib.request.Request(url, data=urlencode(params).encode(), method="POST", headers={
            "X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": "TwilioProxy/1.1"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    # -- reading what happened ---------------------------------------------------------------
    def outbound(self) -> list[dict]:
        with self.lock:
            return [m for m in self.state.messages if m["direction"] == "outbound-api"]

    def sent_to(self, number: str) -> int:
        with self.lock:
            return sum(1 for m in self.state.messages if m["direction"] == "outbound-api" and m["to"] == number)

    def counts_by_number(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for m in self.outbound():
            counts[m["to"]] = counts.get(m["to"], 0) + 1
        return counts

    def request_count(self, kind: str) -> int:
        with self.lock:
            return self.state.requests.get(kind, 0)

    # -- internals -----------------------------------------------------------------------------
    def _record(self, *, to: str, from_: str | None, body: str, direction: str, status: str, at: datetime,
                service: str | None = None, validity: int | None = None) -> dict:
        sid = "SM" + secrets.token_hex(16)
        stamp = format_datetime(at, usegmt=True)
        msg = {
            "sid": sid, "account_sid": self.account_sid, "to": to, "from": from_, "body": body,
            "messaging_service_sid": service, "status": status, "direction": direction,
            "date_created": stamp, "date_updated": stamp, "date_sent": stamp if direction == "inbound" else None,
            "num_segments": "1", "num_media": "0", "error_code": None, "error_message": None, "price": None,
            "price_unit": "EUR", "api_version": "2010-04-01",
            "uri": f"{API}{self.account_sid}/Messages/{sid}.json", "subresource_uris": {},
            "_created": at, "_validity": validity,
        }
        with self.lock:
            self.state.messages.append(msg)
            self.state.by_sid[sid] = msg
        return msg

    def _take_fault(self) -> Fault | None:
        with self.lock:
            while self.state.faults:
                fault = self.state.faults[0]
                if fault.count <= 0:
                    self.state.faults.pop(0)
                    continue
                fault.count -= 1
                if fault.count <= 0:
                    self.state.faults.pop(0)
                return fault
        return None

    def _progress(self, msg: dict, force: bool = False) -> dict:
        """Outbound messages move from queued to delivered (or undelivered) after delivery_delay."""
        if msg["direction"] != "outbound-api" or msg["status"] not in ("queued", "sent"):
            return msg
        now = datetime.now(timezone.utc)
        if force or now - msg["_created"] >= timedelta(seconds=self.delivery_delay):
            with self.lock:
                if msg["to"] in self.state.undeliverable:
                    msg["status"], msg["error_code"], msg["error_message"] = "undelivered", 30003, "Unreachable handset"
                else:
                    msg["status"] = "delivered"
                msg["date_sent"] = msg["date_updated"] = format_datetime(now, usegmt=True)
        return msg


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        import sys

        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return          # the client gave up (a timeout, a killed process): nothing to report
        super().handle_error(request, client_address)


def public(msg: dict) -> dict:
    return {k: v for k, v in msg.items() if not k.startswith("_")}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_state: TwilioServer

    def log_message(self, *args) -> None:   # quiet: no numbers in logs
        pass

    def setup(self) -> None:
        super().setup()
        import socket

        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    # -- plumbing --------------------------------------------------------------------------------
    def _send_json(self, status: int, payload: dict, headers: dict | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self._headers_buffer.append(b"\r\n" + data)     # headers and body in one write
        self.flush_headers()

    def _error(self, status: int, code: int, message: str, headers: dict | None = None) -> None:
        self._send_json(status, {"code": code, "message": message, "status": status,
                                 "more_info": f"https://www.twilio.com/docs/errors/{code}"}, headers)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _authorized(self, account: str) -> bool:
        import base64

        state = self.server_state
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Basic "):
            return False
        try:
            user, _unused, password = base64.b64decode(auth[6:]).decode().partition(":")
        except ValueError:
            return False
        return user == state.account_sid == account and password == state.auth_token

    def _count(self, kind: str) -> None:
        state = self.server_state
        with state.lock:
            state.state.requests[kind] = state.state.requests.get(kind, 0) + 1

    # -- routes ----------------------------------------------------------------------------------
    def do_POST(self) -> None:
        url = urlsplit(self.path)
        body = self._body()
        if url.path.startswith("/_control/"):
            return self._control(url.path[len("/_control/"):], body)
        m = re.fullmatch(rf"{API}([^/]+)/Messages\.json", url.path)
        if not m:
            return self._error(404, 20404, "The requested resource was not found")
        if not self._authorized(m.group(1)):
            return self._error(401, 20003, "Authenticate")
        self._count("create")
        self._create({k: v[-1] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()})

    def _create(self, form: dict) -> None:
        state = self.server_state
        to, from_, service = form.get("To"), form.get("From"), form.get("MessagingServiceSid")
        body = form.get("Body", "")
        fault = state._take_fault()
        if fault is not None and fault.kind == "status":
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
            code = fault.code or (20429 if fault.status == 429 else 20500)
            return self._error(fault.status, code, "Too Many Requests" if fault.status == 429 else "Internal error",
                               headers)
        if not to:
            return self._error(400, 21604, "A 'To' phone number is required.")
        if not (from_ or service):
            return self._error(400, 21603, "A 'From' phone number is required.")
        if not body:
            return self._error(400, 21602, "Message body is required.")
        if len(body) > 1600:
            return self._error(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        if not _E164.match(to) or to in state.state.invalid_numbers:
            return self._error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if to in state.state.unsubscribed:
            return self._error(400, 21610, "Attempt to send to unsubscribed recipient")
        validity = int(form["ValidityPeriod"]) if form.get("ValidityPeriod") else None
        if validity is not None and not 1 <= validity <= 36000:
            return self._error(400, 21623, "ValidityPeriod must be between 1 and 36000")
        create = fault is None or fault.create
        msg = None
        if create:
            msg = state._record(to=to, from_=from_, body=body, direction="outbound-api", status="queued",
                                at=datetime.now(timezone.utc), service=service, validity=validity)
            msg["_status_callback"] = form.get("StatusCallback")
        if fault is not None and fault.kind == "slow":
            if fault.release is not None:
                fault.release.wait(fault.seconds)
            else:
                time.sleep(fault.seconds)
        if fault is not None and fault.kind == "hangup":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if msg is None:
            return self._error(500, 20500, "Internal error")
        self._send_json(201, public(msg))

    def do_GET(self) -> None:
        state = self.server_state
        url = urlsplit(self.path)
        if url.path == "/_control/messages":
            return self._send_json(200, {"messages": [public(m) for m in state.state.messages]})
        m = re.fullmatch(rf"{API}([^/]+)/Messages(?:/([^/]+))?\.json", url.path)
        if not m:
            return self._error(404, 20404, "The requested resource was not found")
        if not self._authorized(m.group(1)):
            return self._error(401, 20003, "Authenticate")
        if m.group(2):
            self._count("fetch")
            msg = state.state.by_sid.get(m.group(2))
            if msg is None:
                return self._error(404, 20404, f"The requested resource {url.path} was not found")
            return self._send_json(200, public(state._progress(msg)))
        self._count("list")
        self._list(url.path, {k: v[-1] for k, v in parse_qs(url.query).items()})

    def _list(self, path: str, query: dict) -> None:
        state = self.server_state
        size = max(1, min(1000, int(query.get("PageSize", 50))))
        start = int(query.get("PageToken", "0") or 0)
        page_number = int(query.get("Page", 0) or 0)
        with state.lock:
            messages = list(state.state.messages)
        selected = []
        for msg in reversed(messages):            # newest first, as Twilio lists them
            if query.get("To") and msg["to"] != query["To"]:
                continue
            if query.get("From") and msg["from"] != query["From"]:
                continue
            if not _date_ok(msg["_created"], query):
                continue
            selected.append(msg)
        chunk = [public(state._progress(m)) for m in selected[start:start + size]]
        base = {k: v for k, v in query.items() if k not in ("PageToken", "Page")}
        nxt = None
        if start + size < len(selected):
            nxt = f"{path}?{urlencode({**base, 'PageSize': size, 'Page': page_number + 1, 'PageToken': start + size})}"
        self._send_json(200, {
            "messages": chunk, "end": start + len(chunk) - 1, "first_page_uri": f"{path}?PageSize={size}&Page=0",
            "next_page_uri": nxt, "page": page_number, "page_size": size, "previous_page_uri": None,
            "start": start, "uri": f"{path}?{urlencode(query)}"})

    def _control(self, what: str, body: bytes) -> None:
        """Rehearsal controls: faults, invalid/unsubscribed numbers, inbound replies."""
        state = self.server_state
        try:
            args = json.loads(body or b"{}")
        except ValueError:
            return self._send_json(400, {"error": "JSON body expected"})
        if what == "fail":
            state.fail_next(int(args.get("count", 1)), int(args.get("status", 500)), args.get("code"),
                            args.get("retry_after"))
        elif what == "slow":
            state.slow_next(int(args.get("count", 1)), float(args.get("seconds", 2.0)))
        elif what == "hangup":
            state.hang_up_next(int(args.get("count", 1)))
        elif what == "invalid":
            state.mark_invalid(*args.get("numbers", []))
        elif what == "unsubscribed":
            state.mark_unsubscribed(*args.get("numbers", []))
        elif what == "inbound":
            return self._send_json(201, public(state.add_inbound(args["from"], args.get("body", "STOP"))))
        else:
            return self._send_json(404, {"error": f"unknown control {what!r}"})
        self._send_json(200, {"ok": True})


def _parse_filter_date(value: str) -> datetime:
    value = value.strip().lstrip("<>=")
    if "T" in value:
        return datetime.strptime(value.rstrip("Z"), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=timezone.utc)


def _date_ok(created: datetime, query: dict) -> bool:
    """Twilio's DateSent filters: ``DateSent>``, ``DateSent<`` (a date or a date-time) and ``DateSent``."""
    if query.get("DateSent>") and created < _parse_filter_date(query["DateSent>"]):
        return False
    if query.get("DateSent<") and created >= _parse_filter_date(query["DateSent<"]) + (
            timedelta(days=1) if "T" not in query["DateSent<"] else timedelta(0)):
        return False
    if query.get("DateSent"):
        day = _parse_filter_date(query["DateSent"]).date()
        if created.date() != day:
            return False
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A local Twilio Messages API, to rehearse a campaign.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--account-sid", default=DEFAULT_SID)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--delivery-delay", type=float, default=2.0, help="seconds before 'delivered'")
    args = parser.parse_args(argv)
    server = TwilioServer(port=args.port, account_sid=args.account_sid, auth_token=args.token,
                          delivery_delay=args.delivery_delay)
    print(_("Rehearsal Twilio API on {base_url} (account {account_sid}). Point dbox at it:").format(
              base_url=server.base_url, account_sid=args.account_sid))
    print(_("  export DBOX_TWILIO_BASE_URL={base_url} DBOX_TWILIO_ACCOUNT_SID={account_sid} DBOX_TWILIO_AUTH_TOKEN={token}").format(
              base_url=server.base_url, account_sid=args.account_sid, token=args.token))
    print(_("Ctrl-C to stop."), flush=True)
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()


if __name__ == "__main__":
    main()
