"""Normalizing the values of an imported row: phones, e-mails, names, postal codes, civility.

Phones and e-mails have a fast path for the common French forms, built from the very rules the
reference libraries use (phonenumbers' own metadata patterns; a strict subset of what
email-validator accepts), and fall back to the libraries for everything else. Tests check that
the fast path never disagrees with the libraries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from dbox.i18n import N_, _
from dbox.text import fold

# Overseas départements: postal prefix -> phonenumbers region.
OVERSEAS_REGIONS = {"971": "GP", "972": "MQ", "973": "GF", "974": "RE", "976": "YT"}
_COUNTRY_CODES = {"FR": 33, "GP": 590, "MQ": 596, "GF": 594, "RE": 262, "YT": 262}


class ValueRejected(ValueError):
    """A value that cannot be normalized; the message says why (the caller adds row and column)."""


@dataclass(frozen=True)
class Phone:
    e164: str
    kind: str  # mobile | fixed


def phone_region_for_postal_code(postal_code: str | None) -> str:
    if postal_code and len(postal_code) == 5:
        return OVERSEAS_REGIONS.get(postal_code[:3], "FR")
    return "FR"


_PHONE_NOISE = re.compile(r"[\s.\-/()\u00a0]")


@lru_cache(maxsize=None)
def _patterns(region: str):
    from phonenumbers import PhoneMetadata

    meta = PhoneMetadata.metadata_for_region(region)
    mobile = re.compile(f"(?:{meta.mobile.national_number_pattern})")
    fixed = re.compile(f"(?:{meta.fixed_line.national_number_pattern})")
    return mobile, fixed


def _fast_phone(digits: str, region: str) -> Phone | None:
    """National significant number for the common forms: 0612345678, 612345678 (zero lost),
    +33612345678, 0033612345678, 33612345678. None when unsure: the caller asks phonenumbers."""
    code = str(_COUNTRY_CODES[region])
    if digits.startswith("+" + code):
        nsn = digits[1 + len(code):]
    elif digits.startswith("00" + code):
        nsn = digits[2 + len(code):]
    elif len(digits) == 10 and digits[0] == "0":
        nsn = digits[1:]
    elif len(digits) == 9 and digits[0] != "0" and digits.isdigit():
        nsn = digits  # Excel turned 0612345678 into 612345678
    elif region == "FR" and len(digits) == 11 and digits.startswith("33"):
        nsn = digits[2:]
    else:
        return None
    if len(nsn) != 9 or not nsn.isdigit():
        return None
    mobile, fixed = _patterns(region)
    if mobile.fullmatch(nsn):
        return Phone(f"+{code}{nsn}", "mobile")
    if fixed.fullmatch(nsn):
        return Phone(f"+{code}{nsn}", "fixed")
    return None


def _library_phone(raw: str, region: str) -> Phone | None:
    import phonenumbers
    from phonenumbers import PhoneNumberType

    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    kind = "mobile" if phonenumbers.number_type(number) == PhoneNumberType.MOBILE else "fixed"
    return Phone(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), kind)


def normalize_phone(raw: str, region: str = "FR") -> Phone:
    """E.164 and type of a phone as people type it; raises ``ValueRejected``."""
    text = raw.strip()
    if text.endswith(".0") and text[:-2].isdigit():  # a number cell from a spreadsheet
        text = text[:-2]
    digits = _PHONE_NOISE.sub("", text)
    if not digits:
        raise ValueRejected(_("empty phone"))
    phone = _fast_phone(digits, region) or _library_phone(digits, region)
    if phone is None and len(digits) == 9 and digits.isdigit():
        phone = _library_phone("0" + digits, region)
    if phone is None and region != "FR":
        # Someone living overseas may well keep a metropolitan number.
        phone = _fast_phone(digits, "FR") or _library_phone(digits, "FR")
    if phone is None and region == "FR" and digits.startswith("0") and len(digits) == 10:
        # A French overseas number written without its postal code: accept it when exactly one
        # overseas region recognizes it.
        found = {p for r in OVERSEAS_REGIONS.values() if (p := _library_phone(digits, r))}
        if len(found) == 1:
            phone = found.pop()
    if phone is None:
        raise ValueRejected(_("{value!r} is not a valid phone number").format(value=raw.strip()))
    return phone


_SPECIAL_TLDS = {"arpa", "invalid", "local", "localhost", "onion", "test", "internal", "home", "lan"}
_SIMPLE_EMAIL = re.compile(
    r"[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,63})"
)


def normalize_email(raw: str) -> str:
    """Trimmed, lower-cased, syntax-checked (no DNS); raises ``ValueRejected``."""
    text = raw.strip().strip("<>").strip().lower()
    if text.startswith("mailto:"):
        text = text[7:]
    if not text:
        raise ValueRejected(_("empty e-mail"))
    match = _SIMPLE_EMAIL.fullmatch(text)
    if match and match.group(1) not in _SPECIAL_TLDS and len(text) <= 254 and text.index("@") <= 64:
        return text
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(text, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValueRejected(_("{value!r} is not a valid e-mail ({detail})").format(
            value=raw.strip(), detail=email_problem(str(exc)))) from None


# What email_validator says (English only), in the user's language: its frequent sentences, by shape;
# a sentence not listed is shown as the library wrote it.
_EMAIL_PROBLEMS = [
    (r"An email address must have an @-sign\.", N_("there is no @")),
    (r"There must be something before the @-sign\.", N_("nothing before the @")),
    (r"There must be something after the @-sign\.", N_("nothing after the @")),
    (r"The part after the @-sign contains invalid characters: (?P<chars>.*?)\.?", N_("invalid characters after the @: {chars}")),
    (r"The email address contains invalid characters before the @-sign: (?P<chars>.*?)\.?",
     N_("invalid characters before the @: {chars}")),
    (r"The email address contains invalid characters before the @-sign\.", N_("invalid characters before the @")),
    (r"The email address contains an invalid character\.", N_("an invalid character")),
    (r"The email address contains unsafe characters: (?P<chars>.*?)\.?", N_("unsafe characters: {chars}")),
    (r"An email address cannot have two periods in a row\.", N_("two dots in a row")),
    (r"An email address cannot (?:start|end) with a period\.", N_("a dot at the start or the end")),
    (r"An email address cannot have a period immediately after the @-sign\.", N_("a dot right after the @")),
    (r"The part after the @-sign is not valid\. It should have a period\.", N_("the domain after the @ has no dot")),
    (r"The part after the @-sign is not valid\. It is not within a valid top-level domain\.",
     N_("the domain after the @ does not end like a real one (.fr, .com...)")),
    (r"The part after the @-sign is a special-use or reserved name.*", N_("the domain after the @ is a reserved name")),
    (r"The email address is too long.*", N_("the address is too long")),
    (r"There can't be anything after the email address\.", N_("something follows the address")),
    (r"An email address cannot have a hyphen immediately after the @-sign\.", N_("a hyphen right after the @")),
]


def email_problem(text: str) -> str:
    """email_validator's reason in the user's language (as written when its shape is not known)."""
    for pattern, key in _EMAIL_PROBLEMS:
        match = re.fullmatch(pattern, text.strip(), re.S)
        if match:
            return _(key).format(**match.groupdict())
    return text


_POSTAL_NOISE = re.compile(r"[\s\u00a0]")


def normalize_postal_code(raw: str) -> str:
    """Five digits as text; a code Excel shortened (``1000``, ``1000.0``) gets its zero back."""
    text = _POSTAL_NOISE.sub("", raw)
    if text.endswith(".0"):
        text = text[:-2]
    if text.isdigit() and len(text) == 4:
        text = "0" + text
    if not (text.isdigit() and len(text) == 5):
        raise ValueRejected(_("{value!r} is not a 5-digit postal code").format(value=raw.strip()))
    return text


_CIVILITIES = {
    "m": "M.", "mr": "M.", "monsieur": "M.", "mister": "M.",
    "mme": "Mme", "madame": "Mme", "mrs": "Mme", "ms": "Mme", "mlle": "Mme", "mademoiselle": "Mme",
    "miss": "Mme",
}


def normalize_civility(raw: str) -> str:
    key = re.sub(r"[^a-z]", "", raw.strip().lower())
    if not key:
        return ""
    return _CIVILITIES.get(key, raw.strip())


_PARTICLES = {"de", "du", "des", "d", "von", "van", "der", "den"}
_NAME_SPLIT = re.compile(r"([\s\-'’]+)")


def normalize_name(raw: str) -> str:
    """Sensible casing for names typed all upper or all lower case; mixed case is kept as typed.

    'JEAN-PIERRE' -> 'Jean-Pierre', 'DE LA TOUR' -> 'de La Tour', "n'diaye" -> "N'Diaye".
    """
    text = " ".join(raw.split())
    if not text or not (text.isupper() or text.islower()):
        return text
    parts = _NAME_SPLIT.split(text.lower())
    out = []
    for i, part in enumerate(parts):
        if i % 2:  # a separator
            out.append(part)
            continue
        if not part:
            continue
        next_sep = parts[i + 1] if i + 1 < len(parts) else ""
        is_last = i + 1 >= len(parts) - 1
        if part in _PARTICLES and not is_last and not next_sep.startswith("-"):
            out.append(part)
        else:
            out.append(part[0].upper() + part[1:])
    return "".join(out)


def split_tags(raw: str) -> list[str]:
    seen, tags = set(), []
    for tag in re.split(r"[,;|]", raw):
        tag = " ".join(tag.split())
        if tag and tag.lower() not in seen:
            seen.add(tag.lower())
            tags.append(tag)
    return tags


_YES = {"oui", "o", "yes", "y", "1", "x", "true", "vrai", "ok", "accord", "d accord"}
_NO = {"non", "n", "no", "0", "false", "faux", ""}


def parse_yes_no(raw: str) -> bool:
    key = fold(raw)
    if key in _YES:
        return True
    if key in _NO:
        return False
    raise ValueRejected(_("{value!r} is neither yes nor no (oui/non, yes/no, 1/0, x)").format(value=raw.strip()))


def normalize_field(name: str, raw: str, region: str = "FR"):
    """A contact field's value in its normal form: the one dispatch import, rectification and action
    results share. Names, civility, e-mail, postal code as their functions above; ``mobile``,
    ``fixed`` and ``phone`` give a :class:`Phone` (read in ``region``); any other text has its white
    space collapsed. ValueRejected when the value cannot be one."""
    if name in ("first_name", "last_name"):
        return normalize_name(raw)
    if name == "civility":
        return normalize_civility(raw)
    if name == "email":
        return normalize_email(raw)
    if name in ("mobile", "fixed", "phone"):
        return normalize_phone(raw, region)
    if name == "postal_code":
        return normalize_postal_code(raw)
    return " ".join(raw.split())


PHONE_FORMATS = ("national", "e164")
# Dialled from France with a leading 0: metropolitan France and the overseas départements.
_NATIONAL_REGIONS = {"FR", "GP", "MQ", "GF", "RE", "YT", "BL", "MF", "PM"}


def format_phone(e164: str | None, style: str) -> str | None:
    """A stored phone (E.164) as people dial it: ``national`` is ``07 85 81 23 50`` for France and
    its overseas départements and ``+44 7911 123456`` for any other country; ``e164`` is the stored
    ``+33785812350``. A value that is not E.164 is returned unchanged."""
    if not e164 or style == "e164" or not e164.startswith("+"):
        return e164
    if e164.startswith("+33") and len(e164) == 12 and e164[1:].isdigit():    # the common case, no library
        d = "0" + e164[3:]
        return " ".join(d[i:i + 2] for i in range(0, 10, 2))
    import phonenumbers

    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    national = phonenumbers.region_code_for_number(number) in _NATIONAL_REGIONS
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL if national
                                      else phonenumbers.PhoneNumberFormat.INTERNATIONAL)


# Domains most French contact files hold. A domain one typo away from one of them (and not
# itself on the list) is reported with a suggestion; it is never changed (it may be real).
COMMON_EMAIL_DOMAINS = (
    "gmail.com", "yahoo.fr", "yahoo.com", "hotmail.fr", "hotmail.com", "outlook.fr", "outlook.com",
    "live.fr", "live.com", "msn.com", "orange.fr", "wanadoo.fr", "free.fr", "sfr.fr", "neuf.fr",
    "laposte.net", "bbox.fr", "icloud.com", "me.com", "aol.com", "gmx.fr", "protonmail.com", "proton.me",
    "club-internet.fr", "numericable.fr", "aliceadsl.fr", "cegetel.net", "googlemail.com", "ymail.com",
)
_COMMON_DOMAINS = frozenset(COMMON_EMAIL_DOMAINS)


def _one_edit_apart(a: str, b: str) -> bool:
    """One character substituted, inserted, deleted, or two neighbours swapped."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = next((i for i in range(len(short)) if short[i] != long_[i]), len(short))
    return short[i:] == long_[i + 1:]


def email_domain_suggestion(email: str) -> str | None:
    """``x@gmail.con`` -> ``gmail.com``; None when the domain is common or near none."""
    return _domain_suggestion(email.rpartition("@")[2])


@lru_cache(maxsize=4096)
def _domain_suggestion(domain: str) -> str | None:
    # Cached by domain, not by address: a file has a few hundred domains and as many addresses
    # as rows, and comparing a domain with the list costs more than the rest of the e-mail's work.
    if domain in _COMMON_DOMAINS:
        return None
    for known in COMMON_EMAIL_DOMAINS:
        if _one_edit_apart(domain, known):
            return known
    return None
