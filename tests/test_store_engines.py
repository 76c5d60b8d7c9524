"""The store on both engines: one schema in two forms, migrations recorded by name, the URL rules,
and the dialect's rewrites (docs/store.md)."""

import os
import socket
from importlib import resources

import pytest

from dbox.errors import StoreError
from dbox.store import dialect
from dbox.store.db import _migrations, open_store


def test_every_migration_ships_in_both_forms():
    folder = resources.files("dbox.store") / "migrations"
    sqlite = sorted(e.name for e in folder.iterdir() if e.name.endswith(".sql"))
    postgres = sorted(e.name for e in (folder / "postgresql").iterdir() if e.name.endswith(".sql"))
    assert sqlite == postgres
    assert [n for n, _, _ in _migrations("sqlite")] == [n for n, _, _ in _migrations("postgresql")]


@pytest.mark.engines
def test_init_creates_and_then_shows_the_store(engine, cli):
    first = cli("init")
    assert first.exit_code == 0, first.output
    # a PostgreSQL test database is a copy of a migrated template: the store is there already
    assert ("Created store" in first.output) == (engine == "sqlite") and "34,920 communes" in first.output
    again = cli("init")
    assert again.exit_code == 0 and "Created" not in again.output
    if engine == "postgresql":
        assert "postgresql://postgres@127.0.0.1:" in again.output


