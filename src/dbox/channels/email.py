"""The built-in ``email`` channel: SMTP with the standard library's smtplib.

Each worker opens one SMTP connection (STARTTLS, SSL or plain on loopback; login when a user name
is set) and reuses it for its whole batch. The transaction is driven step by step (MAIL, RCPT,
DATA) so a failure is classified precisely: anything before DATA's final reply means nothing was
sent (retry), a dropped connection while DATA is answered means the outcome is unknown (in-doubt).

Each answer has one outcome (the table is in docs/sending.md):

- MAIL FROM refused: 4xx or 421 -> ``retry`` (the server, not the recipient: every message would
  wait); 5xx -> ``fatal`` (the sender is refused: every message would fail the same way).
- RCPT or DATA 4xx (not 421) -> ``soft``: this recipient only is retried later (mailbox full,
  greylisting); the others go on.
- RCPT 5xx, DATA 5xx -> ``failed`` with the ``bounced`` effect (the address is suppressed for
  e-mail), except DATA 5.7.x (policy, content: the message, not the address, was refused).

International addresses (RFC 6531): an address whose domain only is non-ASCII is sent with the
domain in IDNA form (``xn--``); an address whose local part is non-ASCII needs the server's
SMTPUTF8 extension, and fails with ``address not supported by the server`` when it is not offered.
"""

from __future__ import annotations

import re
import socket
from datetime import datetime, timezone
from typing import Any

from dbox.channels.base import Channel, ComposeRules, OutgoingMessage, Sender, SendResult, SettingField
from dbox.channels.hookspecs import hookimpl
from dbox.errors import InputError, NotConfiguredError
from dbox.masking import scrub
from dbox.i18n import N_, _
from dbox.normalize import ValueRejected, normalize_email

SECURITY = ("starttls", "ssl", "none")
_LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _port(value) -> int:
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise InputError(_("{value!r} is not a port number").format(value=value)) from None
    if not 0 < port < 65536:
        raise InputError(_("{port} is not a port number").format(port=port))
    return port


def _security(value: str) -> str:
    value = str(value).strip().lower()
    if value not in SECURITY:
        raise InputError(_("{value!r}: security must be one of {items}").format(
                             value=value, items=', '.join(SECURITY)))
    return value


def _security_imap(value: str) -> str:
    value = str(value).strip().lower()
    if value not in ("ssl", "starttls", "none"):
        raise InputError(_("{value!r}: IMAP security must be one of ssl, starttls, none").format(value=value))
    return value


def _address(value: str) -> str:
    try:
        return normalize_email(str(value))
    except ValueRejected as exc:
        raise InputError(str(exc)) from None


def _mailto(value: str) -> str:
    return _address(str(value).removeprefix("mailto:"))


def _https(value: str) -> str:
    value = str(value).strip()
    if not re.match(r"^https://[^/\s]+\S*$", value):
        raise InputError(_("{value!r}: the unsubscribe link must be an https:// URL (one-click unsubscribe)").format(
                             value=value))
    return value


