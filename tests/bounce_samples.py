"""Delivery reports as real servers send them, built to the RFCs: DSNs (RFC 3464,
multipart/report; report-type=delivery-status) in the shapes Postfix, Exim, Gmail, Microsoft 365 /
Outlook.com, Orange and Free send, a plain-text Exim bounce of the old kind, and feedback-loop
complaints (ARF, RFC 5965) as Yahoo, AOL and Signal Spam send them. Each takes the original
message (the bytes the SMTP server received) and returns the report's bytes."""

from __future__ import annotations

import base64
import itertools
from email import message_from_bytes, policy

_n = itertools.count(1)


def _headers_of(original: bytes) -> str:
    head = original.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in original else original.split(b"\n\n", 1)[0]
    return head.decode("utf-8", "replace").replace("\r\n", "\n").replace("\n", "\r\n")


def _body(original: bytes) -> str:
    return original.decode("utf-8", "replace").replace("\r\n", "\n").replace("\n", "\r\n")


def _crlf(text: str) -> bytes:
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


def message_id_of(original: bytes) -> str:
    return message_from_bytes(original, policy=policy.default)["Message-ID"]


def postfix(original: bytes, rcpt: str, *, status="5.1.1", action="failed", remote="mx1.free.fr",
            diagnostic=None, headers_only=False, delivered_to="equipe@monparti.example") -> bytes:
    n = next(_n)
    diagnostic = diagnostic or (f"smtp; 550 5.1.1 <{rcpt}>: Recipient address rejected:\n"
                                f"    Free.fr: user unknown")
    original_part = (
        "Content-Description: Undelivered Message Headers\nContent-Type: text/rfc822-headers\n"
        f"Content-Transfer-Encoding: 8bit\n\n{_headers_of(original)}\n"
        if headers_only else
        "Content-Description: Undelivered Message\nContent-Type: message/rfc822\n"
        f"Content-Transfer-Encoding: 8bit\n\n{_body(original)}\n")
    return _crlf(f"""Return-Path: <>
Delivered-To: {delivered_to}
Received: by mail.monparti.example (Postfix)
	id 3F2A1C0B{n:02d}; Fri, 27 Nov 2026 10:15:00 +0100 (CET)
Date: Fri, 27 Nov 2026 10:15:00 +0100 (CET)
From: MAILER-DAEMON@mail.monparti.example (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: equipe@monparti.example
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="3F2A1C0B{n:02d}.1795770900/mail.monparti.example"
Content-Transfer-Encoding: 8bit
Message-Id: <20261127091500.3F2A1C0B{n:02d}@mail.monparti.example>

This is a MIME-encapsulated message.

--3F2A1C0B{n:02d}.1795770900/mail.monparti.example
Content-Description: Notification
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

This is the mail system at host mail.monparti.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

                   The mail system

<{rcpt}>: host {remote}[212.27.48.6] said: 550 5.1.1 <{rcpt}>:
    Recipient address rejected: Free.fr: user unknown (in reply to RCPT TO
    command)

--3F2A1C0B{n:02d}.1795770900/mail.monparti.example
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.monparti.example
X-Postfix-Queue-ID: 3F2A1C0B{n:02d}
X-Postfix-Sender: rfc822; equipe@monparti.example
Arrival-Date: Fri, 27 Nov 2026 10:14:58 +0100 (CET)

Final-Recipient: rfc822; {rcpt}
Original-Recipient: rfc822;{rcpt}
Action: {action}
Status: {status}
Remote-MTA: dns; {remote}
Diagnostic-Code: {diagnostic}

--3F2A1C0B{n:02d}.1795770900/mail.monparti.example
{original_part}
--3F2A1C0B{n:02d}.1795770900/mail.monparti.example--
""")


