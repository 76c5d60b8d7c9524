"""SQLCipher connections (the ``sqlcipher3`` module, from ``sqlcipher3-binary``): the store's
engine-specific side of encryption at rest. Key handling and the policy are in
:mod:`dbox.privacy.encryption`; docs/privacy.md describes both.

An encrypted store is an ordinary :class:`~dbox.store.db.Store` whose connection comes from
``sqlcipher3`` after ``PRAGMA key``; it is opened by ``dbox.store.db``'s one opening path, so it gets
the same modes, pragmas and migrations as a plain store.
"""

from __future__ import annotations

import os
from pathlib import Path

from dbox.errors import NotConfiguredError, StoreError
from dbox.store.db import Store, open_connection
from dbox.i18n import N_, _


def _module():
    try:
        from sqlcipher3 import dbapi2
    except ImportError:
        raise NotConfiguredError(_("encryption at rest needs SQLCipher, which is not installed"),
                                 hint=_("pip install 'dbox[encryption]' (the sqlcipher3-binary wheel)")) from None
    return dbapi2


def _quote(key: str) -> str:
    if not key:
        raise NotConfiguredError(_("the store encryption key is empty"))
    return "'" + key.replace("'", "''") + "'"


def _connect(path: Path, key: str | None):
    dbapi2 = _module()
    conn = dbapi2.connect(str(path), isolation_level=None, check_same_thread=False)
    if key is not None:
        conn.execute(f"PRAGMA key = {_quote(key)}")
    return conn, dbapi2


def open_encrypted_store(path: Path | str, key: str, *, create: bool = True) -> Store:
    """Like ``dbox.store.db.open_store`` (same modes, pragmas and migrations), for a SQLCipher file."""
    dbapi2 = _module()

    def connect(target: Path):
        return _connect(target, key)[0]

    return open_connection(path, connect, create=create, errors=(dbapi2.DatabaseError,),
                           failure=N_("{path}: cannot open the encrypted store ({exc}): wrong key, or not a "
                                      "SQLCipher store"), cipher_key=key)


def connect_with_key(path: Path | str, key: str, *, readonly: bool = False):
    """A SQLCipher connection to ``path`` keyed with ``key`` (a backup target or source)."""
    dbapi2 = _module()
    if readonly:
        conn = dbapi2.connect(f"{Path(path).resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    else:
        conn = dbapi2.connect(str(path))
    conn.execute(f"PRAGMA key = {_quote(key)}")
    return conn


def export_copy(source: Path, source_key: str | None, target: Path, target_key: str | None) -> None:
    """Copy a store file to a new file with another key (``None``: plain), with ``sqlcipher_export``."""
    target = Path(target)
    if target.exists():
        raise StoreError(_("{target}: already exists").format(target=target))
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
            raise StoreError(_("{source}: cannot copy the store ({exc})").format(source=source, exc=exc)) from None
        finally:
            conn.close()
    finally:
        os.umask(old_umask)
