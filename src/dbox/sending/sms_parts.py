"""How many SMS segments a text costs: GSM-7 (160 septets, 153 per part) or UCS-2 (70, 67 per part).

One character outside the GSM 03.38 alphabet (an "ê", a "ç", an emoji) switches the whole message
to UCS-2. GSM extension characters (``€ [ ] { } ^ ~ | \\``) take two septets and are never split
across two parts; neither is a UTF-16 surrogate pair. The alphabet comes from the ``gsm0338`` codec.
"""

from __future__ import annotations

from dataclasses import dataclass

import gsm0338  # noqa: F401  (registers the 'gsm03.38' codec; tiny, no dependencies)

GSM_SINGLE, GSM_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


@dataclass(frozen=True)
class Parts:
    encoding: str      # 'GSM-7' | 'UCS-2'
    units: int         # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


_TABLES: tuple[frozenset, frozenset] | None = None


def _tables() -> tuple[frozenset, frozenset]:
    """(basic, extension) characters, read once from the gsm0338 codec's own tables."""
    global _TABLES
    if _TABLES is None:
        basic, ext = set(), set()
        for i in range(128):
            if i != 0x1B:
                basic.update(bytes([i]).decode("gsm03.38"))
                try:
                    decoded = bytes([0x1B, i]).decode("gsm03.38")
                except UnicodeDecodeError:
                    continue
                if len(decoded) == 1 and decoded not in basic:
                    ext.add(decoded)
        ext -= basic
        _TABLES = frozenset(basic), frozenset(ext)
    return _TABLES


_ALL: frozenset | None = None


def _gsm_all() -> frozenset:
    """Every GSM-7 character, basic or extension (made once: ``count`` runs for every message)."""
    global _ALL
    if _ALL is None:
        basic, ext = _tables()
        _ALL = basic | ext
    return _ALL


def count(text: str) -> Parts:
    if not text:
        return Parts("GSM-7", 0, 1)
    basic, ext = _tables()
    chars = set(text)
    if not chars <= _gsm_all():
        return _ucs2(text)
    extra = sum(text.count(ch) for ch in chars & ext)      # extension characters take two septets
    units = len(text) + extra
    if units <= GSM_SINGLE:
        return Parts("GSM-7", units, 1)
    return Parts("GSM-7", units, _pack((2 if ch in ext else 1 for ch in text), GSM_PART))


def _ucs2(text: str) -> Parts:
    sizes = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    units = sum(sizes)
    if units <= UCS2_SINGLE:
        return Parts("UCS-2", units, 1)
    return Parts("UCS-2", units, _pack(sizes, UCS2_PART))


def _pack(sizes, capacity: int) -> int:
    """Parts needed when no character (of 1 or 2 units) may straddle two parts."""
    parts, used = 1, 0
    for size in sizes:
        if used + size > capacity:
            parts += 1
            used = 0
        used += size
    return parts


def non_gsm_characters(text: str) -> list[str]:
    """The characters that force UCS-2, in order of appearance, once each."""
    seen: list[str] = []
    for ch in text:
        try:
            ch.encode("gsm03.38")
        except UnicodeEncodeError:
            if ch not in seen:
                seen.append(ch)
    return seen


# What --gsm writes instead of a character outside GSM 03.38 (é, è, à, ù, Ç stay: they are in it).
_GSM_REPLACE = {
    "«": '"', "»": '"', "“": '"', "”": '"', "„": '"', "’": "'", "‘": "'", "‚": "'", "‹": "'", "›": "'",
    "–": "-", "—": "-", "‐": "-", "‑": "-", "…": "...", "\u00a0": " ", "\u202f": " ", "\u2009": " ",
    "œ": "oe", "Œ": "OE", "ç": "c", "ÿ": "y", "•": "-", "·": ".",
}


def to_gsm(text: str) -> str:
    """``text`` with the characters that force UCS-2 replaced by their closest GSM-7 spelling
    (ê -> e, « » -> ", œ -> oe); characters of the alphabet, é and è included, are kept. What has
    no GSM-7 spelling (an emoji) is dropped."""
    import unicodedata

    basic, ext = _tables()
    allowed = basic | ext
    if set(text) <= allowed:
        return text
    import re

    text = re.sub(r"«[ \u00a0\u202f]*", "«", re.sub(r"[ \u00a0\u202f]*»", "»", text))   # « Forêt » -> "Foret"
    out = []
    for ch in text:
        if ch in allowed:
            out.append(ch)
        elif ch in _GSM_REPLACE:
            out.append(_GSM_REPLACE[ch])
        else:
            bare = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
            out.append(bare if bare and set(bare) <= allowed else "")
    return "".join(out)
