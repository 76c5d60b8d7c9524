"""Optional encryption at rest with SQLCipher (the ``sqlcipher3`` module, from ``sqlcipher3-binary``).

dbox's store code talks to a DB-API connection (``Store.conn``) and never to the sqlite3 module
itself, so an encrypted store is an ordinary :class:`~dbox.store.db.Store` whose connection comes
from ``sqlcipher3`` after ``PRAGMA key``: the store modules, migrations and backups run unchanged.
What is needed beyond this module is one hook where the CLI opens the store (see docs/privacy.md):
when ``[store] encryption = "sqlcipher"`` is set, call :func:`open_encrypted_store` instead of
``open_store``.

The key comes from ``DBOX_STORE_KEY`` (cron, servers), else the keyring entry ``store-key``.
It never goes to the config file, the store or a log. Lose the key, lose the data: keep it in a
password manager too.
"""

from __future__ import annotations

import os
from pathlib import Path

from dbox.errors import NotConfiguredError, StoreError
from dbox.store.db import BUSY_TIMEOUT_MS, Store, check_file_modes, migrate

KEY_NAME = "store-key"
KEY_ENV = "DBOX_STORE_KEY"


def available() -> bool:
    try:
        import sqlcipher3  # noqa: F401
    except ImportError:
        return False
    return True


def _module():
    try:
        from sqlcipher3 import dbapi2
    except ImportError:
        raise NotConfiguredError("encryption at rest needs SQLCipher, which is not installed",
                                 hint="pip install 'dbox[encryption]' (the sqlcipher3-binary wheel)") from None
    return dbapi2


def store_key() -> str:
    from dbox.secrets import require_secret

    return require_secret(KEY_NAME, KEY_ENV, "the store encryption key", "keyring set dbox store-key")


def _quote(key: str) -> str:
    if not key:
        raise NotConfiguredError("the store encryption key is empty")
    return "'" + key.replace("'", "''") + "'"


def _connect(path: Path, key: str | None):
    dbapi2 = _module()
    conn = dbapi2.connect(str(path), isolation_level=None, check_same_thread=False)
    if key is not None:
        conn.execute(f"PRAGMA key = {_quote(key)}")
    return conn, dbapi2


def open_encrypted_store(path: Path | str, key: str, *, create: bool = True) -> Store:
    """Like ``dbox.store.db.open_store`` (same modes, pragmas and migrations), for a SQLCipher file."""
    path = Path(path).expanduser()
    if not path.exists():
        if not create:
            raise StoreError(f"no store at {path}", hint="run: dbox init")
        if not path.parent.exists():
            path.parent.mkdir(parents=True, mode=0o700)
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    old_umask = os.umask(0o077)
    try:
        conn, dbapi2 = _connect(path, key)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except dbapi2.DatabaseError as exc:
            conn.close()
            raise StoreError(f"{path}: cannot open the encrypted store ({exc}): wrong key, or not a "
                             f"SQLCipher store") from None
        if mode.lower() != "wal":
            raise StoreError(f"{path}: could not switch the store to WAL mode (got {mode})")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
        store = Store(conn, path)
        store.cipher_key = key   # kept in memory only: backups of this store are encrypted with it
        migrate(store)
    finally:
        os.umask(old_umask)
    check_file_modes(path)
    return store


def connect_with_key(path: Path | str, key: str, *, readonly: bool = False):
    """A SQLCipher connection to ``path`` keyed with ``key`` (a backup target or source)."""
    dbapi2 = _module()
    if readonly:
        conn = dbapi2.connect(f"{Path(path).resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    else:
        conn = dbapi2.connect(str(path))
    conn.execute(f"PRAGMA key = {_quote(key)}")
    return conn


def is_encrypted(path: Path) -> bool:
    """A SQLCipher file has no plain "SQLite format 3" header."""
    with open(path, "rb") as fh:
        return fh.read(16) != b"SQLite format 3\x00"


def _export(source: Path, source_key: str | None, target: Path, target_key: str | None) -> None:
    target = Path(target)
    if target.exists():
        raise StoreError(f"{target}: already exists")
    old_umask = os.umask(0o077)
    try:
        os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        conn, dbapi2 = _connect(Path(source), source_key)
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            key_sql = _quote(target_key) if target_key is not None else "''"
            conn.execute(f"ATTACH DATABASE ? AS target KEY {key_sql}", (str(target),))
            conn.execute("SELECT sqlcipher_export('target')").fetchone()
            conn.execute(f"PRAGMA target.user_version = {int(version)}")
            conn.execute("DETACH DATABASE target")
        except dbapi2.DatabaseError as exc:
            target.unlink(missing_ok=True)
            raise StoreError(f"{source}: cannot copy the store ({exc})") from None
        finally:
            conn.close()
    finally:
        os.umask(old_umask)


def encrypt_copy(plain: Path, target: Path, key: str) -> None:
    """Write an encrypted copy of a plain store (the plain file is left for the caller to remove)."""
    _export(plain, None, target, key)


def decrypt_copy(encrypted: Path, target: Path, key: str) -> None:
    """Write a plain copy of an encrypted store (to move back to an unencrypted store)."""
    _export(encrypted, key, target, None)
