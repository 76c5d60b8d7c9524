"""Who did it on a shared store (issue 14 item 6): each audit row names the OS user, the host and,
on PostgreSQL, the database role; the hash covers them; rows from before keep verifying."""

import hashlib
import json
import socket

import pytest

from dbox.privacy import audit
from dbox.store import audit as store_audit
from tests.test_audit import drop_trigger


@pytest.mark.engines
def test_a_row_names_the_host_and_the_cli_shows_it(engine, store, cli):
    audit.record(store, "export", 3, {"n": 3})
    (entry,) = audit.entries(store)
    assert entry.host == socket.gethostname() and entry.os_user == audit.os_user()
    role = "postgres" if engine == "postgresql" else None      # SQLite has no roles
    assert entry.db_role == role
    rows = json.loads(cli("audit", "--format", "json").output)
    assert rows[0]["host"] == socket.gethostname() and rows[0]["user"] == audit.os_user()
    assert rows[0]["role"] == (role or "")
    assert "intact (1 rows)" in cli("audit", "--verify").output


@pytest.mark.engine("postgresql")
def test_concurrent_appends_on_postgresql_keep_one_chain(engine, store, cli):
    """Several connections append at once: each row chains from the one before (advisory lock)."""
    import os
    import threading

    from dbox.store.db import open_store

    def writer(n):
        with open_store(os.environ["DBOX_DB"]) as own:
            for i in range(15):
                audit.record(own, "export", i, {"writer": n})

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert audit.verify(store) == (60, None)


@pytest.mark.engines
def test_the_hash_covers_host_and_role(store, cli):
    audit.record(store, "export", 1)
    audit.record(store, "export", 2)
    assert "intact (2 rows)" in cli("audit", "--verify").output
    drop_trigger(store, "audit_log_no_update", "audit_log")
    store.execute("UPDATE audit_log SET host = 'autre-machine' WHERE id = 1")
    result = cli("audit", "--verify")
    assert result.exit_code == 1 and "row 1 does not follow" in result.output


@pytest.mark.engines
def test_rows_written_before_schema_16_keep_their_hash(store, cli):
    """A row with no host nor role hashes exactly as before the columns existed."""
    old = hashlib.sha256(json.dumps([store_audit.GENESIS, "2026-01-01T00:00:00Z", "alice", "import", 5, None],
                                    ensure_ascii=False).encode()).hexdigest()
    assert store_audit.row_hash(store_audit.GENESIS, "2026-01-01T00:00:00Z", "alice", "import", 5, None) == old
    store.execute("INSERT INTO audit_log (at, os_user, command, count, detail, hash) VALUES (?,?,?,?,?,?)",
                  ("2026-01-01T00:00:00Z", "alice", "import", 5, None, old))
    audit.record(store, "send", 2)
    assert "intact (2 rows)" in cli("audit", "--verify").output


def test_a_restore_carries_rows_with_their_own_host(store, tmp_path, cli):
    from dbox.privacy.backup import backup, restore

    backup(store, tmp_path / "b.sqlite3")
    store.execute("INSERT INTO audit_log (at, os_user, command, count, detail, hash, host) "
                  "VALUES ('2026-01-02T00:00:00Z', 'bob', 'export', 1, NULL, 'x', 'poste-de-bob')")
    # the row above has a wrong hash on purpose: carried rows are re-chained on restore
    restore(store, tmp_path / "b.sqlite3")
    hosts = {(e.os_user, e.host) for e in audit.entries(store)}
    assert ("bob", "poste-de-bob") in hosts
    assert "intact" in cli("audit", "--verify").output
