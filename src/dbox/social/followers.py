"""``dbox followers import FILE``: one export file, one transaction.

The file is recognised and read whole before anything is written (a broken file changes
nothing). Each follower becomes or refreshes a social identity; identities are then linked to
contacts (same e-mail, same profile URL) and a snapshot of the counts is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dbox.social.formats import Export, Follower, read_export
from dbox.social.urls import url_key
from dbox.store import social as store_social
from dbox.store import suppressions
from dbox.store.db import Store
from dbox.text import fold
from dbox.files import sha256_of

CHUNK = 2000


@dataclass
class FollowersReport:
    path: Path
    export: Export | None = None
    import_id: int | None = None
    read: int = 0
    new_identities: int = 0
    new_relations: int = 0
    seen: int = 0
    suppressed: int = 0
    rejected: list[str] = field(default_factory=list)
    linked: store_social.LinkCounts | None = None
    known: int = 0
    known_linked: int = 0
    already_imported: tuple | None = None
    dry_run: bool = False


def to_record(follower: Follower) -> store_social.IdentityRecord:
    entry_key = None
    if not (follower.account_id or follower.handle or follower.profile_url) and follower.display_name:
        entry_key = f"{fold(follower.display_name)}|{(follower.since or '')[:10]}"
    return store_social.IdentityRecord(
        network=follower.network, relation=follower.relation, account_id=follower.account_id,
        handle=follower.handle, display_name=follower.display_name, profile_url=follower.profile_url,
        url_key=url_key(follower.profile_url), email=follower.email, since=follower.since, entry_key=entry_key)


class _DryRun(Exception):
    pass


def import_followers_file(store: Store, path: Path | str, *, dry_run: bool = False,
                          force: bool = False) -> FollowersReport:
    """Import one followers export; the report says what happened."""
    path = Path(path)
    report = FollowersReport(path, dry_run=dry_run)
    export = read_export(path)
    report.export = export
    report.rejected = [f"{path.name}: {reason}" for reason in export.rejected]
    digest = sha256_of(path)
    previous = store_social.previous_followers_import(store, digest)
    if previous and not force:
        report.already_imported = tuple(previous)
        return report
    try:
        with store.transaction(immediate=True):
            import_id = store_social.start_import(store, path.name, digest, {
                "format": export.kind, "network": export.network, "relation": export.relation})
            report.import_id = import_id
            records = _drop_suppressed(store, [to_record(f) for f in export.followers], report)
            for start in range(0, len(records), CHUNK):
                counts = store_social.upsert_identities(store, records[start:start + CHUNK], import_id)
                report.new_identities += counts.new_identities
                report.new_relations += counts.new_relations
                report.seen += counts.seen
            report.read = len(export.followers) + len(export.rejected)
            report.linked = store_social.link_identities(store, url_key, import_id)
            store_social.add_snapshot(store, export.network, export.relation, import_id, "file",
                                      total=len(records), new=report.new_relations)
            report.known, report.known_linked = store_social.relation_counts(store, export.network, export.relation)
            store_social.finish_import(store, import_id, read=report.read, added=report.new_identities,
                                       merged=0, unchanged=report.seen, rejected=len(export.rejected),
                                       suppressed=report.suppressed)
            if dry_run:
                raise _DryRun()
    except _DryRun:
        pass
    return report


def _drop_suppressed(store: Store, records: list, report: FollowersReport) -> list:
    """A follower whose e-mail was erased or opposed (dbox.store.suppressions) is not imported."""
    with_email = [r for r in records if r.email]
    if not with_email or not suppressions.has_any(store):
        return records
    hasher = suppressions.Hasher(store)
    hashes = {r.email: hasher(r.email) for r in with_email}
    blocked = suppressions.suppressed(store, hashes.values())
    kept = [r for r in records if not (r.email and hashes[r.email] in blocked)]
    report.suppressed = len(records) - len(kept)
    return kept


def relink(store: Store) -> store_social.LinkCounts:
    """Link every unlinked identity again (after contacts were imported or edited)."""
    with store.transaction(immediate=True):
        return store_social.link_identities(store, url_key)
