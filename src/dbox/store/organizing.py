"""The SQL of dbox.organizing: actions, answers and attendance, invitations, assignments,
interactions, and the filter terms they feed (``attended:``, ``attended.count``, ``support``,
``last_interaction``, ``invited:``, ``volunteer``).

Functions take a ``Store`` first. Writers never open a transaction themselves: the library
(``dbox.organizing``) holds one around each command's work. A "where" argument is a clause over
alias ``c`` (contacts) built by dbox itself, never user text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from dbox.store.db import Store
from dbox.filters.nodes import ActionRef, Compare, Flag, InList, IsEmpty
from dbox.filters.parser import suggest
from dbox.text import fold
from dbox.i18n import _

_BATCH = 500

# Ledger states of an invitation that reached the provider: the person was invited.
INVITED_STATES = ("accepted", "delivered")
# Ledger states of an invitation that went, may have gone or is still to go: not invited again.
PENDING_OR_SENT_STATES = ("planned", "claimed", "accepted", "delivered", "undelivered", "in-doubt")
# Sheets whose attendees are volunteers (they came to canvass or to call, not to listen).
VOLUNTEER_SHEETS = ("walk", "call")
_SHEET_LITERALS = ", ".join(f"'{s}'" for s in VOLUNTEER_SHEETS)   # constants, for statements with named parameters

ACTION_COLUMNS = ("id", "title", "title_key", "type", "sheet", "starts_at", "ends_at", "timezone", "address",
                  "commune_name", "commune_insee", "capacity", "description", "target", "script",
                  "consent_wording", "status", "cancel_reason", "cancelled_at", "created_at", "updated_at")
EDITABLE = ("title", "title_key", "type", "sheet", "starts_at", "ends_at", "timezone", "address", "commune_name",
            "commune_insee", "capacity", "description", "target", "script", "consent_wording")


def _marks(values) -> str:
    return ",".join("?" * len(values))


def _chunks(values: list, size: int = _BATCH):
    for i in range(0, len(values), size):
        yield values[i:i + size]


# -- actions -----------------------------------------------------------------------------------------

def insert_action(store: Store, values: dict, at: str) -> int:
    names = [n for n in EDITABLE if n in values]
    cur = store.execute(
        f"INSERT INTO actions ({', '.join(names)}, status, created_at, updated_at) "
        f"VALUES ({_marks(names)}, 'planned', ?, ?) RETURNING id", [values[n] for n in names] + [at, at])
    return cur.fetchone()[0]


def update_action(store: Store, action_id: int, values: dict, at: str) -> None:
    names = [n for n in values if n in EDITABLE]
    if not names:
        return
    store.execute(f"UPDATE actions SET {', '.join(f'{n} = ?' for n in names)}, updated_at = ? WHERE id = ?",
                  [values[n] for n in names] + [at, action_id])


def cancel_action(store: Store, action_id: int, reason: str | None, at: str) -> None:
    store.execute("UPDATE actions SET status = 'cancelled', cancel_reason = ?, cancelled_at = ?, updated_at = ? "
                  "WHERE id = ?", (reason, at, at, action_id))


def get_action(store: Store, action_id: int) -> dict | None:
    row = store.execute(f"SELECT {', '.join(ACTION_COLUMNS)} FROM actions WHERE id = ?", (action_id,)).fetchone()
    return dict(zip(ACTION_COLUMNS, row)) if row else None


def actions_with_key(store: Store, title_key: str) -> list[tuple[int, str, str, str]]:
    """(id, title, starts_at, status) of the actions whose folded title is ``title_key``."""
    return store.execute("SELECT id, title, starts_at, status FROM actions WHERE title_key = ? ORDER BY starts_at, id",
                         (title_key,)).fetchall()


def action_titles(store: Store) -> list[tuple[int, str, str]]:
    """(id, title, title_key) of every action (for "did you mean")."""
    return store.execute("SELECT id, title, title_key FROM actions ORDER BY id").fetchall()


def existing_action_ids(store: Store, ids: Iterable[int]) -> set[int]:
    ids = list(ids)
    found: set[int] = set()
    for part in _chunks(ids):
        found.update(i for (i,) in store.execute(f"SELECT id FROM actions WHERE id IN ({_marks(part)})", part))
    return found


def list_actions(store: Store, *, since: str | None = None, until: str | None = None,
                 include_cancelled: bool = True, type_: str | None = None) -> list[dict]:
    """Actions in date order with their counts: invited (by message), yes/no/maybe, came, volunteers."""
    where, params = ["TRUE"], []
    if since:
        where.append("a.starts_at >= ?")
        params.append(since)
    if until:
        where.append("a.starts_at < ?")
        params.append(until)
    if not include_cancelled:
        where.append("a.status = 'planned'")
    if type_:
        where.append("a.type = ?")
        params.append(type_)
    sql = (f"SELECT a.id, a.starts_at, a.type, a.title, a.commune_name, a.capacity, a.status, "
           f"({_invited_count_sql('a.id')}), "
           f"(SELECT count(*) FROM action_people p WHERE p.action_id = a.id AND p.rsvp = 'yes'), "
           f"(SELECT count(*) FROM action_people p WHERE p.action_id = a.id AND p.rsvp = 'no'), "
           f"(SELECT count(*) FROM action_people p WHERE p.action_id = a.id AND p.rsvp = 'maybe'), "
           f"(SELECT count(*) FROM action_people p WHERE p.action_id = a.id AND p.attended = 1), "
           f"(SELECT count(*) FROM action_assignments s WHERE s.action_id = a.id) "
           f"FROM actions a WHERE {' AND '.join(where)} ORDER BY a.starts_at, a.id")
    names = ("id", "starts_at", "type", "title", "commune", "capacity", "status", "invited", "yes", "no", "maybe",
             "came", "volunteers")
    return [dict(zip(names, row)) for row in store.execute(sql, [*INVITED_STATES, *params])]


def _invited_count_sql(action_column: str) -> str:
    return ("SELECT count(DISTINCT r.contact_id) FROM action_invitations ai JOIN campaigns k "
            "ON k.fingerprint = ai.fingerprint JOIN campaign_recipients r ON r.campaign_id = k.id "
            f"WHERE ai.action_id = {action_column} AND r.state IN ({_marks(INVITED_STATES)})")


# -- answers and attendance ---------------------------------------------------------------------------

def person_state(store: Store, action_id: int, contact_id: int) -> tuple | None:
    """(rsvp, rsvp_at, attended, attended_at) of one person for one action, or None."""
    return store.execute("SELECT rsvp, rsvp_at, attended, attended_at FROM action_people "
                         "WHERE action_id = ? AND contact_id = ?", (action_id, contact_id)).fetchone()


def set_rsvp(store: Store, action_id: int, contact_id: int, rsvp: str, at: str, source: str) -> None:
    store.execute(
        "INSERT INTO action_people (action_id, contact_id, rsvp, rsvp_at, source, updated_at) VALUES (?,?,?,?,?,?) "
        "ON CONFLICT (action_id, contact_id) DO UPDATE SET rsvp = excluded.rsvp, rsvp_at = excluded.rsvp_at, "
        "source = excluded.source, updated_at = excluded.updated_at",
        (action_id, contact_id, rsvp, at, source, at))


def set_attended(store: Store, rows: Iterable[tuple[int, int, int, str, str]]) -> int:
    """rows: (action_id, contact_id, attended 0|1, at, source). Returns rows written."""
    rows = list(rows)
    store.executemany(
        "INSERT INTO action_people (action_id, contact_id, attended, attended_at, source, updated_at) "
        "VALUES (?,?,?,?,?,?) ON CONFLICT (action_id, contact_id) DO UPDATE SET attended = excluded.attended, "
        "attended_at = excluded.attended_at, source = excluded.source, updated_at = excluded.updated_at",
        [(a, c, att, at, src, at) for a, c, att, at, src in rows])
    return len(rows)


def people_counts(store: Store, action_id: int) -> dict[str, int]:
    row = store.execute(
        "SELECT coalesce(sum(rsvp = 'yes'), 0), coalesce(sum(rsvp = 'no'), 0), coalesce(sum(rsvp = 'maybe'), 0), "
        "coalesce(sum(attended = 1), 0), coalesce(sum(attended = 0), 0), "
        "coalesce(sum(rsvp = 'yes' AND attended = 0), 0), "
        "coalesce(sum(attended = 1 AND rsvp IS NULL), 0) FROM action_people WHERE action_id = ?",
        (action_id,)).fetchone()
    return dict(zip(("yes", "no", "maybe", "came", "absent", "no_show", "came_unannounced"), row))


def action_people(store: Store, action_id: int) -> list[tuple]:
    """(contact_id, first_name, last_name, rsvp, attended) of everyone who answered or came."""
    return store.execute(
        "SELECT p.contact_id, c.first_name, c.last_name, p.rsvp, p.attended FROM action_people p "
        "JOIN contacts c ON c.id = p.contact_id WHERE p.action_id = ? ORDER BY c.last_name, c.first_name, c.id",
        (action_id,)).fetchall()


# -- invitations ------------------------------------------------------------------------------------------

def add_invitation(store: Store, action_id: int, channel: str, fingerprint: str, at: str) -> None:
    store.execute("INSERT OR IGNORE INTO action_invitations (action_id, channel, fingerprint, created_at) "
                  "VALUES (?,?,?,?)", (action_id, channel, fingerprint, at))


def invitation_counts(store: Store, action_id: int) -> dict[str, dict[str, int]]:
    """channel -> {ledger state: distinct contacts} over the campaigns that invited to the action."""
    result: dict[str, dict[str, int]] = {}
    for channel, state, n in store.execute(
            "SELECT k.channel, r.state, count(DISTINCT r.contact_id) FROM action_invitations ai "
            "JOIN campaigns k ON k.fingerprint = ai.fingerprint JOIN campaign_recipients r ON r.campaign_id = k.id "
            "WHERE ai.action_id = ? GROUP BY 1, 2", (action_id,)):
        result.setdefault(channel, {})[state] = n
    return result


def invited_total(store: Store, action_id: int) -> int:
    return store.execute(f"SELECT ({_invited_count_sql('?')})", (action_id, *INVITED_STATES)).fetchone()[0]


def replied_after_invitation(store: Store, action_id: int) -> int:
    """People invited by message who then answered (yes, no or maybe)."""
    return store.execute(
        "SELECT count(*) FROM action_people p WHERE p.action_id = ? AND p.rsvp IS NOT NULL AND p.contact_id IN "
        "(SELECT r.contact_id FROM action_invitations ai JOIN campaigns k ON k.fingerprint = ai.fingerprint "
        f"JOIN campaign_recipients r ON r.campaign_id = k.id WHERE ai.action_id = ? "
        f"AND r.state IN ({_marks(INVITED_STATES)}))", (action_id, action_id, *INVITED_STATES)).fetchone()[0]


def not_yet_invited_clause(action_id: int, channel: str) -> tuple[str, list]:
    """SQL over alias ``c``: no invitation to the action is pending or sent to the contact on this
    channel, and the contact has not answered yet."""
    return (f"(NOT EXISTS (SELECT 1 FROM action_invitations ai JOIN campaigns k ON k.fingerprint = ai.fingerprint "
            f"JOIN campaign_recipients r ON r.campaign_id = k.id WHERE ai.action_id = ? AND k.channel = ? "
            f"AND r.contact_id = c.id AND r.state IN ({_marks(PENDING_OR_SENT_STATES)})) "
            f"AND NOT EXISTS (SELECT 1 FROM action_people p WHERE p.action_id = ? AND p.contact_id = c.id "
            f"AND p.rsvp IS NOT NULL))", [action_id, channel, *PENDING_OR_SENT_STATES, action_id])


def invitation_campaigns(store: Store, action_id: int) -> list[tuple[int, str, str]]:
    """(campaign id, channel, status) of the campaigns that invited to the action."""
    return store.execute(
        "SELECT k.id, k.channel, k.status FROM action_invitations ai JOIN campaigns k ON k.fingerprint = ai.fingerprint "
        "WHERE ai.action_id = ? ORDER BY k.id", (action_id,)).fetchall()


def action_of_fingerprints(store: Store) -> dict[str, tuple[int, str]]:
    """fingerprint -> (action id, title), for naming invitations in a timeline."""
    return {fp: (aid, title) for fp, aid, title in store.execute(
        "SELECT ai.fingerprint, a.id, a.title FROM action_invitations ai JOIN actions a ON a.id = ai.action_id")}


# -- assignments -----------------------------------------------------------------------------------------

def upsert_assignment(store: Store, action_id: int, contact_id: int, territory: list[dict], at: str) -> None:
    store.execute(
        "INSERT INTO action_assignments (action_id, contact_id, territory, created_at) VALUES (?,?,?,?) "
        "ON CONFLICT (action_id, contact_id) DO UPDATE SET territory = excluded.territory",
        (action_id, contact_id, json.dumps(territory, ensure_ascii=False), at))


def remove_assignment(store: Store, action_id: int, contact_id: int) -> int:
    return store.execute("DELETE FROM action_assignments WHERE action_id = ? AND contact_id = ?",
                         (action_id, contact_id)).rowcount


def assignments(store: Store, action_id: int) -> list[dict]:
    """The volunteers of an action, in the order they were assigned, with their territory."""
    rows = store.execute(
        "SELECT s.contact_id, c.first_name, c.last_name, c.mobile, c.email, s.territory FROM action_assignments s "
        "JOIN contacts c ON c.id = s.contact_id WHERE s.action_id = ? ORDER BY s.id", (action_id,)).fetchall()
    return [{"contact_id": cid, "first_name": f, "last_name": l, "mobile": m, "email": e,
             "territory": json.loads(t)} for cid, f, l, m, e, t in rows]


# -- contacts, as the organizing commands need them ---------------------------------------------------------

def contact_names(store: Store, ids: Iterable[int]) -> dict[int, str]:
    ids = list(set(ids))
    names: dict[int, str] = {}
    for part in _chunks(ids):
        for cid, first, last in store.execute(
                f"SELECT id, first_name, last_name FROM contacts WHERE id IN ({_marks(part)})", part):
            names[cid] = " ".join(x for x in (first, last) if x) or f"contact {cid}"
    return names


def existing_contact_ids(store: Store, ids: Iterable[int]) -> set[int]:
    ids = list(set(ids))
    found: set[int] = set()
    for part in _chunks(ids):
        found.update(i for (i,) in store.execute(f"SELECT id FROM contacts WHERE id IN ({_marks(part)})", part))
    return found


def contact_points(store: Store, contact_id: int) -> set[tuple[str, str]]:
    return set(store.execute("SELECT kind, value FROM contact_points WHERE contact_id = ?", (contact_id,)).fetchall())


def point_owners(store: Store, kind: str, value: str) -> list[int]:
    return [i for (i,) in store.execute("SELECT contact_id FROM contact_points WHERE kind = ? AND value = ? "
                                        "ORDER BY contact_id", (kind, value))]


def add_contact_point(store: Store, contact_id: int, kind: str, value: str, value_hash: str, at: str) -> bool:
    """Add an address to a contact (primary when it has none of that kind). True when it is new."""
    cur = store.execute("INSERT OR IGNORE INTO contact_points (contact_id, kind, value, status, value_hash) "
                        "VALUES (?, ?, ?, 'valid', ?)", (contact_id, kind, value, value_hash))
    if not cur.rowcount:
        return False
    column = {"email": "email", "mobile": "mobile", "fixed": "fixed"}[kind]
    store.execute(f"UPDATE contacts SET {column} = coalesce({column}, ?), updated_at = ? WHERE id = ?",
                  (value, at, contact_id))
    return True


def suppressed_for(store: Store, value_hash: str) -> list[str | None]:
    """The channels a hashed address is suppressed for (None: every channel)."""
    return [ch for (ch,) in store.execute("SELECT channel FROM suppressions WHERE value_hash = ?", (value_hash,))]


def consent_status(store: Store, contact_id: int, channel: str) -> str | None:
    row = store.execute("SELECT status FROM consents WHERE contact_id = ? AND channel = ?",
                        (contact_id, channel)).fetchone()
    return row[0] if row else None


# -- interactions -------------------------------------------------------------------------------------------

INTERACTION_COLUMNS = ("contact_id", "type", "at", "outcome", "reached", "support", "wants_call", "gained",
                       "amount_cents", "note", "action_id", "volunteer_id", "source", "import_id")


def insert_interactions(store: Store, rows: list[dict], at: str) -> int:
    store.executemany(
        f"INSERT INTO interactions ({', '.join(INTERACTION_COLUMNS)}, created_at, updated_at) "
        f"VALUES ({_marks(INTERACTION_COLUMNS)}, ?, ?)",
        [[{"reached": 1, "wants_call": 0, **row}.get(c) for c in INTERACTION_COLUMNS] + [at, at] for row in rows])
    return len(rows)


def sheet_interaction(store: Store, action_id: int, contact_id: int, type_: str) -> int | None:
    row = store.execute("SELECT id FROM interactions WHERE action_id = ? AND contact_id = ? AND type = ? "
                        "AND source = 'sheet'", (action_id, contact_id, type_)).fetchone()
    return row[0] if row else None


def update_interaction(store: Store, interaction_id: int, row: dict, at: str) -> None:
    names = [c for c in INTERACTION_COLUMNS if c in row]
    store.execute(f"UPDATE interactions SET {', '.join(f'{n} = ?' for n in names)}, updated_at = ? WHERE id = ?",
                  [row[n] for n in names] + [at, interaction_id])


def interaction_gained(store: Store, interaction_id: int) -> str | None:
    row = store.execute("SELECT gained FROM interactions WHERE id = ?", (interaction_id,)).fetchone()
    return row[0] if row else None


def latest_support(store: Store, contact_id: int) -> tuple[int, str] | None:
    return store.execute("SELECT support, at FROM interactions WHERE contact_id = ? AND support IS NOT NULL "
                         "ORDER BY at DESC, id DESC LIMIT 1", (contact_id,)).fetchone()


def last_interaction(store: Store, contact_id: int) -> str | None:
    return store.execute(f"SELECT max(at) FROM ({_REACHED_SQL}) AS r WHERE contact_id = ?", (contact_id,)).fetchone()[0]


# -- sheets -------------------------------------------------------------------------------------------------

SHEET_COLUMNS = ("id", "civility", "first_name", "last_name", "address", "postal_code", "commune_name",
                 "commune_insee", "mobile", "fixed", "email")


def iter_sheet_contacts(store: Store, where: str, params: list, batch: int = 2000) -> Iterator[dict]:
    """The contacts of a selection with what a walk or call list shows, in id order, streamed (one
    statement, read a batch at a time); each has its latest support level and its phone consent."""
    columns = ", ".join(f"c.{n}" for n in SHEET_COLUMNS)
    cursor = store.execute(
        f"SELECT {columns}, (SELECT i.support FROM interactions i WHERE i.contact_id = c.id AND i.support "
        f"IS NOT NULL ORDER BY i.at DESC, i.id DESC LIMIT 1), "
        f"(SELECT status FROM consents k WHERE k.contact_id = c.id AND k.channel = 'phone') "
        f"FROM contacts c WHERE ({where}) ORDER BY c.id", list(params))
    try:
        while rows := cursor.fetchmany(batch):
            for row in rows:
                item = dict(zip(SHEET_COLUMNS, row[:len(SHEET_COLUMNS)]))
                item["support"], item["phone_consent"] = row[len(SHEET_COLUMNS):]
                yield item
    finally:
        cursor.close()


def phone_suppressions(store: Store, hashes: list[str]) -> set[str]:
    """Which hashed phones are suppressed for calls (every channel, or 'phone')."""
    found: set[str] = set()
    for part in _chunks(list(set(hashes))):
        found.update(h for (h,) in store.execute(
            f"SELECT value_hash FROM suppressions WHERE value_hash IN ({_marks(part)}) "
            f"AND (channel IS NULL OR channel = 'phone')", part))
    return found


def commune_codes_named(store: Store, name_key: str) -> list[tuple[str, str, str]]:
    """(insee, name, departement) of the communes whose folded name is ``name_key``."""
    return store.execute("SELECT insee, name, departement FROM geo_communes WHERE name_key = ? ORDER BY insee",
                         (name_key,)).fetchall()


def commune_by_code(store: Store, insee: str) -> tuple[str, str, str] | None:
    return store.execute("SELECT insee, name, departement FROM geo_communes WHERE insee = ?", (insee,)).fetchone()


def communes_starting(store: Store, letter: str) -> list[tuple[str, str]]:
    """(name, name_key) of the communes whose folded name starts with ``letter``."""
    return store.execute("SELECT name, name_key FROM geo_communes WHERE substr(name_key, 1, 1) = ?",
                         (letter,)).fetchall()


def has_geography(store: Store) -> bool:
    return store.execute("SELECT 1 FROM geo_communes LIMIT 1").fetchone() is not None


# -- timeline -----------------------------------------------------------------------------------------------

def timeline_interactions(store: Store, contact_id: int) -> list[dict]:
    names = ("id", "type", "at", "outcome", "reached", "support", "wants_call", "gained", "amount_cents", "note",
             "action_id", "action_title", "volunteer_id", "volunteer", "source")
    rows = store.execute(
        "SELECT i.id, i.type, i.at, i.outcome, i.reached, i.support, i.wants_call, i.gained, i.amount_cents, i.note, "
        "i.action_id, a.title, i.volunteer_id, trim(coalesce(v.first_name, '') || ' ' || coalesce(v.last_name, '')), "
        "i.source FROM interactions i LEFT JOIN actions a ON a.id = i.action_id "
        "LEFT JOIN contacts v ON v.id = i.volunteer_id WHERE i.contact_id = ? ORDER BY i.at, i.id",
        (contact_id,)).fetchall()
    return [dict(zip(names, r)) for r in rows]


def timeline_as_volunteer(store: Store, contact_id: int) -> list[dict]:
    """Actions the contact was assigned to, with the doors and calls they recorded there."""
    rows = store.execute(
        "SELECT a.id, a.title, a.type, a.starts_at, s.created_at, "
        "(SELECT count(*) FROM interactions i WHERE i.action_id = a.id AND i.volunteer_id = s.contact_id "
        " AND i.type IN ('door', 'call')), "
        "(SELECT count(*) FROM interactions i WHERE i.action_id = a.id AND i.volunteer_id = s.contact_id "
        " AND i.gained IS NOT NULL) "
        "FROM action_assignments s JOIN actions a ON a.id = s.action_id WHERE s.contact_id = ? ORDER BY a.starts_at",
        (contact_id,)).fetchall()
    names = ("action_id", "title", "type", "starts_at", "assigned_at", "contacts_made", "contacts_gained")
    return [dict(zip(names, r)) for r in rows]


def timeline_actions(store: Store, contact_id: int) -> list[dict]:
    rows = store.execute(
        "SELECT a.id, a.title, a.type, a.starts_at, a.status, p.rsvp, p.rsvp_at, p.attended, p.attended_at "
        "FROM action_people p JOIN actions a ON a.id = p.action_id WHERE p.contact_id = ? ORDER BY a.starts_at",
        (contact_id,)).fetchall()
    names = ("action_id", "title", "type", "starts_at", "status", "rsvp", "rsvp_at", "attended", "attended_at")
    return [dict(zip(names, r)) for r in rows]


def timeline_messages(store: Store, contact_id: int) -> list[dict]:
    """Messages of the send ledger to the contact, with their campaign and, for invitations, the action."""
    rows = store.execute(
        "SELECT r.campaign_id, k.channel, r.state, r.reason, coalesce(r.done_at, r.claimed_at, k.created_at), "
        "k.template, ai.action_id, a.title FROM campaign_recipients r JOIN campaigns k ON k.id = r.campaign_id "
        "LEFT JOIN action_invitations ai ON ai.fingerprint = k.fingerprint LEFT JOIN actions a ON a.id = ai.action_id "
        "WHERE r.contact_id = ? ORDER BY r.id", (contact_id,)).fetchall()
    names = ("campaign_id", "channel", "state", "reason", "at", "template", "action_id", "action_title")
    return [dict(zip(names, r)) for r in rows]


def timeline_consents(store: Store, contact_id: int) -> list[tuple]:
    return store.execute("SELECT channel, action, at, source, detail FROM consent_events WHERE contact_id = ? "
                         "ORDER BY id", (contact_id,)).fetchall()


def timeline_sources(store: Store, contact_id: int) -> list[tuple]:
    return store.execute(
        "SELECT i.filename, s.row_number, i.started_at FROM contact_sources s JOIN imports i ON i.id = s.import_id "
        "WHERE s.contact_id = ? ORDER BY i.started_at", (contact_id,)).fetchall()


def timeline_exchanges(store: Store, contact_id: int, skip_prefix: str) -> list[tuple]:
    """Exchanges recorded by other areas (the ones organizing writes start with ``skip_prefix``)."""
    return store.execute("SELECT at, kind, detail FROM contact_exchanges WHERE contact_id = ? "
                         "AND coalesce(detail, '') NOT LIKE ? || '%' ORDER BY at", (contact_id, skip_prefix)).fetchall()


def contact_created(store: Store, contact_id: int) -> str | None:
    row = store.execute("SELECT created_at FROM contacts WHERE id = ?", (contact_id,)).fetchone()
    return row[0] if row else None


# -- statistics -----------------------------------------------------------------------------------------------

def volunteer_results(store: Store, action_id: int) -> list[dict]:
    """Per volunteer of an action (assigned, or named on a result): doors or calls recorded, people
    reached, support 4-5, wants a call, contacts gained (new address or consent)."""
    rows = store.execute(
        "WITH v(contact_id) AS (SELECT contact_id FROM action_assignments WHERE action_id = :a "
        "  UNION SELECT volunteer_id FROM interactions WHERE action_id = :a AND volunteer_id IS NOT NULL) "
        "SELECT v.contact_id, trim(coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '')), "
        "count(i.id), coalesce(sum(i.reached), 0), coalesce(sum(i.support >= 4), 0), "
        "coalesce(sum(i.wants_call), 0), coalesce(sum(i.gained IS NOT NULL), 0) "
        "FROM v JOIN contacts c ON c.id = v.contact_id "
        "LEFT JOIN interactions i ON i.action_id = :a AND i.volunteer_id = v.contact_id AND i.type IN ('door', 'call') "
        "GROUP BY v.contact_id, c.first_name, c.last_name ORDER BY count(i.id) DESC, v.contact_id", {"a": action_id}).fetchall()
    names = ("volunteer_id", "volunteer", "contacts", "reached", "supporters", "wants_call", "gained")
    return [dict(zip(names, r)) for r in rows]


def action_results(store: Store, action_id: int) -> dict[str, int]:
    """Doors or calls of an action, whoever recorded them, and their outcomes."""
    row = store.execute(
        "SELECT count(*), coalesce(sum(reached), 0), coalesce(sum(support >= 4), 0), coalesce(sum(support <= 2), 0), "
        "coalesce(sum(wants_call), 0), coalesce(sum(gained IS NOT NULL), 0), coalesce(sum(volunteer_id IS NULL), 0) "
        "FROM interactions WHERE action_id = ? AND type IN ('door', 'call')", (action_id,)).fetchone()
    return dict(zip(("contacts", "reached", "supporters", "opponents", "wants_call", "gained", "no_volunteer"), row))


def active_volunteers(store: Store, since: str | None, until: str | None, limit: int) -> list[dict]:
    """The most active volunteers over a period: actions they took part in (assigned, or came to a
    walk or call action), doors knocked, calls made, contacts gained."""
    since = since or ""
    until = until or "\U0010ffff"
    rows = store.execute(
        "WITH acts AS (SELECT id FROM actions WHERE starts_at >= :s AND starts_at < :u AND status = 'planned'), "
        "part AS (SELECT contact_id, action_id FROM action_assignments WHERE action_id IN (SELECT id FROM acts) "
        "  UNION SELECT p.contact_id, p.action_id FROM action_people p JOIN actions a ON a.id = p.action_id "
        f"  WHERE p.attended = 1 AND a.sheet IN ({_SHEET_LITERALS}) AND a.id IN (SELECT id FROM acts) "
        "  UNION SELECT volunteer_id, action_id FROM interactions WHERE volunteer_id IS NOT NULL "
        "  AND action_id IN (SELECT id FROM acts)), "
        "work AS (SELECT volunteer_id AS contact_id, sum(type = 'door') AS doors, sum(type = 'call') AS calls, "
        "  sum(gained IS NOT NULL) AS gained FROM interactions WHERE volunteer_id IS NOT NULL "
        "  AND at >= :s AND at < :u GROUP BY volunteer_id) "
        "SELECT c.id, trim(coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '')), "
        "(SELECT count(DISTINCT action_id) FROM part p2 WHERE p2.contact_id = c.id), "
        "coalesce(w.doors, 0), coalesce(w.calls, 0), coalesce(w.gained, 0) "
        "FROM contacts c LEFT JOIN work w ON w.contact_id = c.id "
        "WHERE c.id IN (SELECT contact_id FROM part UNION SELECT contact_id FROM work) "
        "ORDER BY coalesce(w.doors, 0) + coalesce(w.calls, 0) DESC, 3 DESC, c.id LIMIT :n",
        {"s": since, "u": until, "n": limit}).fetchall()
    names = ("volunteer_id", "volunteer", "actions", "doors", "calls", "gained")
    return [dict(zip(names, r)) for r in rows]


# -- filter terms ------------------------------------------------------------------------------------------------
# Each returns (SQL over alias c, params); the SQL is 1 or 0, never NULL.

_ATTENDED = "SELECT contact_id FROM action_people WHERE attended = 1"
_REACHED_SQL = ("SELECT contact_id, at FROM interactions WHERE reached = 1 UNION ALL "
                "SELECT p.contact_id, a.starts_at AS at FROM action_people p JOIN actions a ON a.id = p.action_id "
                "WHERE p.attended = 1")
_LATEST_SUPPORT = ("SELECT contact_id, support FROM (SELECT contact_id, support, row_number() OVER "
                   "(PARTITION BY contact_id ORDER BY at DESC, id DESC) AS n FROM interactions "
                   "WHERE support IS NOT NULL) AS ranked WHERE n = 1")


def attended_clause(action_ids: list[int]) -> tuple[str, list]:
    return (f"c.id IN (SELECT contact_id FROM action_people WHERE attended = 1 AND action_id IN "
            f"(SELECT value FROM json_each(?)))"), [json.dumps(action_ids)]


def invited_clause(action_ids: list[int]) -> tuple[str, list]:
    return (f"c.id IN (SELECT r.contact_id FROM action_invitations ai JOIN campaigns k ON k.fingerprint = "
            f"ai.fingerprint JOIN campaign_recipients r ON r.campaign_id = k.id WHERE ai.action_id IN "
            f"(SELECT value FROM json_each(?)) AND r.state IN ({_marks(INVITED_STATES)}))"), \
        [json.dumps(action_ids), *INVITED_STATES]


def volunteer_clause() -> tuple[str, list]:
    return (f"c.id IN (SELECT contact_id FROM action_assignments UNION SELECT p.contact_id FROM action_people p "
            f"JOIN actions a ON a.id = p.action_id WHERE p.attended = 1 AND a.sheet IN ({_marks(VOLUNTEER_SHEETS)}) "
            f"UNION SELECT volunteer_id FROM interactions WHERE volunteer_id IS NOT NULL)"), list(VOLUNTEER_SHEETS)


def attended_count_clause(op: str, values: list[float]) -> tuple[str, list]:
    """``attended.count OP value`` (op '=' with several values: one of them). Contacts who never came
    count 0, so a condition that 0 satisfies keeps them."""
    zero_ok = _holds(0, op, values)
    test = "count(*) IN (SELECT value FROM json_each(?))" if len(values) > 1 else f"count(*) {op} ?"
    param = json.dumps(values) if len(values) > 1 else values[0]
    if zero_ok:
        return (f"c.id NOT IN ({_ATTENDED} GROUP BY contact_id HAVING NOT ({test}))"), [param]
    return (f"c.id IN ({_ATTENDED} GROUP BY contact_id HAVING {test})"), [param]


def support_clause(op: str, values: list[int]) -> tuple[str, list]:
    if len(values) > 1:
        return (f"c.id IN (SELECT contact_id FROM ({_LATEST_SUPPORT}) AS s WHERE support IN "
                f"(SELECT value FROM json_each(?)))"), [json.dumps(values)]
    return f"c.id IN (SELECT contact_id FROM ({_LATEST_SUPPORT}) AS s WHERE support {op} ?)", [values[0]]


def support_empty_clause() -> tuple[str, list]:
    return "c.id NOT IN (SELECT contact_id FROM interactions WHERE support IS NOT NULL)", []


def last_interaction_clause(condition: str, params: list) -> tuple[str, list]:
    """``condition`` is over the column ``t.last`` (the latest moment the person was reached)."""
    return (f"c.id IN (SELECT t.contact_id FROM (SELECT contact_id, max(at) AS last FROM ({_REACHED_SQL}) AS r "
            f"GROUP BY contact_id) t WHERE {condition})"), list(params)


def last_interaction_empty_clause() -> tuple[str, list]:
    return f"c.id NOT IN (SELECT contact_id FROM ({_REACHED_SQL}) AS r)", []


def _holds(x: float, op: str, values: list[float]) -> bool:
    if len(values) > 1:
        return x in values
    v = values[0]
    return {"=": x == v, "<": x < v, "<=": x <= v, ">": x > v, ">=": x >= v}[op]


# -- imports ------------------------------------------------------------------------------------------------------

def previous_import(store: Store, sha256: str, kind: str) -> tuple[int, str, str] | None:
    """(id, filename, finished_at) of a finished import of the same file and kind."""
    return store.execute("SELECT id, filename, finished_at FROM imports WHERE sha256 = ? AND kind = ? "
                         "AND finished_at IS NOT NULL ORDER BY id DESC LIMIT 1", (sha256, kind)).fetchone()


def answered_where(action_id: int) -> tuple[str, list]:
    """A selection's ``(where, params)`` over ``contacts c``: who answered yes or maybe to an action,
    or came."""
    return ("c.id IN (SELECT contact_id FROM action_people WHERE action_id = ? AND "
            "(rsvp IN ('yes', 'maybe') OR attended = 1))"), [action_id]


# -- compiling the organizing terms of a filter (called by dbox.store.filters) ------------------------------------

def compile_term(compiler, node) -> tuple[str, list]:
    """SQL over alias ``c`` for ``attended:A``, ``invited:A``, ``volunteer``, and comparisons on
    ``attended.count``, ``support`` and ``last_interaction`` (``!=``, ``not in`` and ``is not empty``
    included). ``compiler`` is dbox.store.filters' compiler: its errors carry the node's position."""
    if isinstance(node, ActionRef):
        ids = _action_ids(compiler, node)
        return attended_clause(ids) if node.prefix == "attended" else invited_clause(ids)
    if isinstance(node, Flag):
        return volunteer_clause()
    negated = {"!=": "="}.get(getattr(node, "op", None))
    if isinstance(node, Compare):
        sql, params = _compare(compiler, node, negated or node.op, [node.value])
    elif isinstance(node, InList):
        sql, params = _compare(compiler, node, "=", list(node.values))
        negated = node.negated
    elif isinstance(node, IsEmpty):
        sql, params = {"support": support_empty_clause, "last_interaction": last_interaction_empty_clause}[node.field]()
        negated = node.negated
    else:
        raise TypeError(f"not an organizing filter node: {node!r}")
    return (f"({sql} IS NOT 1)", params) if negated else (sql, params)


def _compare(compiler, node, op: str, values: list) -> tuple[str, list]:
    if node.field == "last_interaction":
        condition, params = compiler.date_compare("t.last", op, values[0])
        return last_interaction_clause(condition, params)
    numbers = []
    for value in values:
        number = float(value.text)
        if node.field == "support" and (number != int(number) or not 1 <= number <= 5):
            raise compiler.error(_("support is a level from 1 to 5, found {text}").format(text=value.text), value,
                                 hint=_("1 opposed, 2 rather against, 3 undecided, 4 rather for, 5 strong supporter"))
        if node.field == "attended.count" and (number != int(number) or number < 0):
            raise compiler.error(_("attended.count is a whole number of actions, found {text}").format(
                                     text=value.text), value)
        numbers.append(int(number))
    if node.field == "support":
        return support_clause(op, numbers)
    return attended_count_clause(op, numbers)


def _action_ids(compiler, node) -> list[int]:
    text = node.name.strip()
    if text.isdigit():
        if compiler.store.execute("SELECT 1 FROM actions WHERE id = ?", (int(text),)).fetchone() is None:
            raise compiler.error(_("no action with id {text}").format(text=text), node, hint=_("dbox action list --all shows them"))
        return [int(text)]
    ids = [r[0] for r in actions_with_key(compiler.store, fold(text))]
    if not ids:
        titles = {key: title for _unused, title, key in action_titles(compiler.store)}
        close = suggest(fold(text), titles)
        raise compiler.error(_('unknown action "{text}"').format(text=text), node, suggestion=titles[close] if close else None,
                             hint=_("an action is named by its id or its title: dbox action list --all"))
    return ids