@pytest.mark.engine("postgresql")
def test_same_tables_and_columns_on_both_engines(store, template_store):
    sqlite = open_store(template_store)
    try:
        tables = [t for (t,) in sqlite.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        expected = {t: [row[1] for row in sqlite.execute(f'PRAGMA table_info("{t}")')] for t in tables}
        counts = {t: sqlite.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    finally:
        sqlite.close()
    found = {}
    for (table,) in store.execute("SELECT table_name FROM information_schema.tables "
                                  "WHERE table_schema = current_schema() ORDER BY table_name"):
        found[table] = [c for (c,) in store.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = ? ORDER BY ordinal_position", (table,))]
    assert found == expected
    for table in tables:
        if table != "schema_migrations":
            assert store.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] == counts[table], table


@pytest.mark.engines
def test_migrations_are_recorded_by_name(store):
    names = [n for (n,) in store.execute("SELECT name FROM schema_migrations ORDER BY name")]
    assert names == [name for _, name, _ in _migrations(store.engine)]


def test_a_store_from_before_the_names_table_is_upgraded_in_place(tmp_path, monkeypatch):
    from dbox.store import db

    # made by a dbox that knew migrations 1 to 9 only (later ones, such as ALTER TABLE ADD COLUMN,
    # cannot run twice: the store really is as that dbox left it)
    every = db._migrations
    monkeypatch.setattr(db, "_migrations", lambda engine="sqlite": [m for m in every(engine) if m[0] <= 9])
    path = tmp_path / "old" / "dbox.sqlite3"
    s = open_store(path)
    s.execute("DROP TABLE schema_migrations")
    assert s.execute("PRAGMA user_version").fetchone()[0] == 9
    s.close()
    monkeypatch.setattr(db, "_migrations", every)
    s = open_store(path)
    try:
        names = [n for (n,) in s.execute("SELECT name FROM schema_migrations ORDER BY name")]
        assert names == [name for _, name, _ in _migrations("sqlite")]
        assert s.execute("PRAGMA user_version").fetchone()[0] == _migrations("sqlite")[-1][0]
        # 0010 ran (its table holds what the earlier events said), 1 to 9 did not run again
        assert s.execute("SELECT count(*) FROM geo_communes").fetchone()[0] > 30000
    finally:
        s.close()


def test_a_store_with_a_migration_this_dbox_does_not_know_is_refused(tmp_path, template_store):
    from tests.conftest import copy_store

    path = copy_store(template_store, tmp_path / "new" / "dbox.sqlite3")
    s = open_store(path)
    s.execute("INSERT INTO schema_migrations (name, applied_at) VALUES ('0999_future.sql', 'x')")
    s.close()
    with pytest.raises(StoreError, match="0999_future.sql is newer than this dbox"):
        open_store(path)


def test_a_password_in_the_url_is_refused_and_never_shown(cli):
    result = cli("--db", "postgresql://ann:s3cret@127.0.0.1:5432/campaign", "init")
    assert result.exit_code != 0
    assert "s3cret" not in result.output
    assert "Error: postgresql://ann@127.0.0.1:5432/campaign: a password in the store URL" in result.output


def test_a_server_that_does_not_answer_is_one_error_line(cli, monkeypatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("DBOX_DB", f"postgresql://ann@127.0.0.1:{port}/campaign")
    monkeypatch.setenv("PGPASSWORD", "not-shown")
    result = cli("init")
    assert result.exit_code != 0
    assert result.output.startswith(f"Error: postgresql://ann@127.0.0.1:{port}/campaign: cannot connect to PostgreSQL")
    assert "not-shown" not in result.output


def test_mask_url():
    from dbox.store.pg import mask_url

    assert mask_url("postgresql://ann:pw@host:5432/db") == "postgresql://ann@host:5432/db"
    assert mask_url("postgresql://ann@host/db") == "postgresql://ann@host/db"
    assert mask_url("postgresql://host/db") == "postgresql://host/db"


def test_dialect_rewrites():
    pg = dialect.to_postgres
    assert pg("SELECT a FROM t WHERE b = ? AND c LIKE 'x%?'") == "SELECT a FROM t WHERE b = %s AND c LIKE 'x%%?'"
    assert pg("SELECT '%'", False) == "SELECT '%'"
    assert pg("BEGIN IMMEDIATE") == "BEGIN"
    assert pg("INSERT OR IGNORE INTO tags (name, key) VALUES (?, ?)") == \
        "INSERT INTO tags (name, key) VALUES (%s, %s) ON CONFLICT DO NOTHING"
    assert pg("INSERT OR IGNORE INTO t (a) VALUES (?) RETURNING id") == \
        "INSERT INTO t (a) VALUES (%s) ON CONFLICT DO NOTHING RETURNING id"
    assert pg("INSERT OR REPLACE INTO meta (key, value) VALUES ('k', ?)") == \
        "INSERT INTO meta (key, value) VALUES ('k', %s) ON CONFLICT (key) DO UPDATE SET \"value\" = EXCLUDED.\"value\""
    with pytest.raises(ValueError, match="REPLACE_KEYS"):
        pg("INSERT OR REPLACE INTO nowhere (a) VALUES (?)")
    assert pg("INSERT INTO temp.keys (a) VALUES (?)") == "INSERT INTO pg_temp.keys (a) VALUES (%s)"
    assert pg("SELECT x::text FROM t WHERE a = :a AND b = :b_2 AND c = '10:00'", named=True) == \
        "SELECT x::text FROM t WHERE a = %(a)s AND b = %(b_2)s AND c = '10:00'"
    assert pg("SELECT 1 LIMIT :n", named=True) == "SELECT 1 LIMIT %(n)s"
    assert pg("SELECT a FROM t WHERE b = ? AND c = :x") == "SELECT a FROM t WHERE b = %s AND c = :x"


@pytest.mark.engines
def test_named_parameters_and_sums_read_the_same_on_both_engines(store):
    """``:name`` parameters with a dict; a sum of integers is an int and an average a float on
    both (PostgreSQL's NUMERIC would otherwise come back as a Decimal)."""
    store.executemany("INSERT INTO tags (name, key) VALUES (?, ?)", [("a", "a"), ("b", "b"), ("c", "c")])
    row = store.execute("SELECT count(*), sum(id), avg(id) FROM tags WHERE key <> :k AND name <> :k",
                        {"k": "c"}).fetchone()
    assert row == (2, row[1], row[2]) and type(row[1]) is int and type(row[2]) is float
    assert row[2] == row[1] / 2


@pytest.mark.engines
def test_values_in_matches_on_both_engines(store):
    where, params = store.values_in("insee", ["38185", "75056", "nope"])
    found = sorted(i for (i,) in store.execute(f"SELECT insee FROM geo_communes WHERE {where}", params))
    assert found == ["38185", "75056"]
    where, params = store.values_in("insee", [])
    assert store.execute(f"SELECT count(*) FROM geo_communes WHERE {where}", params).fetchone()[0] == 0


@pytest.mark.engines
def test_integrity_errors_are_the_stores_own_class(store):
    store.execute("INSERT INTO tags (name, key) VALUES ('a', 'a')")
    with pytest.raises(store.IntegrityError):
        store.execute("INSERT INTO tags (name, key) VALUES ('b', 'a')")
    with store.transaction():
        with pytest.raises(store.IntegrityError):
            with store.savepoint():
                store.execute("INSERT INTO tags (name, key) VALUES ('c', 'a')")
        store.execute("INSERT INTO tags (name, key) VALUES ('d', 'd')")   # the transaction goes on
    assert store.execute("SELECT count(*) FROM tags").fetchone()[0] == 2


def test_no_postgres_url_without_the_variable_in_ci():
    """CI (.ci/run) starts a server and exports its URL: the PostgreSQL tests ran there."""
    if os.environ.get("CI") == "true":
        assert os.environ.get("DBOX_TEST_POSTGRES", "").startswith("postgresql://")
