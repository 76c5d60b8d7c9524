"""``dbox optouts import FILE``: unsubscribes and STOPs collected elsewhere.

Accepted files (CSV/TSV in any encoding dbox reads, or .xlsx):

- a list of e-mail addresses or phone numbers, with or without a header row;
- a provider's export (Mailchimp "Email Address", Brevo "EMAIL", Mailjet "Email", a column named
  phone / mobile / numéro for SMS), the address column found by its header (``--column`` to name it);
- the queue written by the hosted unsubscribe endpoint (``received_at,token``).

For each address: a channel-scoped hash goes to the suppression list (so the address is never
messaged on that channel, even if it comes back in a later import under a new contact), and every
contact holding it has that channel's consent withdrawn (source ``unsubscribe``, or ``stop-reply``
for phones). Tokens are checked against the store's key; a forged one changes nothing.

One transaction. A row whose value is not an address is reported (file, row, why) and skipped: the
other rows of an opt-out file must not be lost because one is garbled. A file with no address
column is refused whole.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from dbox.errors import InputError
from dbox.privacy import audit
from dbox.privacy.consent import CHANNELS
from dbox.privacy.unsubscribe import verify
from dbox.store import privacy as sp
from dbox.store import suppressions
from dbox.store.contacts_write import record_consent_events
from dbox.store.db import Store, utcnow
from dbox.text import fold
from dbox import normalize as norm
from dbox.readers import open_reader
from dbox.i18n import _

EMAIL_HEADERS = {"email", "e mail", "mail", "courriel", "adresse email", "adresse e mail", "adresse mail",
                 "email address", "e mail address", "adresse electronique", "recipient", "destinataire",
                 "emailaddress", "subscriber email"}
PHONE_HEADERS = {"phone", "telephone", "tel", "mobile", "portable", "numero", "phone number", "number", "msisdn",
                 "from", "numero de telephone", "tel portable", "telephone portable"}
TOKEN_HEADERS = {"token"}
MAX_LISTED = 100
_CHUNK = 1000


@dataclass
class OptoutReport:
    path: Path
    kind: str = ""                 # email | phone | token
    channel: str = ""
    column: str = ""
    counts: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    dry_run: bool = False
    origin: str | None = None      # the consent events' detail, instead of "FILE row N"


def _looks_like_value(text: str) -> str | None:
    text = (text or "").strip()
    if "@" in text:
        try:
            norm.normalize_email(text)
            return "email"
        except norm.ValueRejected:
            return None
    try:
        norm.normalize_phone(text)
        return "phone"
    except norm.ValueRejected:
        return None


def _choose_column(header: list[str], column: str | None, path: Path) -> tuple[int, str, bool]:
    """(index, kind, header row is data) for the file's address column."""
    if column:
        wanted = fold(column)
        for i, name in enumerate(header):
            if fold(name) == wanted:
                kind = ("token" if fold(name) in TOKEN_HEADERS else
                        "phone" if fold(name) in PHONE_HEADERS else "email")
                return i, kind, False
        raise InputError(_("{path}: no column {column!r} (columns: {items})").format(
                             path=path, column=column, items=', '.join(header)))
    folded = [fold(h) for h in header]
    for names, kind in ((TOKEN_HEADERS, "token"), (EMAIL_HEADERS, "email"), (PHONE_HEADERS, "phone")):
        for i, name in enumerate(folded):
            if name in names:
                return i, kind, False
    for i, cell in enumerate(header):
        kind = _looks_like_value(cell)
        if kind:
            return i, kind, True        # no header: the first row is already an address
    raise InputError(_("{path}: no column of e-mail addresses, phone numbers or unsubscribe tokens (columns: {items})").format(
                         path=path, items=', '.join(header)), hint=_("name it with --column"))


def import_optouts(store: Store, path: Path, *, channel: str | None = None, column: str | None = None,
                   dry_run: bool = False, encoding: str | None = None, delimiter: str | None = None) -> OptoutReport:
    path = Path(path)
    reader = open_reader(path, encoding=encoding, delimiter=delimiter)
    report = OptoutReport(path, dry_run=dry_run)
    try:
        index, kind, header_is_data = _choose_column(reader.header, column, path)
    except InputError:
        reader.close()
        raise
    report.kind, report.column = kind, ("" if header_is_data else reader.header[index])
    if channel is not None and channel not in CHANNELS:
        reader.close()
        raise InputError(_("--channel: unknown channel {channel!r} (channels: {items})").format(
                             channel=channel, items=', '.join(CHANNELS)))
    if kind == "phone":
        channel = channel or "sms"
        if channel not in ("sms", "phone"):
            reader.close()
            raise InputError(_("--channel {channel}: phone numbers opt out of sms or phone").format(channel=channel))
    else:
        channel = channel or "email"
        if channel != "email":
            reader.close()
            raise InputError(_("--channel {channel}: {value} opt out of email only").format(
                                 channel=channel, value='tokens' if kind == 'token' else 'e-mail addresses'))
    report.channel = channel
    rows = reader.rows()
    if header_is_data:
        rows = _prepend((1, reader.header), rows)
    applier = _Applier(store, report, dry_run)
    try:
        with store.transaction(immediate=True):
            while chunk := list(islice(rows, _CHUNK)):
                applier.apply(chunk, index)
            if not report.counts["addresses"] and not report.counts["tokens"]:
                raise InputError(_("{path}: no row holds a valid {kind}; nothing was changed").format(
                                     path=path, kind=_("token") if kind == "token" else kind)
                                 + (f" ({report.problems[0]})" if report.problems else ""))
            if not dry_run:
                audit.record(store, "optouts import", applier.contacts_touched,
                             {"file": path.name, "channel": channel, "addresses": report.counts["addresses"],
                              "withdrawn": report.counts["withdrawn"]})
            if dry_run:
                raise _DryRun()
    except _DryRun:
        pass
    finally:
        reader.close()
    return report


