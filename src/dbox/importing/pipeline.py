"""``dbox import``: one file, one transaction.

Rows are read as text, normalized (in worker processes for large files), resolved to communes and
cantons, matched against the store and against earlier rows of the same file, then written a chunk
at a time. A fatal error rolls everything back; rejected rows go to ``<file>.rejected.csv`` with a
reason column once the import has committed.
"""

from __future__ import annotations

import csv
import gc
import multiprocessing
import os
import shutil
import tempfile
from array import array
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from dbox.errors import InputError
from dbox.files import sha256_of
from dbox.importing.mapping import ColumnMapping, map_columns, parse_overrides
from dbox.readers import FileInfo, open_reader
from dbox.importing.records import CONSENT_CHANNELS, Row, RowBuilder
from dbox.output import excel_safe
from dbox.store import contacts_write as cw
from dbox.store import geo as store_geo
from dbox.store import suppressions
from dbox.store.db import Store
from dbox.text import fold
from dbox.i18n import _, ngettext
from dbox.store.contacts import count_contacts
from dbox.privacy.rights import name_suppression_value

CHUNK_ROWS = 5000
PARALLEL_MIN_BYTES = 4 * 1024 * 1024   # below this, worker start-up costs more than it saves
DEFER_MIN_ROWS = 10_000                # below this, rebuilding indexes costs more than it saves
MAX_LISTED = 1000                      # conflicts and notes kept for the report


@dataclass
class ImportOptions:
    map_specs: list[str] = field(default_factory=list)
    consent: tuple[str, ...] = ()
    consent_source: str | None = None
    # The wording the people agreed to, stored with every consent the import records:
    # {"*": text} for every channel, or per channel {"sms": text} (see parse_consent_wording).
    consent_wording: dict[str, str] = field(default_factory=dict)
    strict: bool = False                # duplicate header names are an error, not a warning
    update: bool = False
    dry_run: bool = False
    force: bool = False
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    workers: int | None = None          # None: decided by file size and cores
    chunk_rows: int = CHUNK_ROWS
    # The source written on the consent events this import records: 'import' for a file, 'form'
    # for a sign-up form's submission (dbox.forms), one of dbox.privacy.consent.SOURCES.
    consent_event_source: str = "import"


@dataclass
class ImportReport:
    path: Path
    info: FileInfo | None = None
    mapping: ColumnMapping | None = None
    import_id: int | None = None
    counts: Counter = field(default_factory=Counter)
    geo: Counter = field(default_factory=Counter)
    split_communes: Counter = field(default_factory=Counter)  # commune name -> rows left without canton
    conflicts: list[str] = field(default_factory=list)
    rejections: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    fallback_rows: list[int] = field(default_factory=list)   # rows read in the fallback encoding
    rejected_file: Path | None = None
    already_imported: tuple | None = None
    dry_run: bool = False
    contacts: dict[int, int] = field(default_factory=dict)   # row number -> the contact it became




def rejected_path_for(path: Path) -> Path:
    return path.with_name(path.stem + ".rejected.csv")


def parse_consent_wording(values: list[str]) -> dict[str, str]:
    """``["J'accepte ..."]`` -> {"*": ...}; ``["sms=J'accepte les SMS ..."]`` -> {"sms": ...}."""
    wording: dict[str, str] = {}
    for value in values:
        channel, sep, text = value.partition("=")
        if sep and channel.strip().lower() in CONSENT_CHANNELS:
            key, text = channel.strip().lower(), text.strip()
        else:
            key, text = "*", value.strip()
        if not text:
            raise InputError(_("--consent-wording {value!r}: the wording is empty").format(value=value))
        wording[key] = text
    return wording


def validate_consent_options(options: ImportOptions) -> None:
    unknown = [c for c in options.consent if c not in CONSENT_CHANNELS]
    if unknown:
        raise InputError(_("--consent: unknown channel {items} (channels: {items2})").format(
                             items=', '.join(unknown), items2=', '.join(CONSENT_CHANNELS)))
    if options.consent and not (options.consent_source or "").strip():
        raise InputError(
            _("--consent needs --consent-source: say how the consent was collected"),
            hint=_('e.g. --consent-source "formulaire réunion publique du 12/10/2026"'))