class SmtpEmail(Channel):
    id = "email"
    title = N_("E-mail through SMTP")
    consent_channel = "email"
    address_kind = "email"
    default_rate = "20/s"
    default_workers = 2
    max_length = None
    quiet_hours = False
    setup_command = "dbox channels setup email"
    fields = (
        SettingField("host", N_("SMTP server host name"), env="DBOX_SMTP_HOST", required=True),
        SettingField("port", N_("SMTP port"), env="DBOX_SMTP_PORT", default=587, validate=_port),
        SettingField("security", N_("Security: starttls, ssl or none (none only on this machine)"),
                     env="DBOX_SMTP_SECURITY", default="starttls", validate=_security),
        SettingField("username", N_("SMTP user name (empty: no login)"), env="DBOX_SMTP_USERNAME"),
        SettingField("password", N_("SMTP password"), secret=True, env="DBOX_SMTP_PASSWORD"),
        SettingField("from_address", N_("From address"), env="DBOX_SMTP_FROM", required=True, validate=_address),
        SettingField("from_name", N_("From name (e.g. the campaign's name)")),
        SettingField("reply_to", N_("Reply-To address (optional)"), validate=_address),
        SettingField("unsubscribe_mailto", N_("Address that receives unsubscribe e-mails"), required=True,
                     validate=_mailto),
        SettingField("unsubscribe_url", N_("One-click unsubscribe URL (https; {token} is replaced by the "
                                        "contact's token, else ?token=... is added)"), required=True,
                     validate=_https),
        SettingField("timeout", N_("Seconds to wait for the server"), default=30),
        SettingField("max_per_connection", N_("Reconnect after this many messages (0: never)"), default=0),
        # Bounces (dbox bounces sync, docs/sending.md): optional, set with --set / --secret-stdin.
        SettingField("bounce_address", N_("Return path for bounces; each message gets its own "
                                       "(bounces+<campaign>.<contact>@...: VERP)"), env="DBOX_SMTP_BOUNCE_ADDRESS",
                     validate=_address, ask=False),
        SettingField("imap_host", N_("IMAP server of the bounce mailbox"), env="DBOX_IMAP_HOST", ask=False),
        SettingField("imap_port", N_("IMAP port"), env="DBOX_IMAP_PORT", validate=_port, ask=False),
        SettingField("imap_security", N_("IMAP security: ssl, starttls or none (none only on this machine)"),
                     env="DBOX_IMAP_SECURITY", default="ssl", validate=_security_imap, ask=False),
        SettingField("imap_username", N_("IMAP user name"), env="DBOX_IMAP_USERNAME", ask=False),
        SettingField("imap_password", N_("IMAP password"), secret=True, env="DBOX_IMAP_PASSWORD", ask=False),
        SettingField("imap_folder", N_("IMAP folder the reports arrive in"), env="DBOX_IMAP_FOLDER", default="INBOX",
                     ask=False),
    )

    def missing(self, settings: dict[str, Any], *, secrets: bool = True) -> list[str]:
        missing = super().missing(settings, secrets=secrets)
        if secrets and settings.get("username") and not settings.get("password"):
            missing.append("password")
        return missing

    def check(self, settings: dict[str, Any], *, secrets: bool = True) -> None:
        super().check(settings, secrets=secrets)
        if settings.get("security", "starttls") == "none" and settings.get("host") not in _LOOPBACK:
            raise NotConfiguredError(
                _("security 'none' is only allowed for an SMTP server on this machine, not {settings}").format(
                    settings=settings.get('host')),
                hint=_("use starttls or ssl: dbox channels setup email"))

    def compose_rules(self, settings: dict[str, Any]) -> ComposeRules:
        return ComposeRules(kind="email", unsubscribe_mailto=settings.get("unsubscribe_mailto"),
                            unsubscribe_url=settings.get("unsubscribe_url"))

    def connect(self, settings: dict[str, Any]) -> Sender:
        self.check(settings)
        return SmtpSender(settings)


