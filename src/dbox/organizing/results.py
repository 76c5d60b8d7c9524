"""Importing the sheet volunteers bring back from an action (``dbox action import-results``).

The file is the CSV that ``dbox action sheet`` wrote, filled in (or any CSV/.xlsx with the same
columns, French or English headers). One line per person: who came, and for a door-to-door or a
phone bank, each door or call: answered (or not home, refused, moved, ...), support level 1–5,
wants a call, a new e-mail or phone (normalized like an import), consent given on the spot per
channel, with the wording the person agreed to (the row's, else ``--wording``, else the one the
action printed on its sheets).

Rules (docs/organizing.md):

- The whole file is checked first; any bad value stops the import with its row and column, and
  nothing is written. Then everything is written in one transaction.
- A result is one interaction per person and action: importing a corrected sheet again updates it
  instead of counting the door twice.
- A new address is not stored when it was erased or opposed on every channel (suppression list),
  or when it belongs to another contact; the report says so.
- Consent on the spot is recorded as a consent event with its wording and where it was given. It
  never lifts a withdrawal or an opposition: only the person can, through ``dbox consent grant
  --renewed``; the report lists them.
- Volunteers named on result lines are recorded as having come.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dbox.errors import InputError
from dbox.organizing.actions import Action
from dbox.readers import map_header
from dbox.organizing.interactions import note_exchange, parse_outcome, parse_support
from dbox.store import organizing as so
from dbox.store.db import Store, utcnow
from dbox.filters.parser import suggest
from dbox.files import sha256_of
from dbox.masking import mask
from dbox.normalize import ValueRejected, normalize_field, parse_yes_no
from dbox.organizing.actions import started
from dbox.organizing.interactions import parse_at
from dbox.readers import open_reader
from dbox.store.contacts import find_contact
from dbox.store.contacts_write import finish_import, record_consent_events, start_import
from dbox.store.suppressions import Hasher
from dbox.text import fold_key
from dbox.i18n import _
from dbox.privacy import audit

CHANNELS = ("sms", "email", "phone", "post", "social")
COLUMNS = {
    "contact": ("n fiche", "fiche", "contact", "contact_id", "id", "ref", "no fiche", "numero de fiche"),
    "volunteer": ("benevole", "volunteer", "volunteer_id", "militant", "par"),
    "came": ("venu", "venue", "came", "present", "presente", "presence", "attended", "participe"),
    "outcome": ("ouvert", "repondu", "answered", "outcome", "resultat", "result", "issue", "porte"),
    "support": ("soutien", "support", "niveau", "niveau de soutien", "support level"),
    "wants_call": ("a rappeler", "rappel", "wants call", "wants_call", "callback", "veut etre rappele"),
    "email": ("nouvel e-mail", "nouvel email", "nouveau courriel", "new email", "email", "e-mail", "courriel",
              "mail"),
    "phone": ("nouveau telephone", "nouveau portable", "nouveau numero", "new phone", "telephone", "tel", "phone",
              "mobile", "portable"),
    "consent": ("consentement", "consent", "accord", "canaux"),
    "consent_sms": ("accord sms", "consent sms", "consentement sms", "ok sms"),
    "consent_email": ("accord e-mail", "accord email", "accord courriel", "consent email", "consentement email",
                      "ok email"),
    "consent_phone": ("accord telephone", "accord appel", "consent phone", "consentement telephone",
                      "ok telephone"),
    "wording": ("texte du consentement", "consent wording", "wording", "mention", "libelle"),
    "note": ("note", "notes", "commentaire", "commentaires", "remarque", "remarques"),
    "at": ("date", "heure", "at", "when"),
}
# Columns the sheets print for reading, not for filling in: not read, no warning.
INFORMATIONAL = ("nom", "prenom", "adresse", "rue", "numero", "code postal", "commune", "portable connu",
                 "fixe connu", "e-mail connu", "soutien connu", "nom du benevole", "reponse", "civilite", "cote",
                 "first name", "last name", "name", "address", "street", "number", "postal code", "city",
                 "known mobile", "known phone", "known support", "volunteer name", "rsvp", "side")
MAX_PROBLEMS = 50


@dataclass
class Line:
    row: int
    contact_id: int
    volunteer_id: int | None = None
    came: bool | None = None
    outcome: str | None = None
    reached: bool = False
    support: int | None = None
    wants_call: bool = False
    emails: list[str] = field(default_factory=list)
    phones: list[tuple[str, str]] = field(default_factory=list)     # (kind, e164)
    consents: list[str] = field(default_factory=list)
    wording: str | None = None
    note: str | None = None
    at: str | None = None

    @property
    def has_result(self) -> bool:
        return bool(self.outcome or self.note or self.support or self.wants_call or self.emails or self.phones
                    or self.consents)


@dataclass
class ResultsReport:
    path: Path
    action_id: int
    dry_run: bool = False
    rows: int = 0
    came: int = 0
    absent: int = 0
    results_new: int = 0
    results_updated: int = 0
    reached: int = 0
    not_reached: int = 0
    supporters: int = 0
    wants_call: int = 0
    emails_added: int = 0
    phones_added: int = 0
    consents: dict[str, int] = field(default_factory=dict)
    volunteers_present: int = 0
    no_result: int = 0
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class _Rollback(Exception):
    pass


def _problem(path: Path, row: int, column: str | None, message: str) -> str:
    return f"{path}: row {row}" + (f", column {column!r}" if column else "") + f": {message}"


def read(store: Store, action: Action, path: Path, *, wording: str | None = None, encoding: str | None = None,
         delimiter: str | None = None, sheet: str | None = None) -> tuple[list[Line], list[str], list[str]]:
    """Read and check every line: (lines, problems, warnings). Writes nothing."""
    reader = open_reader(path, encoding=encoding, delimiter=delimiter, sheet=sheet)
    header = reader.header
    mapping, ignored = _map(header, path)
    warnings = []
    known = [fold_key(a) for aliases in COLUMNS.values() for a in aliases]
    for title in ignored:
        if fold_key(title) in {fold_key(x) for x in INFORMATIONAL} or title.startswith("column_"):
            continue
        close = suggest(fold_key(title), known)
        name = next((a for aliases in COLUMNS.values() for a in aliases if fold_key(a) == close), None)
        warnings.append(f"{path}: column {title!r} is not read" + (f' — did you mean "{name}"?' if name else ""))
    if "contact" not in mapping:
        reader.close()
        raise InputError(_("{path}: no column naming the person (n° fiche, contact, id)").format(path=path),
                         hint=_("the CSV written by `dbox action sheet` has it; columns here: {items}").format(
                             items=", ".join(header)))
    default_wording = (wording or "").strip() or action.consent_wording
    problems: list[str] = []
    lines: list[Line] = []
    seen: dict[int, int] = {}
    volunteers: dict[str, int] = {}
    for row_number, cells in reader.rows():

        def cell(name: str) -> str:
            indexes = mapping.get(name, [])
            return " ".join(cells[i].strip() for i in indexes if i < len(cells) and cells[i].strip())

        def column(name: str) -> str | None:
            indexes = mapping.get(name, [])
            return header[indexes[0]] if indexes else None

        def fail(name: str | None, message: str) -> None:
            problems.append(_problem(path, row_number, column(name) if name else None, message))

        ref = cell("contact")
        if not ref:
            if any(c.strip() for i, c in enumerate(cells) if i not in mapping.get("contact", [])):
                fail("contact", "no person named on this line")
            continue
        try:
            contact_id = find_contact(store, ref)
        except InputError as exc:
            fail("contact", str(exc))
            continue
        if contact_id in seen:
            fail("contact", f"contact {contact_id} is also on row {seen[contact_id]}")
            continue
        seen[contact_id] = row_number
        line = check_line(store, action, Line(row_number, contact_id), cell, fail, has=lambda name: name in mapping,
                          default_wording=default_wording, volunteers=volunteers)
        if line is None:
            continue
        lines.append(line)
    if len(problems) > MAX_PROBLEMS:
        problems = problems[:MAX_PROBLEMS] + [f"... and {len(problems) - MAX_PROBLEMS} more"]
    return lines, problems, warnings


def check_line(store: Store, action: Action, line: Line, cell, fail, *, has, default_wording: str | None,
               volunteers: dict[str, int] | None = None) -> Line | None:
    """Read and check one line's values into ``line``: the checks of a results sheet, shared by
    ``import-results`` and a volunteer's page (dbox.serve.volunteers). ``cell(name)`` gives a
    column's text ('' when absent), ``fail(name, message)`` records a problem, ``has(name)`` says
    whether the column exists. Returns None when the line cannot be kept at all."""
    volunteers = {} if volunteers is None else volunteers
    if cell("volunteer"):
        ref = cell("volunteer")
        try:
            line.volunteer_id = volunteers.get(ref) or find_contact(store, ref)
            volunteers[ref] = line.volunteer_id
        except InputError as exc:
            fail("volunteer", str(exc))
    for name in ("came", "wants_call"):
        if cell(name):
            try:
                value = parse_yes_no(cell(name))
            except ValueRejected as exc:
                fail(name, str(exc))
                continue
            if name == "came":
                line.came = value
            else:
                line.wants_call = value
    try:
        line.support = parse_support(cell("support"))
    except InputError as exc:
        fail("support", str(exc))
    for raw in _split(cell("email")):
        try:
            line.emails.append(normalize_field("email", raw))
        except ValueRejected as exc:
            fail("email", str(exc))
    for raw in _split(cell("phone")):
        try:
            phone = normalize_field("phone", raw)
            line.phones.append((phone.kind, phone.e164))
        except ValueRejected as exc:
            fail("phone", str(exc))
    for raw in _split(cell("consent")):
        channel = _channel(raw)
        if channel is None:
            fail("consent", f"unknown channel {raw!r} (channels: {', '.join(CHANNELS)})")
        elif channel not in line.consents:
            line.consents.append(channel)
    for channel in ("sms", "email", "phone"):
        text = cell(f"consent_{channel}")
        if not text:
            continue
        try:
            if parse_yes_no(text) and channel not in line.consents:
                line.consents.append(channel)
        except ValueRejected as exc:
            fail(f"consent_{channel}", str(exc))
    line.note = " ".join(cell("note").split()) or None
    if cell("at"):
        try:
            line.at = parse_at(cell("at"), action.timezone, "date")
        except InputError as exc:
            fail("at", str(exc))
    outcome_text = cell("outcome")
    data = bool(line.support or line.wants_call or line.emails or line.phones or line.consents)
    try:
        if outcome_text:
            line.outcome, line.reached = parse_outcome(outcome_text, action.result_type)
        elif data:
            line.outcome, line.reached = "answered", True
        else:
            line.outcome, line.reached = None, False
    except InputError as exc:
        fail("outcome", str(exc))
        return None
    if data and not line.reached:
        given = "a support level" if line.support else "a call-back" if line.wants_call else \
            "a new address" if (line.emails or line.phones) else "a consent"
        fail("outcome", f"{given} is given but the person was not reached ({line.outcome})")
    if line.consents:
        line.wording = cell("wording") or default_wording
        first = line.consents[0]
        where = "consent" if has("consent") and first in _split_channels(cell("consent")) \
            else f"consent_{first}"
        if not line.wording:
            fail(where, "consent given without the wording the person agreed to")
        missing = _consent_without_address(store, line)
        if missing:
            channel, message = missing
            fail("consent" if has("consent") and channel in _split_channels(cell("consent"))
                 else f"consent_{channel}", message)
    if line.came is False and line.has_result and action.sheet == "list":
        fail("came", "results are given for someone who did not come")
    return line


def _map(header: list[str], path: Path) -> tuple[dict[str, list[int]], list[str]]:
    """field -> column indexes (several columns may give e-mails or phones)."""
    return map_header(header, COLUMNS, path, repeatable=("email", "phone"))


def _split(text: str) -> list[str]:
    import re

    return [part.strip() for part in re.split(r"[;,\n]| / ", text or "") if part.strip()]


def _channel(text: str) -> str | None:
    key = fold_key(text)
    aliases = {"sms": "sms", "texto": "sms", "email": "email", "mail": "email", "courriel": "email",
               "phone": "phone", "telephone": "phone", "tel": "phone", "appel": "phone", "post": "post",
               "courrier": "post", "social": "social", "reseaux": "social", "reseauxsociaux": "social"}
    return aliases.get(key)


def _split_channels(text: str) -> list[str]:
    return [c for c in (_channel(part) for part in _split(text)) if c]


def _consent_without_address(store: Store, line: Line) -> tuple[str, str] | None:
    points = so.contact_points(store, line.contact_id) | {("email", e) for e in line.emails} | set(line.phones)
    kinds = {k for k, _unused in points}
    for channel in line.consents:
        needs = {"sms": ("mobile",), "email": ("email",), "phone": ("mobile", "fixed")}.get(channel)
        if needs and not kinds.intersection(needs):
            what = {"sms": "mobile", "email": "e-mail", "phone": "phone"}[channel]
            return channel, f"consent to {channel} but no {what} is known for contact {line.contact_id} nor given here"
    return None


def import_results(store: Store, action: Action, path: Path, *, wording: str | None = None, dry_run: bool = False,
                   encoding: str | None = None, delimiter: str | None = None, sheet: str | None = None) -> ResultsReport:
    """Check the whole file, then record it in one transaction (``dry_run``: check and count only)."""
    if action.cancelled:
        raise InputError(_("action {id} was cancelled on {cancelled_at}: nothing is recorded for it").format(
                             id=action.id, cancelled_at=action.cancelled_at[:10]))

    if not started(action):
        raise InputError(_("action {id} takes place {when_text}: results are imported from that day on").format(
                             id=action.id, when_text=action.when_text()))
    path = Path(path)
    lines, problems, warnings = read(store, action, path, wording=wording, encoding=encoding, delimiter=delimiter,
                                     sheet=sheet)
    if problems:
        more = f" (and {len(problems) - 1} more problem(s): `--check` lists them all)" if len(problems) > 1 else ""
        error = InputError(problems[0] + more, hint=_("nothing was imported; fix the file and run the command again"))
        error.problems = problems
        raise error
    report = ResultsReport(path, action.id, dry_run=dry_run, warnings=warnings)
    if not lines:
        raise InputError(_("{path}: no line names a person").format(path=path))
    return write_lines(store, action, lines, report, name=path.name, digest=sha256_of(path))


def write_lines(store: Store, action: Action, lines: list[Line], report: ResultsReport, *, name: str,
                digest: str) -> ResultsReport:
    """Record checked lines (``check_line``) in one transaction: attendance, one result per person
    and action (updated when recorded again), new addresses, consents given on the spot. ``name``
    says where they came from (a file's name, a volunteer's page) in consent details and the
    audit log; ``report.dry_run`` rolls everything back."""
    report.rows = len(lines)
    dry_run = report.dry_run
    now = utcnow()
    source = "phone-call" if action.sheet == "call" else "meeting"
    where = f"action {action.id} « {action.title} », {name}"
    try:
        with store.transaction(immediate=True):
            hasher = Hasher(store)
            import_id = start_import(store, name, digest, {"action": action.id}, kind="action-results")
            attendance, events, present = [], [], set()
            for line in lines:
                at = line.at or action.starts_at
                if line.came is not None:
                    attendance.append((action.id, line.contact_id, int(line.came), now, "sheet"))
                    if line.came:
                        report.came += 1
                        note_exchange(store, line.contact_id, "action", f"came to {where}", action.starts_at)
                    else:
                        report.absent += 1
                if line.volunteer_id is not None and line.has_result:
                    present.add(line.volunteer_id)
                if not line.has_result:
                    if line.came is None:
                        report.no_result += 1
                    continue
                gained = _add_addresses(store, hasher, line, report, now)
                for channel in line.consents:
                    if _consent(store, hasher, line, channel, report):
                        detail = f"{line.wording} — {where}, row {line.row}"
                        if line.volunteer_id:
                            detail += f", volunteer {line.volunteer_id}"
                        events.append((line.contact_id, channel, "grant", at, source, detail))
                        gained.append(f"consent:{channel}")
                        report.consents[channel] = report.consents.get(channel, 0) + 1
                row = {"contact_id": line.contact_id, "type": action.result_type, "at": at, "outcome": line.outcome,
                       "reached": int(line.reached), "support": line.support, "wants_call": int(line.wants_call),
                       "note": line.note, "action_id": action.id, "volunteer_id": line.volunteer_id,
                       "source": "sheet", "import_id": import_id}
                existing = so.sheet_interaction(store, action.id, line.contact_id, action.result_type)
                if existing is None:
                    row["gained"] = ",".join(gained) or None
                    so.insert_interactions(store, [row], now)
                    report.results_new += 1
                    if line.reached:
                        note_exchange(store, line.contact_id, row["type"], f"{line.outcome} at {where}", at)
                else:
                    previous = so.interaction_gained(store, existing)
                    merged = [g for g in (previous or "").split(",") if g]
                    merged += [g for g in gained if g not in merged]
                    row["gained"] = ",".join(merged) or None
                    so.update_interaction(store, existing, row, now)
                    report.results_updated += 1
                if line.reached:
                    report.reached += 1
                else:
                    report.not_reached += 1
                if line.support and line.support >= 4:
                    report.supporters += 1
                if line.wants_call:
                    report.wants_call += 1
            so.set_attended(store, attendance)
            if events:
                record_consent_events(store, events)
            marked = [(action.id, v, 1, now, "sheet") for v in sorted(present)
                      if (so.person_state(store, action.id, v) or (None, None, None))[2] != 1]
            report.volunteers_present = so.set_attended(store, marked)
            for _unused, volunteer, _unused, _unused, _unused in marked:
                note_exchange(store, volunteer, "action", f"volunteered at {where}", action.starts_at)
            finish_import(store, import_id, {"read": report.rows,
                                             "added": report.results_new, "merged": report.results_updated})
            audit.record(store, "action import-results", report.rows,
                         {"action": action.id, "file": name, "results": report.results_new + report.results_updated,
                          "consents": sum(report.consents.values())})
            if dry_run:
                raise _Rollback
    except _Rollback:
        pass
    return report


def _add_addresses(store: Store, hasher, line: Line, report: ResultsReport, now: str) -> list[str]:
    gained = []
    for kind, value in [("email", e) for e in line.emails] + line.phones:
        shown = mask(value)
        value_hash = hasher(value)
        if None in so.suppressed_for(store, value_hash):
            report.notes.append(f"row {line.row}: {shown} was erased or opposed on every channel: not stored")
            continue
        owners = so.point_owners(store, kind, value)
        if owners and line.contact_id not in owners:
            report.notes.append(f"row {line.row}: {shown} belongs to contact {owners[0]}: not added to contact "
                                f"{line.contact_id}")
            continue
        if so.add_contact_point(store, line.contact_id, kind, value, value_hash, now):
            gained.append(kind)
            if kind == "email":
                report.emails_added += 1
            else:
                report.phones_added += 1
    return gained


def _consent(store: Store, hasher, line: Line, channel: str, report: ResultsReport) -> bool:
    """Whether a consent given on the spot may be recorded (notes why not in the report)."""
    status = so.consent_status(store, line.contact_id, channel)
    if status == "granted":
        return False
    if status == "withdrawn":
        report.notes.append(f"row {line.row}: contact {line.contact_id} had withdrawn {channel} consent: kept "
                            f"withdrawn (if they asked again: dbox consent grant {line.contact_id} --channel {channel} "
                            f"--renewed)")
        return False
    kinds = {"sms": ("mobile",), "email": ("email",), "phone": ("mobile", "fixed")}.get(channel, ())
    for kind, value in so.contact_points(store, line.contact_id):
        if kind in kinds and channel in so.suppressed_for(store, hasher(value)):
            report.notes.append(f"row {line.row}: an address of contact {line.contact_id} opted out of {channel}: "
                                f"consent not recorded (if they asked again: dbox consent grant {line.contact_id} "
                                f"--channel {channel} --renewed)")
            return False
    return True
