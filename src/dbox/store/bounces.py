"""The SQL of ``dbox bounces sync``: delivery reports read back from a mailbox, recorded once
(``bounce_reports``, by the report's own Message-ID), with their effect in the same transaction:
a crash between the two cannot happen, and a second run finds the report already there.

Soft bounces are counted per address (``soft_bounces``, salted hash as suppressions): one per
campaign; a campaign in between whose message to the address was accepted and did not bounce
starts the count again; at ``soft_limit`` in a row the address is suppressed like a hard bounce.
"""

from __future__ import annotations

from dbox.store.db import Store, utcnow
from dbox.store.ledger import Reach, optout_in_transaction, suppress
from dbox.store.suppressions import Hasher

EMAIL = Reach("email", "email")


def campaign_by_uid(store: Store, uid: str) -> int | None:
    row = store.execute("SELECT id FROM campaigns WHERE uid = ? AND channel = 'email'", (uid,)).fetchone()
    return row[0] if row else None


def recipient_address(store: Store, campaign_id: int, contact_id: int) -> str | None:
    row = store.execute("SELECT address FROM campaign_recipients WHERE campaign_id = ? AND contact_id = ? "
                        "AND address IS NOT NULL", (campaign_id, contact_id)).fetchone()
    return row[0] if row else None


def latest_recipient(store: Store, address: str) -> tuple[int, int] | None:
    """(campaign id, contact id) of the latest e-mail sent to ``address`` (a report that names the
    address only)."""
    row = store.execute(
        "SELECT r.campaign_id, r.contact_id FROM campaign_recipients r JOIN campaigns k ON k.id = r.campaign_id "
        "WHERE k.channel = 'email' AND lower(r.address) = lower(?) "
        "AND r.state IN ('accepted', 'delivered', 'undelivered', 'in-doubt') ORDER BY r.campaign_id DESC LIMIT 1",
        (address,)).fetchone()
    return (row[0], row[1]) if row else None


def seen(store: Store, report_id: str) -> bool:
    return store.execute("SELECT 1 FROM bounce_reports WHERE report_id = ?", (report_id,)).fetchone() is not None


def apply_report(store: Store, *, report_id: str, kind: str, status: str | None, diagnostic: str | None,
                 campaign_id: int | None, contact_id: int | None, address: str | None, soft_limit: int) -> str:
    """Record one report and its effect, once. Returns what happened: ``already`` (recorded by an
    earlier run), ``suppressed`` (hard bounce, or soft ones reaching the limit), ``counted`` (a soft
    bounce below the limit), ``complaint`` (e-mail opt-out), ``recorded`` (delayed, unmatched, not a
    bounce)."""
    now = utcnow()
    with store.transaction(immediate=True) as conn:
        inserted = conn.execute(
            "INSERT INTO bounce_reports (report_id, kind, campaign_id, contact_id, status, processed_at) "
            "VALUES (?,?,?,?,?,?) ON CONFLICT (report_id) DO NOTHING",
            (report_id, kind if address else ("unmatched" if kind in ("hard", "soft", "complaint") else kind),
             campaign_id, contact_id, status, now)).rowcount
        if not inserted:
            return "already"
        if address is None or kind not in ("hard", "soft", "complaint"):
            return "recorded"
        if kind == "complaint":
            optout_in_transaction(store, EMAIL, address, source="complaint", reason="complaint",
                                  detail=f"marked as spam (feedback report {status or ''}) after campaign "
                                         f"{campaign_id}".replace("  ", " "))
            return "complaint"
        conn.execute(
            "UPDATE campaign_recipients SET state = 'undelivered', reason = ?, error = ?, updated_at = ? "
            "WHERE campaign_id = ? AND contact_id = ? AND state IN ('accepted', 'delivered', 'in-doubt')",
            (f"bounce {status or ''}".strip(), diagnostic, now, campaign_id, contact_id))
        value_hash = Hasher(store)(address)
        if kind == "hard":
            conn.execute("DELETE FROM soft_bounces WHERE value_hash = ?", (value_hash,))
            suppress(store, "email", address, "bounced", "email")
            return "suppressed"
        earlier = conn.execute(
            "SELECT 1 FROM bounce_reports WHERE campaign_id = ? AND contact_id = ? AND kind IN ('soft', 'hard') "
            "AND report_id <> ?", (campaign_id, contact_id, report_id)).fetchone()
        row = conn.execute("SELECT count, last_campaign FROM soft_bounces WHERE value_hash = ?",
                           (value_hash,)).fetchone()
        if earlier is not None and row is not None:
            return "counted"          # this campaign's message already counted (a second report)
        count = 1
        if row is not None:
            count, last = row
            in_between = conn.execute(
                "SELECT 1 FROM campaign_recipients r JOIN campaigns k ON k.id = r.campaign_id "
                "WHERE k.channel = 'email' AND r.address = ? AND r.campaign_id > ? AND r.campaign_id < ? "
                "AND r.state IN ('accepted', 'delivered') LIMIT 1", (address, last or 0, campaign_id)).fetchone()
            count = 1 if in_between else count + 1
        conn.execute(
            "INSERT INTO soft_bounces (value_hash, count, last_campaign, last_at) VALUES (?,?,?,?) "
            "ON CONFLICT (value_hash) DO UPDATE SET count = excluded.count, "
            "last_campaign = CASE WHEN soft_bounces.last_campaign > excluded.last_campaign "
            "THEN soft_bounces.last_campaign ELSE excluded.last_campaign END, "
            "last_at = excluded.last_at", (value_hash, count, campaign_id, now))
        if count >= soft_limit:
            suppress(store, "email", address, "bounced", "email")
            return "suppressed"
        return "counted"


def soft_count(store: Store, address: str) -> int:
    row = store.execute("SELECT count FROM soft_bounces WHERE value_hash = ?", (Hasher(store)(address),)).fetchone()
    return row[0] if row else 0


def report_counts(store: Store) -> dict[str, int]:
    return dict(store.execute("SELECT kind, count(*) FROM bounce_reports GROUP BY kind").fetchall())
