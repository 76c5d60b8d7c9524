"""The suppression list: salted hashes of e-mails and phones that must never come back.

An erased person (GDPR art. 17) or an opposition kept after erasure is stored here as
SHA-256(salt + value), never in clear. The salt is per store, created on first use.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

from dbox.store.db import Store, utcnow


def _salt(store: Store) -> str:
    row = store.execute("SELECT value FROM meta WHERE key = 'suppression_salt'").fetchone()
    if row:
        return row[0]
    salt = secrets.token_hex(16)
    store.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('suppression_salt', ?)", (salt,))
    return store.execute("SELECT value FROM meta WHERE key = 'suppression_salt'").fetchone()[0]


class Hasher:
    def __init__(self, store: Store):
        self.salt = _salt(store).encode()

    def __call__(self, value: str) -> str:
        return hashlib.sha256(self.salt + value.encode()).hexdigest()


def add(store: Store, kind: str, value: str, reason: str, channel: str | None = None) -> None:
    """Suppress ``value`` for ``channel`` (None: every channel). One row per value: a second
    channel widens the row to every channel rather than being dropped."""
    store.execute(
        "INSERT INTO suppressions (value_hash, kind, reason, channel, at) VALUES (?,?,?,?,?) "
        "ON CONFLICT (value_hash) DO UPDATE SET "
        "channel = CASE WHEN suppressions.channel = excluded.channel THEN suppressions.channel ELSE NULL END, "
        "reason = CASE WHEN excluded.channel IS NULL THEN excluded.reason ELSE suppressions.reason END",
        (Hasher(store)(value), kind, reason, channel, utcnow()))


def suppressed(store: Store, hashes: Iterable[str]) -> set[str]:
    """Which of ``hashes`` are suppressed for every channel (an erasure or a global opposition)."""
    hashes = list(set(hashes))
    found: set[str] = set()
    for i in range(0, len(hashes), 500):
        part = hashes[i:i + 500]
        marks = ",".join("?" * len(part))
        found.update(h for (h,) in store.execute(
            f"SELECT value_hash FROM suppressions WHERE channel IS NULL AND value_hash IN ({marks})", part))
    return found


def has_any(store: Store) -> bool:
    return store.execute("SELECT 1 FROM suppressions WHERE channel IS NULL LIMIT 1").fetchone() is not None