def exim(original: bytes, rcpt: str, *, status="5.0.0", code="550",
         text="550-Mailbox unknown. Either there is no mailbox associated with this\n"
              "550-name or you do not have authorization to see it.\n550 5.1.1 User unknown") -> bytes:
    n = next(_n)
    return _crlf(f"""Return-path: <>
Envelope-to: equipe@monparti.example
Received: from Debian-exim by smtp.monparti.example with local (Exim 4.96)
	id 1kXyZ{n:02d}-0003Ab-Cd
	for equipe@monparti.example; Fri, 27 Nov 2026 10:15:00 +0100
X-Failed-Recipients: {rcpt}
Auto-Submitted: auto-replied
From: Mail Delivery System <Mailer-Daemon@smtp.monparti.example>
To: equipe@monparti.example
Content-Type: multipart/report; report-type=delivery-status; boundary=1795770900-eximdsn-{n}
MIME-Version: 1.0
Subject: Mail delivery failed: returning message to sender
Message-Id: <E1kXyZ{n:02d}-0003Ab-Cd@smtp.monparti.example>
Date: Fri, 27 Nov 2026 10:15:00 +0100

--1795770900-eximdsn-{n}
Content-type: text/plain; charset=us-ascii

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  {rcpt}
    host mx.example.net [192.0.2.25]
    SMTP error from remote mail server after RCPT TO:<{rcpt}>:
    {text.replace(chr(10), chr(10) + '    ')}

--1795770900-eximdsn-{n}
Content-type: message/delivery-status

Reporting-MTA: dns; smtp.monparti.example

Action: failed
Final-Recipient: rfc822;{rcpt}
Status: {status}
Remote-MTA: dns; mx.example.net
Diagnostic-Code: smtp; {code} 5.1.1 User unknown

--1795770900-eximdsn-{n}
Content-type: message/rfc822

{_body(original)}
--1795770900-eximdsn-{n}--
""")


def exim_plain(original: bytes, rcpt: str) -> bytes:
    """The old plain-text Exim bounce: no report part, the message copied after a marker line."""
    n = next(_n)
    return _crlf(f"""Return-path: <>
X-Failed-Recipients: {rcpt}
Auto-Submitted: auto-replied
From: Mail Delivery System <Mailer-Daemon@relay.example.net>
To: equipe@monparti.example
Subject: Mail delivery failed: returning message to sender
Message-Id: <E1plain{n:02d}-0001Xy-Zz@relay.example.net>
Date: Fri, 27 Nov 2026 10:15:00 +0100

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  {rcpt}
    SMTP error from remote mail server after RCPT TO:<{rcpt}>:
    host mx.example.net [192.0.2.25]: 550 5.1.1 <{rcpt}>... User unknown

------ This is a copy of the message, including all the headers. ------

{_body(original)}
""")


def gmail(original: bytes, rcpt: str, *, action="failed", status="5.1.1", headers_only=False) -> bytes:
    n = next(_n)
    failed = action == "failed"
    subject = "Delivery Status Notification (Failure)" if failed else "Delivery Status Notification (Delay)"
    diagnostic = ("smtp; 550-5.1.1 The email account that you tried to reach does not exist. Please try\n"
                  " 550-5.1.1 double-checking the recipient's email address for typos or\n"
                  " 550-5.1.1 unnecessary spaces. For more information, go to\n"
                  " 550 5.1.1  https://support.google.com/mail/?p=NoSuchUser a1si{n} - gsmtp"
                  if failed else "smtp; 452-4.2.2 The recipient's inbox is out of storage space.")
    retry = "" if failed else "Will-Retry-Until: Sun, 29 Nov 2026 10:15:00 -0800 (PST)\n"
    orig = (f"Content-Type: text/rfc822-headers; charset=\"UTF-8\"\n\n{_headers_of(original)}\n" if headers_only
            else f"Content-Type: message/rfc822\n\n{_body(original)}\n")
    return _crlf(f"""Delivered-To: equipe@monparti.example
Return-Path: <>
Received: by mx.google.com with SMTP id a1si{n}; Fri, 27 Nov 2026 01:15:00 -0800 (PST)
Date: Fri, 27 Nov 2026 01:15:00 -0800 (PST)
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: equipe@monparti.example
Auto-Submitted: auto-replied
Subject: {subject}
References: {message_id_of(original)}
In-Reply-To: {message_id_of(original)}
X-Failed-Recipients: {rcpt}
Message-ID: <5f9a0a{n:02d}.a1b2c3.gsmtp@mx.google.com>
MIME-Version: 1.0
Content-Type: multipart/report; boundary="000000000000a1b2c3d4e5f6{n:02d}"; report-type=delivery-status

--000000000000a1b2c3d4e5f6{n:02d}
Content-Type: multipart/related; boundary="000000000000a1b2c3d4e5f7{n:02d}"

--000000000000a1b2c3d4e5f7{n:02d}
Content-Type: multipart/alternative; boundary="000000000000a1b2c3d4e5f8{n:02d}"

--000000000000a1b2c3d4e5f8{n:02d}
Content-Type: text/plain; charset="UTF-8"


** Address not found **

Your message wasn't delivered to {rcpt} because the address couldn't be found, or is unable to receive mail.

--000000000000a1b2c3d4e5f8{n:02d}
Content-Type: text/html; charset="UTF-8"

<html><body><h1>Address not found</h1><p>Your message wasn't delivered to <b>{rcpt}</b>.</p></body></html>

--000000000000a1b2c3d4e5f8{n:02d}--

--000000000000a1b2c3d4e5f7{n:02d}
Content-Type: image/png; name="icon.png"
Content-Disposition: attachment; filename="icon.png"
Content-Transfer-Encoding: base64
Content-ID: <icon.png>

iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==
--000000000000a1b2c3d4e5f7{n:02d}--

--000000000000a1b2c3d4e5f6{n:02d}
Content-Type: message/delivery-status

Reporting-MTA: dns; googlemail.com
Received-From-MTA: dns; monparti.example
Arrival-Date: Fri, 27 Nov 2026 01:14:58 -0800 (PST)
X-Original-Message-ID: {message_id_of(original)}

Final-Recipient: rfc822; {rcpt}
Action: {action}
Status: {status}
Remote-MTA: dns; gmail-smtp-in.l.google.com. (142.250.0.27, the server for the domain gmail.com.)
Diagnostic-Code: {diagnostic}
Last-Attempt-Date: Fri, 27 Nov 2026 01:15:00 -0800 (PST)
{retry}
--000000000000a1b2c3d4e5f6{n:02d}
{orig}
--000000000000a1b2c3d4e5f6{n:02d}--
""")


