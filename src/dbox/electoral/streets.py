"""Which bureau de vote an address votes in: street names made comparable, and number ranges per
street side derived from the addresses of known voters.

A street key spells out abbreviations (``av.`` = ``avenue``, ``St`` = ``Saint``, see
:func:`dbox.streets.street_key`), ignores case, accents and punctuation, and drops articles
(``Rue de la République`` = ``rue republique``), so the roll's ``R DE LA REPUBLIQUE`` and a contact's
``12 rue République`` meet.

Ranges: for each (street, side) the roll gives numbers and their bureau. Sorted by number, the
numbers form runs of one bureau; a run is the range ``[low, high]`` of that bureau. A number inside a
run gets its bureau; a number between two runs of the same bureau gets it too; a number between runs
of different bureaux, past the ends of the street, or on a street whose numbers mix bureaux without
order is **unsure**: it is reported, never guessed. A street without numbers in the roll (a lieu-dit)
gives its bureau only when all its voters share one.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from dbox.streets import parse_address, street_key

ARTICLES = frozenset({"de", "du", "des", "la", "le", "les", "l", "d", "a", "au", "aux", "et"})


@lru_cache(maxsize=1 << 16)
def match_key(street: str | None) -> str:
    """The key under which two spellings of a street are the same street."""
    words = [w for w in street_key(street).split() if w not in ARTICLES]
    return " ".join(words)


@dataclass(frozen=True)
class Place:
    number: int | None
    suffix: str
    key: str


@lru_cache(maxsize=1 << 16)   # a roll repeats its addresses: one parse per distinct address
def split_address(address: str | None) -> Place:
    """``12 bis av. de la République`` -> (12, 'bis', 'avenue republique')."""
    parsed = parse_address(address)
    return Place(parsed.number, parsed.suffix, match_key(parsed.street))


def side_of(number: int | None) -> str:
    if number is None:
        return "none"
    return "odd" if number % 2 else "even"


@dataclass(frozen=True)
class Range:
    side: str             # odd | even | none
    low: int | None
    high: int | None
    bureau: str
    addresses: int


def derive_ranges(observations) -> list[Range]:
    """Ranges of one street from ``(number, bureau)`` observations (number None: no number).

    Within a side, numbers sorted: consecutive numbers of one bureau make one range. Two bureaux
    at the same number make that number a range of each (the lookup then reports it as unsure)."""
    by_side: dict[str, dict] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    for number, bureau in observations:
        by_side[side_of(number)][number][bureau] += 1
    ranges: list[Range] = []
    for side, numbers in by_side.items():
        if side == "none":
            for bureau, count in sorted(numbers[None].items()):
                ranges.append(Range("none", None, None, bureau, count))
            continue
        current: list | None = None     # [low, high, bureau, count]
        for number in sorted(numbers):
            bureaux = numbers[number]
            if len(bureaux) > 1:
                if current:
                    ranges.append(Range(side, *current))
                    current = None
                for bureau, count in sorted(bureaux.items()):
                    ranges.append(Range(side, number, number, bureau, count))
                continue
            (bureau, count), = bureaux.items()
            if current and current[2] == bureau:
                current[1] = number
                current[3] += count
            else:
                if current:
                    ranges.append(Range(side, *current))
                current = [number, number, bureau, count]
        if current:
            ranges.append(Range(side, *current))
    return ranges


@dataclass(frozen=True)
class Lookup:
    bureau: str | None
    reason: str            # exact | inside | between-same | street-one-bureau | unsure reasons...

    @property
    def sure(self) -> bool:
        return self.bureau is not None


def find_bureau(ranges: list[Range], number: int | None) -> Lookup:
    """The bureau of ``number`` on a street with ``ranges`` (see the module's rules)."""
    if not ranges:
        return Lookup(None, "unknown street")
    bureaux = {r.bureau for r in ranges}
    if number is None:
        if len(bureaux) == 1:
            return Lookup(next(iter(bureaux)), "street-one-bureau")
        return Lookup(None, "no number, the street has several bureaux")
    side = side_of(number)
    same_side = sorted((r for r in ranges if r.side == side), key=lambda r: (r.low, r.high, r.bureau))
    if not same_side:
        if len(bureaux) == 1:
            return Lookup(next(iter(bureaux)), "street-one-bureau")
        return Lookup(None, f"no {side} number of this street in the roll")
    hits = {r.bureau for r in same_side if r.low <= number <= r.high}
    if len(hits) == 1:
        return Lookup(next(iter(hits)), "inside")
    if len(hits) > 1:
        return Lookup(None, f"number {number} is in several bureaux")
    below = [r for r in same_side if r.high < number]
    above = [r for r in same_side if r.low > number]
    if below and above:
        nearest_below = max(r.high for r in below)
        nearest_above = min(r.low for r in above)
        before = sorted({r.bureau for r in below if r.high == nearest_below})
        after = sorted({r.bureau for r in above if r.low == nearest_above})
        if before == after and len(before) == 1:
            return Lookup(before[0], "between-same")
        return Lookup(None, f"number {number} lies between bureaux {', '.join(before)} and {', '.join(after)}")
    if len(bureaux) == 1:
        return Lookup(next(iter(bureaux)), "street-one-bureau")
    return Lookup(None, f"number {number} is past the numbers the roll knows on this side")