# -- worker side ---------------------------------------------------------------------------------

_builder: RowBuilder | None = None


def _init_worker(mapping: ColumnMapping, index, consents: tuple[str, ...], hasher) -> None:
    global _builder
    _builder = RowBuilder(mapping, index, consents, hasher)
    # Records hold no reference cycles: reference counting frees them. Without the cyclic
    # collector's passes over the geography index, building a row is about a third cheaper.
    gc.disable()


def _build_chunk(chunk: list[tuple[int, list[str]]]) -> list[Row]:
    build = _builder.build
    return [build(row, cells) for row, cells in chunk]


def _chunks(rows: Iterator, size: int) -> Iterator[list]:
    while True:
        chunk = list(islice(rows, size))
        if not chunk:
            return
        yield chunk


def _bounded_map(pool, chunks: Iterator[list], window: int) -> Iterator[list[Row]]:
    """``pool.imap`` with read-ahead bounded to ``window`` chunks, reading in this thread.

    ``imap`` reads its input in a feeder thread with no bound (memory grows with the file when
    the workers are slower than the reader) and ends quietly when the input raises — a decoding
    error would have imported half a file. Here the reader's errors propagate as they should.
    """
    pending: deque = deque()
    for chunk in chunks:
        pending.append(pool.apply_async(_build_chunk, (chunk,)))
        if len(pending) >= window:
            yield pending.popleft().get()
    while pending:
        yield pending.popleft().get()


# -- main side -----------------------------------------------------------------------------------

def import_file(store: Store, path: Path, options: ImportOptions | None = None,
                progress: Callable[[int], None] | None = None) -> ImportReport:
    """Import one contacts file into ``store``; the report says what happened."""
    options = options or ImportOptions()
    validate_consent_options(options)
    path = Path(path)
    report = ImportReport(path, dry_run=options.dry_run)
    reader = open_reader(path, encoding=options.encoding, delimiter=options.delimiter, sheet=options.sheet)
    report.info = reader.info()
    report.warnings.extend(reader.warnings)
    if options.strict and reader.warnings:
        reader.close()
        raise InputError(reader.warnings[0], hint=_("rename one of the columns (or import without --strict)"))
    try:
        report.mapping = map_columns(reader.header, parse_overrides(options.map_specs))
    except InputError as exc:
        reader.close()
        raise InputError(f"{path}: {exc}", hint=exc.hint) from None
    digest = sha256_of(path)
    previous = cw.previous_import(store, digest)
    if previous and not options.force:
        reader.close()
        report.already_imported = tuple(previous)
        return report

    index = store_geo.load_index(store)
    consent_detail = f"{options.consent_source or 'column of the file'} ({path.name})"
    workers = options.workers
    if workers is None:
        workers = min(os.cpu_count() or 1, 4) if path.stat().st_size >= PARALLEL_MIN_BYTES else 0

    rejected_tmp = tempfile.NamedTemporaryFile(
        "w", encoding="utf-8-sig", newline="", delete=False, dir=path.parent if os.access(path.parent, os.W_OK) else None,
        prefix=".dbox-rejected-", suffix=".csv")
    rejected_writer = csv.writer(rejected_tmp, delimiter=";")
    rejected_writer.writerow([*reader.header, *REJECT_COLUMNS])
    pool = None
    gc_was_enabled = gc.isenabled()
    gc.freeze()   # the geography index and the rest of what is loaded now live for the whole run
    # Records and contact states hold no reference cycles: reference counting frees them, and the
    # cyclic collector's passes over each chunk's objects cost more than the merge itself.
    gc.disable()
    try:
        with store.transaction(immediate=True):
            import_id = cw.start_import(store, path.name, digest, {
                "map": options.map_specs, "consent": list(options.consent),
                "consent_source": options.consent_source, "update": options.update})
            report.import_id = import_id
            merger = _Merger(store, import_id, options, report, consent_detail)
            first_new_id = merger.next_id
            deferred_indexes = []
            if _is_large_for(store, path):
                deferred_indexes = cw.drop_deferrable_indexes(store)
            chunks = _chunks(reader.rows(), options.chunk_rows)
            if workers:
                ctx = multiprocessing.get_context("fork")
                pool = ctx.Pool(workers, initializer=_init_worker,
                                initargs=(report.mapping, index, options.consent, merger.hasher))
                built = _bounded_map(pool, chunks, window=2 * workers)
            else:
                _init_worker(report.mapping, index, options.consent, merger.hasher)
                built = map(_build_chunk, chunks)
            for records in built:
                report.counts["read"] += len(records)
                for rec in records:
                    if rec.cells is not None:
                        _write_rejects(rec, rejected_writer, report)
                    for note in rec.notes:
                        report.counts["email_typos"] += 1
                        merger._note(note)
                merger.apply([r for r in records if not r.error])
                if progress:
                    progress(report.counts["read"])
            report.fallback_rows = list(reader.fallback_rows)
            cw.rebuild_indexes(store, deferred_indexes, first_new_id)
            cw.finish_import(store, import_id, report.counts)
            if options.dry_run:
                raise _DryRun()
    except _DryRun:
        pass
    except BaseException:
        rejected_tmp.close()
        os.unlink(rejected_tmp.name)
        raise
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
        if gc_was_enabled:
            gc.enable()
        gc.unfreeze()
        rejected_tmp.close()
    if (report.counts["rejected"] or report.counts["values_rejected"]) and not options.dry_run:
        report.rejected_file = rejected_path_for(path)
        shutil.move(rejected_tmp.name, report.rejected_file)
    else:
        os.unlink(rejected_tmp.name)
    return report


