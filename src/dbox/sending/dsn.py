"""Reading the reports that come back to a sender: delivery-status notifications (DSN, RFC 3464)
and feedback-loop complaints (ARF, RFC 5965). Pure functions over a message's bytes: no store.

A report is classified once, by the rules of docs/sending.md ("Bounces that arrive later"):

- ``hard``: the address does not exist or is disabled: ``Action: failed`` with a permanent status
  (5.x.x) about the address, the mailbox or the route (5.1.x, 5.2.1, 5.4.x but 5.4.7, 5.5.x, 5.0.0).
- ``soft``: the message was given up on for a reason that may pass: ``Action: failed`` with a
  transient status (4.x.x, e.g. 4.4.7 expired after the server's retries), a full mailbox (5.2.2),
  a message too big (5.3.4, 5.2.3), a policy or spam refusal (5.7.x), a delivery time expired (5.4.7).
- ``delayed``: ``Action: delayed`` (still being tried): recorded, counted nowhere.
- ``complaint``: an ARF report whose ``Feedback-Type`` is ``abuse``, ``fraud``, ``virus`` or
  ``other`` (the recipient marked the message as spam).
- ``other``: anything else (a ``delivered`` DSN, an auto-reply, a person's mail).

The original message is found by its ``Message-ID`` in the report's ``message/rfc822``,
``text/rfc822-headers`` (or RFC 6533's ``message/global*``) part, else anywhere in the report's
text (plain-text bounces as old Exim and qmail send them), and by the per-message return path
(VERP) the report was delivered to (``Delivered-To``, ``X-Original-To``, ``To``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from dbox.masking import scrub_emails

# <dbox.<campaign uid>.<contact id>@domain>, as dbox.sending.compose makes it
OUR_MESSAGE_ID = re.compile(r"<dbox\.([0-9a-f]{8,64})\.(\d{1,12})@[^<>\s]+>", re.I)
# the return path of one message: <local>+<campaign uid>.<contact id>@<domain> (channels.email.verp_address)
OUR_VERP = re.compile(r"\+([0-9a-f]{8,64})\.(\d{1,12})@", re.I)

_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_SMTP_REPLY = re.compile(r"(?<![\d.])([45])\d\d[ -](?:([245]\.\d{1,3}\.\d{1,3})\b)?")
_COMPLAINTS = ("abuse", "fraud", "virus", "other")
_BOUNCE_SUBJECT = re.compile(r"undeliver|delivery (status|failure|has failed)|mail delivery|failure notice|"
                             r"returned mail|non remis|non distribu|delivery notification|rejected", re.I)
_DAEMON = re.compile(r"mailer-daemon|postmaster|mail delivery", re.I)


@dataclass
class Report:
    report_id: str
    kind: str                               # hard | soft | delayed | complaint | other
    status: str | None = None               # 5.1.1, 4.4.7, or the feedback type (abuse)
    recipient: str | None = None            # Final-Recipient / Original-Rcpt-To, as the report gives it
    diagnostic: str | None = None
    origins: list[tuple[str, int]] = field(default_factory=list)   # (campaign uid, contact id), best first
    source: str = ""                        # dsn | arf | text


def classify_status(action: str | None, status: str | None) -> str:
    """hard | soft | delayed | other, from a DSN's per-recipient Action and Status."""
    action = (action or "").strip().lower()
    if action == "delayed":
        return "delayed"
    if action != "failed":
        return "other"
    match = _STATUS.search(status or "")
    if not match:
        return "soft"        # failed with no status: do not drop an address on a guess
    klass, subject, detail = match.group(1), int(match.group(2)), int(match.group(3))
    if klass != "5":
        return "soft"
    if subject == 2 and detail in (2, 3):       # mailbox full, message too big for it
        return "soft"
    if subject in (3, 6, 7):                    # the system, the content, a policy: not the address
        return "soft"
    if subject == 4 and detail == 7:            # delivery time expired
        return "soft"
    return "hard"


def _text_of(part) -> str:
    payload = part.get_payload(decode=True)
    if payload is None:
        payload = part.get_payload()
        if isinstance(payload, list):
            return "\n".join(_text_of(p) for p in payload)
        return str(payload or "")
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, "replace")
    except LookupError:
        return payload.decode("utf-8", "replace")


def _field_blocks(part) -> list[dict[str, str]]:
    """The header blocks of a message/delivery-status or message/feedback-report part, as dicts
    with lower-case names. The email package parses them into sub-messages; a part sent base64
    or quoted-printable (some gateways do) arrives as text and is read here."""
    payload = part.get_payload()
    blocks: list[dict[str, str]] = []
    encoding = str(part.get("content-transfer-encoding", "")).strip().lower()
    if isinstance(payload, list) and encoding in ("base64", "quoted-printable"):
        import base64
        import quopri

        text = "".join(sub.as_string() for sub in payload)      # the parser split the encoded text: undo
        try:
            raw = base64.b64decode(text) if encoding == "base64" else quopri.decodestring(text.encode())
        except ValueError:
            return []
        return _parse_blocks(raw.decode("utf-8", "replace"))
    if isinstance(payload, list) and payload and hasattr(payload[0], "items"):
        for sub in payload:
            blocks.append({k.lower(): str(v) for k, v in sub.items()})
            inner = sub.get_payload()
            if isinstance(inner, str) and ":" in inner:      # a feedback-report parsed as one message
                blocks.extend(_parse_blocks(inner))
        return [b for b in blocks if b]
    raw = part.get_payload(decode=True)
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(payload)
    return _parse_blocks(text)


