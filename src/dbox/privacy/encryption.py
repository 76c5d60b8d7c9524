"""Optional encryption at rest with SQLCipher (the ``sqlcipher3`` module, from ``sqlcipher3-binary``).

dbox's store code talks to a DB-API connection and never to the sqlite3 module itself, so an
encrypted store is an ordinary :class:`~dbox.store.db.Store` whose connection comes from
``sqlcipher3`` after ``PRAGMA key`` (``dbox.store.cipher``, which opens it through the store's one
opening path: same pragmas): the store modules, migrations and backups run unchanged.
What is needed beyond this module is one hook where the CLI opens the store (see docs/privacy.md):
when ``[store] encryption = "sqlcipher"`` is set, call :func:`open_encrypted_store` instead of
``open_store``.

The key comes from ``DBOX_STORE_KEY`` (cron, servers), else the keyring entry ``store-key``.
It never goes to the config file, the store or a log. Lose the key, lose the data: keep it in a
password manager too.
"""

from __future__ import annotations

from pathlib import Path

from dbox.store.cipher import connect_with_key, export_copy, open_encrypted_store
from dbox.secrets import require_secret

__all__ = ["KEY_ENV", "KEY_NAME", "available", "connect_with_key", "decrypt_copy", "encrypt_copy",
           "is_encrypted", "open_encrypted_store", "store_key"]

KEY_NAME = "store-key"
KEY_ENV = "DBOX_STORE_KEY"


def available() -> bool:
    try:
        import sqlcipher3  # noqa: F401
    except ImportError:
        return False
    return True


def store_key() -> str:
    return require_secret(KEY_NAME, KEY_ENV, "the store encryption key", "keyring set dbox store-key")


def is_encrypted(path: Path) -> bool:
    """A SQLCipher file has no plain "SQLite format 3" header."""
    with open(path, "rb") as fh:
        return fh.read(16) != b"SQLite format 3\x00"


def encrypt_copy(plain: Path, target: Path, key: str) -> None:
    """Write an encrypted copy of a plain store (the plain file is left for the caller to remove)."""
    export_copy(plain, None, target, key)


def decrypt_copy(encrypted: Path, target: Path, key: str) -> None:
    """Write a plain copy of an encrypted store (to move back to an unencrypted store)."""
    export_copy(encrypted, key, target, None)