def import_rows(store: Store, source: str, fields: list[str], rows: list[list[str]],
                options: ImportOptions | None = None, *, kind: str = "form", index=None,
                transaction: bool = True) -> ImportReport:
    """Rows given in memory — a sign-up form's submission, an answer on an event page — through
    the same normalization, dedupe, suppression and consent rules as a file (docs/import.md).

    ``fields`` names the contact field of each cell (``dbox.importing.mapping.FIELDS``); rows are
    numbered from 1 and ``report.contacts`` gives the contact each row became (a row rejected or
    suppressed has none). ``index``: the geography index, when the caller keeps one loaded.
    ``transaction=False`` runs inside the caller's transaction (what it writes with the rows
    commits or rolls back with them)."""
    import hashlib
    import secrets as _secrets

    options = options or ImportOptions()
    validate_consent_options(options)
    report = ImportReport(Path(source), dry_run=options.dry_run)
    report.mapping = ColumnMapping(list(fields), list(fields), ["given"] * len(fields))
    index = index if index is not None else store_geo.load_index(store)
    consent_detail = options.consent_source or source
    # No digest of the content: it would be a hash of personal data kept with the import's row.
    digest = hashlib.sha256(f"{kind}:{source}:{_secrets.token_hex(16)}".encode()).hexdigest()

    def run() -> None:
        import_id = cw.start_import(store, source, digest, {"consent": list(options.consent),
                                                            "consent_source": options.consent_source}, kind=kind)
        report.import_id = import_id
        merger = _Merger(store, import_id, options, report, consent_detail, keep_contacts=True)
        builder = RowBuilder(report.mapping, index, options.consent, merger.hasher)
        records = [builder.build(number, [str(c or "") for c in cells]) for number, cells in enumerate(rows, 1)]
        report.counts["read"] += len(records)
        for rec in records:
            if rec.error:
                report.counts["rejected"] += 1
                report.rejections.append(f"{source}: {rec.error}")
            for column, value, reason in rec.bad_cells:
                if not rec.error:
                    report.counts["values_rejected"] += 1
                    report.rejections.append(_("{source}: row {row}, {column}: {reason} (value left out)").format(
                        source=source, row=rec.row, column=column, reason=reason))
            for note in rec.notes:
                merger._note(note)
        merger.apply([r for r in records if not r.error])
        cw.finish_import(store, import_id, report.counts)

    if transaction:
        with store.transaction(immediate=True):
            run()
    else:
        run()
    return report


