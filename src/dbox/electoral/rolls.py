"""Importing a commune's electoral roll, listing and purging rolls (retention).

The roll is obtained for one election (Code électoral L37) and kept until that election is over:
``purge_after`` is the day after its last round; :func:`purge_due` removes every roll past it, with
its voters and the "registered" mark it gave contacts. Every electoral command runs it first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from dbox.electoral.assign import Assignment, assign_commune, rebuild_roll_streets
from dbox.electoral.roll import RollFile, read_roll
from dbox.errors import InputError
from dbox.store import electoral as se
from dbox.store import geo as store_geo
from dbox.store.db import Store, utcnow
from dbox.i18n import _
from dbox.geo import commune_key
from dbox.privacy.audit import record


@dataclass
class RollReport:
    roll_id: int | None
    commune: str
    file: RollFile
    election: str
    purge_after: str
    streets: int = 0
    bureaux: int = 0
    assignment: Assignment | None = None
    already: bool = False


def resolve_commune(store: Store, text: str) -> str:
    """An INSEE code from ``--commune`` (a code or an unambiguous name)."""
    value = text.strip()
    if value[:5].isalnum() and value[:2].isalnum() and len(value) == 5 and value[2:].isdigit():
        if store_geo.commune_exists(store, value.upper()):
            return value.upper()
        raise InputError(_("--commune: unknown commune code {value!r}").format(value=value))
    rows = store_geo.communes_named(store, commune_key(value))
    if len(rows) == 1:
        return rows[0][0]
    if not rows:
        raise InputError(_("--commune: unknown commune {value!r}").format(value=value), hint=_("give its INSEE code, e.g. --commune 38185"))
    raise InputError(_("--commune: {value!r} names several communes ({items})").format(
                         value=value, items=', '.join((r[0] for r in rows))),
                     hint=_("give its INSEE code"))


def election_end(store: Store, election: str) -> str:
    """The day after the last round of ``election`` (it must be in `dbox elections list`)."""
    for e in se.elections(store):
        if e["name"] == election:
            last = max(r["day"] for r in e["rounds"])
            return (date.fromisoformat(last) + timedelta(days=1)).isoformat()
    names = [e["name"] for e in se.elections(store)]
    raise InputError(_("--election: no election named {election!r}").format(election=election),
                     hint=("elections: " + ", ".join(names)) if names else
                     _("add it first: dbox elections add NAME --round YYYY-MM-DD --area ..."))


def import_roll(store: Store, path: Path, commune_text: str, *, election: str, source: str,
                overrides: list[str] | None = None, encoding: str | None = None, sheet: str | None = None,
                today: date | None = None) -> RollReport:
    """Read, check and store a roll, derive its address table, and give contacts their bureau.
    All or nothing: a bad row writes nothing."""
    commune = resolve_commune(store, commune_text)
    purge_after = election_end(store, election)
    today = today or datetime.now(timezone.utc).date()
    if purge_after <= today.isoformat():
        raise InputError(_("--election {election}: that election is over; a roll obtained for it may not be kept").format(
                             election=election),
                         hint=_("Code électoral L37: the list is given for an election"))
    if not source.strip():
        raise InputError(_('--source: say who gave the roll and when (e.g. "mairie de Grenoble, 2026-02-01")'))
    roll = read_roll(path, commune, overrides=overrides, encoding=encoding, sheet=sheet)
    report = RollReport(None, commune, roll, election, purge_after)
    with store.transaction(immediate=True):
        existing = se.roll_with_sha(store, commune, roll.sha256)
        if existing:
            report.roll_id, report.already = existing, True
        else:
            report.roll_id = se.add_roll(store, commune, path.name, roll.sha256, source.strip(), election,
                                         purge_after, utcnow(), len(roll.voters))
            se.replace_commune_rolls(store, commune, report.roll_id)
            se.insert_voters(store, report.roll_id, commune, (
                (v.row_number, v.bureau, v.order_number, v.birth_name, v.usage_name, v.first_names, v.sex,
                 v.birth_date, v.house_number, v.house_suffix, v.street, v.street_key, v.complement, v.postal_code)
                for v in roll.voters))
            labels = {}
            for v in roll.voters:
                labels.setdefault(v.bureau, v.bureau_label)
            se.upsert_bureaux(store, [(code, commune, label) for code, label in sorted(labels.items())])
        report.bureaux = len({v.bureau for v in roll.voters})
        report.streets = rebuild_roll_streets(store, commune)
        report.assignment = assign_commune(store, commune)
    return report


def purge_due(store: Store, today: date | None = None) -> list[tuple[int, str, str, int]]:
    """Remove the rolls whose election is over; returns (id, commune, election, voters) of each."""
    today = today or datetime.now(timezone.utc).date()
    due = se.rolls_due(store, today.isoformat())
    if not due:
        return []
    with store.transaction(immediate=True):
        communes = {commune for _unused, commune, _unused, _unused in due}
        se.delete_rolls(store, [r[0] for r in due])
        for commune in communes:
            assign_commune(store, commune)
        record(store, "electoral roll purge", sum(r[3] for r in due),
               {"rolls": [r[0] for r in due], "reason": "election over"})
    return due
