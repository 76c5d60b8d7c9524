import os
import sqlite3
import stat

import pytest

from dbox.errors import StoreError
from dbox.store.db import open_store, schema_version


def test_store_created_0600_wal_foreign_keys(tmp_path):
    old = os.umask(0o022)
    try:
        s = open_store(tmp_path / "new" / "dbox.sqlite3")
    finally:
        os.umask(old)
    path = tmp_path / "new" / "dbox.sqlite3"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    s.execute("INSERT INTO meta VALUES ('x', 'y')")
    for suffix in ("-wal", "-shm"):
        assert stat.S_IMODE(os.stat(str(path) + suffix).st_mode) == 0o600
    assert s.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert s.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert s.execute("PRAGMA user_version").fetchone()[0] == schema_version()
    s.close()


def test_loose_store_mode_is_tightened_with_a_warning(tmp_path):
    path = tmp_path / "s.sqlite3"
    open_store(path).close()
    os.chmod(path, 0o644)
    with pytest.warns(UserWarning, match="tightened to 600"):
        open_store(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_store_newer_than_dbox_is_refused(tmp_path):
    path = tmp_path / "s.sqlite3"
    open_store(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    with pytest.raises(StoreError, match="newer than this dbox"):
        open_store(path)


def test_not_a_store(tmp_path):
    path = tmp_path / "junk.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a dbox store"):
        open_store(path)


def test_init_prints_where_the_store_is(cli, tmp_path):
    result = cli("--db", tmp_path / "x.sqlite3", "init")
    assert result.exit_code == 0
    assert f"Created store: {tmp_path / 'x.sqlite3'}" in result.output
    result = cli("--db", tmp_path / "x.sqlite3", "init")
    assert f"Store: {tmp_path / 'x.sqlite3'}" in result.output
