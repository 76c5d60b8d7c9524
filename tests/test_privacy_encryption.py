"""Encryption at rest: an SQLCipher store runs the ordinary store code (import, erasure, backup)."""

import os
import stat

import pytest

pytest.importorskip("sqlcipher3")

from dbox.errors import NotConfiguredError, StoreError  # noqa: E402
from dbox.importing.pipeline import import_file  # noqa: E402
from dbox.privacy import encryption, rights  # noqa: E402
from dbox.privacy.backup import backup  # noqa: E402
from dbox.store.contacts import count_contacts, find_contact  # noqa: E402
from dbox.store.db import open_store  # noqa: E402
from tests.conftest import write_csv  # noqa: E402

PEOPLE = "Nom;Prénom;Courriel;Tél. portable\nMartin;Alice;alice@exemple.fr;0612345678\nDurand;Bruno;bruno@exemple.fr;0623456789\n"


def test_an_encrypted_store_runs_the_ordinary_store_code(tmp_path):
    path = tmp_path / "secret" / "dbox.sqlite3"
    old = os.umask(0o022)
    try:
        store = encryption.open_encrypted_store(path, "correct horse battery staple")
    finally:
        os.umask(old)
    try:
        assert import_file(store, write_csv(tmp_path / "p.csv", PEOPLE)).counts["added"] == 2
        rights.forget(store, find_contact(store, "bruno@exemple.fr"))
        assert count_contacts(store) == 1
        backup(store, tmp_path / "copy.sqlite3")
    finally:
        store.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    raw = path.read_bytes()
    assert encryption.is_encrypted(path) and b"alice@exemple.fr" not in raw and b"Martin" not in raw
    assert encryption.is_encrypted(tmp_path / "copy.sqlite3")      # the backup is encrypted with the same key
    with pytest.raises(StoreError, match="wrong key, or not a SQLCipher store"):
        encryption.open_encrypted_store(path, "wrong key")
    reopened = encryption.open_encrypted_store(path, "correct horse battery staple")
    assert count_contacts(reopened) == 1
    from dbox.privacy.backup import restore

    assert restore(reopened, tmp_path / "copy.sqlite3").source.contacts == 1
    assert count_contacts(reopened) == 1 and encryption.is_encrypted(path)
    reopened.close()


def test_convert_a_plain_store_both_ways(tmp_path):
    plain = open_store(tmp_path / "plain.sqlite3")
    import_file(plain, write_csv(tmp_path / "p.csv", PEOPLE))
    plain.close()
    encryption.encrypt_copy(tmp_path / "plain.sqlite3", tmp_path / "enc.sqlite3", "k3y")
    assert encryption.is_encrypted(tmp_path / "enc.sqlite3")
    store = encryption.open_encrypted_store(tmp_path / "enc.sqlite3", "k3y", create=False)
    assert count_contacts(store) == 2
    store.close()
    encryption.decrypt_copy(tmp_path / "enc.sqlite3", tmp_path / "back.sqlite3", "k3y")
    again = open_store(tmp_path / "back.sqlite3")
    assert count_contacts(again) == 2
    again.close()
    with pytest.raises(StoreError, match="already exists"):
        encryption.encrypt_copy(tmp_path / "plain.sqlite3", tmp_path / "enc.sqlite3", "k3y")


def test_the_key_comes_from_the_environment_or_the_keyring(monkeypatch):
    monkeypatch.delenv(encryption.KEY_ENV, raising=False)
    with pytest.raises(NotConfiguredError, match="the store encryption key is not set"):
        encryption.store_key()
    from dbox.secrets import set_secret

    set_secret(encryption.KEY_NAME, "from-keyring")
    assert encryption.store_key() == "from-keyring"
    monkeypatch.setenv(encryption.KEY_ENV, "from-env")
    assert encryption.store_key() == "from-env"
