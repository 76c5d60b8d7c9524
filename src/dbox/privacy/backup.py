"""``dbox backup`` / ``dbox restore``: SQLite's online backup API, files kept private.

A backup is written to a temporary file (0600) beside the target, checked with ``PRAGMA
quick_check``, then renamed into place: a crash never leaves half a backup under the target name.
A restore checks the file is a dbox store this dbox can read, copies it over the current store
with the same API (other readers see either the old or the new store, never a mix), migrates it
if it is older, and keeps the audit rows written since the backup was made: the log of what
happened to the data is not rolled back with the data.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dbox.errors import InputError, StoreError
from dbox.privacy import audit
from dbox.store import audit as store_audit
from dbox.store import privacy as sp
from dbox.store.db import Store, check_file_modes, migrate, schema_version
from dbox.privacy.consent import REACHED_BY
from dbox.store import suppressions
from dbox.store.contacts_write import record_consent_events
from dbox.store.db import utcnow
from dbox.i18n import _


@dataclass
class BackupInfo:
    path: Path
    contacts: int
    schema: int


def backup(store: Store, target: Path, *, force: bool = False) -> BackupInfo:
    target = Path(target).expanduser()
    if target.resolve() == Path(store.path).resolve():
        raise InputError(_("{target}: that is the store itself; choose another file").format(target=target))
    if target.is_dir():
        raise InputError(_("{target}: is a folder; give a file name").format(target=target))
    if target.exists() and not force:
        raise InputError(_("{target}: already exists").format(target=target), hint=_("add --force to overwrite it"))
    if not target.parent.exists():
        raise InputError(_("{parent}: no such folder").format(parent=target.parent))
    tmp = target.with_name(f".{target.name}.dbox-tmp")
    old_umask = os.umask(0o077)
    try:
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(str(tmp) + suffix).unlink(missing_ok=True)
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
        with sp.backup_file(store, tmp) as conn:
            sp.backup_into(store, conn)
            result = sp.quick_check(conn)
            if result != "ok":
                raise StoreError(_("{target}: the backup failed its check ({result})").format(
                                     target=target, result=result))
            info = BackupInfo(target, sp.contact_count(conn), sp.user_version(conn))
            sp.self_contained(conn)   # one self-contained file, no -wal beside it
        os.replace(tmp, target)
        os.chmod(target, 0o600)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        os.umask(old_umask)
    audit.record(store, "backup", info.contacts, {"file": target.name})
    return info


def inspect(path: Path, store: Store | None = None) -> BackupInfo:
    """Check that ``path`` is a dbox store this dbox can restore; InputError otherwise."""
    path = Path(path).expanduser()
    if not path.exists():
        raise InputError(_("{path}: no such file").format(path=path))
    if path.is_dir():
        raise InputError(_("{path}: is a folder, not a backup file").format(path=path))
    try:
        with sp.backup_file(store, path, readonly=True) as conn:
            if not sp.has_table(conn, "contacts") or not sp.has_table(conn, "meta"):
                raise InputError(_("{path}: not a dbox store (no contacts table)").format(path=path))
            version = sp.user_version(conn)
            if version > schema_version():
                raise InputError(_("{path}: store schema {version} is newer than this dbox knows ({schema_version})").format(
                                     path=path, version=version, schema_version=schema_version()),
                                 hint=_("upgrade dbox before restoring this backup"))
            check = sp.quick_check(conn)
            if check != "ok":
                raise InputError(_("{path}: the backup is damaged ({check})").format(path=path, check=check))
            return BackupInfo(path, sp.contact_count(conn), version)
    except StoreError as exc:   # the engine could not read it
        raise InputError(_("{path}: not a dbox store ({exc})").format(path=path, exc=exc)) from None


@dataclass
class RestoreInfo:
    source: BackupInfo
    contacts_before: int
    audit_rows_carried: int
    suppressions_carried: int = 0
    erased_again: int = 0
    withdrawn_again: int = 0
    other_store: bool = False      # the backup is of another store: its hashes could not be compared


def restore(store: Store, source: Path) -> RestoreInfo:
    """Replace the store's content with the backup at ``source``."""
    info = inspect(source, store)
    before = sp.store_contact_count(store)
    old_log = store_audit.raw_rows(store)
    old_salt = sp.suppression_salt(store)
    old_suppressions = sp.all_suppressions(store)
    try:
        with sp.backup_file(store, info.path, readonly=True) as conn:
            sp.restore_from(store, conn)
    except StoreError as exc:
        raise StoreError(_("restore from {path} failed: {exc}").format(path=info.path, exc=exc)) from None
    migrate(store)
    restored = set(store_audit.raw_rows(store))
    missing = [row for row in old_log if row not in restored]
    result = RestoreInfo(info, before, 0)
    with store.transaction(immediate=True):
        result.audit_rows_carried = store_audit.append_raw(store, missing)
        _carry_oppositions(store, old_salt, old_suppressions, result)
        audit.record(store, "restore", info.contacts,
                     {"file": info.path.name, "contacts_before": before,
                      "audit_rows_carried": result.audit_rows_carried,
                      "suppressions_carried": result.suppressions_carried, "erased_again": result.erased_again,
                      "withdrawn_again": result.withdrawn_again})
    if result.erased_again:
        sp.set_secure_delete(store, False)
        sp.scrub_freed_pages(store)
    check_file_modes(Path(store.path))
    return result


def _carry_oppositions(store: Store, old_salt: str | None, rows: list[tuple], result: RestoreInfo) -> None:
    """An erasure or an opposition made after the backup must survive the restore: carry the
    suppression list over, erase again the people it erased, withdraw again what was withdrawn."""
    if not rows:
        return
    new_salt = sp.suppression_salt(store)
    if new_salt is None:
        sp.set_suppression_salt(store, old_salt)
    elif new_salt != old_salt:
        result.other_store = True
        return
    result.suppressions_carried = sp.add_suppression_hashes(store, rows)

    hasher = suppressions.Hasher(store)
    scope = {h: channel for h, _unused, _unused, channel, _unused in sp.all_suppressions(store)}
    erase: set[int] = set()
    withdraw: set[tuple[int, str]] = set()
    for contact_id, kind, value in sp.iter_points(store):
        digest = hasher(value)
        if digest not in scope:
            continue
        channel = scope[digest]
        if channel is None:
            erase.add(contact_id)
        elif kind in REACHED_BY.get(channel, ()):
            withdraw.add((contact_id, channel))
    now = utcnow()
    events = [(cid, ch, "withdraw", now, "manual", "opposition re-applied after a restore")
              for cid, ch in sorted(withdraw) if cid not in erase
              and (sp.current_consent(store, cid, ch) or ("none",))[0] != "withdrawn"]
    if events:
        record_consent_events(store, events)
    result.withdrawn_again = len(events)
    if erase:
        sp.set_secure_delete(store, True)
        sp.erase_contacts(store, sorted(erase))
        result.erased_again = len(erase)