# Columns the rejects file adds after the file's own: one line per bad cell (row, column, value,
# reason), or per row rejected whole (column and value empty).
REJECT_COLUMNS = ("dbox_row", "dbox_column", "dbox_value", "dbox_reason")


def _write_rejects(rec: Row, writer, report: ImportReport) -> None:
    cells = [excel_safe(c) for c in rec.cells]
    name = report.path.name
    if rec.error:
        report.counts["rejected"] += 1
        if len(report.rejections) < MAX_LISTED:
            report.rejections.append(f"{name}: {rec.error}")
        writer.writerow(cells + [rec.row, "", "", rec.error])
    for column, value, reason in rec.bad_cells:
        if not rec.error:
            report.counts["values_rejected"] += 1
            if len(report.rejections) < MAX_LISTED:
                report.rejections.append(_("{name}: row {row}, column {column!r}: {reason} (value left out, "
                                           "contact kept)").format(name=name, row=rec.row, column=column, reason=reason))
        writer.writerow(cells + [rec.row, column, excel_safe(value), reason])


def _is_large_for(store: Store, path: Path) -> bool:
    """Whether the file may add more than a quarter of the store (then deferring indexes pays),
    whatever the number of workers; a file of a few chunks is never worth the rebuild."""
    estimated_rows = path.stat().st_size // 120
    return estimated_rows >= DEFER_MIN_ROWS and estimated_rows > count_contacts(store) // 4


class _DryRun(Exception):
    """Raised inside the transaction to roll a dry run back."""



_LOCATION_FIELDS = ("postal_code", "commune_name", "commune_insee", "departement", "canton_code",
                    "circonscription", "geo_status", "phone_region")
_PERSON_FIELDS = ("civility", "first_name", "last_name", "address")


def _record_fields(rec: Row) -> dict[str, str | None]:
    return dict(zip(cw.SCALAR_FIELDS, rec.values))


_POSTAL = cw.SCALAR_FIELDS.index("postal_code")


def _points(cid: int, states: dict, fresh: dict) -> set[tuple[str, str]]:
    """The addresses of a contact of the chunk: its state's, or those of the row it still is."""
    state = states.get(cid)
    if state is not None:
        return state.points
    rec = fresh[cid][0]
    return {("email", e) for e in rec.emails} | {("mobile", m) for m in rec.mobiles}


def contradicts(points: set[tuple[str, str]], rec: Row) -> bool:
    """Whether a contact with these points cannot be the person of ``rec`` although the name and
    postal code agree: both have an e-mail and none is shared, or both a mobile and none shared.

    This is the dedupe rule for name + postal code (docs/import.md): two François Lambert in
    38000 with different mobiles are two people, listed by ``dbox contacts duplicates``."""
    for kind, values in (("email", rec.emails), ("mobile", rec.mobiles)):
        if not values:
            continue
        held = {v for k, v in points if k == kind}
        if held and held.isdisjoint(values):
            return True
    return False


