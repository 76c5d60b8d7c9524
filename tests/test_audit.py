"""The audit log: append-only (triggers), chained by hash (tampering shows), readable with dbox audit."""

import json

import pytest

from dbox.privacy import audit
from tests.conftest import write_csv

pytestmark = pytest.mark.engines


def drop_trigger(store, name: str, table: str) -> None:
    """What someone holding the file (SQLite) or a superuser's connection (PostgreSQL) can do."""
    store.execute(f"DROP TRIGGER {name}" + (f" ON {table}" if store.engine == "postgresql" else ""))


def test_record_and_read_back(store):
    first = audit.record(store, "import", 120, {"file": "adherents.csv"})
    second = audit.record(store, "send", 80, {"campaign": 3})
    rows = list(audit.entries(store))
    assert [r.id for r in rows] == [second, first]
    assert rows[1].command == "import" and rows[1].count == 120 and rows[1].detail == {"file": "adherents.csv"}
    assert rows[1].os_user == audit.os_user() and rows[1].at.endswith("Z")
    assert [r.command for r in audit.entries(store, command="send")] == ["send"]
    with pytest.raises(ValueError):
        audit.record(store, " ", 1)


def test_rows_cannot_be_changed_or_removed(store):
    audit.record(store, "import", 1, {"file": "a.csv"})
    with pytest.raises(store.IntegrityError, match="the audit log is append-only"):
        store.execute("UPDATE audit_log SET count = 0")
    with pytest.raises(store.IntegrityError, match="the audit log is append-only"):
        store.execute("DELETE FROM audit_log")
    assert store.execute("SELECT count FROM audit_log").fetchall() == [(1,)]


def test_verify_finds_a_row_changed_behind_dbox_s_back(cli, store):
    for n in range(3):
        audit.record(store, "export", n, {"n": n})
    assert "The audit log is intact (3 rows)." in cli("audit", "--verify").output
    # someone with the file drops the trigger and edits a row
    drop_trigger(store, "audit_log_no_update", "audit_log")
    store.execute("UPDATE audit_log SET count = 999 WHERE id = 2")
    result = cli("audit", "--verify")
    assert result.exit_code == 1
    assert "Error: the audit log was altered: row 2 does not follow from the rows before it (1 rows check out " \
           "before it)" in result.output


def test_cli_lists_newest_first_with_filters(cli, store, tmp_path):
    path = write_csv(tmp_path / "p.csv", "Nom;Prénom;Courriel\nMartin;Alice;alice@exemple.fr\n")
    cli("import", path)   # dbox import records itself in the log
    cli("privacy", "export", "1")
    cli("consent", "withdraw", "1", "-C", "sms")
    rows = json.loads(cli("audit", "--format", "json").output)
    assert [r["command"] for r in rows] == ["consent withdraw", "privacy export", "import"]
    assert json.loads(rows[1]["detail"]) == {"contact_id": 1}
    only = json.loads(cli("audit", "--command", "privacy", "--format", "json").output)
    assert [r["command"] for r in only] == ["privacy export"]
    assert json.loads(cli("audit", "--since", "2999-01-01", "--format", "json").output) == []
    assert json.loads(cli("audit", "--user", "nobody-here", "--format", "json").output) == []
    bad = cli("audit", "--since", "hier")
    assert bad.exit_code == 3 and "Error: --since: expected a date like 2027-06-20, got 'hier'" in bad.output


def test_the_log_holds_no_address(cli, store, tmp_path):
    path = write_csv(tmp_path / "p.csv", "Nom;Prénom;Courriel;Portable\nMartin;Alice;alice@exemple.fr;0612345678\n")
    cli("import", path)
    for args in (("privacy", "export", "alice@exemple.fr"), ("consent", "withdraw", "+33612345678", "-C", "sms"),
                 ("privacy", "rectify", "1", "--set", "email=alice2@exemple.fr"),
                 ("privacy", "forget", "1", "--yes")):
        assert cli(*args).exit_code == 0
    dump = repr(store.execute("SELECT * FROM audit_log").fetchall())
    assert "alice" not in dump.lower() and "612345678" not in dump
