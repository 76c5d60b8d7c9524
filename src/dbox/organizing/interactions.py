"""Interactions: every contact with a person — a door knocked, a call, a meeting, a message, a
note, a donation, a membership.

Rules (docs/organizing.md):

- An interaction has a type, a moment, an outcome and, when the person was reached, what they said:
  a support level from 1 (opposed) to 5 (strong supporter), whether they want a call back.
- ``reached`` is derived from the outcome: a door that did not open (``not-home``), a call not
  answered (``no-answer``, ``voicemail``, ``wrong-number``), a person who ``moved``, and a ``note``
  do not reach the person. ``last_interaction`` in filters counts only interactions that did (and
  the actions the person came to), and each of them is an exchange for the retention rules.
- ``support`` in filters is the latest support level recorded for the person.
- A bulk import (``import_file``) is one transaction: a bad row stops it, names its row and column,
  and nothing is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from dbox import readers
from dbox.errors import InputError
from dbox.store import organizing as so
from dbox.store.db import Store, utcnow
from dbox.text import fold
from dbox.filters.parser import suggest
from dbox.files import sha256_of
from dbox.organizing.actions import iso, parse_local, find
from dbox.privacy import audit
from dbox.readers import open_reader
from dbox.store import privacy as sp
from dbox.store.contacts import find_contact
from dbox.store.contacts_write import finish_import, start_import
from dbox.i18n import NC_, N_, _, pgettext
from dbox.normalize import ValueRejected, parse_yes_no

TYPES = ("door", "call", "meeting", "message", "note", "donation", "membership", "other")
_TYPE_ALIASES = {
    "door": "door", "porte": "door", "porte a porte": "door", "pap": "door", "knock": "door",
    "call": "call", "appel": "call", "telephone": "call", "phone": "call", "tel": "call", "phoning": "call",
    "meeting": "meeting", "rencontre": "meeting", "rdv": "meeting", "rendez vous": "meeting", "reunion": "meeting",
    "message": "message", "sms": "message", "email": "message", "e mail": "message", "courriel": "message",
    "reply": "message", "reponse": "message", "mail": "message",
    "note": "note", "remarque": "note", "commentaire": "note",
    "donation": "donation", "don": "donation", "gift": "donation",
    "membership": "membership", "adhesion": "membership", "cotisation": "membership", "member": "membership",
    "other": "other", "autre": "other",
}
# Outcomes: the canonical word, and whether the person was reached.
OUTCOMES = {"answered": True, "refused": True, "callback": True, "not-home": False, "no-answer": False,
            "voicemail": False, "wrong-number": False, "moved": False}
_OUTCOME_ALIASES = {
    "answered": "answered", "oui": "answered", "yes": "answered", "o": "answered", "y": "answered",
    "x": "answered", "1": "answered", "repondu": "answered", "ouvert": "answered", "ouverte": "answered",
    "reached": "answered", "ok": "answered", "parle": "answered", "discute": "answered",
    "refused": "refused", "refus": "refused", "refuse": "refused", "ferme": "refused",
    "callback": "callback", "rappeler": "callback", "a rappeler": "callback", "call back": "callback",
    "not home": "not-home", "absent": "not-home", "absente": "not-home", "personne": "not-home",
    "pas la": "not-home", "non": "not-home", "no": "not-home", "n": "not-home", "0": "not-home",
    "no answer": "no-answer", "pas de reponse": "no-answer", "ne repond pas": "no-answer", "nrp": "no-answer",
    "voicemail": "voicemail", "repondeur": "voicemail", "messagerie": "voicemail",
    "wrong number": "wrong-number", "faux numero": "wrong-number", "mauvais numero": "wrong-number",
    "moved": "moved", "demenage": "moved", "demenagee": "moved", "parti": "moved", "partie": "moved",
}
_CUSTOM_OUTCOME = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
EXCHANGE_PREFIX = "organizing:"   # marks the retention exchanges written here (the timeline skips them)


def parse_type(text: str) -> str:
    key = fold(text)
    if key in _TYPE_ALIASES:
        return _TYPE_ALIASES[key]

    close = suggest(key, list(_TYPE_ALIASES))
    close = _TYPE_ALIASES[close] if close else None
    raise InputError(_("unknown interaction type {text!r}").format(text=text)
                     + (_(' — did you mean "{close}"?').format(close=close) if close else ""),
                     hint=_("types: {items}").format(items=", ".join(TYPES)))


def parse_outcome(text: str | None, type_: str) -> tuple[str | None, bool]:
    """(canonical outcome, reached). No outcome: reached, except for a note."""
    if text is None or not text.strip():
        return None, type_ != "note"
    key = fold(text)
    if key in _OUTCOME_ALIASES:
        outcome = _OUTCOME_ALIASES[key]
        if type_ == "call" and outcome == "not-home":
            outcome = "no-answer"
        return outcome, OUTCOMES[outcome]
    word = key.replace(" ", "-")
    if not _CUSTOM_OUTCOME.fullmatch(word):
        raise InputError(_("outcome {text!r}: a word of letters, digits and dashes").format(text=text),
                         hint=_("outcomes: {items}, or a word of your own").format(items=", ".join(OUTCOMES)))
    return word, type_ != "note"


def parse_support(text: str | int | None) -> int | None:
    if text is None or str(text).strip() == "":
        return None
    raw = str(text).strip()
    if raw.endswith(".0"):
        raw = raw[:-2]
    if not raw.isdigit() or not 1 <= int(raw) <= 5:
        raise InputError(_("support {text!r}: a level from 1 (opposed) to 5 (strong supporter)").format(text=text))
    return int(raw)


def parse_amount(text: str | None) -> int | None:
    """'20', '20,50 €', '1 000' -> cents."""
    if text is None or not str(text).strip():
        return None
    raw = re.sub(r"[\s\u00a0\u202f€]|eur(os?)?$", "", str(text).strip().lower())
    match = re.fullmatch(r"(\d+)(?:[.,](\d{1,2}))?", raw)
    if not match:
        raise InputError(_("amount {text!r}: a sum in euros, e.g. 20 or 20,50").format(text=text))
    return int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))


def parse_at(text: str | None, tz_name: str | None = None, option: str = "--at") -> str | None:
    """A moment: '2026-12-05 10:30', '05/12/2026', '2026-12-05' (noon, local) -> ISO UTC."""
    if text is None or not str(text).strip():
        return None

    raw = str(text).strip()
    if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{4}", raw):
        raw += " 12:00"
    return iso(parse_local(raw, tz_name, option))


def note_exchange(store: Store, contact_id: int, kind: str, detail: str, at: str) -> None:
    """An exchange with the person, for the retention rules (dbox.privacy.retention)."""
    sp.add_exchanges(store, [(contact_id, at, kind, f"{EXCHANGE_PREFIX} {detail}")])


# -- one interaction ------------------------------------------------------------------------------------------

@dataclass
class InteractionInput:
    type: str
    outcome: str | None = None
    note: str | None = None
    support: str | int | None = None
    wants_call: bool = False
    at: str | None = None
    amount: str | None = None
    action: str | None = None         # id or title
    volunteer: str | None = None      # contact id, e-mail or phone


def build(store: Store, contact_id: int, data: InteractionInput, *, source: str) -> dict:
    """The row an input stands for, checked (raises InputError)."""
    type_ = parse_type(data.type)
    outcome, reached = parse_outcome(data.outcome, type_)
    support = parse_support(data.support)
    if (support is not None or data.wants_call) and not reached:
        raise InputError(_("support and wants-call need a person reached (outcome {outcome!r} did not reach them)").format(
                             outcome=outcome))
    amount = parse_amount(data.amount)
    if amount is not None and type_ not in ("donation", "membership"):
        raise InputError(_("--amount is for a donation or a membership"))
    action_id = None
    tz_name = None                         # the configured zone (dbox.clock), or the action's
    if data.action:
        action = find(store, data.action)
        action_id, tz_name = action.id, action.timezone
    at = parse_at(data.at, tz_name) or utcnow()
    volunteer_id = find_contact(store, data.volunteer) if data.volunteer else None
    if volunteer_id == contact_id:
        raise InputError(_("the volunteer is the contact themselves"))
    note = " ".join((data.note or "").split()) or None
    if type_ == "note" and not note:
        raise InputError(_("a note needs its text (--note)"))
    return {"contact_id": contact_id, "type": type_, "at": at, "outcome": outcome, "reached": int(reached),
            "support": support, "wants_call": int(bool(data.wants_call)), "amount_cents": amount, "note": note,
            "action_id": action_id, "volunteer_id": volunteer_id, "source": source}


def add(store: Store, contact_id: int, data: InteractionInput) -> dict:
    """Record one interaction; returns its row."""
    row = build(store, contact_id, data, source="manual")
    with store.transaction(immediate=True):
        so.insert_interactions(store, [row], utcnow())
        if row["reached"]:
            note_exchange(store, contact_id, row["type"], describe(row), row["at"])

        audit.record(store, "interaction add", 1, {"type": row["type"]})
    return row


# Interaction types and outcomes as people read them (stored as the codes).
TYPE_LABELS = {"door": N_("door"), "call": NC_("interaction", "call"), "meeting": N_("meeting"),
               "message": N_("message"), "note": N_("note"), "donation": N_("donation"),
               "membership": N_("membership"), "other": N_("other")}
OUTCOME_LABELS = {"answered": N_("answered"), "refused": N_("refused"), "callback": N_("callback"),
                  "not-home": N_("not-home"), "no-answer": N_("no-answer"), "voicemail": N_("voicemail"),
                  "wrong-number": N_("wrong-number"), "moved": N_("moved")}


def label(table: dict, code: str) -> str:
    """A stored code as people read it (the code itself when the table has no label)."""
    label = table.get(code)
    if label is None:
        return code
    return pgettext(*label) if isinstance(label, tuple) else _(label)


def describe(row: dict) -> str:
    """'call answered support 4' (English), 'appel répondu soutien 4' (French)."""
    parts = [label(TYPE_LABELS, row["type"])]
    if row.get("outcome"):
        parts.append(label(OUTCOME_LABELS, row["outcome"]))
    if row.get("support"):
        parts.append(_("support {n}").format(n=row["support"]))
    return " ".join(parts)


# -- bulk import ------------------------------------------------------------------------------------------------

COLUMNS = {
    "contact": ("contact", "contact_id", "contactid", "id", "fiche", "nfiche", "ref", "personne"),
    "type": ("type", "kind", "genre", "nature"),
    "at": ("at", "date", "when", "quand", "heure", "datetime"),
    "outcome": ("outcome", "result", "resultat", "issue"),
    "support": ("support", "soutien", "niveau", "supportlevel", "niveaudesoutien"),
    "wants_call": ("wants_call", "wantscall", "rappel", "arappeler", "callback"),
    "note": ("note", "notes", "commentaire", "commentaires", "remarque", "remarques", "comment"),
    "volunteer": ("volunteer", "volunteer_id", "benevole", "militant", "par", "by"),
    "action": ("action", "action_id", "actionid"),
    "amount": ("amount", "montant", "somme"),
}


@dataclass
class ImportReport:
    path: Path
    rows: int = 0
    recorded: int = 0
    by_type: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False
    ignored_columns: list[str] = field(default_factory=list)


def map_header(header: list[str], columns: dict[str, tuple[str, ...]], path: Path) -> tuple[dict[str, int], list[str]]:
    """field -> column index, and the columns nobody reads. Two columns for one field is an error."""
    found, ignored = readers.map_header(header, columns, path)
    return {name: indexes[0] for name, indexes in found.items()}, ignored


class _Rollback(Exception):
    pass


def import_file(store: Store, path: Path, *, default_type: str | None = None, dry_run: bool = False,
                again: bool = False, encoding: str | None = None, delimiter: str | None = None,
                sheet: str | None = None) -> ImportReport:
    """Import interactions from a CSV or .xlsx file, in one transaction (``dry_run``: check only).
    The same file twice is refused (it would record every interaction twice) unless ``again``."""
    path = Path(path)
    if default_type is not None:
        default_type = parse_type(default_type)
    if path.is_file() and not again:
        previous = so.previous_import(store, sha256_of(path), "interactions")
        if previous is not None:
            raise InputError(_("{path}: this file was already imported on {previous} (as {previous2})").format(
                                 path=path, previous=previous[2][:10], previous2=previous[1]),
                             hint=_("importing it again would record every interaction twice; add --again if you mean it"))
    reader = open_reader(path, encoding=encoding, delimiter=delimiter, sheet=sheet)
    mapping, ignored = map_header(reader.header, COLUMNS, path)
    report = ImportReport(path, dry_run=dry_run, ignored_columns=ignored)
    if "contact" not in mapping:
        reader.close()
        raise InputError(_("{path}: no contact column (contact, id, fiche)").format(path=path), hint=_("columns: {items}").format(items=", ".join(reader.header)))
    if "type" not in mapping and default_type is None:
        reader.close()
        raise InputError(_("{path}: no type column").format(path=path), hint=_("add a 'type' column or give --type call (door, meeting, ...)"))
    rows = []
    for row_number, cells in reader.rows():
        report.rows += 1

        def cell(name: str) -> str | None:
            index = mapping.get(name)
            value = cells[index].strip() if index is not None and index < len(cells) else ""
            return value or None

        column = None
        try:
            column = "contact"
            ref = cell("contact")
            if not ref:
                raise InputError(_("no contact"))
            contact_id = find_contact(store, ref)
            column = "wants_call"
            wants = cell("wants_call")
            try:
                wants_call = parse_yes_no(wants or "")
            except ValueRejected as exc:
                raise InputError(str(exc)) from None
            column = None
            data = InteractionInput(type=cell("type") or default_type, outcome=cell("outcome"), note=cell("note"),
                                    support=cell("support"), wants_call=wants_call, at=cell("at"),
                                    amount=cell("amount"), action=cell("action"), volunteer=cell("volunteer"))
            row = build(store, contact_id, data, source="import")
        except InputError as exc:
            where = f", column {reader.header[mapping[column]]!r}" if column in mapping else ""
            raise InputError(_("{path}: row {row_number}{where}: {exc}").format(
                                 path=path, row_number=row_number, where=where, exc=exc), hint=exc.hint) from None
        rows.append(row)
        report.by_type[row["type"]] = report.by_type.get(row["type"], 0) + 1
    if not rows:
        raise InputError(_("{path}: no interaction in the file").format(path=path))
    now = utcnow()
    try:
        with store.transaction(immediate=True):
            import_id = start_import(store, path.name, sha256_of(path), {"default_type": default_type},
                                     kind="interactions")
            for row in rows:
                row["import_id"] = import_id
            report.recorded = so.insert_interactions(store, rows, now)
            for row in rows:
                if row["reached"]:
                    note_exchange(store, row["contact_id"], row["type"], describe(row), row["at"])
            finish_import(store, import_id, {"read": report.rows, "added": report.recorded})
            audit.record(store, "interaction import", len({r["contact_id"] for r in rows}),
                         {"file": path.name, "rows": report.recorded})
            if dry_run:
                raise _Rollback
    except _Rollback:
        pass
    return report