class _FirstConsents:
    """(contact id, channel) -> (row, "grant" | "refuse"): the first consent value the file gave a
    contact on a channel, which the consent notes name.

    Kept for every contact the file touched, so it must stay small: the contacts this import
    creates have dense ids from ``first_id`` on, held in one array of 4-byte ints per channel
    (``row * 2 + refused``; 0 for none); the store's own contacts a row matched sit in a dict."""

    def __init__(self, first_id: int):
        self.first_id = first_id
        self.arrays: dict[str, array] = {}
        self.others: dict[tuple[int, str], tuple[int, str]] = {}

    def get(self, cid: int, channel: str) -> tuple[int, str] | None:
        i = cid - self.first_id
        if i < 0:
            return self.others.get((cid, channel))
        values = self.arrays.get(channel)
        value = values[i] if values is not None and i < len(values) else 0
        return (value >> 1, "refuse" if value & 1 else "grant") if value else None

    def setdefault(self, cid: int, channel: str, row: int, kind: str) -> None:
        i = cid - self.first_id
        if i < 0:
            self.others.setdefault((cid, channel), (row, kind))
            return
        values = self.arrays.get(channel)
        if values is None:
            values = self.arrays[channel] = array("i")
        if i >= len(values):
            values.extend(bytes(max(i + 1 - len(values), 4096)))   # zeros, a block at a time
        if not values[i]:
            values[i] = row * 2 + (kind == "refuse")