def _parse_blocks(text: str) -> list[dict[str, str]]:
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last = None
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line.strip():
            if current:
                blocks.append(current)
            current, last = {}, None
        elif line[0] in " \t" and last:
            current[last] += " " + line.strip()
        elif ":" in line:
            name, _, value = line.partition(":")
            last = name.strip().lower()
            current[last] = current[last] + ", " + value.strip() if last in current else value.strip()
    if current:
        blocks.append(current)
    return blocks


def _address(value: str | None) -> str | None:
    """``rfc822; someone@example.org`` -> ``someone@example.org``."""
    if not value:
        return None
    value = value.split(";", 1)[-1].strip().strip("<>").strip()
    return value or None


def _origins_from_headers(headers) -> list[tuple[str, int]]:
    found = []
    for name in ("message-id", "x-original-message-id", "resent-message-id"):
        for value in headers.get_all(name, []) or []:
            for uid, cid in OUR_MESSAGE_ID.findall(str(value)):
                found.append((uid.lower(), int(cid)))
    return found


def _headers_of(part):
    """The original message's headers: a message/rfc822 part, or a text/rfc822-headers one."""
    from email import policy
    from email.parser import BytesHeaderParser

    ctype = part.get_content_type()
    if ctype in ("message/rfc822", "message/global"):
        payload = part.get_payload()
        if isinstance(payload, list) and payload:
            return payload[0]
        raw = part.get_payload(decode=True) or b""
        return BytesHeaderParser(policy=policy.compat32).parsebytes(raw)
    raw = part.get_payload(decode=True)
    if raw is None:
        raw = str(part.get_payload()).encode("utf-8", "replace")
    return BytesHeaderParser(policy=policy.compat32).parsebytes(raw.lstrip(b"\r\n"))


def parse(raw: bytes) -> Report:
    """Read one message of the bounce mailbox."""
    from email import message_from_bytes, policy

    msg = message_from_bytes(raw, policy=policy.compat32)
    own_id = (msg.get("Message-ID") or "").strip()
    report_id = own_id if own_id else "sha256:" + hashlib.sha256(raw).hexdigest()
    report = Report(report_id[:300], "other")
    origins: list[tuple[str, int]] = []
    for name in ("delivered-to", "x-original-to", "envelope-to", "x-envelope-to", "to"):
        for value in msg.get_all(name, []) or []:
            for uid, cid in OUR_VERP.findall(str(value)):
                origins.append((uid.lower(), int(cid)))
    dsn_blocks: list[dict[str, str]] = []
    arf_blocks: list[dict[str, str]] = []
    texts: list[str] = []
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype in ("message/delivery-status", "message/global-delivery-status"):
            dsn_blocks.extend(_field_blocks(part))
        elif ctype == "message/feedback-report":
            arf_blocks.extend(_field_blocks(part))
        elif ctype in ("message/rfc822", "message/global", "text/rfc822-headers", "message/global-headers"):
            try:
                origins.extend(_origins_from_headers(_headers_of(part)))
            except Exception:    # a broken attachment: the text search below may still find it
                pass
        elif part.get_content_maintype() == "text":
            texts.append(_text_of(part))
    if arf_blocks:
        fields = {k: v for b in arf_blocks for k, v in b.items()}
        kind = fields.get("feedback-type", "").strip().lower()
        report.source = "arf"
        report.kind = "complaint" if kind in _COMPLAINTS else "other"
        report.status = kind or None
        report.recipient = _address(fields.get("original-rcpt-to") or fields.get("removal-recipient"))
        for uid, cid in OUR_MESSAGE_ID.findall(fields.get("original-message-id", "")):
            origins.append((uid.lower(), int(cid)))
    elif dsn_blocks:
        report.source = "dsn"
        per_recipient = [b for b in dsn_blocks if "action" in b or "final-recipient" in b]
        rank = {"hard": 0, "soft": 1, "delayed": 2, "other": 3}
        best = None
        for block in per_recipient:
            kind = classify_status(block.get("action"), block.get("status"))
            if best is None or rank[kind] < rank[best[0]]:
                best = (kind, block)
        if best is not None:
            kind, block = best
            report.kind = kind
            status = _STATUS.search(block.get("status", ""))
            report.status = status.group(0) if status else (block.get("status") or None)
            report.recipient = _address(block.get("original-recipient") or block.get("final-recipient"))
            report.diagnostic = _clean(block.get("diagnostic-code"))
    elif _looks_like_bounce(msg):
        text = "\n".join(texts)
        report.source = "text"
        reply = _SMTP_REPLY.search(text)
        status = _STATUS.search(text)
        if reply or status:
            code = status.group(0) if status else f"{reply.group(1)}.0.0"
            report.status = code
            report.kind = classify_status("failed", code)
            line = text[(reply or status).start():].split("\n", 1)[0]
            report.diagnostic = _clean(line)
        failed = msg.get("X-Failed-Recipients")
        report.recipient = _address(failed.split(",")[0]) if failed else None
    if report.kind != "other" or report.source:
        for text in texts:
            for uid, cid in OUR_MESSAGE_ID.findall(text):
                origins.append((uid.lower(), int(cid)))
    seen = set()
    report.origins = [o for o in origins if not (o in seen or seen.add(o))]
    return report


def _looks_like_bounce(msg) -> bool:
    return bool(msg.get("X-Failed-Recipients") or _DAEMON.search(msg.get("From", "") or "")
                or (_BOUNCE_SUBJECT.search(msg.get("Subject", "") or "") and not msg.get("In-Reply-To")))


def _clean(text: str | None) -> str | None:
    if not text:
        return None
    return scrub_emails(" ".join(text.split()))[:300]