def microsoft(original: bytes, rcpt: str, *, status="5.1.10", base64_report=False) -> bytes:
    """Exchange Online / Outlook.com: a multipart/alternative notice, the report (three-digit
    detail: 5.1.10), the original message."""
    n = next(_n)
    report = (f"Reporting-MTA: dns;PR3PR02MB{n:04d}.eurprd02.prod.outlook.com\n"
              f"Received-From-MTA: dns;smtp.monparti.example\n"
              f"Arrival-Date: Fri, 27 Nov 2026 09:15:00 +0000\n\n"
              f"Final-Recipient: rfc822;{rcpt}\nAction: failed\nStatus: {status}\n"
              f"Diagnostic-Code: smtp;550 {status} RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP "
              f"address lookup\nX-Display-Name: {rcpt}\n")
    if base64_report:
        body = base64.encodebytes(_crlf(report)).decode("ascii")
        report_part = f"Content-Type: message/delivery-status\nContent-Transfer-Encoding: base64\n\n{body}"
    else:
        report_part = f"Content-Type: message/delivery-status\n\n{report}"
    return _crlf(f"""From: postmaster@outlook.com
To: equipe@monparti.example
Date: Fri, 27 Nov 2026 09:15:01 +0000
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="2f1e8a7b-3c4d-4e5f-8a9b-0c1d2e3f40{n:02d}"
X-MS-Exchange-Message-Is-Ndr:
Content-Language: en-US
Message-ID: <a7b2c3d4-e5f6-4789-ab12-cd34ef56{n:04d}@PR3PR02MB{n:04d}.eurprd02.prod.outlook.com>
In-Reply-To: {message_id_of(original)}
References: {message_id_of(original)}
Thread-Topic: Votre newsletter
Subject: Undeliverable: Votre newsletter
Auto-Submitted: auto-replied

--2f1e8a7b-3c4d-4e5f-8a9b-0c1d2e3f40{n:02d}
Content-Type: multipart/alternative; differences=Content-Type;
	boundary="alt-2f1e8a7b{n:02d}"

--alt-2f1e8a7b{n:02d}
Content-Type: text/plain; charset="us-ascii"
Content-Transfer-Encoding: quoted-printable

Your message to {rcpt} couldn't be delivered.
{rcpt.split('@')[0]} wasn't found at {rcpt.split('@')[1]}.

--alt-2f1e8a7b{n:02d}
Content-Type: text/html; charset="us-ascii"
Content-Transfer-Encoding: quoted-printable

<html><body><p>Your message to {rcpt} couldn't be delivered.</p></body></html>

--alt-2f1e8a7b{n:02d}--

--2f1e8a7b-3c4d-4e5f-8a9b-0c1d2e3f40{n:02d}
{report_part}
--2f1e8a7b-3c4d-4e5f-8a9b-0c1d2e3f40{n:02d}
Content-Type: message/rfc822

{_body(original)}
--2f1e8a7b-3c4d-4e5f-8a9b-0c1d2e3f40{n:02d}--
""")