def unsubscribe_one_click(store: Store, token: str) -> bool:
    """A one-click unsubscribe received by ``dbox serve`` (``POST /u/<token>``), applied at once by
    the rule a queued token follows in ``import_optouts``: e-mail consent withdrawn for the
    token's contact, its addresses suppressed for e-mail, other holders of them withdrawn too.
    False when the token is forged, mistyped or its contact erased: nothing changes then.
    Doing it twice is harmless (an already withdrawn consent stays as it is)."""
    report = OptoutReport(Path("one-click"), kind="token", channel="email",
                          origin="one-click unsubscribe (dbox serve)")
    applier = _Applier(store, report, False)
    with store.transaction(immediate=True):
        applier.apply([(1, [token])], 0)
        if report.counts["tokens"] and applier.contacts_touched:
            audit.record(store, "optouts one-click", applier.contacts_touched, {"channel": "email"})
    return bool(report.counts["tokens"])


class _DryRun(Exception):
    pass


def _prepend(first, rows):
    yield first
    yield from rows


class _Applier:
    def __init__(self, store: Store, report: OptoutReport, dry_run: bool):
        self.store = store
        self.report = report
        self.dry_run = dry_run
        self.hasher = suppressions.Hasher(store)
        self.now = utcnow()
        self.seen: set[str] = set()
        self.contacts_touched = 0

    def problem(self, text: str) -> None:
        self.report.counts["invalid"] += 1
        if len(self.report.problems) < MAX_LISTED:
            self.report.problems.append(f"{self.report.path.name}: {text}")

    def apply(self, chunk: list[tuple[int, list[str]]], index: int) -> None:
        report = self.report
        values: dict[str, int] = {}        # normalized value -> row
        contact_rows: dict[int, int] = {}  # token's contact -> row
        for row, cells in chunk:
            report.counts["read"] += 1
            raw = cells[index].strip() if index < len(cells) else ""
            if not raw:
                self.problem(f"row {row}: empty")
                continue
            try:
                if report.kind == "token":
                    contact_id = verify(self.store, raw)
                    if contact_id is None:
                        self.problem(f"row {row}: {raw[:40]!r} is not a valid unsubscribe token")
                        continue
                    report.counts["tokens"] += 1
                    contact_rows.setdefault(contact_id, row)
                    continue
                value = norm.normalize_email(raw) if report.kind == "email" else norm.normalize_phone(raw).e164
            except norm.ValueRejected as exc:
                self.problem(f"row {row}: {exc}")
                continue
            if value in self.seen or value in values:
                report.counts["duplicates"] += 1
                continue
            values[value] = row
        if contact_rows:
            existing = sp.existing_contact_ids(self.store, contact_rows)
            report.counts["unknown"] += len(set(contact_rows) - existing)
            for contact_id in sorted(existing):
                for kind, value in sp.contact_points(self.store, contact_id):
                    if kind == "email" and value not in self.seen:
                        values.setdefault(value, contact_rows[contact_id])
            self._withdraw({cid: contact_rows[cid] for cid in existing})
        if not values:
            return
        self.seen.update(values)
        report.counts["addresses"] += len(values)
        suppression_kind = "email" if report.kind in ("email", "token") else "phone"
        reason = "stop-reply" if report.channel == "sms" else "unsubscribe"
        report.counts["hashes_added"] += sp.add_suppression_hashes(
            self.store, [(self.hasher(v), suppression_kind, reason, report.channel, self.now) for v in values])
        holders: dict[int, int] = {}
        point_kinds = {"email": ("email",), "sms": ("mobile",), "phone": ("mobile", "fixed")}[report.channel]
        for point_kind in point_kinds:
            for value, ids in sp.contacts_with_point(self.store, point_kind, values).items():
                for cid in ids:
                    holders.setdefault(cid, values[value])
        if report.kind != "token":
            matched = {v for pk in point_kinds for v in sp.contacts_with_point(self.store, pk, values)}
            report.counts["unknown"] += len(set(values) - matched)
        self._withdraw({cid: row for cid, row in holders.items() if cid not in contact_rows})

    def _withdraw(self, contacts: dict[int, int]) -> None:
        channel, report = self.report.channel, self.report
        source = "stop-reply" if channel == "sms" else "unsubscribe"
        events = []
        for contact_id, row in sorted(contacts.items()):
            current = sp.current_consent(self.store, contact_id, channel)
            if current and current[0] == "withdrawn":
                report.counts["already_withdrawn"] += 1
                continue
            events.append((contact_id, channel, "withdraw", self.now, source,
                           report.origin or f"{report.path.name} row {row}"))
        if events:
            record_consent_events(self.store, events)
            report.counts["withdrawn"] += len(events)
            self.contacts_touched += len(events)
