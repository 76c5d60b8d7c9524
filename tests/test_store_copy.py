"""``dbox store copy`` (issue 14 item 5): the demo store from SQLite to PostgreSQL and back, every
table equal, the audit chain verified, suppressions and erasures kept; a destination holding data
refused unless --replace; a refused row leaves the destination as it was."""

import shutil

from dbox.importing.pipeline import ImportOptions, import_file
from dbox.privacy import audit
from dbox.privacy.rights import forget
from dbox.store import copy as store_copy
from dbox.store import ledger
from dbox.store.db import open_store
from dbox.store.suppressions import add as suppress
from tests.conftest import EXAMPLES

SMS = ledger.Reach("sms", "mobile")


def demo_store(store, tmp_path):
    """The demo data with what must survive a copy: an erasure, an opt-out, a tag."""
    csv = tmp_path / "contacts.csv"
    shutil.copyfile(EXAMPLES / "contacts.csv", csv)
    import_file(store, csv, ImportOptions())
    first, second, third = [cid for (cid,) in store.execute(
        "SELECT id FROM contacts c WHERE mobile IS NOT NULL AND EXISTS (SELECT 1 FROM consents k "
        "WHERE k.contact_id = c.id AND k.channel = 'sms' AND k.status = 'granted') ORDER BY id LIMIT 3")]
    stop, opted_out = [store.execute("SELECT mobile FROM contacts WHERE id = ?", (cid,)).fetchone()[0]
                       for cid in (second, third)]
    ledger.record_optout(store, SMS, stop, source="test", detail="STOP", reason="opt-out")   # a STOP reply
    suppress(store, "phone", opted_out, "opt-out")          # on the list, consent still granted
    forget(store, first)
    suppress(store, "email", "ancien@example.org", "complaint")
    return opted_out


def table_rows(store, table):
    return sorted(store.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)


def assert_same_tables(a, b):
    """Every table holds the same rows in both stores; the audit logs too, but for the rows each
    copy added ("store copy": the source notes it was read, the destination that it was written)."""
    names = store_copy.tables(a)
    assert names == store_copy.tables(b)
    for table in names:
        rows_a, rows_b = table_rows(a, table), table_rows(b, table)
        if table == "audit_log":
            rows_a, rows_b = ([r for r in rows if r[3] != "store copy"] for rows in (rows_a, rows_b))
        assert rows_a == rows_b, table


def reachable(store):
    return ledger.audience_counts(store, SMS, "1 = 1")


def test_demo_store_to_postgresql_and_back(store, tmp_path, pg_database, cli):
    opted_out = demo_store(store, tmp_path)
    before = reachable(store)
    assert before.get("opted-out") == 1 and before.get("consent-withdrawn") == 1
    contacts = store_copy.count(store, "contacts")
    source = str(store.path)

    to_pg = cli("store", "copy", source, pg_database)
    assert to_pg.exit_code == 0, to_pg.output
    assert f"({contacts:,} contacts) from {source} to {pg_database}" in to_pg.output
    assert "The copied audit log is intact" in to_pg.output
    back_path = tmp_path / "back" / "dbox.sqlite3"
    back = cli("store", "copy", pg_database, back_path)
    assert back.exit_code == 0, back.output

    with open_store(pg_database) as pg, open_store(back_path) as copy:
        assert audit.verify(pg)[1] is None and audit.verify(copy)[1] is None
        assert_same_tables(pg, copy)
        assert_same_tables(store, copy)
        # each destination notes what it was written from; each source, after the copy, that it was read
        copies = [e.detail for e in audit.entries(copy, command="store copy", newest_first=False)]
        n = len(store_copy.tables(store))
        assert [(d["from"], d["tables"]) for d in copies] == [("sqlite", n), ("postgresql", n)]
        assert [e.detail["to"] for e in audit.entries(store, command="store copy")] == ["postgresql"]
        assert [e.detail.get("to") for e in audit.entries(pg, command="store copy")] == ["sqlite", None]
        # what protects people holds in both copies: the opted-out number and the erased contact
        assert reachable(copy) == before
        assert copy.execute("SELECT count(*) FROM contacts WHERE mobile = ?", (opted_out,)).fetchone()[0] == 1
        assert store_copy.count(copy, "contacts") == contacts
        for target in (pg, copy):
            assert [r for r in audit.entries(target, command="privacy forget")], "the erasure's row is kept"
            assert store_copy.count(target, "suppressions") == store_copy.count(store, "suppressions") >= 4
    assert oct(back_path.stat().st_mode & 0o777) == "0o600"


def test_a_destination_holding_data_is_refused_unless_replace(store, tmp_path, pg_database, cli):
    demo_store(store, tmp_path)
    assert cli("store", "copy", store.path, pg_database).exit_code == 0
    other = tmp_path / "other.sqlite3"
    with open_store(other) as o:
        audit.record(o, "import", 1, {"file": "x.csv"})
        o.execute("INSERT INTO tags (name, key) VALUES ('ancien', 'ancien')")

    refused = cli("store", "copy", pg_database, other)
    assert refused.exit_code == 3
    assert "already holds data: audit_log (1), tags (1)" in refused.output
    assert "--replace" in refused.output
    with open_store(other) as o:
        assert [t for (t,) in o.execute("SELECT name FROM tags")] == ["ancien"]

    no_terminal = cli("store", "copy", pg_database, other, "--replace")      # asks; no terminal: refuses
    assert no_terminal.exit_code != 0 and "Not confirmed" in no_terminal.output
    replaced = cli("store", "copy", pg_database, other, "--replace", "--yes")
    assert replaced.exit_code == 0, replaced.output
    assert "Replaced 2 rows the destination held." in replaced.output
    with open_store(other) as o, open_store(pg_database) as pg:
        assert_same_tables(pg, o)
        assert audit.verify(o)[1] is None
        assert "ancien" not in [t for (t,) in o.execute("SELECT name FROM tags")]

    same = cli("store", "copy", other, other)
    assert same.exit_code == 3 and "the same store" in same.output


def test_a_refused_row_leaves_the_destination_as_it_was(store, tmp_path, pg_database, cli):
    demo_store(store, tmp_path)
    # SQLite keeps any value in any column; PostgreSQL's BIGINT refuses this one
    store.execute("UPDATE contact_sources SET row_number = 'douze' WHERE contact_id = (SELECT max(contact_id) FROM contact_sources)")
    failed = cli("store", "copy", store.path, pg_database)
    assert failed.exit_code == 4
    assert "table contact_sources, row" in failed.output and "nothing was written to the destination" in failed.output
    with open_store(pg_database) as pg:
        assert store_copy.data_tables(pg) == {}
    missing = tmp_path / "nothing-here.sqlite3"
    result = cli("store", "copy", missing, tmp_path / "dst.sqlite3")
    assert result.exit_code == 4 and "no store at" in result.output
    assert not (tmp_path / "dst.sqlite3").exists()


def test_copy_between_two_sqlite_files(store, tmp_path):
    """The library on its own, without PostgreSQL: a store into a new file, then the copy checked."""
    demo_store(store, tmp_path)
    with open_store(tmp_path / "copy.sqlite3") as dst:
        report = store_copy.copy_store(store, dst)
        assert report.rows["contacts"] == store_copy.count(store, "contacts")
        assert report.rows["geo_communes"] == 0           # the same reference data: left as it is
        assert_same_tables(store, dst)
        assert audit.verify(dst)[1] is None
