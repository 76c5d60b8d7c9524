"""dbox backup / restore, and file modes under a permissive umask."""

import os
import stat

import pytest

from dbox.privacy import audit
from dbox.store import privacy as sp
from dbox.store.contacts import count_contacts
from dbox.store.db import open_store
from tests.conftest import write_csv

PEOPLE = ("Nom;Prénom;Courriel;Tél. portable;Accord SMS;Accord e-mail\n"
          "Martin;Alice;alice@exemple.fr;0612345678;oui;oui\n"
          "Durand;Bruno;bruno@exemple.fr;0623456789;oui;oui\n"
          "Petit;Chloé;chloe@exemple.fr;0634567890;oui;oui\n")


@pytest.fixture
def people(store, cli, tmp_path):
    path = write_csv(tmp_path / "people.csv", PEOPLE)
    assert cli("import", path).exit_code == 0
    return path


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_store_and_backup_files_are_private_under_umask_022(cli, people, tmp_path):
    old = os.umask(0o022)
    try:
        db = tmp_path / "fresh" / "dbox.sqlite3"
        assert cli("--db", db, "import", people).exit_code == 0
        assert cli("--db", db, "consent", "withdraw", "1", "-C", "sms").exit_code == 0
        result = cli("--db", db, "backup", tmp_path / "save.sqlite3")
    finally:
        os.umask(old)
    assert result.exit_code == 0 and "Backed up 3 contacts to" in result.output
    assert mode(db) == 0o600 and mode(db.parent) == 0o700
    for suffix in ("-wal", "-shm"):
        if os.path.exists(str(db) + suffix):
            assert mode(str(db) + suffix) == 0o600
    assert mode(tmp_path / "save.sqlite3") == 0o600
    assert sorted(p.name for p in tmp_path.iterdir() if "save" in p.name) == ["save.sqlite3"]


def test_backup_refuses_to_overwrite_or_to_copy_onto_the_store(cli, people, tmp_path):
    target = tmp_path / "b.sqlite3"
    target.write_text("keep me")
    result = cli("backup", target)
    assert result.exit_code == 3 and f"Error: {target}: already exists" in result.output
    assert "hint: add --force to overwrite it" in result.output
    assert target.read_text() == "keep me"
    onto = cli("backup", os.environ["DBOX_DB"])
    assert onto.exit_code == 3 and "that is the store itself" in onto.output
    assert cli("backup", target, "--force").exit_code == 0
    assert open_store(target).execute("SELECT count(*) FROM contacts").fetchone()[0] == 3


def test_restore_brings_the_data_back_but_not_the_erased_or_the_opposed(cli, people, store, tmp_path):
    assert cli("backup", tmp_path / "b.sqlite3").exit_code == 0
    assert cli("privacy", "forget", "bruno@exemple.fr", "--yes").exit_code == 0
    assert cli("consent", "withdraw", "chloe@exemple.fr", "-C", "email", "--source", "unsubscribe").exit_code == 0
    assert cli("privacy", "rectify", "1", "--set", "first_name=Alicia").exit_code == 0
    log_before = [(e.command, e.count) for e in audit.entries(store, newest_first=False)]

    result = cli("restore", tmp_path / "b.sqlite3", "--yes")
    assert result.exit_code == 0, result.output
    assert "erased again 1 people erased since the backup, withdrew again 1 consents" in result.output
    assert count_contacts(store) == 2                                   # Bruno stays erased
    assert sp.contact_row(store, 1)["first_name"] == "Alice"             # data as it was in the backup
    assert sp.current_consent(store, 3, "email")[0] == "withdrawn"       # Chloé's opposition holds
    log_after = [(e.command, e.count) for e in audit.entries(store, newest_first=False)]
    assert log_after[:len(log_before)] == log_before                     # nothing lost from the log
    assert log_after[-1][0] == "restore"
    assert audit.verify(store) == (len(log_after), None)
    assert store.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_restore_needs_confirmation_and_a_real_backup(cli, people, store, tmp_path):
    backup = tmp_path / "b.sqlite3"
    cli("backup", backup)
    unconfirmed = cli("restore", backup)
    assert unconfirmed.exit_code == 1 and "Not confirmed: no terminal to ask on" in unconfirmed.output
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all" * 100)
    before = count_contacts(store)
    result = cli("restore", junk, "--yes")
    assert result.exit_code == 3 and f"Error: {junk}: not a dbox store (file is not a database)" in result.output
    missing = cli("restore", tmp_path / "nope.sqlite3", "--yes")
    assert missing.exit_code == 3 and f"Error: {tmp_path / 'nope.sqlite3'}: no such file" in missing.output
    assert count_contacts(store) == before


def test_backup_is_audited(cli, people, store, tmp_path):
    cli("backup", tmp_path / "b.sqlite3")
    last = next(audit.entries(store, limit=1))
    assert (last.command, last.count, last.detail) == ("backup", 3, {"file": "b.sqlite3"})
