"""Giving contacts their bureau de vote: from the voter they are (registered), else from their address.

Matching a voter to a contact (never the other way round: a voter never becomes a contact):

- the names agree: the contact's last name is the voter's birth name or usage name, and its first
  name is the voter's first given name or all of them (case, accents, spaces and hyphens ignored);
- then, where the contact has a birth date (a custom field such as ``date_de_naissance``), it must
  be the voter's; where it has none, the normalized address must agree (street and number).
- A voter two contacts could be, or a contact two voters could be, is matched to nobody and counted
  as ambiguous: a wrong match would put someone in the wrong bureau and mark them registered.

A contact not matched gets its bureau from its street and number (:mod:`dbox.electoral.streets`),
when the address table is sure; the unsure cases are listed, never guessed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

from dbox.electoral.roll import parse_birth_date
from dbox.electoral.streets import Range, derive_ranges, find_bureau, split_address
from dbox.errors import InputError
from dbox.store import electoral as se
from dbox.store.db import Store, utcnow
from dbox.text import fold_key as _fold_key

fold_key = lru_cache(maxsize=1 << 16)(_fold_key)   # names repeat: fold each once


@dataclass
class Assignment:
    commune: str
    matched_birth_date: int = 0
    matched_address: int = 0
    ambiguous: int = 0
    by_address: int = 0
    unsure: list[tuple[int, str, str]] = field(default_factory=list)   # (contact id, address, reason)
    no_address: int = 0
    cantons_set: int = 0
    circos_set: int = 0

    @property
    def registered(self) -> int:
        return self.matched_birth_date + self.matched_address


@lru_cache(maxsize=1 << 16)
def _first_keys(first_names: str) -> frozenset[str]:
    words = first_names.replace(",", " ").split()
    return frozenset({fold_key(words[0]), fold_key(first_names)}) if words else frozenset()


def _birth(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return parse_birth_date(value, "")
    except InputError:
        return None


def match_voters(voters: list[tuple], contacts: list[tuple]) -> tuple[list[tuple[int, int, str]], int]:
    """(voter id, contact id, how) of the sure matches, and how many were ambiguous.

    ``voters``: rows of :func:`dbox.store.electoral.voters_for_matching`; ``contacts``: rows of
    :func:`dbox.store.electoral.contacts_of_commune`."""
    index: dict[tuple[str, str], list[tuple]] = defaultdict(list)
    for cid, first, last, address, birth in contacts:
        if not first or not last:
            continue
        place = split_address(address)
        index[(fold_key(last), fold_key(first))].append((cid, _birth(birth), place))
    proposals: dict[int, list[tuple[int, str]]] = {}
    for vid, _bureau, birth_name, usage_name, first_names, birth_date, number, suffix, street_key in voters:
        seen: dict[int, tuple] = {}
        for last in {fold_key(birth_name), fold_key(usage_name)} - {""}:
            for first in _first_keys(first_names):
                for candidate in index.get((last, first), ()):
                    seen[candidate[0]] = candidate
        found = []
        for cid, birth, place in seen.values():
            if birth and birth_date:
                if birth == birth_date:
                    found.append((cid, "birth-date"))
            elif place.key and place.key == street_key and place.number == number and \
                    (place.suffix or "") == (suffix or ""):
                found.append((cid, "address"))
        if found:
            proposals[vid] = found
    by_contact: dict[int, list[int]] = defaultdict(list)
    for vid, found in proposals.items():
        for cid, _ in found:
            by_contact[cid].append(vid)
    matches, ambiguous = [], 0
    for vid, found in proposals.items():
        if len(found) == 1 and len(by_contact[found[0][0]]) == 1:
            matches.append((vid, found[0][0], found[0][1]))
        else:
            ambiguous += 1
    return matches, ambiguous


def ranges_by_street(store: Store, commune: str) -> dict[str, list[Range]]:
    """The commune's address table: the roll's ranges where the commune has a roll, else the INSEE table's."""
    tables = se.street_ranges(store, commune)
    table = tables.get("roll") or tables.get("insee") or {}
    return {key: [Range(side, low, high, bureau, n) for side, low, high, bureau, n in rows]
            for key, rows in table.items()}


def rebuild_roll_streets(store: Store, commune: str) -> int:
    """Derive the commune's number ranges from its voters; returns how many streets."""
    observations: dict[str, list] = defaultdict(list)
    for key, number, bureau in se.voter_addresses(store, commune):
        observations[key].append((number, bureau))
    rows = [(key, r.side, r.low, r.high, r.bureau, r.addresses)
            for key, obs in observations.items() for r in derive_ranges(obs)]
    se.replace_streets(store, commune, "roll", rows)
    return len(observations)


def assign_commune(store: Store, commune: str) -> Assignment:
    """Match the commune's voters to its contacts, then place the rest by address (inside the
    caller's transaction)."""
    report = Assignment(commune)
    contacts = se.contacts_of_commune(store, commune)
    voters = se.voters_for_matching(store, commune)
    matches, report.ambiguous = match_voters(voters, contacts)
    se.set_voter_matches(store, commune, matches)
    bureau_of_voter = {row[0]: row[1] for row in voters}
    rows = []
    matched = set()
    for vid, cid, how in matches:
        rows.append((cid, bureau_of_voter[vid], 1, "roll"))
        matched.add(cid)
        if how == "birth-date":
            report.matched_birth_date += 1
        else:
            report.matched_address += 1
    streets = ranges_by_street(store, commune)
    if streets:
        for cid, _first, _last, address, _birth in contacts:
            if cid in matched:
                continue
            place = split_address(address)
            if not place.key:
                report.no_address += 1
                continue
            found = find_bureau(streets.get(place.key, []), place.number)
            if found.sure:
                rows.append((cid, found.bureau, 0, "address"))
                report.by_address += 1
            else:
                report.unsure.append((cid, address or "", found.reason))
    se.set_contact_bureaux(store, commune, rows, utcnow())
    report.cantons_set, report.circos_set = se.apply_bureau_geography(store)
    return report