class _Merger:
    """Dedupe and merge a chunk of records against the store and against earlier rows."""

    def __init__(self, store: Store, import_id: int, options: ImportOptions, report: ImportReport,
                 consent_detail: str, keep_contacts: bool = False):
        self.store = store
        self.import_id = import_id
        self.options = options
        self.report = report
        self.consent_detail = consent_detail
        self.keep_contacts = keep_contacts   # fill report.contacts (row -> contact): import_rows only
        self.tags = cw.TagCache(store)
        self.next_id = cw.next_contact_id(store)
        # Contacts this import created (for "duplicates in file") are those from this id on.
        self.first_new_id = self.next_id
        # (contact id, channel) -> (row, "grant" | "refuse"): the first consent value this file gave.
        self.consent_seen = _FirstConsents(self.first_new_id)
        self.check_suppressions = suppressions.has_any(store)
        self.hasher = suppressions.Hasher(store)

    def apply(self, records: list[Row]) -> None:
        """Decide, row by row, which contact each row is, then write the chunk.

        A row that matches nobody (most of a file) becomes a new contact straight from its row:
        no ``ContactState`` is made for it unless a later row of the chunk matches it, when it is
        made (``_materialize``) exactly as the merge rules need it."""
        if self.check_suppressions:
            records = self._drop_suppressed(records)
        found, found_names = self._lookup(records)
        # this chunk's new contacts take consecutive ids; at most the rows whose e-mails and
        # mobiles the store does not hold become new ones
        self.next_id = cw.reserve_contact_ids(
            self.store, sum(1 for r in records if not any(v in found for v in (*r.emails, *r.mobiles))), self.next_id)
        ids = set(found.values()) | {cid for cids in found_names.values() for cid in cids}
        states = cw.fetch_states(self.store, ids)
        chunk_first = self.next_id
        # New contacts of this chunk still exactly their row: id -> (row, consent events).
        fresh: dict[int, tuple[Row, list]] = {}
        # E-mail or mobile -> the contact of this chunk that has it (e-mails and E.164 phones
        # never look alike, so one dict keyed by value holds both kinds).
        chunk_index: dict[str, int] = {}
        chunk_names: dict[tuple[str, str], list[int]] = {}
        counts = self.report.counts
        geo = self.report.geo
        first_new = self.first_new_id
        for rec in records:
            if rec.geo_status is not None:
                geo[rec.geo_status] += 1
                if rec.split_commune is not None:
                    geo["canton_ambiguous"] += 1
                    self.report.split_communes[rec.split_commune] += 1
                if rec.no_canton:
                    geo["no_canton"] += 1
            postal_code = rec.values[_POSTAL]
            name = (rec.name_key, postal_code) if rec.name_key and postal_code else None
            known = name is not None and (name in found_names or name in chunk_names)
            if not known:
                for value in rec.emails:
                    if value in chunk_index or value in found:
                        known = True
                        break
                else:
                    for value in rec.mobiles:
                        if value in chunk_index or value in found:
                            known = True
                            break
            target = self._match(rec, name, chunk_index, found, chunk_names, found_names, states, fresh) \
                if known else None
            if target is None:
                cid = self.next_id
                self.next_id += 1
                fresh[cid] = (rec, self._fresh_consents(cid, rec))
                counts["added"] += 1
            else:
                cid = target
                state = states.get(target)
                if state is None:
                    state = states[target] = self._materialize(target, *fresh.pop(target))
                if target >= first_new:
                    counts["duplicates_in_file"] += 1
                changed = self._merge(state, rec)
                counts["merged" if changed else "unchanged"] += 1
                if changed:
                    state.sources.append(rec.row)
            if self.keep_contacts:
                self.report.contacts[rec.row] = cid
            for value in rec.emails:
                chunk_index.setdefault(value, cid)
            for value in rec.mobiles:
                chunk_index.setdefault(value, cid)
            if name:
                held = chunk_names.setdefault(name, [])
                if cid not in held:
                    held.append(cid)
        # In the order the contacts were met: those of the store (or of earlier chunks), then the
        # chunk's new ones by id (tags are created in this order: the same ids whatever the path).
        ordered = [state for cid, state in states.items() if cid < chunk_first]
        ordered += [states[cid] if cid in states else (cid, *fresh[cid]) for cid in range(chunk_first, self.next_id)]
        hashes: dict[str, str] = {}
        for rec in records:
            hashes.update(rec.hashes)
        cw.write_states(self.store, ordered, self.import_id, self.tags, self.consent_detail,
                        replace_custom=self.options.update, source=self.options.consent_event_source,
                        hashes=hashes)

    def _match(self, rec: Row, name, chunk_index, found, chunk_names, found_names, states, fresh) -> int | None:
        """The contact a row is: same e-mail, else same mobile, else same folded name and postal
        code with no e-mail or mobile contradicting it (``contradicts``). None: a new contact."""
        matches = [m for v in (*rec.emails, *rec.mobiles) if (m := chunk_index.get(v) or found.get(v)) is not None]
        candidates = []
        if name:
            for cid in [*found_names.get(name, ()), *chunk_names.get(name, ())]:
                if cid not in candidates:
                    candidates.append(cid)
        agreeing = [cid for cid in candidates if not contradicts(_points(cid, states, fresh), rec)]
        if not matches and candidates and not agreeing:
            self.report.counts["possible_duplicates"] += 1
            self._note(ngettext("row {row}: same name and postal code as contact {ids} but another e-mail or "
                                "mobile: added as a new contact (possible duplicate: dbox contacts duplicates)",
                                "row {row}: same name and postal code as contacts {ids} but another e-mail or "
                                "mobile: added as a new contact (possible duplicate: dbox contacts duplicates)",
                                len(candidates)).format(row=rec.row, ids=", ".join(map(str, candidates))))
        matches += agreeing[:1]
        if not matches:
            return None
        target = matches[0]
        if len(set(matches)) > 1:
            self._note(_("row {row}: matches contacts {ids}; merged into {target}").format(
                row=rec.row, ids=", ".join(map(str, sorted(set(matches)))), target=target))
        return target

    def _drop_suppressed(self, records: list[Row]) -> list[Row]:
        """Leave out anyone erased or opposed: by e-mail, phone, or — for a person who had neither —
        by name and postal code (the values dbox.privacy.rights.forget hashes)."""
        def hashes_of(r: Row) -> list[str]:
            found = [r.hashes[v] for v in (*r.emails, *r.mobiles, *r.fixeds)]
            if r.name_key and r.postal_code:
                found.append(self.hasher(name_suppression_value(r.name_key, r.postal_code)))
            return found

        hashes = {r.row: hashes_of(r) for r in records}
        hit = suppressions.suppressed(self.store, [h for hs in hashes.values() for h in hs])
        kept = []
        for rec in records:
            if hit.intersection(hashes[rec.row]):
                self.report.counts["suppressed"] += 1
            else:
                kept.append(rec)
        return kept

    def _lookup(self, records: list[Row]):
        emails = [e for r in records for e in r.emails]
        mobiles = [m for r in records for m in r.mobiles]
        names = [(r.name_key, r.postal_code) for r in records if r.name_key and r.postal_code]
        # Keyed by value alone: an e-mail and an E.164 phone never look alike.
        found: dict[str, int] = {}
        found.update(cw.lookup_points(self.store, "email", emails))
        found.update(cw.lookup_points(self.store, "mobile", mobiles))
        return found, cw.lookup_names(self.store, names)

    def _fresh_consents(self, cid: int, rec: Row) -> list[tuple[str, str, str, str | None]]:
        """The consent events of a new contact made from ``rec``, counted as ``_apply_consents``
        counts them for a contact with no consent yet: (channel, action, detail, wording)."""
        events = []
        refused = set()
        counts = self.report.counts
        for channel, column, value in rec.refusals:
            if channel in refused:
                continue   # a second "non" for the channel in the row: already withdrawn
            refused.add(channel)
            events.append((channel, "withdraw", f"refused: {value!r} in column {column!r} of {self.report.path.name}, "
                                                f"row {rec.row}", None))
            counts["consent_refused"] += 1
            self.consent_seen.setdefault(cid, channel, rec.row, "refuse")
        wordings = self.options.consent_wording
        for channel in rec.consents:
            # The row's consents leave out the channels it refused (RowBuilder).
            wording = wordings.get(channel) or wordings.get("*")
            if not wording:
                counts["consents_without_wording"] += 1
            events.append((channel, "grant", self.consent_detail, wording))
            self.consent_seen.setdefault(cid, channel, rec.row, "grant")
        return events

    def _materialize(self, cid: int, rec: Row, events: list) -> cw.ContactState:
        """The state of a new contact made from ``rec`` (a later row of the chunk matches it)."""
        points = ([("email", e) for e in rec.emails] + [("mobile", m) for m in rec.mobiles]
                  + [("fixed", f) for f in rec.fixeds])
        # Its fields are the row's (``fresh``) until a later row of the file merges into it. A new
        # contact's custom fields are all new: one dict is both (the row's own, used once).
        return cw.ContactState(cid, None, points=set(points), tag_keys={key for _unused, key in rec.tags},
                               custom=rec.custom, is_new=True, new_points=points,
                               new_tags=[name for name, _unused in rec.tags], new_custom=rec.custom,
                               sources=[rec.row], fresh=rec,
                               consents={ch: "withdrawn" if action == "withdraw" else "granted"
                                         for ch, action, _d, _w in events},
                               new_consents=list(events))

    def _merge(self, state: cw.ContactState, rec: Row) -> bool:
        """Fill empty fields, add addresses, tags, custom fields and consents; never overwrite a
        filled field unless --update. Returns whether anything changed."""
        incoming = _record_fields(rec)
        if state.fields is None:
            state.fields = _record_fields(state.fresh)
        fields = state.fields
        changed = False
        update = self.options.update
        for name in _PERSON_FIELDS:
            new, old = incoming[name], fields.get(name)
            if not new or new == old:
                continue
            if not old or update:
                fields[name] = new
                state.fresh = None
                changed = True
            elif fold(new) != fold(old):
                self._conflict(rec, state, name, old, new)
        new_pc, new_commune = incoming["postal_code"], incoming["commune_name"]
        old_pc, old_commune = fields.get("postal_code"), fields.get("commune_name")
        differs = ((new_pc and old_pc and new_pc != old_pc)
                   or (new_commune and old_commune and fold(new_commune) != fold(old_commune)))
        adds = (new_pc and not old_pc) or (new_commune and not old_commune)
        if differs and not update:
            self._conflict(rec, state, "postal_code/commune", " ".join(filter(None, (old_pc, old_commune))),
                           " ".join(filter(None, (new_pc, new_commune))))
        elif differs or adds:
            # The place is one thing: postal code, commune and what geography derived from them.
            for name in _LOCATION_FIELDS:
                if incoming[name] or differs:
                    fields[name] = incoming[name]
            state.fresh = None
            changed = True
        for kind, values, primary in (("email", rec.emails, "email"), ("mobile", rec.mobiles, "mobile"),
                                      ("fixed", rec.fixeds, "fixed")):
            for value in values:
                if (kind, value) not in state.points:
                    state.points.add((kind, value))
                    state.new_points.append((kind, value))
                    if not fields.get(primary):
                        fields[primary] = value
                        state.fresh = None
                    changed = True
        for tag, key in rec.tags:
            if key not in state.tag_keys:
                state.tag_keys.add(key)
                state.new_tags.append(tag)
                changed = True
        for name, value in rec.custom.items():
            old = state.custom.get(name)
            if old == value:
                continue
            if old is None or update:
                state.custom[name] = value
                state.new_custom[name] = value
                changed = True
            else:
                self._conflict(rec, state, f"field.{name}", old, value)
        changed = self._apply_consents(state, rec) or changed
        if changed and not state.is_new:
            state.dirty = True
        return changed

    def _apply_consents(self, state: cw.ContactState, rec: Row) -> bool:
        """The consent rules of an import, in one place (docs/privacy.md): the most restrictive
        value wins. An explicit refusal ("non") records a refusal event and ends a consent, from
        this file or an earlier one; a consent never lifts a refusal or a withdrawal, whatever the
        order of rows and files. Returns whether anything changed."""
        changed = False
        file = self.report.path.name
        for channel, column, value in rec.refusals:
            status = state.consents.get(channel)
            if status == "withdrawn":
                continue
            seen = self.consent_seen.get(state.id, channel)
            if status == "granted":
                if seen and seen[1] == "grant":
                    self.report.counts["consent_conflicts"] += 1
                    self._note(_("row {row}: {channel}: {value!r} here but consent at row {seen}: "
                                 "the refusal is kept (the most restrictive value wins)").format(
                                     row=rec.row, channel=channel, value=value, seen=seen[0]))
                else:
                    self.report.counts["consent_ended"] += 1
                    self._note(_("row {row}: {channel} consent of contact {id} ended: {value!r} in "
                                 "column {column!r}").format(row=rec.row, channel=channel, id=state.id,
                                                             value=value, column=column))
            state.consents[channel] = "withdrawn"
            state.new_consents.append((channel, "withdraw", f"refused: {value!r} in column {column!r} of {file}, "
                                                            f"row {rec.row}", None))
            self.report.counts["consent_refused"] += 1
            self.consent_seen.setdefault(state.id, channel, rec.row, "refuse")
            changed = True
        for channel in rec.consents:
            status = state.consents.get(channel)
            if status == "withdrawn":
                seen = self.consent_seen.get(state.id, channel)
                if seen and seen[1] == "refuse":
                    self.report.counts["consent_conflicts"] += 1
                    self._note(_("row {row}: {channel}: consent here but refused at row {seen}: "
                                 "the refusal is kept (the most restrictive value wins)").format(
                                     row=rec.row, channel=channel, seen=seen[0]))
                else:
                    # An opposition is never lifted by a file: only the person can lift it.
                    self.report.counts["consent_not_restored"] += 1
                    self._note(_("row {row}: {channel} consent not restored: contact {id} withdrew "
                                 "or refused it").format(row=rec.row, channel=channel, id=state.id))
            elif status is None:
                wording = self.options.consent_wording.get(channel) or self.options.consent_wording.get("*")
                if not wording:
                    self.report.counts["consents_without_wording"] += 1
                state.consents[channel] = "granted"
                state.new_consents.append((channel, "grant", self.consent_detail, wording))
                self.consent_seen.setdefault(state.id, channel, rec.row, "grant")
                changed = True
        return changed

    def _conflict(self, rec: Row, state: cw.ContactState, name: str, old, new) -> None:
        self.report.counts["conflicts"] += 1
        self._note(_("row {row}: {name} {new!r} not applied: contact {id} has {old!r} "
                     "(use --update to overwrite)").format(row=rec.row, name=name, new=new, id=state.id, old=old))

    def _note(self, text: str) -> None:
        if len(self.report.conflicts) < MAX_LISTED:
            self.report.conflicts.append(text)
