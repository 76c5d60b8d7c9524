"""The SMS inbox's SQL (migration 0012): inbound messages, status callbacks, acknowledgements.

Plain SQL with ``?`` placeholders and no SQLite-only construct beyond ``INSERT ... ON CONFLICT``
(which PostgreSQL has too), so it ports to the PostgreSQL engine as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from dbox.store.db import Store, utcnow

_COLUMNS = ("id", "provider_id", "channel", "sender", "recipient", "body", "received_at", "contact_id",
            "campaign_id", "action_id", "kind", "answer", "read_at")


@dataclass
class InboxMessage:
    id: int
    provider_id: str
    channel: str
    sender: str
    recipient: str | None
    body: str
    received_at: str
    contact_id: int | None
    campaign_id: int | None
    action_id: int | None
    kind: str
    answer: str | None
    read_at: str | None
    contact_name: str | None = None


def add_message(store: Store, *, provider_id: str, channel: str, sender: str, recipient: str | None, body: str,
                received_at: str, contact_id: int | None, campaign_id: int | None, action_id: int | None,
                kind: str = "message") -> int | None:
    """Keep one inbound message; its id, or None when this provider id is already kept."""
    cur = store.execute(
        "INSERT INTO inbox_messages (provider_id, channel, sender, recipient, body, received_at, contact_id, "
        "campaign_id, action_id, kind, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (provider_id) DO NOTHING",
        (provider_id, channel, sender, recipient, body, received_at, contact_id, campaign_id, action_id, kind,
         utcnow()))
    if cur.rowcount != 1:
        return None
    return store.execute("SELECT id FROM inbox_messages WHERE provider_id = ?", (provider_id,)).fetchone()[0]


def set_outcome(store: Store, message_id: int, kind: str, answer: str | None = None, *, read: bool = False) -> None:
    """What reading the message did: an opt-out, an RSVP (read: a person need not look at it)."""
    store.execute("UPDATE inbox_messages SET kind = ?, answer = ?, read_at = CASE WHEN ? = 1 THEN coalesce(read_at, ?) "
                  "ELSE read_at END WHERE id = ?", (kind, answer, 1 if read else 0, utcnow(), message_id))


def answered(store: Store, number: str, channel: str, before: str) -> tuple[int, int, int | None] | None:
    """(campaign id, contact id, action id) of the last message of ``channel`` sent to ``number``
    at or before ``before``: the message a reply answers."""
    row = store.execute(
        "SELECT r.campaign_id, r.contact_id, ai.action_id FROM campaign_recipients r "
        "JOIN campaigns k ON k.id = r.campaign_id "
        "LEFT JOIN action_invitations ai ON ai.fingerprint = k.fingerprint "
        "WHERE r.address = ? AND k.channel = ? AND r.state IN ('accepted', 'delivered', 'undelivered', 'in-doubt') "
        "AND coalesce(r.claimed_at, r.updated_at) <= ? "
        "ORDER BY coalesce(r.claimed_at, r.updated_at) DESC, r.id DESC LIMIT 1",
        (number, channel, before)).fetchone()
    return tuple(row) if row else None


def contacts_with_mobile(store: Store, number: str) -> list[int]:
    return [cid for (cid,) in store.execute(
        "SELECT DISTINCT contact_id FROM contact_points WHERE kind = 'mobile' AND value = ? ORDER BY 1", (number,))]


def _message(row) -> InboxMessage:
    return InboxMessage(*row)


def list_messages(store: Store, *, contact_id: int | None = None, campaign_id: int | None = None,
                  unread_only: bool = False, limit: int | None = None) -> list[InboxMessage]:
    """Unread first, then newest first."""
    where, params = ["1 = 1"], []
    if contact_id is not None:
        where.append("m.contact_id = ?")
        params.append(contact_id)
    if campaign_id is not None:
        where.append("m.campaign_id = ?")
        params.append(campaign_id)
    if unread_only:
        where.append("m.read_at IS NULL")
    sql = (f"SELECT {', '.join('m.' + c for c in _COLUMNS)}, "
           "nullif(trim(coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '')), '') "
           "FROM inbox_messages m LEFT JOIN contacts c ON c.id = m.contact_id "
           f"WHERE {' AND '.join(where)} "
           "ORDER BY CASE WHEN m.read_at IS NULL THEN 0 ELSE 1 END, m.received_at DESC, m.id DESC")
    if limit:
        sql += " LIMIT ?"
        params.append(int(limit))
    return [_message(row) for row in store.execute(sql, params)]


def mark_read(store: Store, message_ids: list[int]) -> int:
    now = utcnow()
    n = 0
    for mid in message_ids:
        n += store.execute("UPDATE inbox_messages SET read_at = ? WHERE id = ? AND read_at IS NULL", (now, mid)).rowcount
    return n


def export_contact(store: Store, contact_id: int) -> list[dict]:
    """A person's inbound messages, for ``privacy export``."""
    return [{"received_at": at, "body": body, "campaign": campaign, "action": action, "kind": kind, "answer": answer}
            for at, body, campaign, action, kind, answer in store.execute(
                "SELECT received_at, body, campaign_id, action_id, kind, answer FROM inbox_messages "
                "WHERE contact_id = ? ORDER BY received_at, id", (contact_id,))]


def delete_unmatched_before(store: Store, cutoff: str) -> int:
    """Retention: messages from numbers no contact holds, received before ``cutoff``."""
    return store.execute("DELETE FROM inbox_messages WHERE contact_id IS NULL AND received_at < ?",
                         (cutoff,)).rowcount


def count_unmatched_before(store: Store, cutoff: str) -> int:
    return store.execute("SELECT count(*) FROM inbox_messages WHERE contact_id IS NULL AND received_at < ?",
                         (cutoff,)).fetchone()[0]


# -- status callbacks ---------------------------------------------------------------------------

def record_status(store: Store, provider_id: str, status: str, error_code: str | None) -> bool:
    """True the first time this (message, status) arrives; False for a repeat (replay, retry)."""
    return store.execute(
        "INSERT INTO status_callbacks (provider_id, status, error_code, received_at) VALUES (?,?,?,?) "
        "ON CONFLICT (provider_id, status) DO NOTHING", (provider_id, status, error_code, utcnow())).rowcount == 1


def recipient_of(store: Store, provider_id: str) -> tuple[int, str, str, str] | None:
    """(campaign id, channel, address, state) of the ledger row holding this provider id."""
    row = store.execute(
        "SELECT r.campaign_id, k.channel, r.address, r.state FROM campaign_recipients r "
        "JOIN campaigns k ON k.id = r.campaign_id WHERE r.provider_id = ?", (provider_id,)).fetchone()
    return tuple(row) if row else None


# -- acknowledgements -----------------------------------------------------------------------------

def set_ack(store: Store, action_id: int, yes_text: str | None, no_text: str | None) -> None:
    if yes_text is None and no_text is None:
        store.execute("DELETE FROM action_reply_acks WHERE action_id = ?", (action_id,))
        return
    store.execute("INSERT INTO action_reply_acks (action_id, yes_text, no_text) VALUES (?,?,?) "
                  "ON CONFLICT (action_id) DO UPDATE SET yes_text = excluded.yes_text, no_text = excluded.no_text",
                  (action_id, yes_text, no_text))


def get_ack(store: Store, action_id: int) -> tuple[str | None, str | None]:
    row = store.execute("SELECT yes_text, no_text FROM action_reply_acks WHERE action_id = ?", (action_id,)).fetchone()
    return (row[0], row[1]) if row else (None, None)
