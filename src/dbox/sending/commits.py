"""Group commit: the send loop's hot ledger writes (claims, outcomes) from several workers share
one transaction when they arrive together.

The workers share one store connection. A worker that has a write to make queues it, then takes
the connection; if another worker's commit has taken its write meanwhile it only collects the
result, else it runs every queued write in one transaction and commits once. Nothing waits for
company: a write alone (one worker, or a quiet moment) is its own statement and commit, as
before; under load, a commit carries the writes that came in while the previous one ran, and the
pages they share (neighbouring rows, the same index pages) are written to the WAL once.

What each worker sees does not change: ``write`` returns only once its write is committed, so a
claim is committed before the provider is called and an answer is recorded before its worker
claims again. When a shared commit fails, each of its writes is run again alone, so one write
that fails (a store fault, an error) never costs the others theirs; each worker gets its own
write's error.
"""

from __future__ import annotations

import threading


class _Write:
    __slots__ = ("fn", "args", "kwargs", "result", "error", "done")

    def __init__(self, fn, args, kwargs):
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.result = self.error = None
        self.done = False


class GroupCommit:
    """``write(fn, *args)`` runs ``fn(store, *args)`` committed; concurrent writes share a commit.
    ``lock`` is the lock every user of the store connection takes (the send loop's)."""

    def __init__(self, store, lock: threading.Lock):
        self.store = store
        self.lock = lock
        self._queued: list[_Write] = []
        self._guard = threading.Lock()      # never held while waiting for ``lock``
        self.commits = 0                    # for tests and the bench: how many commits were made
        self.writes = 0

    def write(self, fn, *args, **kwargs):
        item = _Write(fn, args, kwargs)
        with self._guard:
            self._queued.append(item)
        with self.lock:
            if not item.done:
                with self._guard:
                    batch, self._queued = self._queued, []
                self._commit(batch)
        if item.error is not None:
            raise item.error
        return item.result

    def _commit(self, batch: list[_Write]) -> None:
        try:
            if len(batch) > 1:
                try:
                    with self.store.transaction(immediate=True):
                        for item in batch:
                            item.result = item.fn(self.store, *item.args, **item.kwargs)
                    for item in batch:
                        item.done = True
                    self.commits += 1
                    self.writes += len(batch)
                    return
                except Exception:   # noqa: BLE001 - rolled back: each write is tried again alone below
                    pass
            for item in batch:
                try:
                    item.result = item.fn(self.store, *item.args, **item.kwargs)
                except Exception as exc:   # noqa: BLE001 - handed to the worker whose write it is
                    item.error = exc
                item.done = True
                self.commits += 1
                self.writes += 1
        finally:
            for item in batch:   # whatever escaped, no worker waits for a write that will not come
                if not item.done:
                    item.error = item.error or RuntimeError("the ledger write was not made")
                    item.done = True
