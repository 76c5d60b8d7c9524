"""Masking phones and e-mails for logs, errors and the terminal: ``+33 6•••••678``, ``j•••@example.org``.

``scrub(text)`` masks every phone-like or e-mail-like run inside a provider's message, which
often quotes the number it refused.
"""

from __future__ import annotations

import re

_DOT = "\u2022"
_EMAIL = re.compile(r"([A-Za-z0-9._%+\-']+)@([A-Za-z0-9.\-]+\.[A-Za-z]{2,})")
_PHONE = re.compile(r"(?<![\w/])\+?\d[\d .\-]{6,}\d")


def mask_phone(value: str | None) -> str:
    if not value:
        return ""
    digits = value.replace(" ", "")
    if len(digits) < 7:
        return _DOT * len(digits)
    head = 4 if digits.startswith("+") else 2
    return digits[:head] + _DOT * (len(digits) - head - 3) + digits[-3:]


def mask_email(value: str | None) -> str:
    if not value or "@" not in value:
        return _DOT * 3 if value else ""
    local, domain = value.rsplit("@", 1)
    return f"{local[:1]}{_DOT * 3}@{domain}"


def mask(value: str | None) -> str:
    if value and "@" in value:
        return mask_email(value)
    return mask_phone(value)


# A phone number has at least 8 digits (a French national number 10, E.164 with its country code
# more); shorter runs are codes worth keeping, such as an SMTP reply's "550 5.1.1".
_PHONE_DIGITS = 8


def _mask_phone_run(match: re.Match) -> str:
    run = match.group(0)
    digits = re.sub(r"[ .\-]", "", run)
    if sum(c.isdigit() for c in digits) < _PHONE_DIGITS:
        return run
    return mask_phone(digits)


def scrub(text: str | None) -> str | None:
    if text is None:
        return None
    text = _EMAIL.sub(lambda m: mask_email(m.group(0)), text)
    return _PHONE.sub(_mask_phone_run, text)


def scrub_emails(text: str | None) -> str | None:
    """Mask the e-mail addresses only: a bounce's SMTP reply (``550 5.1.1``) keeps its codes."""
    if text is None:
        return None
    return _EMAIL.sub(lambda m: mask_email(m.group(0)), text)
