"""The send engine's locks: one for ``run-due``, one per campaign being sent (``dbox.store.locks``:
a file next to a SQLite store, a PostgreSQL advisory lock on a shared store).

A lock is released when its process dies, however it dies (SIGKILL included): a campaign whose
lock is free while it says ``running`` was left by a dead process.
"""

from __future__ import annotations

from dbox.errors import LockedError
from dbox.store.locks import AdvisoryLock, FileLock, lock_dir, store_lock

__all__ = ["AdvisoryLock", "FileLock", "campaign_lock", "is_free", "lock_dir", "post_lock", "run_due_lock"]


def run_due_lock(store):
    return store_lock(store, "run-due", 0, "another `dbox run-due`")


def campaign_lock(store, campaign_id: int):
    return store_lock(store, "campaign", campaign_id, f"campaign {campaign_id}")


def post_lock(store):
    return store_lock(store, "post", 0, "another `dbox post`")


def is_free(lock) -> bool:
    try:
        lock.acquire()
    except LockedError:
        return False
    lock.release()
    return True
