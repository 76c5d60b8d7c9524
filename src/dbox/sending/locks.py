"""Process locks (``flock``) next to the store: one for ``run-due``, one per campaign being sent.

The kernel releases a lock when its process dies, however it dies (SIGKILL included): a campaign
whose lock is free while it says ``running`` was left by a dead process.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from dbox.errors import LockedError


def lock_dir(store_path: Path) -> Path:
    folder = Path(store_path).parent / f"{Path(store_path).name}.locks"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


class FileLock:
    def __init__(self, path: Path, what: str):
        self.path = Path(path)
        self.what = what
        self.fd: int | None = None

    def acquire(self) -> "FileLock":
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
            os.close(fd)
            raise LockedError(f"{self.what} is already running" + (f" (pid {holder})" if holder else "")
                              + "; nothing done") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self.fd = fd
        return self

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

    @property
    def held(self) -> bool:
        return self.fd is not None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


def run_due_lock(store_path: Path) -> FileLock:
    return FileLock(lock_dir(store_path) / "run-due.lock", "another `dbox run-due`")


def campaign_lock(store_path: Path, campaign_id: int) -> FileLock:
    return FileLock(lock_dir(store_path) / f"campaign-{campaign_id}.lock", f"campaign {campaign_id}")


def is_free(lock: FileLock) -> bool:
    try:
        lock.acquire()
    except LockedError:
        return False
    lock.release()
    return True
