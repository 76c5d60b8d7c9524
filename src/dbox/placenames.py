"""French place names after "de" and "à": ``de("Le Bourg-d'Oisans")`` is "du Bourg-d'Oisans".

French contracts the article of a place name with the preposition before it and elides "de"
before a vowel or a mute h:

=====================  =========================  =========================
name                   de                         à
=====================  =========================  =========================
Grenoble               de Grenoble                à Grenoble
Allevard, Hyères       d'Allevard, d'Hyères       à Allevard, à Hyères
Le Bourg-d'Oisans      du Bourg-d'Oisans          au Bourg-d'Oisans
La Mure                de La Mure                 à La Mure
L'Isle-d'Abeau         de L'Isle-d'Abeau          à L'Isle-d'Abeau
Les Avenières          des Avenières              aux Avenières
Aux Marais             des Marais                 aux Marais
Los Masos              de Los Masos               à Los Masos
=====================  =========================  =========================

These are the forms INSEE gives with its "type de nom" (TNCC) code, which the shipped table of
communes keeps (column ``tncc``). The spelling alone says everything but one thing: whether an
initial h is mute ("d'Hyères") or aspirated ("de Hautefort"... or "d'Hautefort": INSEE writes
the latter). That is a fact of each name, so the names starting with h are looked up in the
table (read once, the first time such a name comes); a name the table does not know is taken as
mute, as most are (428 mute against 233 aspirated). Anything else (a name typed in capitals, with
extra spaces, a foreign place) follows the rules above; an empty value gives an empty string,
so that ``{{ commune | de | default("chez vous") }}`` works in a template.

Template filters: ``{{ commune | de }}`` and ``{{ commune | a }}`` (dbox.sending.bounded).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from dbox.geo import reference_rows
from dbox.text import fold

# The article of a name, as INSEE restores it from TNCC (any case; "L'" with a straight or curly
# apostrophe and no space after it). Longest first.
_ARTICLE = re.compile(r"^(les|las|los|aux|le|la)\s+(?=\S)|^(l['’])(?=\S)", re.IGNORECASE)
_VOWELS = frozenset("aeiouyœæ")

# (de, à) for each contracted article; None: the article stays, after "de " / "à ".
_CONTRACTED = {"le": ("du", "au"), "les": ("des", "aux"), "aux": ("des", "aux")}


def de(name) -> str:
    """``name`` after "de": "de Grenoble", "d'Allevard", "du Bourg-d'Oisans", "des Avenières"."""
    return _join(name, 0)


def a(name) -> str:
    """``name`` after "à": "à Grenoble", "au Bourg-d'Oisans", "aux Avenières", "à La Mure"."""
    return _join(name, 1)


def _join(name, which: int) -> str:
    text = " ".join(str(name).split()) if name is not None else ""
    if not text:
        return ""
    m = _ARTICLE.match(text)
    if m and m.group(1):
        article, rest = m.group(1), text[m.end():]
        contracted = _CONTRACTED.get(article.lower())
        if contracted:
            return f"{_case_like(contracted[which], article)} {rest}"
        return f"{('de', 'à')[which]} {text}"           # La, Las, Los: the article stays
    if m:                                                # L'
        return f"{('de', 'à')[which]} {text}"
    if which == 1:
        return f"à {text}"
    return f"d'{text}" if elides(text) else f"de {text}"


def _case_like(word: str, article: str) -> str:
    """'du' for 'Le' or 'le', 'DU' for 'LE' (a name written in capitals stays in capitals)."""
    return word.upper() if article.isupper() and len(article) > 1 else word


def elides(name: str) -> bool:
    """Whether "de" becomes "d'" before ``name`` (a name without article): a vowel, or a mute h."""
    first = unicodedata.normalize("NFD", name[:1])[:1].lower()
    if first in _VOWELS:
        return True
    if first == "h":
        return fold(name) not in _aspirated_h()
    return False


@lru_cache(maxsize=1)
def _aspirated_h() -> frozenset[str]:
    """The names (folded) of the communes starting with an aspirated h: INSEE's TNCC 0 (no
    article, "de") on a name starting with h. A name INSEE writes both ways (two homonyms,
    one "de Hauteville", the other "d'Hauteville") is left out: mute, as most are."""
    aspirated, mute = set(), set()
    for row in reference_rows():
        if row.get("tncc") in ("0", "1") and row["name"][:1] in "Hh":
            (aspirated if row["tncc"] == "0" else mute).add(fold(row["name"]))
    return frozenset(aspirated - mute)
