"""Exactly once across machines (issue 14 item 2): on a PostgreSQL store, "one runner at a time" is
the database's advisory lock, not a file on one machine. Two processes that share nothing but the
database (their own HOME, config and data folders) exclude each other; SIGKILL frees the lock."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dbox.errors import LockedError
from dbox.sending.locks import campaign_lock, is_free, run_due_lock

HOLD = """
import sys, time
from dbox.store.db import open_store
from dbox.sending.locks import campaign_lock, run_due_lock
store = open_store(sys.argv[1])
locks = [run_due_lock(store).acquire(), campaign_lock(store, 7).acquire()]
print("held", flush=True)
time.sleep(600)
"""


def machine(tmp_path: Path, name: str) -> dict:
    """The environment of another machine: its own home, config, data and keyring; the store URL only."""
    home = tmp_path / name
    for sub in ("config", "data", "cache"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBOX_", "XDG_"))}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / "config"), XDG_DATA_HOME=str(home / "data"),
               XDG_CACHE_HOME=str(home / "cache"), DBOX_DB=os.environ["DBOX_DB"],
               PYTHON_KEYRING_BACKEND="dbox.testing.keyring_backend.FileKeyring",
               DBOX_TEST_KEYRING_FILE=str(home / "keyring.json"))
    return env


@pytest.mark.engine("postgresql")
def test_run_due_and_a_campaign_are_held_across_machines_until_sigkill(engine, store, tmp_path):
    one, two = machine(tmp_path, "one"), machine(tmp_path, "two")
    holder = subprocess.Popen([sys.executable, "-c", HOLD, os.environ["DBOX_DB"]], env=one,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held", holder.stderr.read()
        # the other machine's cron: refused at once, one line naming who holds it
        second = subprocess.run([sys.executable, "-m", "dbox", "run-due"], env=two, capture_output=True,
                                text=True, timeout=120)
        assert second.returncode == 7, second.stderr
        assert second.stderr.startswith("Error: another `dbox run-due` is already running "
                                        f"(pid {holder.pid} on ")
        assert len(second.stderr.strip().splitlines()) == 1
        # and in this process (a third session): the campaign is someone else's
        with pytest.raises(LockedError, match=f"campaign 7 is already running \\(pid {holder.pid} on "):
            campaign_lock(store, 7).acquire()
        assert is_free(campaign_lock(store, 8))

        holder.send_signal(signal.SIGKILL)
        holder.wait(30)
        # the server ends the dead process's session, and its locks with it
        deadline = time.monotonic() + 30
        while not is_free(run_due_lock(store)):
            assert time.monotonic() < deadline, "the dead process's lock was never released"
            time.sleep(0.05)
        assert is_free(campaign_lock(store, 7))
        third = subprocess.run([sys.executable, "-m", "dbox", "run-due"], env=two, capture_output=True,
                               text=True, timeout=120)
        assert third.returncode == 0, third.stderr
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    # no machine made a lock file for the shared store
    assert not [p for p in tmp_path.rglob("*.lock")]


@pytest.mark.engine("postgresql")
def test_two_locks_in_one_process_exclude_each_other(engine, store):
    """A session-level advisory lock is re-entrant in its session: each lock has its own connection,
    so a second lock of one process is refused as it is on SQLite (one file descriptor each)."""
    first = campaign_lock(store, 3).acquire()
    try:
        with pytest.raises(LockedError):
            campaign_lock(store, 3).acquire()
    finally:
        first.release()
    assert is_free(campaign_lock(store, 3))


def test_sqlite_keeps_its_lock_files(store, tmp_path):
    lock = run_due_lock(store).acquire()
    try:
        assert (Path(str(store.path) + ".locks") / "run-due.lock").exists()
        with pytest.raises(LockedError, match="another `dbox run-due` is already running"):
            run_due_lock(store).acquire()
    finally:
        lock.release()
