"""The SQL of the social side: identities and their relations, linking them to contacts,
follower-count snapshots, connected accounts (metadata only: tokens live in the keyring), and
the filter terms ``network:x`` and ``follower:linkedin``.

Identities are matched across imports by account id, then handle, then normalized profile URL,
then (for Facebook, which gives only names) name and date. All writes run inside the caller's
transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dbox.store.db import Store, utcnow

_BATCH = 400
FOLLOWING_US = ("follower", "connection", "friend")


@dataclass
class IdentityRecord:
    """One follower as the store receives it (built by dbox.social from a file or an API page)."""

    network: str
    relation: str
    account_id: str | None = None
    handle: str | None = None
    display_name: str | None = None
    profile_url: str | None = None
    url_key: str | None = None
    email: str | None = None
    since: str | None = None
    entry_key: str | None = None

    def keys(self) -> list[tuple[str, str]]:
        keys = []
        if self.account_id:
            keys.append(("account_id", self.account_id))
        if self.handle:
            keys.append(("handle", self.handle))
        if self.url_key:
            keys.append(("url_key", self.url_key))
        if self.entry_key and not keys:
            keys.append(("entry_key", self.entry_key))
        return keys


def _chunks(values: list, size: int = _BATCH):
    for i in range(0, len(values), size):
        yield values[i:i + size]


def _lookup(store: Store, network: str, column: str, values: Iterable[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for part in _chunks(sorted(set(values))):
        marks = ",".join("?" * len(part))
        for value, identity_id in store.execute(
                f"SELECT {column}, min(id) FROM identities WHERE network = ? AND {column} IN ({marks}) "
                f"GROUP BY {column}", (network, *part)):
            found[value] = identity_id
    return found


@dataclass
class UpsertCounts:
    new_identities: int = 0
    new_relations: int = 0
    seen: int = 0
    identity_ids: list[int] | None = None


def upsert_identities(store: Store, records: Sequence[IdentityRecord], import_id: int | None,
                      now: str | None = None) -> UpsertCounts:
    """Insert or refresh ``records`` (all of one network) and their relations. Returns counts and
    the identity ids touched (in record order)."""
    now = now or utcnow()
    counts = UpsertCounts(identity_ids=[])
    if not records:
        return counts
    network = records[0].network
    known: dict[tuple[str, str], int] = {}
    record_keys = [r.keys() for r in records]
    for column in ("account_id", "handle", "url_key", "entry_key"):
        values = [v for keys in record_keys for c, v in keys if c == column]
        if values:
            known.update({(column, v): i for v, i in _lookup(store, network, column, values).items()})
    existing_relations: set[tuple[int, str]] = set()
    ids = sorted(set(known.values()))
    for part in _chunks(ids):
        marks = ",".join("?" * len(part))
        existing_relations.update(store.execute(
            f"SELECT identity_id, relation FROM identity_relations WHERE identity_id IN ({marks})", part))
    relation_rows, inserts, updates = [], [], []
    next_id = (store.execute("SELECT max(id) FROM identities").fetchone()[0] or 0) + 1
    for rec, keys in zip(records, record_keys):
        identity_id = next((known[k] for k in keys if k in known), None)
        if identity_id is None:
            identity_id, next_id = next_id, next_id + 1
            inserts.append((identity_id, network, rec.account_id, rec.handle, rec.display_name, rec.profile_url,
                            rec.relation, rec.since, import_id, rec.email, rec.url_key, rec.entry_key, now, now))
            counts.new_identities += 1
        else:
            updates.append((rec.account_id, rec.handle, rec.display_name, rec.profile_url, rec.url_key, rec.email,
                            now, identity_id))
            counts.seen += 1
        for key in keys:
            known[key] = identity_id
        if (identity_id, rec.relation) not in existing_relations:
            existing_relations.add((identity_id, rec.relation))
            counts.new_relations += 1
        relation_rows.append((identity_id, rec.relation, rec.since, import_id, import_id))
        counts.identity_ids.append(identity_id)
    store.executemany(
        "INSERT INTO identities (id, network, account_id, handle, display_name, profile_url, relation, since, "
        "import_id, email, url_key, entry_key, first_seen_at, last_seen_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        inserts)
    # Fresher data wins for what the network controls (handle, name, URL); an e-mail is only
    # filled, never replaced; an id, once known, stays. (Updates run after the inserts: a record
    # may refresh an identity an earlier record of the same chunk created.)
    store.executemany(
        "UPDATE identities SET account_id = coalesce(account_id, ?), handle = coalesce(?, handle), "
        "display_name = coalesce(?, display_name), profile_url = coalesce(?, profile_url), "
        "url_key = coalesce(?, url_key), email = coalesce(email, ?), last_seen_at = ? WHERE id = ?", updates)
    store.executemany(
        "INSERT INTO identity_relations (identity_id, relation, since, import_id, last_import_id) "
        "VALUES (?,?,?,?,?) ON CONFLICT (identity_id, relation) DO UPDATE SET "
        "since = coalesce(identity_relations.since, excluded.since), last_import_id = excluded.last_import_id",
        relation_rows)
    return counts


def known_account_ids(store: Store, network: str, relation: str, account_ids: Iterable[str]) -> set[str]:
    """Which of ``account_ids`` are already known in ``relation`` on ``network`` (incremental sync)."""
    found: set[str] = set()
    for part in _chunks(sorted(set(account_ids))):
        marks = ",".join("?" * len(part))
        found.update(v for (v,) in store.execute(
            f"SELECT i.account_id FROM identities i JOIN identity_relations r ON r.identity_id = i.id "
            f"WHERE i.network = ? AND r.relation = ? AND i.account_id IN ({marks})", (network, relation, *part)))
    return found


# -- linking to contacts -----------------------------------------------------------------------------

def _contact_url_keys(store: Store, key_of) -> None:
    """Fill temp.contact_url_keys from every contact field whose value is a profile URL."""
    store.execute("CREATE TEMP TABLE IF NOT EXISTS contact_url_keys (url_key TEXT NOT NULL, contact_id INTEGER NOT NULL)")
    store.execute("DELETE FROM temp.contact_url_keys")
    cursor = store.execute(
        "SELECT contact_id, value FROM contact_fields WHERE value LIKE '%/%' AND value LIKE '%.%' "
        "AND value NOT LIKE '% %'")
    while rows := cursor.fetchmany(2000):
        keyed = [(k, cid) for cid, value in rows if (k := key_of(value))]
        store.executemany("INSERT INTO temp.contact_url_keys (url_key, contact_id) VALUES (?, ?)", keyed)
    # SQLite names the index's schema, PostgreSQL the table's (an index lives beside its table)
    store.execute("CREATE INDEX IF NOT EXISTS temp.contact_url_keys_key ON contact_url_keys(url_key)"
                  if store.engine == "sqlite" else
                  "CREATE INDEX IF NOT EXISTS contact_url_keys_key ON pg_temp.contact_url_keys(url_key)")


@dataclass
class LinkCounts:
    by_email: int = 0
    by_profile_url: int = 0
    ambiguous: int = 0


def link_identities(store: Store, key_of, import_id: int | None = None) -> LinkCounts:
    """Attach unlinked identities to contacts: same e-mail (any of the contact's addresses) or
    same normalized profile URL (in a custom field). An identity matching several contacts stays
    unlinked and is counted as ambiguous. ``import_id`` limits the work to one import's identities.
    ``key_of`` is dbox.social.urls.url_key (passed in so that store/ holds SQL only)."""
    counts = LinkCounts()
    scope, params = "", []
    if import_id is not None:
        scope = " AND i.id IN (SELECT identity_id FROM identity_relations WHERE last_import_id = ?)"
        params = [import_id]
    store.execute("CREATE TEMP TABLE IF NOT EXISTS identity_matches "
                  "(identity_id INTEGER PRIMARY KEY, contact_id INTEGER, method TEXT, candidates INTEGER)")
    store.execute("DELETE FROM temp.identity_matches")
    store.execute(
        "INSERT INTO temp.identity_matches (identity_id, contact_id, method, candidates) "
        "SELECT i.id, min(cp.contact_id), 'email', count(DISTINCT cp.contact_id) FROM identities i "
        "JOIN contact_points cp ON cp.kind = 'email' AND cp.value = i.email "
        f"WHERE i.contact_id IS NULL AND i.email IS NOT NULL{scope} GROUP BY i.id", params)
    _contact_url_keys(store, key_of)
    store.execute(
        "INSERT OR IGNORE INTO temp.identity_matches (identity_id, contact_id, method, candidates) "
        "SELECT i.id, min(k.contact_id), 'profile_url', count(DISTINCT k.contact_id) FROM identities i "
        "JOIN temp.contact_url_keys k ON k.url_key = i.url_key "
        f"WHERE i.contact_id IS NULL AND i.url_key IS NOT NULL{scope} GROUP BY i.id", params)
    for method, candidates, n in store.execute(
            "SELECT method, candidates > 1, count(*) FROM temp.identity_matches GROUP BY 1, 2").fetchall():
        if candidates:
            counts.ambiguous += n
        elif method == "email":
            counts.by_email = n
        else:
            counts.by_profile_url = n
    store.execute(
        "UPDATE identities SET contact_id = m.contact_id, link_method = m.method FROM temp.identity_matches m "
        "WHERE m.identity_id = identities.id AND m.candidates = 1")
    store.execute("DELETE FROM temp.identity_matches")
    store.execute("DELETE FROM temp.contact_url_keys")
    return counts


# -- counts and snapshots ---------------------------------------------------------------------------

def relation_counts(store: Store, network: str, relation: str) -> tuple[int, int]:
    """(identities in ``relation`` on ``network``, of which linked to a contact)."""
    row = store.execute(
        "SELECT count(*), count(i.contact_id) FROM identity_relations r JOIN identities i ON i.id = r.identity_id "
        "WHERE i.network = ? AND r.relation = ?", (network, relation)).fetchone()
    return row[0], row[1]


def add_snapshot(store: Store, network: str, relation: str, import_id: int | None, source: str, total: int,
                 new: int) -> None:
    known, linked = relation_counts(store, network, relation)
    store.execute(
        "INSERT INTO follower_snapshots (network, relation, import_id, source, taken_at, total, new, known, linked) "
        "VALUES (?,?,?,?,?,?,?,?,?)", (network, relation, import_id, source, utcnow(), total, new, known, linked))


def snapshots(store: Store, network: str | None = None) -> list[tuple]:
    """(taken_at, network, relation, source, total, new, known, linked) oldest first."""
    where, params = ("WHERE network = ?", (network,)) if network else ("", ())
    return store.execute(
        f"SELECT taken_at, network, relation, source, total, new, known, linked FROM follower_snapshots {where} "
        "ORDER BY taken_at, id", params).fetchall()


def audience_summary(store: Store) -> list[tuple]:
    """Per network and relation: (network, relation, identities, linked, audience only)."""
    return store.execute(
        "SELECT i.network, r.relation, count(*), count(i.contact_id), count(*) - count(i.contact_id) "
        "FROM identity_relations r JOIN identities i ON i.id = r.identity_id GROUP BY 1, 2 ORDER BY 1, 2").fetchall()


def previous_followers_import(store: Store, sha256: str):
    return store.execute(
        "SELECT id, filename, finished_at FROM imports WHERE sha256 = ? AND kind = 'followers' "
        "AND finished_at IS NOT NULL ORDER BY id DESC LIMIT 1", (sha256,)).fetchone()


def start_import(store: Store, filename: str, sha256: str, options: dict) -> int:
    return store.execute(
        "INSERT INTO imports (filename, sha256, kind, started_at, options) VALUES (?,?,?,?,?) RETURNING id",
        (filename, sha256, "followers", utcnow(), json.dumps(options, sort_keys=True))).fetchone()[0]


def finish_import(store: Store, import_id: int, read: int, added: int, merged: int, unchanged: int,
                  rejected: int, suppressed: int = 0) -> None:
    store.execute(
        "UPDATE imports SET finished_at = ?, rows_read = ?, added = ?, merged = ?, unchanged = ?, rejected = ?, "
        "suppressed = ? WHERE id = ?", (utcnow(), read, added, merged, unchanged, rejected, suppressed, import_id))


def update_import_counts(store: Store, import_id: int, read: int, added: int, unchanged: int) -> None:
    store.execute("UPDATE imports SET rows_read = rows_read + ?, added = added + ?, unchanged = unchanged + ? "
                  "WHERE id = ?", (read, added, unchanged, import_id))


def identities_of_import(store: Store, import_id: int, limit: int | None = None) -> list[tuple]:
    sql = ("SELECT i.id, i.network, r.relation, i.account_id, i.handle, i.display_name, i.profile_url, "
           "i.contact_id, i.link_method FROM identity_relations r JOIN identities i ON i.id = r.identity_id "
           "WHERE r.import_id = ? ORDER BY i.id")
    params: list = [import_id]
    if limit:
        sql += " LIMIT ?"
        params.append(limit)
    return store.execute(sql, params).fetchall()


def iter_identities(store: Store, network: str | None = None, relation: str | None = None,
                    linked: bool | None = None, batch: int = 2000):
    """Stream (id, network, relations, account_id, handle, display_name, profile_url, email, contact_id,
    link_method, first_seen_at)."""
    clauses, params = [], []
    if network:
        clauses.append("i.network = ?")
        params.append(network)
    if relation:
        clauses.append("EXISTS (SELECT 1 FROM identity_relations r WHERE r.identity_id = i.id AND r.relation = ?)")
        params.append(relation)
    if linked is not None:
        clauses.append("i.contact_id IS NOT NULL" if linked else "i.contact_id IS NULL")
    where = " AND ".join(clauses) or "TRUE"
    yield from store.stream(
        "SELECT i.id, i.network, (SELECT group_concat(relation, ',') FROM identity_relations r "
        "WHERE r.identity_id = i.id), i.account_id, i.handle, i.display_name, i.profile_url, i.email, "
        f"i.contact_id, i.link_method, i.first_seen_at FROM identities i WHERE {where} ORDER BY i.id", params,
        size=batch)


# -- filter terms (used by the segment compiler: dbox.store.filters) ------------------------------------

def compile_term(compiler, node) -> tuple[str, list]:
    """SQL over alias ``c`` for the social filter terms ``network:x`` and ``follower:x``
    (registered by dbox.social.terms; ``compiler`` is dbox.store.filters' compiler)."""
    return network_term_sql(node.network) if node.kind == "network" else follower_term_sql(node.network)


def network_term_sql(network: str) -> tuple[str, list]:
    """``network:x``: contacts with an identity on that network, whatever the relation."""
    return "EXISTS (SELECT 1 FROM identities si WHERE si.contact_id = c.id AND si.network = ?)", [network]


def follower_term_sql(network: str) -> tuple[str, list]:
    """``follower:linkedin``: contacts who follow the campaign on that network (follower,
    LinkedIn connection or Facebook friend; not the accounts the campaign follows)."""
    marks = ",".join("?" * len(FOLLOWING_US))
    return (f"EXISTS (SELECT 1 FROM identities si JOIN identity_relations sr ON sr.identity_id = si.id "
            f"WHERE si.contact_id = c.id AND si.network = ? AND sr.relation IN ({marks}))",
            [network, *FOLLOWING_US])


def audience_count(store: Store, network: str, followers_only: bool = True, linked: bool | None = None) -> int:
    """The audience on a network, linked to contacts or not (segments count contacts; this counts people)."""
    sql = "SELECT count(DISTINCT i.id) FROM identities i"
    params: list = []
    if followers_only:
        marks = ",".join("?" * len(FOLLOWING_US))
        sql += f" JOIN identity_relations r ON r.identity_id = i.id AND r.relation IN ({marks})"
        params += list(FOLLOWING_US)
    sql += " WHERE i.network = ?"
    params.append(network)
    if linked is not None:
        sql += " AND i.contact_id IS NOT NULL" if linked else " AND i.contact_id IS NULL"
    return store.execute(sql, params).fetchone()[0]


# -- connected accounts -------------------------------------------------------------------------------

ACCOUNT_COLUMNS = ("network", "account_id", "handle", "display_name", "instance", "token_key", "scopes",
                   "connected_at", "expires_at", "refreshable", "refreshed_at", "sync_state", "synced_at", "settings")


def save_account(store: Store, **values) -> None:
    values.setdefault("connected_at", utcnow())
    for key in ("sync_state", "settings"):
        if isinstance(values.get(key), dict):
            values[key] = json.dumps(values[key], sort_keys=True)
    columns = [c for c in ACCOUNT_COLUMNS if c in values]
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != "network")
    store.execute(
        f"INSERT INTO social_accounts ({', '.join(columns)}) VALUES ({','.join('?' * len(columns))}) "
        f"ON CONFLICT (network) DO UPDATE SET {updates}", [values[c] for c in columns])


def get_account(store: Store, network: str) -> dict | None:
    cursor = store.execute(f"SELECT {', '.join(ACCOUNT_COLUMNS)} FROM social_accounts WHERE network = ?", (network,))
    row = cursor.fetchone()
    if row is None:
        return None
    account = dict(zip(ACCOUNT_COLUMNS, row))
    for key in ("sync_state", "settings"):
        account[key] = json.loads(account[key]) if account[key] else {}
    return account


def list_accounts(store: Store) -> list[dict]:
    return [get_account(store, n) for (n,) in store.execute("SELECT network FROM social_accounts ORDER BY network")]


def update_account(store: Store, network: str, **values) -> None:
    for key in ("sync_state", "settings"):
        if isinstance(values.get(key), dict):
            values[key] = json.dumps(values[key], sort_keys=True)
    assignments = ", ".join(f"{k} = ?" for k in values)
    store.execute(f"UPDATE social_accounts SET {assignments} WHERE network = ?", [*values.values(), network])


def delete_account(store: Store, network: str) -> None:
    store.execute("DELETE FROM social_accounts WHERE network = ?", (network,))
