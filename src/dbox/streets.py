"""Reading a French street address into (number, suffix, street), to group a walk list by street.

``12 bis av. Jean-Jaurès`` -> number 12, suffix ``bis``, street ``av. Jean-Jaurès``, street key
``avenue jean jaures``: case, accents, punctuation and the usual abbreviations (av, bd, r, pl,
ch, imp, all, rte, sq, crs, fg, qu, st, ste ...) do not split a street in two.

Walking order within a street: the odd side going up, then the even side coming back down, so a
volunteer walks each side once; addresses without a number come last.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from dbox.text import fold

_NUMBERED = re.compile(r"^(?:.*?[\s,])?(\d{1,5})\s*(bis|ter|quater|quinquies|[a-hA-H])?(?![\w])[\s,]*(.+)$",
                       re.IGNORECASE)
_ABBREVIATIONS = {
    "av": "avenue", "ave": "avenue", "avn": "avenue", "bd": "boulevard", "bld": "boulevard", "boul": "boulevard",
    "bvd": "boulevard", "r": "rue", "pl": "place", "ch": "chemin", "chem": "chemin", "che": "chemin",
    "imp": "impasse", "all": "allee", "rte": "route", "sq": "square", "crs": "cours", "fg": "faubourg",
    "fbg": "faubourg", "qu": "quai", "qua": "quai", "pas": "passage", "pass": "passage", "res": "residence",
    "resid": "residence", "lot": "lotissement", "sent": "sentier", "mte": "montee", "prom": "promenade",
    "hameau": "hameau", "ham": "hameau", "cite": "cite", "rpt": "rond point", "st": "saint", "ste": "sainte",
    "gal": "general", "mal": "marechal", "pdt": "president", "dr": "docteur", "pr": "professeur",
}
# Words kept as they are in a street name even though they look like an abbreviation elsewhere.
_LEADING_ONLY = {"r", "pl", "ch", "all", "qu", "pas", "lot", "sent", "res"}


@dataclass(frozen=True)
class StreetAddress:
    number: int | None
    suffix: str            # '', 'bis', 'ter', 'a', ...
    street: str            # as written
    key: str               # folded, abbreviations spelt out: what groups a street

    @property
    def side(self) -> str:
        if self.number is None:
            return ""
        return "impair" if self.number % 2 else "pair"

    @property
    def house(self) -> str:
        return "" if self.number is None else f"{self.number}{(' ' + self.suffix) if self.suffix else ''}"


@lru_cache(maxsize=1 << 14)
def street_key(street: str | None) -> str:
    words = fold(street).split()
    out = []
    for i, word in enumerate(words):
        if word in _ABBREVIATIONS and (i == 0 or word not in _LEADING_ONLY):
            out.append(_ABBREVIATIONS[word])
        else:
            out.append(word)
    return " ".join(out)


def parse_address(address: str | None) -> StreetAddress:
    text = " ".join((address or "").split())
    if not text:
        return StreetAddress(None, "", "", "")
    match = _NUMBERED.match(text)
    if match and match.group(3) and fold(match.group(3)):
        street = match.group(3).strip(" ,")
        return StreetAddress(int(match.group(1)), (match.group(2) or "").lower(), street, street_key(street))
    return StreetAddress(None, "", text, street_key(text))


_SUFFIX_ORDER = {"": 0, "a": 1, "bis": 2, "b": 2, "ter": 3, "c": 3, "quater": 4, "d": 4, "quinquies": 5, "e": 5}


def walking_order(address: StreetAddress) -> tuple:
    """Sort key within one street: odd numbers up, even numbers down, no number last."""
    if address.number is None:
        return (2, 0, 0)
    suffix = _SUFFIX_ORDER.get(address.suffix, 9)
    if address.number % 2:
        return (0, address.number, suffix)
    return (1, -address.number, -suffix)