def orange(original: bytes, rcpt: str, *, status="5.1.1",
           diagnostic="smtp; 550 5.1.1 Adresse d au moins un destinataire invalide. Invalid recipient. "
                      "OFR_416 [416]") -> bytes:
    """Orange (orange.fr, wanadoo.fr): a French notice in quoted-printable latin-1, the report, the
    original headers only."""
    n = next(_n)
    return _crlf(f"""Return-Path: <>
Delivered-To: equipe@monparti.example
Date: Fri, 27 Nov 2026 10:15:00 +0100
From: Mail Delivery System <MAILER-DAEMON@orange.fr>
Subject: =?iso-8859-1?q?Message_non_remis_=28Undelivered_Mail=29?=
To: equipe@monparti.example
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="----=_Part_{n}_orange"
Message-ID: <DSN.{n:06d}.smtp.orange.fr@orange.fr>

------=_Part_{n}_orange
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Ce message a =E9t=E9 cr=E9=E9 automatiquement par le serveur de messagerie.
Votre message n'a pas pu =EAtre remis =E0 {rcpt}.

------=_Part_{n}_orange
Content-Type: message/delivery-status

Reporting-MTA: dns; smtp.orange.fr

Final-Recipient: rfc822; {rcpt}
Action: failed
Status: {status}
Diagnostic-Code: {diagnostic}

------=_Part_{n}_orange
Content-Type: text/rfc822-headers

{_headers_of(original)}

------=_Part_{n}_orange--
""")


def arf(original: bytes, rcpt: str | None, *, feedback_type="abuse", agent="Yahoo!-Mail-Feedback/2.0",
        headers_only=False, reporter="feedback@arf.mail.yahoo.com") -> bytes:
    """A feedback-loop report (RFC 5965). ``rcpt`` None: the recipient redacted (Yahoo, Microsoft)."""
    n = next(_n)
    rcpt_line = f"Original-Rcpt-To: {rcpt}\n" if rcpt else ""
    orig = (f"Content-Type: text/rfc822-headers\n\n{_headers_of(original)}\n" if headers_only
            else f"Content-Type: message/rfc822\nContent-Disposition: inline\n\n{_body(original)}\n")
    return _crlf(f"""From: <{reporter}>
Date: Fri, 27 Nov 2026 10:30:00 +0100
Subject: FW: Votre newsletter
To: <abuse@monparti.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report;
	boundary="part1_13d.2e68ed54_boundary{n}"
Message-ID: <arf.{n:06d}@feedback.example>

--part1_13d.2e68ed54_boundary{n}
Content-Type: text/plain; charset="US-ASCII"
Content-Transfer-Encoding: 7bit

This is an email abuse report for an email message received from IP
192.0.2.10 on Fri, 27 Nov 2026 10:15:00 +0100.
For more information about this format please see
https://www.rfc-editor.org/rfc/rfc5965.

--part1_13d.2e68ed54_boundary{n}
Content-Type: message/feedback-report

Feedback-Type: {feedback_type}
User-Agent: {agent}
Version: 1
Original-Mail-From: <equipe@monparti.example>
{rcpt_line}Arrival-Date: Fri, 27 Nov 2026 10:15:00 +0100
Reporting-MTA: dns; mail.feedback.example
Source-IP: 192.0.2.10
Authentication-Results: mail.feedback.example; dkim=pass header.d=monparti.example
Reported-Domain: monparti.example

--part1_13d.2e68ed54_boundary{n}
{orig}
--part1_13d.2e68ed54_boundary{n}--
""")