class SmtpSender(Sender):
    """One SMTP connection, opened at the first message and kept for the batch."""

    def __init__(self, settings: dict[str, Any]):
        from email.utils import formataddr

        self.settings = settings
        self.host = settings["host"]
        self.port = int(settings.get("port") or 587)
        self.security = settings.get("security") or "starttls"
        self.timeout = float(settings.get("timeout") or 30)
        self.max_per_connection = int(settings.get("max_per_connection") or 0)
        self.from_address = settings["from_address"]
        self.from_header = formataddr((settings.get("from_name") or "", self.from_address))
        self.conn = None
        self.sent_on_connection = 0
        self.connections = 0

    def _connect(self):
        import smtplib
        import ssl

        if self.security == "ssl":
            conn = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                    context=ssl.create_default_context())
        else:
            conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)   # command/reply: no Nagle wait
        conn.ehlo()
        if self.security == "starttls":
            conn.starttls(context=ssl.create_default_context())
            conn.ehlo()
        if self.settings.get("username"):
            conn.login(self.settings["username"], self.settings["password"])
        self.connections += 1
        self.sent_on_connection = 0
        return conn

    def _drop(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except OSError:
                pass
        self.conn = None

    def build(self, message: OutgoingMessage, to: str | None = None, utf8: bool = False) -> bytes:
        from email import policy
        from email.message import EmailMessage
        from email.utils import format_datetime

        msg = EmailMessage(policy=policy.SMTPUTF8 if utf8 else policy.SMTP)
        msg["From"] = self.from_header
        msg["To"] = to or message.to
        msg["Subject"] = message.subject or ""
        msg["Date"] = format_datetime(datetime.now(timezone.utc))
        if message.message_id:
            msg["Message-ID"] = message.message_id
        if self.settings.get("reply_to"):
            msg["Reply-To"] = self.settings["reply_to"]
        for name, value in message.headers.items():
            msg[name] = value
        msg.set_content(message.body, cte="quoted-printable")
        if message.html:
            msg.add_alternative(message.html, subtype="html", cte="quoted-printable")
        return msg.as_bytes()

    def send(self, message: OutgoingMessage) -> SendResult:
        import smtplib

        if self.conn is not None and self.max_per_connection and self.sent_on_connection >= self.max_per_connection:
            self.close()
        try:
            if self.conn is None:
                self.conn = self._connect()
        except smtplib.SMTPAuthenticationError as exc:
            self._drop()
            return SendResult("fatal", code=str(exc.smtp_code), error=f"SMTP login refused: {_text(exc.smtp_error)}")
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            return SendResult("retry", error=f"could not connect to {self.host}:{self.port}: {type(exc).__name__}")
        conn = self.conn
        to, utf8 = envelope_address(message.to)
        sender = self.from_address
        if self.settings.get("bounce_address"):    # VERP: the bounce names its campaign and contact
            sender = verp_address(self.settings["bounce_address"], message.message_id)
        mail_options: list[str] = []
        if utf8:
            if not conn.has_extn("smtputf8"):
                return SendResult("failed", code="smtputf8", error="address not supported by the server "
                                                                   "(it does not offer SMTPUTF8)")
            mail_options = ["SMTPUTF8", "BODY=8BITMIME"] if conn.has_extn("8bitmime") else ["SMTPUTF8"]
        data = self.build(message, to, utf8)
        try:
            try:
                code, reply = conn.mail(sender, mail_options)
                if code != 250:
                    conn.rset()
                    return _refused_sender(code, reply)
                code, reply = conn.rcpt(to)
                if code not in (250, 251):
                    conn.rset()
                    return _refused(code, reply, "RCPT")
            finally:
                conn.command_encoding = "ascii"      # smtplib switches it for SMTPUTF8 and never back
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            return SendResult("retry", error=f"connection lost before the message was sent: {type(exc).__name__}")
        try:
            code, reply = conn.data(data)
        except smtplib.SMTPDataError as exc:     # DATA itself refused (no 354): nothing sent
            try:
                conn.rset()
            except (smtplib.SMTPException, OSError):
                self._drop()
            return _refused(exc.smtp_code, exc.smtp_error, "DATA")
        except (smtplib.SMTPServerDisconnected, socket.timeout, OSError) as exc:
            self._drop()
            return SendResult("unknown", error=f"connection lost while the server received the message: "
                                               f"{type(exc).__name__}")
        self.sent_on_connection += 1
        if code == 250:
            return SendResult("accepted", provider_id=message.message_id, status=f"{code} {_text(reply)}"[:200])
        return _refused(code, reply, "DATA")

    def close(self) -> None:
        import smtplib

        if self.conn is not None:
            try:
                self.conn.quit()
            except (smtplib.SMTPException, OSError):
                pass
        self._drop()


def _text(reply) -> str:
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    return scrub(" ".join(str(reply).split()))


def envelope_address(address: str) -> tuple[str, bool]:
    """The address to put in the envelope, and whether it needs SMTPUTF8.

    ASCII: as is. Only the domain non-ASCII: the domain in IDNA form (``andre@xn--exmple-cua.fr``),
    which every server takes. A non-ASCII local part (``louise.œuvray@free.fr``) has no ASCII
    form: it needs SMTPUTF8 (RFC 6531). A domain IDNA cannot encode also needs it."""
    if address.isascii():
        return address, False
    local, _unused, domain = address.rpartition("@")
    if local.isascii():
        try:
            return f"{local}@{domain.encode('idna').decode('ascii')}", False
        except UnicodeError:
            pass
    return address, True


_OUR_MESSAGE_ID = re.compile(r"<dbox\.([0-9a-f]{8,64})\.(\d{1,12})@[^<>\s]+>", re.I)


def verp_address(bounce_address: str, message_id: str | None) -> str:
    """The per-message return path (VERP): ``bounces@example.org`` becomes
    ``bounces+<campaign uid>.<contact id>@example.org`` for ``<dbox.<uid>.<id>@...>``, so a bounce
    names its campaign and contact even when it quotes nothing of the message
    (``dbox.sending.dsn`` reads it back)."""
    match = _OUR_MESSAGE_ID.fullmatch((message_id or "").strip())
    if not match:
        return bounce_address
    local, _unused, domain = bounce_address.rpartition("@")
    return f"{local}+{match.group(1).lower()}.{match.group(2)}@{domain}"


_ENHANCED = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})\b")


def _refused_sender(code: int, reply) -> SendResult:
    """MAIL FROM refused: about the sender or the server, never one recipient."""
    text = f"SMTP {code} at MAIL FROM: {_text(reply)}"
    if code < 500:
        return SendResult("retry", code=str(code), error=text)
    return SendResult("fatal", code=str(code), error=text)


def _refused(code: int, reply, step: str) -> SendResult:
    """RCPT or DATA refused: about this recipient (see the module docstring for the rules)."""
    text = f"SMTP {code}: {_text(reply)}"
    if code == 421:                              # the server is closing the connection: not the recipient
        return SendResult("retry", code=str(code), error=text)
    if 400 <= code < 500:
        return SendResult("soft", code=str(code), error=text)
    enhanced = _ENHANCED.match(_text(reply))
    if step == "DATA" and enhanced and enhanced.group(2) == "7":
        return SendResult("failed", code=str(code), error=text)      # content or policy: keep the address
    return SendResult("failed", code=str(code), error=text, effect="bounced")


@hookimpl
def register_channels(register):
    register(SmtpEmail())
