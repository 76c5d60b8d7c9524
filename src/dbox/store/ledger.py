"""The sending ledger: every SQL statement about campaigns, their recipients and inbound replies.

The rules (docs/sending.md):

- A campaign's audience is frozen once, in the transaction that creates it: one row per contact of
  the selection, ``planned`` when the contact is reachable on the channel, else ``skipped`` with
  the reason. Reachable means: consent currently ``granted`` for the channel, an address of the
  right kind that is still ``valid`` in ``contact_points``, and no suppression for that address
  (for every channel or for this one). This is checked here, whatever filter built the selection.
- The same address gets one message per campaign: the first reachable contact holding it is
  ``planned``, the others ``skipped (duplicate-address)``; a partial unique index enforces it.
- A message is *claimed* by one UPDATE statement (its own transaction), committed before the
  provider is called; reachability is checked again in that statement, so an opt-out recorded
  meanwhile is honoured. The outcome is committed after the call.
- A claim whose process died (no one holds the campaign's lock) becomes ``in-doubt``: it is never
  claimed again unless the user asks (``--retry-in-doubt``).
- A broadcast campaign (a social post) has one row and no contact: its address is the account it
  is published from (``contact_id`` NULL, migration 0011). It is claimed, recorded and found in
  doubt by the same statements; its claim has no contact to check (``BROADCAST``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from dbox.errors import InputError
from dbox.store.db import Store, utcnow
from dbox.i18n import _
from dbox.store.suppressions import Hasher, add
from dbox.store.contacts_write import record_consent_events
from dbox.store.filters import refresh_hashes
from dbox.store.privacy import UNSUBSCRIBE_UID_SQL

STATES = ("planned", "claimed", "accepted", "delivered", "undelivered", "failed", "skipped", "in-doubt")
FINAL_STATES = ("accepted", "delivered", "undelivered", "failed", "skipped")
_ADDRESS_KINDS = {"mobile": "phone", "email": "email"}   # contacts column / point kind -> suppression kind

# Columns a message template can use, with their SQL over alias c (the contact).
CONTACT_FIELDS = {
    "civility": "c.civility",
    "first_name": "c.first_name",
    "last_name": "c.last_name",
    "commune": "c.commune_name",
    "postal_code": "c.postal_code",
    "departement": "c.departement",
    "circonscription": "c.circonscription",
    "email": "c.email",
    "mobile": "c.mobile",
}

# Not a template field: the contact's random identifier its unsubscribe token is made from
# (dbox.privacy.unsubscribe); the composer asks for it like a field when it makes e-mails.
UNSUBSCRIBE_FIELD = "unsubscribe_uid"


@dataclass
class Reach:
    """What reachability means on a channel: the consent channel and the kind of address."""

    consent_channel: str      # 'sms', 'email'
    address_kind: str         # 'mobile' or 'email': the contacts column and contact_points kind;
                              # 'account' for a broadcast (BROADCAST: no contact behind the message)

    def __post_init__(self):
        if self.address_kind not in _ADDRESS_KINDS and self.address_kind != "account":
            raise ValueError(f"unsupported address kind {self.address_kind!r}")

    @property
    def broadcast(self) -> bool:
        return self.address_kind == "account"


# A message to a channel's own audience (a social network's followers), not to a contact: the
# claim has no consent, address or suppression to re-check.
BROADCAST = Reach("", "account")


@dataclass
class Campaign:
    id: int
    uid: str
    channel: str
    fingerprint: str
    expression: str
    segment: str | None
    selection_sql: str
    selection_params: list
    template: dict
    status: str
    due_at: str | None
    ignore_window: bool
    settings: dict
    created_by: str
    created_at: str
    started_at: str | None
    finished_at: str | None
    last_error: str | None
    control: str | None = None       # paused | cancelled (run-due leaves it alone)

    @property
    def shown_status(self) -> str:
        return self.control or self.status


_CAMPAIGN_COLUMNS = ("id, uid, channel, fingerprint, expression, segment, selection_sql, selection_params, "
                     "template, status, due_at, ignore_window, settings, created_by, created_at, started_at, "
                     "finished_at, last_error, control")


def _campaign(row) -> Campaign:
    values = list(row)
    values[7] = json.loads(values[7])
    values[8] = json.loads(values[8])
    values[11] = bool(values[11])
    values[12] = json.loads(values[12])
    return Campaign(*values)


def register_functions(store: Store) -> None:
    """``dbox_hash(value)``: the store's salted suppression hash, usable inside SQL. An engine
    without Python functions (PostgreSQL) reads the hash its contact point holds instead: the
    missing ones are computed first."""
    if getattr(store, "_ledger_functions", False):
        return
    hasher = store._suppression_hasher = Hasher(store)
    if not store.create_function("dbox_hash", 1, lambda v: None if v is None else hasher(v)):
        refresh_hashes(store)
        return
    store._ledger_functions = True


def _hash_sql(engine: str, kind: str, address: str, contact: str) -> str:
    """The salted hash of ``address`` as SQL: SQLite computes it (``dbox_hash``); PostgreSQL reads
    it from the contact point it belongs to (the reason's checks before found that point valid)."""
    if engine == "sqlite":
        return f"dbox_hash({address})"
    return (f"(SELECT p.value_hash FROM contact_points p WHERE p.contact_id = {contact} AND p.kind = '{kind}' "
            f"AND p.value = {address})")


def _hasher(store: Store):
    """The store's suppression hasher, made once per store (it reads the salt)."""
    hasher = getattr(store, "_suppression_hasher", None)
    if hasher is None:
        hasher = store._suppression_hasher = Hasher(store)
    return hasher


def _unreachable_reason(reach: Reach, address: str, contact: str, engine: str = "sqlite",
                        known: tuple[str, str] | None = None) -> tuple[str, list]:
    """A SQL expression: NULL when ``address`` of ``contact`` is reachable on the channel, else why not.
    ``known``: (an address, its suppression hash) bound as parameters, used when ``address`` is it."""
    if reach.broadcast:
        return "NULL", []
    kind = reach.address_kind
    value_hash = _hash_sql(engine, kind, address, contact)
    if known is not None:
        value_hash = f"(CASE WHEN {address} = ? THEN ? ELSE {value_hash} END)"
    # consents has one row per (channel, contact), 'granted' or 'withdrawn': one lookup gives
    # '' (granted), the refusal of an import ("non" in a file) or a withdrawal; none: no consent
    consent = (f"(SELECT CASE WHEN k.status = 'granted' THEN '' WHEN k.source = 'import' THEN 'consent-refused' "
               f"ELSE 'consent-withdrawn' END FROM consents k WHERE k.contact_id = {contact} AND k.channel = ?)")
    sql = (
        f"CASE WHEN {address} IS NULL THEN 'no-address' "
        f"WHEN NOT EXISTS (SELECT 1 FROM contact_points p WHERE p.contact_id = {contact} "
        f"  AND p.kind = '{kind}' AND p.value = {address} AND p.status = 'valid') THEN 'invalid-address' "
        f"ELSE coalesce(nullif(coalesce({consent}, 'no-consent'), ''), "
        f"  (SELECT CASE s.reason WHEN 'bounced' THEN 'bounced' ELSE 'opted-out' END FROM suppressions s "
        f"  WHERE s.value_hash = {value_hash} AND (s.channel IS NULL OR s.channel = ?))) "
        f"END")
    channel = reach.consent_channel
    return sql, [channel, *(known or ()), channel]


def _audience_sql(reach: Reach, where: str, params: list, engine: str = "sqlite") -> tuple[str, list]:
    """Every contact of the selection with its address and the reason it is excluded (NULL: planned)."""
    register_reason, reason_params = _unreachable_reason(reach, f"c.{reach.address_kind}", "c.id", engine)
    inner = (f"SELECT c.id AS contact_id, c.{reach.address_kind} AS address, {register_reason} AS reason "
             f"FROM contacts c WHERE {where}")
    sql = (f"SELECT contact_id, address, CASE WHEN reason IS NULL AND row_number() OVER "
           f"(PARTITION BY address, reason IS NULL ORDER BY contact_id) > 1 THEN 'duplicate-address' "
           f"ELSE reason END AS reason FROM ({inner}) AS audience")
    return sql, [*reason_params, *params]


def audience_counts(store: Store, reach: Reach, where: str, params: Iterable = ()) -> dict[str, int]:
    """How many contacts of the selection would be planned (key ``'planned'``) and how many are
    excluded, by reason. Nothing is written."""
    register_functions(store)
    sql, all_params = _audience_sql(reach, where, list(params), store.engine)
    counts = {}
    for reason, n in store.execute(f"SELECT reason, count(*) FROM ({sql}) AS a GROUP BY reason", all_params):
        counts[reason or "planned"] = n
    return counts


def iter_audience(store: Store, reach: Reach, where: str, params: Iterable = (),
                  fields: Iterable[str] = (), custom: Iterable[str] = (), limit: int | None = None,
                  batch: int = 2000) -> Iterator[tuple]:
    """Stream the reachable contacts of a selection (one per address) as
    ``(contact_id, address, *fields, custom_json)``, in contact id order. Nothing is written."""
    register_functions(store)
    sql, all_params = _audience_sql(reach, where, list(params), store.engine)
    select, select_params = _field_sql(fields, custom, store.engine)
    query = (f"SELECT a.contact_id, a.address{select} FROM ({sql}) a JOIN contacts c ON c.id = a.contact_id "
             f"WHERE a.reason IS NULL ORDER BY a.contact_id")
    values = [*select_params, *all_params]
    if limit is not None:
        query += " LIMIT ?"
        values.append(limit)
    yield from store.stream(query, values, size=batch)     # PostgreSQL: a server-side cursor


def _field_sql(fields: Iterable[str], custom: Iterable[str], engine: str = "sqlite") -> tuple[str, list]:
    parts, params = [], []
    for name in fields:
        if name == UNSUBSCRIBE_FIELD:
            parts.append(UNSUBSCRIBE_UID_SQL.format(contact="c.id"))
        else:
            parts.append(CONTACT_FIELDS[name])
    custom = sorted(set(custom))
    if custom:
        marks = ",".join("?" * len(custom))
        group = "json_group_object(name, value)" if engine == "sqlite" else "CAST(json_object_agg(name, value) AS TEXT)"
        parts.append(f"(SELECT {group} FROM contact_fields WHERE contact_id = c.id AND name IN ({marks}))")
        params.extend(custom)
    else:
        parts.append("NULL")
    return "".join(", " + p for p in parts), params


def custom_field_names(store: Store) -> set[str]:
    return {name for (name,) in store.execute("SELECT DISTINCT name FROM contact_fields")}


# --- campaigns ---------------------------------------------------------------------------------

def find_by_fingerprint(store: Store, fingerprint: str) -> Campaign | None:
    row = store.execute(f"SELECT {_CAMPAIGN_COLUMNS} FROM campaigns WHERE fingerprint = ? ORDER BY id DESC "
                        f"LIMIT 1", (fingerprint,)).fetchone()
    return _campaign(row) if row else None


def get_campaign(store: Store, campaign_id: int) -> Campaign:
    row = store.execute(f"SELECT {_CAMPAIGN_COLUMNS} FROM campaigns WHERE id = ?", (campaign_id,)).fetchone()
    if row is None:
        raise InputError(_("no campaign with id {campaign_id}").format(campaign_id=campaign_id), hint=_("see: dbox campaigns list"))
    return _campaign(row)


def create_campaign(store: Store, *, uid: str, channel: str, reach: Reach, fingerprint: str,
                    expression: str, segment: str | None, where: str, params: list, template: dict,
                    status: str, due_at: str | None, ignore_window: bool, settings: dict, created_by: str,
                    on_id=None, broadcast: str | None = None) -> tuple[int, dict[str, int]]:
    """Create a campaign and freeze its audience in one transaction; return (id, counts by state or
    reason). ``on_id(id)`` runs inside the transaction before the row exists, so the caller can
    take the campaign's lock before anyone else can see it. With ``broadcast`` (the account a post
    is published from) the audience is that one message, with no contact; ``where`` is not read."""
    register_functions(store)
    now = utcnow()
    with store.transaction(immediate=True) as conn:
        if store.engine == "postgresql":
            # BEGIN IMMEDIATE serialises this on SQLite; on a shared server two machines creating a
            # campaign at once take turns here (the lock goes with the transaction)
            conn.execute("SELECT pg_advisory_xact_lock(?, ?)", (0x64620005, 0))
        campaign_id = (conn.execute("SELECT max(id) FROM campaigns").fetchone()[0] or 0) + 1
        if on_id is not None:
            on_id(campaign_id)
        conn.execute(
            f"INSERT INTO campaigns ({_CAMPAIGN_COLUMNS}) VALUES ({','.join('?' * 19)})",
            (campaign_id, uid, channel, fingerprint, expression, segment, where, json.dumps(params),
             json.dumps(template, ensure_ascii=False), status, due_at, int(ignore_window),
             json.dumps(settings), created_by, now, None, None, None, None))
        store.ids_written("campaigns")
        if broadcast is not None:
            conn.execute("INSERT INTO campaign_recipients (campaign_id, contact_id, address, state, updated_at) "
                         "VALUES (?, NULL, ?, 'planned', ?)", (campaign_id, broadcast, now))
        else:
            sql, all_params = _audience_sql(reach, where, list(params), store.engine)
            conn.execute(
                f"INSERT INTO campaign_recipients (campaign_id, contact_id, address, state, reason, updated_at) "
                f"SELECT ?, contact_id, address, CASE WHEN reason IS NULL THEN 'planned' ELSE 'skipped' END, "
                f"reason, ? FROM ({sql}) AS a ORDER BY contact_id", [campaign_id, now, *all_params])
        _event(conn, campaign_id, "created", f"status={status}")
    counts = {}
    for state, reason, n in store.execute(
            "SELECT state, reason, count(*) FROM campaign_recipients WHERE campaign_id = ? GROUP BY 1, 2",
            (campaign_id,)):
        counts[reason if state == "skipped" else state] = n
    return campaign_id, counts


def _event(conn, campaign_id: int, event: str, detail: str | None = None) -> None:
    conn.execute("INSERT INTO campaign_events (campaign_id, at, event, detail) VALUES (?,?,?,?)",
                 (campaign_id, utcnow(), event, detail))


def add_event(store: Store, campaign_id: int, event: str, detail: str | None = None) -> None:
    _event(store, campaign_id, event, detail)


def set_status(store: Store, campaign_id: int, status: str, *, due_at: str | None = None,
               error: str | None = None, detail: str | None = None) -> None:
    now = utcnow()
    with store.transaction(immediate=True) as conn:
        conn.execute(
            "UPDATE campaigns SET status = ?, due_at = ?, last_error = ?, "
            "started_at = CASE WHEN ? = 'running' THEN coalesce(started_at, ?) ELSE started_at END, "
            "finished_at = CASE WHEN ? = 'done' THEN ? ELSE NULL END WHERE id = ?",
            (status, due_at, error, status, now, status, now, campaign_id))
        _event(conn, campaign_id, status, detail or error)


def list_campaigns(store: Store, limit: int | None = None) -> Iterator[tuple]:
    """(id, channel, status, created_at, due_at, expression, planned, claimed, sent, delivered,
    failed, skipped, in_doubt), newest first."""
    sql = ("SELECT k.id, k.channel, coalesce(k.control, k.status), k.created_at, k.due_at, "
           "CASE WHEN k.segment IS NOT NULL THEN 'segment ' || k.segment ELSE k.expression END, "
           "sum(r.state = 'planned'), sum(r.state = 'claimed'), "
           "sum(r.state IN ('accepted', 'delivered', 'undelivered')), sum(r.state = 'delivered'), "
           "sum(r.state IN ('failed', 'undelivered')), sum(r.state = 'skipped'), sum(r.state = 'in-doubt') "
           "FROM campaigns k LEFT JOIN campaign_recipients r ON r.campaign_id = k.id "
           "GROUP BY k.id ORDER BY k.id DESC")
    params: list = []
    if limit:
        sql += " LIMIT ?"
        params.append(limit)
    yield from store.execute(sql, params)


def state_counts(store: Store, campaign_id: int) -> dict[str, int]:
    counts = dict.fromkeys(STATES, 0)
    for state, n in store.execute(
            "SELECT state, count(*) FROM campaign_recipients WHERE campaign_id = ? GROUP BY state", (campaign_id,)):
        counts[state] = n
    return counts


def reason_counts(store: Store, campaign_id: int, state: str = "skipped") -> dict[str, int]:
    return dict(store.execute(
        "SELECT coalesce(reason, '?'), count(*) FROM campaign_recipients WHERE campaign_id = ? AND state = ? "
        "GROUP BY 1 ORDER BY 2 DESC", (campaign_id, state)).fetchall())


def segment_total(store: Store, campaign_id: int) -> int:
    return store.execute("SELECT coalesce(sum(segments), 0) FROM campaign_recipients WHERE campaign_id = ?",
                         (campaign_id,)).fetchone()[0]


def campaign_events(store: Store, campaign_id: int) -> list[tuple]:
    return store.execute("SELECT at, event, detail FROM campaign_events WHERE campaign_id = ? ORDER BY id",
                         (campaign_id,)).fetchall()


def due_campaigns(store: Store, now: str) -> list[int]:
    """Campaigns run-due should take: scheduled or waiting and due, or running (a process that died
    leaves ``running`` behind; the caller checks nobody holds its lock)."""
    return [cid for (cid,) in store.execute(
        "SELECT id FROM campaigns WHERE control IS NULL AND ((status IN ('scheduled', 'waiting') AND due_at <= ?) "
        "OR status = 'running') ORDER BY coalesce(due_at, created_at), id", (now,))]


def set_control(store: Store, campaign_id: int, control: str | None, detail: str) -> int:
    """Pause (``'paused'``), resume (None) or cancel (``'cancelled'``) a campaign, with a journal
    line. Cancelling turns its planned messages into skipped (reason ``cancelled``); claimed and
    in-doubt ones stay as they are. Returns how many messages were cancelled."""
    now = utcnow()
    with store.transaction(immediate=True) as conn:
        conn.execute("UPDATE campaigns SET control = ? WHERE id = ?", (control, campaign_id))
        n = 0
        if control == "cancelled":
            n = conn.execute("UPDATE campaign_recipients SET state = 'skipped', reason = 'cancelled', "
                             "retry_at = NULL, updated_at = ? WHERE campaign_id = ? AND state = 'planned'",
                             (now, campaign_id)).rowcount
            detail = f"{detail}; {n} planned message(s) cancelled"
        _event(conn, campaign_id, control or "resumed", detail)
    return n


# --- recipients: the state machine ---------------------------------------------------------------

def mark_stale_claims(store: Store, campaign_id: int) -> int:
    """``claimed`` rows left by a process that died become ``in-doubt``. Call only while holding
    the campaign's lock (so no live process owns those claims)."""
    now = utcnow()
    with store.transaction(immediate=True) as conn:
        n = conn.execute(
            "UPDATE campaign_recipients SET state = 'in-doubt', error = 'process ended during the provider call', "
            "updated_at = ? WHERE campaign_id = ? AND state = 'claimed'", (now, campaign_id)).rowcount
        if n:
            _event(conn, campaign_id, "in-doubt", f"{n} claimed message(s) with unknown outcome")
    return n


def planned_page(store: Store, campaign_id: int, after_id: int, size: int, fields: Iterable[str] = (),
                 custom: Iterable[str] = (), now: str | None = None) -> list[tuple]:
    """The next ``planned`` rows after ``after_id`` that are not waiting to be tried again after
    ``now``: (recipient id, contact id, address, attempts, *fields, custom_json). A broadcast row
    (no contact) comes with its fields NULL."""
    select, select_params = _field_sql(fields, custom, store.engine)
    return store.execute(
        f"SELECT r.id, r.contact_id, r.address, r.attempts{select} FROM campaign_recipients r "
        f"LEFT JOIN contacts c ON c.id = r.contact_id WHERE r.campaign_id = ? AND r.state = 'planned' AND r.id > ? "
        f"AND (r.retry_at IS NULL OR r.retry_at <= ?) ORDER BY r.id LIMIT ?",
        [*select_params, campaign_id, after_id, now or utcnow(), size]).fetchall()


def defer(store: Store, recipient_id: int, *, now: str, retry_at: str, give_up_before: str,
          reason: str | None, error: str | None) -> str:
    """A claimed message refused for now (4xx) after the run's own retries: back to planned, not
    before ``retry_at`` (a later run-due tries it); when its first refusal in a row is older than
    ``give_up_before``, it fails instead. Returns 'deferred' or 'failed'."""
    with store.transaction(immediate=True) as conn:
        row = conn.execute("SELECT coalesce(soft_since, ?) FROM campaign_recipients WHERE id = ? AND state = 'claimed'",
                           (now, recipient_id)).fetchone()
        if row is None:
            return "gone"
        if row[0] < give_up_before:
            conn.execute("UPDATE campaign_recipients SET state = 'failed', reason = ?, error = ?, segments = 0, "
                         "retry_at = NULL, done_at = ?, updated_at = ? WHERE id = ?",
                         (reason, f"still refused since {row[0]}: {error}", now, now, recipient_id))
            return "failed"
        conn.execute("UPDATE campaign_recipients SET state = 'planned', reason = ?, error = ?, retry_at = ?, "
                     "soft_since = ?, updated_at = ? WHERE id = ?",
                     (reason, error, retry_at, row[0], now, recipient_id))
        return "deferred"


def next_retry_at(store: Store, campaign_id: int) -> str | None:
    """The earliest time a deferred (planned, refused for now) message of the campaign may be tried."""
    return store.execute("SELECT min(retry_at) FROM campaign_recipients WHERE campaign_id = ? AND state = 'planned' "
                         "AND retry_at IS NOT NULL", (campaign_id,)).fetchone()[0]


def count_ready(store: Store, campaign_id: int, now: str) -> int:
    """Planned messages that may be tried now (not deferred to later)."""
    return store.execute("SELECT count(*) FROM campaign_recipients WHERE campaign_id = ? AND state = 'planned' "
                         "AND (retry_at IS NULL OR retry_at <= ?)", (campaign_id, now)).fetchone()[0]


def count_state(store: Store, campaign_id: int, state: str) -> int:
    return store.execute("SELECT count(*) FROM campaign_recipients WHERE campaign_id = ? AND state = ?",
                         (campaign_id, state)).fetchone()[0]


def claim(store: Store, recipient_id: int, reach: Reach, address: str | None = None) -> str | None:
    """Claim one planned message before calling the provider. Returns None when claimed (and
    committed), else the reason it was not: the row was no longer planned (``'gone'``), or the
    contact is no longer reachable (the row is then ``skipped`` with that reason).

    One UPDATE statement, atomic and committed on its own (autocommit: no BEGIN/COMMIT round
    trips on the hot path), claims the row only if it is still planned and its contact still
    reachable; only when it does not is the reason looked up, in a transaction of its own.

    ``address``: the row's address as the caller read it (``planned_page``). Its suppression hash
    is then computed here and bound as a parameter, so the statement calls no Python function:
    a SQLite function called back from inside a statement must take the GIL again while the other
    workers hold it (HTTP), and the statement waited for it with the ledger's lock held
    (docs/sending.md, "Speed"). Should the row hold another address, the hash is computed in SQL."""
    register_functions(store)
    table = "campaign_recipients"
    known = None if address is None or reach.broadcast else (address, _hasher(store)(address))
    reason_sql, reason_params = _unreachable_reason(reach, f"{table}.address", f"{table}.contact_id", store.engine,
                                                    known)
    now = utcnow()
    claimed = store.execute(
        f"UPDATE {table} SET state = 'claimed', claimed_at = ?, attempts = attempts + 1, updated_at = ? "
        f"WHERE id = ? AND state = 'planned' AND ({reason_sql}) IS NULL",
        [now, now, recipient_id, *reason_params]).rowcount
    if claimed:
        return None
    reason_sql, reason_params = _unreachable_reason(reach, f"{table}.address", f"{table}.contact_id", store.engine)
    with _atomic(store) as conn:
        row = conn.execute(f"SELECT state, {reason_sql} FROM {table} WHERE id = ?",
                           [*reason_params, recipient_id]).fetchone()
        if row is None or row[0] != "planned":
            return "gone"
        conn.execute(f"UPDATE {table} SET state = 'skipped', reason = ?, updated_at = ? WHERE id = ? "
                     f"AND state = 'planned'", (row[1], now, recipient_id))
        return row[1]


class _InTransaction:
    def __init__(self, store: Store):
        self.store = store

    def __enter__(self):
        return self.store

    def __exit__(self, *exc):
        return False


def _atomic(store: Store):
    """A transaction of its own, or the caller's when one is open (the send loop commits the
    writes of several workers together: dbox.sending.commits)."""
    return _InTransaction(store) if store.in_transaction else store.transaction(immediate=True)


def record_attempt(store: Store, recipient_id: int, error: str) -> None:
    """A retryable error: the message stays claimed (the worker retries), the error is noted."""
    with store.transaction(immediate=True) as conn:
        conn.execute("UPDATE campaign_recipients SET attempts = attempts + 1, error = ?, updated_at = ? "
                     "WHERE id = ? AND state = 'claimed'", (error, utcnow(), recipient_id))


def record_outcome(store: Store, recipient_id: int, state: str, *, provider_id: str | None = None,
                   provider_status: str | None = None, reason: str | None = None, error: str | None = None,
                   segments: int | None = None) -> None:
    """The provider answered (or the outcome is unknown): claimed -> accepted | failed | in-doubt,
    or back to planned when the run gives up on retryable errors."""
    if state not in ("accepted", "failed", "in-doubt", "planned"):
        raise ValueError(state)
    now = utcnow()
    # one statement in autocommit mode: atomic and committed when it returns
    store.execute(
        "UPDATE campaign_recipients SET state = ?, provider_id = coalesce(?, provider_id), "
        "provider_status = coalesce(?, provider_status), reason = ?, error = ?, "
        "segments = coalesce(?, segments), done_at = CASE WHEN ? = 'planned' THEN done_at ELSE ? END, "
        "updated_at = ? WHERE id = ? AND state = 'claimed'",
        (state, provider_id, provider_status, reason, error, segments, state, now, now, recipient_id))


def in_doubt_rows(store: Store, campaign_id: int) -> list[tuple]:
    """(recipient id, contact id, address, claimed_at) of the in-doubt messages."""
    return store.execute(
        "SELECT id, contact_id, address, claimed_at FROM campaign_recipients WHERE campaign_id = ? "
        "AND state = 'in-doubt' ORDER BY id", (campaign_id,)).fetchall()


def resolve_in_doubt(store: Store, recipient_id: int, *, provider_id: str | None, provider_status: str | None,
                     state: str = "accepted", note: str | None = None) -> None:
    """Reconciliation found the message at the provider (``provider_id``), or did not (``note``)."""
    now = utcnow()
    with store.transaction(immediate=True) as conn:
        if provider_id:
            conn.execute(
                "UPDATE campaign_recipients SET state = ?, provider_id = ?, provider_status = ?, error = NULL, "
                "done_at = ?, updated_at = ? WHERE id = ? AND state = 'in-doubt'",
                (state, provider_id, provider_status, now, now, recipient_id))
        else:
            conn.execute("UPDATE campaign_recipients SET error = ?, updated_at = ? WHERE id = ? "
                         "AND state = 'in-doubt'", (note, now, recipient_id))


def requeue_in_doubt(store: Store, campaign_id: int) -> int:
    """``--retry-in-doubt``: in-doubt messages become planned again (the claim re-checks consent)."""
    return _requeue(store, campaign_id, "in-doubt", "reason", "retry-in-doubt", "in-doubt message(s) planned again")


def requeue_failed(store: Store, campaign_id: int) -> int:
    """Failed messages become planned again: a post the network refused (nothing was published)
    is tried again when the user asks (``dbox posts retry``). The claim re-checks as always."""
    return _requeue(store, campaign_id, "failed", "NULL", "retry-failed", "failed message(s) planned again")


def _requeue(store: Store, campaign_id: int, state: str, reason_sql: str, event: str, what: str) -> int:
    """Messages in ``state`` planned again, with a campaign event saying how many. ``reason_sql``:
    what the reason column becomes (a failure's reason is cleared; an in-doubt one keeps its own)."""
    now = utcnow()
    with store.transaction(immediate=True) as conn:
        n = conn.execute(f"UPDATE campaign_recipients SET state = 'planned', reason = {reason_sql}, updated_at = ? "
                         "WHERE campaign_id = ? AND state = ?", (now, campaign_id, state)).rowcount
        if n:
            _event(conn, campaign_id, event, f"{n} {what}")
    return n


def broadcast_account(store: Store, campaign_id: int) -> str | None:
    """The account a broadcast campaign (a post) goes out from: the address of its message that
    has no contact; None for a campaign that messages contacts. Says whether a campaign is a
    broadcast from the ledger alone, without the channel's plugin (``Channel.broadcast``)."""
    row = store.execute("SELECT address FROM campaign_recipients WHERE campaign_id = ? AND contact_id IS NULL "
                        "ORDER BY id LIMIT 1", (campaign_id,)).fetchone()
    return None if row is None else (row[0] or "")


def broadcast_message(store: Store, campaign_id: int) -> tuple | None:
    """(recipient id, state, provider id, provider status, error, done_at) of a broadcast
    campaign's message (a post), or None when it has none (made before migration 0011)."""
    return store.execute(
        "SELECT id, state, provider_id, provider_status, error, done_at FROM campaign_recipients "
        "WHERE campaign_id = ? AND contact_id IS NULL ORDER BY id LIMIT 1", (campaign_id,)).fetchone()


def iter_accepted(store: Store, campaign_id: int) -> Iterator[tuple]:
    """(recipient id, provider id, provider status, done_at) of messages whose delivery is not final."""
    cursor = store.execute(
        "SELECT id, provider_id, provider_status, done_at FROM campaign_recipients WHERE campaign_id = ? "
        "AND state = 'accepted' AND provider_id IS NOT NULL ORDER BY id", (campaign_id,))
    while rows := cursor.fetchmany(1000):
        yield from rows


def update_delivery(store: Store, updates: Iterable[tuple[str, str, str, str | None]]) -> int:
    """Apply (provider id, new state, provider status, error code) from a status sync; only
    accepted rows move (delivered/undelivered/failed are final)."""
    now = utcnow()
    n = 0
    with store.transaction(immediate=True) as conn:
        for provider_id, state, status, code in updates:
            n += conn.execute(
                "UPDATE campaign_recipients SET state = ?, provider_status = ?, reason = coalesce(?, reason), "
                "updated_at = ? WHERE provider_id = ? AND state = 'accepted'",
                (state, status, code, now, provider_id)).rowcount
    return n


def first_claim_at(store: Store, campaign_id: int) -> str | None:
    return store.execute("SELECT min(claimed_at) FROM campaign_recipients WHERE campaign_id = ?",
                         (campaign_id,)).fetchone()[0]


# --- what providers tell back: invalid numbers, opt-outs ---------------------------------------

def invalidate_address(store: Store, kind: str, value: str) -> int:
    """The provider says this address does not exist: every contact_points row holding it is invalid."""
    with store.transaction(immediate=True) as conn:
        return conn.execute("UPDATE contact_points SET status = 'invalid' WHERE kind = ? AND value = ?",
                            (kind, value)).rowcount


def record_optout(store: Store, reach: Reach, value: str, *, source: str, detail: str, reason: str) -> int:
    """Withdraw the channel's consent for every contact holding ``value`` and suppress the address
    for the channel. Returns how many contacts had consent withdrawn."""
    with store.transaction(immediate=True):
        return optout_in_transaction(store, reach, value, source=source, detail=detail, reason=reason)


def optout_in_transaction(store: Store, reach: Reach, value: str, *, source: str, detail: str, reason: str) -> int:
    """``record_optout`` inside the caller's transaction (``dbox bounces sync`` records the report
    and its effect in one)."""
    now = utcnow()
    ids = [cid for (cid,) in store.execute(
        "SELECT DISTINCT p.contact_id FROM contact_points p WHERE p.kind = ? AND p.value = ? AND NOT EXISTS "
        "(SELECT 1 FROM consents k WHERE k.contact_id = p.contact_id AND k.channel = ? AND k.status = 'withdrawn')",
        (reach.address_kind, value, reach.consent_channel))]
    if ids:
        record_consent_events(store, [(cid, reach.consent_channel, "withdraw", now, source, detail) for cid in ids])
    suppress(store, _ADDRESS_KINDS[reach.address_kind], value, reason, reach.consent_channel)
    return len(ids)


def suppress(store: Store, kind: str, value: str, reason: str, channel: str | None) -> None:
    """Suppress ``value`` for ``channel`` (None: every channel). The table keeps one row per value:
    a value already suppressed for another channel becomes suppressed for every channel, never
    less (``suppressions.add`` alone would keep the first channel and drop this one)."""
    add(store, kind, value, reason, channel=channel)
    store.execute("UPDATE suppressions SET channel = NULL WHERE value_hash = ? AND channel IS NOT NULL "
                  "AND channel IS DISTINCT FROM ?", (Hasher(store)(value), channel))


def replies_seen(store: Store, provider_ids: Iterable[str]) -> set[str]:
    ids = list(set(provider_ids))
    seen: set[str] = set()
    for i in range(0, len(ids), 500):
        part = ids[i:i + 500]
        seen.update(p for (p,) in store.execute(
            f"SELECT provider_id FROM inbound_replies WHERE provider_id IN ({','.join('?' * len(part))})", part))
    return seen


def record_reply(store: Store, provider_id: str, channel: str, from_hash: str, received_at: str | None,
                 keyword: str | None) -> bool:
    """True when the reply is new (False: this provider id was already recorded)."""
    return store.execute("INSERT OR IGNORE INTO inbound_replies (provider_id, channel, from_hash, received_at, keyword, "
                         "processed_at) VALUES (?,?,?,?,?,?)",
                         (provider_id, channel, from_hash, received_at, keyword, utcnow())).rowcount == 1


def get_meta(store: Store, key: str) -> str | None:
    row = store.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def set_meta(store: Store, key: str, value: str) -> None:
    store.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                  (key, value))


def unsubscribe_secret(store: Store) -> str:
    """A per-store random key for unsubscribe tokens (HMAC), created on first use."""
    import secrets

    store.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('unsubscribe_key', ?)", (secrets.token_hex(32),))
    return get_meta(store, "unsubscribe_key")


def contact_values(store: Store, contact_id: int, fields: Iterable[str], custom: Iterable[str] = ()) -> tuple[list, str | None]:
    """One contact's template fields (as ``planned_page`` gives them) and its custom fields as JSON."""
    select, params = _field_sql(list(fields), custom)
    row = store.execute(f"SELECT 1{select} FROM contacts c WHERE c.id = ?", [*params, contact_id]).fetchone()
    if row is None:
        raise InputError(_("no contact with id {contact_id}").format(contact_id=contact_id))
    values = list(row[1:])
    custom_json = values.pop()
    return values, custom_json


def campaigns_with_pending_delivery(store: Store) -> list[int]:
    return [cid for (cid,) in store.execute(
        "SELECT DISTINCT campaign_id FROM campaign_recipients WHERE state = 'accepted' AND provider_id IS NOT NULL "
        "ORDER BY 1")]
