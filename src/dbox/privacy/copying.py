"""``dbox store copy SRC DST``: move a whole store between engines (SQLite <-> PostgreSQL).

The copy keeps everything that protects people: the suppression list (with the store's salt, so its
hashes still match), erasures (the erased are gone from the source, so from the copy; their
suppressions stay), consents and their history, and the audit log row for row, whose hash chain is
checked in the copy before dbox says it is done. Both stores get an audit row: the source was read
whole, the destination was written whole. The rules of the copy itself: ``dbox.store.copy``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dbox.errors import StoreError
from dbox.privacy import audit
from dbox.store import copy as store_copy
from dbox.store.db import Store, is_url, open_store
from dbox.i18n import _


@dataclass
class CopyResult:
    report: store_copy.CopyReport
    source: str
    destination: str
    audit_rows: int          # rows of the destination's audit log, all verified
    contacts: int


def copy(source, destination, *, replace: bool = False, confirm_replace: Callable[[dict], None] | None = None,
         progress: Callable[[str, int], None] | None = None) -> CopyResult:
    """Copy the store at ``source`` (a file or a postgresql:// URL) into ``destination`` (created
    and migrated when new). ``confirm_replace(held)`` is called before a destination holding data
    is emptied (it raises to stop)."""
    src = open_store(source, create=False)
    try:
        created = not is_url(destination) and not Path(destination).expanduser().exists()
        try:
            dst = open_store(destination)
        except BaseException:
            _remove_new_file(destination, created)
            raise
        try:
            held = store_copy.data_tables(dst)
            if held and replace and confirm_replace is not None:
                confirm_replace(held)
            contacts = store_copy.count(src, "contacts")

            def record(dst_store: Store, report: store_copy.CopyReport) -> None:
                audit.record(dst_store, "store copy", contacts,
                             {"from": src.engine, "tables": report.tables, "rows": report.total,
                              "replaced_rows": sum(report.replaced.values())})

            report = store_copy.copy_store(src, dst, replace=replace, progress=progress, before_commit=record)
            checked, broken = audit.verify(dst)
            if broken is not None:
                raise StoreError(_("{location}: the copied audit log does not verify at row {broken}").format(
                    location=dst.location, broken=broken))
            audit.record(src, "store copy", contacts, {"to": dst.engine, "rows": report.total})
            return CopyResult(report, src.location, dst.location, checked, contacts)
        except BaseException:
            dst.close()
            _remove_new_file(destination, created)
            raise
        finally:
            dst.close()
    finally:
        src.close()


def _remove_new_file(destination, created: bool) -> None:
    """A SQLite file this copy created is removed when the copy fails: nothing half-made is left."""
    if not created:
        return
    path = Path(destination).expanduser()
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            os.unlink(str(path) + suffix)
        except FileNotFoundError:
            pass
