"""The store failing under a send: a lock held past the busy timeout, a store that cannot be
written, the disk refusing writes mid-campaign. One `Error:` line, exit 4, no traceback, and the
ledger left resumable: the next run sends every reachable contact exactly once."""

import os
import resource
import signal
import sqlite3
import subprocess
import sys

import pytest
from test_send_support import import_contacts, people, store, template_store, twilio  # noqa: F401

from dbox.errors import StoreError
from dbox.sending import service
from dbox.store import ledger


def _plan(store, n_workers=1):
    from dbox.sending.audience import resolve
    from dbox.sending.compose import Template

    request = service.SendRequest("sms", resolve(store, "", None, None), Template(body="Réunion jeudi"),
                                  workers=n_workers)
    return service.plan_send(store, request)


def test_lock_held_past_the_busy_timeout_mid_campaign(store, tmp_path, twilio):
    import_contacts(store, tmp_path, people(20))
    store.execute("PRAGMA busy_timeout = 100")
    other = sqlite3.connect(store.path, isolation_level=None, check_same_thread=False)

    def lock_after(done):
        if done == 5:
            other.execute("BEGIN IMMEDIATE")          # another process takes the write lock and keeps it

    with pytest.raises(StoreError) as info:
        service.start(store, _plan(store), progress=lock_after)
    assert info.value.exit_code == 4
    assert "the store is locked by another process (database is locked)" in str(info.value)
    assert "run the same command again" in info.value.hint
    other.execute("ROLLBACK")
    other.close()
    counts = ledger.state_counts(store, 1)
    assert counts["accepted"] == 5 and counts["claimed"] == 0 and counts["planned"] == 15
    report = service.resume(store, 1)
    assert report.accepted == 15 and report.status == "done"
    assert set(twilio.counts_by_number().values()) == {1} and len(twilio.outbound()) == 20


def test_store_that_cannot_be_written_mid_campaign(store, tmp_path, twilio):
    import_contacts(store, tmp_path, people(6))

    def read_only_after(done):
        if done == 2:
            store.execute("PRAGMA query_only = ON")   # as a file or mount turned read-only would refuse writes

    with pytest.raises(StoreError, match="the store cannot be written") as info:
        service.start(store, _plan(store), progress=read_only_after)
    assert "permissions" in info.value.hint
    store.execute("PRAGMA query_only = OFF")
    assert ledger.state_counts(store, 1)["accepted"] == 2 and ledger.state_counts(store, 1)["planned"] == 4
    assert service.resume(store, 1).accepted == 4
    assert set(twilio.counts_by_number().values()) == {1} and len(twilio.outbound()) == 6


def _dbox(args, env_extra=None, fsize=None):
    env = dict(os.environ, **(env_extra or {}))

    def limit():
        if fsize is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # a write past the limit fails (EFBIG) instead
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return subprocess.run([sys.executable, "-m", "dbox", *map(str, args)], capture_output=True, text=True,
                          env=env, preexec_fn=limit, timeout=120)


def test_cli_store_locked_at_start_exits_4_without_traceback(store, tmp_path, twilio):
    import_contacts(store, tmp_path, people(3))
    other = sqlite3.connect(store.path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    try:
        result = _dbox(["send", "--sms", "-m", "Salut", "--yes"], {"DBOX_BUSY_TIMEOUT_MS": "100"})
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert result.returncode == 4, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "locked by another process" in errors[0]
    assert twilio.outbound() == []
    again = _dbox(["send", "--sms", "-m", "Salut", "--yes"])
    assert again.returncode == 0, again.stderr
    assert len(twilio.outbound()) == 3


def test_cli_disk_refusing_writes_mid_campaign_exits_4_then_resumes(store, tmp_path, twilio):
    import_contacts(store, tmp_path, people(200))
    store.execute("PRAGMA wal_checkpoint(TRUNCATE)")          # the send's writes start an empty WAL
    # the WAL may grow to ~160 KiB: enough to create the campaign and send some, not all
    # 100/s rather than the channel's 10/s: the same cut (the file-size limit), in seconds not half a minute
    result = _dbox(["send", "--sms", "-m", "Salut", "--yes", "--workers", "2", "--rate", "100/s"], fsize=160 * 1024)
    assert result.returncode == 4, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "disk" in errors[0], result.stderr
    sent_before = len(twilio.outbound())
    assert 0 < sent_before < 200
    resumed = _dbox(["run-due"])
    assert resumed.returncode == 0, resumed.stderr
    counts = ledger.state_counts(store, 1)
    assert counts["planned"] == 0 and counts["claimed"] == 0
    by_number = twilio.counts_by_number()
    assert max(by_number.values()) == 1                        # nothing sent twice
    assert counts["accepted"] + counts["in-doubt"] == 200
