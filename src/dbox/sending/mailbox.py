"""Where bounce reports are read from: an IMAP mailbox (the standard library's imaplib), a Maildir
folder or an mbox file. Each source yields ``(key, raw bytes)``; none of them changes the mailbox
(IMAP ``EXAMINE``, read-only): dbox remembers what it read instead.

IMAP reads only the messages after the last UID it processed (kept in the store's ``meta`` with the
folder's ``UIDVALIDITY``; a new UIDVALIDITY reads the folder again, and the reports already
recorded are skipped by their Message-ID). The password is a secret like the SMTP one: the keyring
(``dbox channels setup email --secret-stdin imap_password``) or ``DBOX_IMAP_PASSWORD``.
"""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dbox.errors import InputError, NotConfiguredError, ProviderError
from dbox.i18n import _

_LOOPBACK = ("127.0.0.1", "::1", "localhost")
BATCH = 50


def read_maildir(path: Path) -> Iterator[tuple[str, bytes]]:
    folder = Path(path)
    if not (folder / "cur").is_dir() and not (folder / "new").is_dir():
        raise InputError(_("{folder}: not a Maildir folder (no cur/ or new/ inside)").format(folder=folder))
    box = mailbox.Maildir(folder, factory=None, create=False)
    for key in sorted(box.iterkeys()):
        yield key, box.get_bytes(key)


def read_mbox(path: Path) -> Iterator[tuple[str, bytes]]:
    file = Path(path)
    if not file.is_file():
        raise InputError(_("{file}: no such mbox file").format(file=file))
    box = mailbox.mbox(file, factory=None, create=False)
    try:
        for key in box.iterkeys():
            yield str(key), box.get_bytes(key)
    finally:
        box.close()


class ImapSource:
    """One IMAP folder, read from the UID after ``last_uid`` (same UIDVALIDITY), in batches."""

    def __init__(self, settings: dict[str, Any]):
        self.host = settings.get("imap_host")
        if not self.host:
            raise NotConfiguredError(_("no bounce mailbox: imap_host is not set"),
                                     hint=_("dbox channels setup email --set imap_host=... --set imap_username=... (or DBOX_IMAP_HOST), or read a folder: --maildir DIR / --mbox FILE"))
        self.security = str(settings.get("imap_security") or "ssl").lower()
        if self.security not in ("ssl", "starttls", "none"):
            raise NotConfiguredError(_("imap_security {security!r}: use ssl, starttls or none").format(
                                         security=self.security))
        if self.security == "none" and self.host not in _LOOPBACK:
            raise NotConfiguredError(_("imap_security 'none' is only allowed for a server on this machine, not {host}").format(
                                         host=self.host), hint=_("use ssl or starttls"))
        self.port = int(settings.get("imap_port") or (993 if self.security == "ssl" else 143))
        self.username = settings.get("imap_username")
        self.password = settings.get("imap_password")
        missing = [env for env, value in (("DBOX_IMAP_USERNAME", self.username), ("DBOX_IMAP_PASSWORD",
                                                                                  self.password)) if not value]
        if missing:
            raise NotConfiguredError(_("bounce mailbox {host}: {items} not set").format(
                                         host=self.host, items=', '.join(missing)),
                                     hint=_("set {items} in the environment, or: dbox channels setup email "
                                            "--set imap_username=... --secret-stdin imap_password").format(
                                         items=", ".join(missing)))
        self.folder = str(settings.get("imap_folder") or "INBOX")
        self.timeout = float(settings.get("timeout") or 30)
        self.conn = None
        self.uidvalidity: str | None = None

    @property
    def key(self) -> str:
        return f"bounces.imap.{self.username}@{self.host}:{self.port}/{self.folder}"

    def open(self) -> None:
        import imaplib
        import ssl

        try:
            if self.security == "ssl":
                conn = imaplib.IMAP4_SSL(self.host, self.port, ssl_context=ssl.create_default_context(),
                                         timeout=self.timeout)
            else:
                conn = imaplib.IMAP4(self.host, self.port, timeout=self.timeout)
                if self.security == "starttls":
                    conn.starttls(ssl_context=ssl.create_default_context())
        except (OSError, imaplib.IMAP4.error) as exc:
            raise ProviderError(_("bounce mailbox {host}:{port}: could not connect ({name__})").format(
                                    host=self.host, port=self.port, name__=type(exc).__name__),
                                hint=_("check imap_host, imap_port and imap_security")) from None
        try:
            conn.login(self.username, self.password)
        except imaplib.IMAP4.error:
            conn.shutdown()
            raise ProviderError(_("bounce mailbox {host}: login refused for {username}").format(
                                    host=self.host, username=self.username),
                                hint=_("check imap_username and the password (DBOX_IMAP_PASSWORD)")) from None
        status, data = conn.select(_quote(self.folder), readonly=True)
        if status != "OK":
            conn.logout()
            raise ProviderError(_("bounce mailbox {host}: no folder {folder!r}").format(
                                    host=self.host, folder=self.folder))
        self.uidvalidity = _response(conn, "UIDVALIDITY")
        self.conn = conn

    def uids_after(self, last_uid: int) -> list[int]:
        status, data = self.conn.uid("SEARCH", None, f"UID {last_uid + 1}:*")
        if status != "OK":
            raise ProviderError(_("bounce mailbox {host}: SEARCH failed").format(host=self.host))
        # "n:*" always matches the last message, even when its UID is below n: filter
        return sorted(u for u in (int(x) for x in (data[0] or b"").split()) if u > last_uid)

    def fetch(self, uids: list[int]) -> Iterator[tuple[int, bytes]]:
        for i in range(0, len(uids), BATCH):
            part = uids[i:i + BATCH]
            status, data = self.conn.uid("FETCH", ",".join(map(str, part)), "(UID BODY.PEEK[])")
            if status != "OK":
                raise ProviderError(_("bounce mailbox {host}: FETCH failed").format(host=self.host))
            found: dict[int, bytes] = {}
            for item in data:
                if isinstance(item, tuple) and len(item) == 2:
                    import re

                    match = re.search(rb"UID (\d+)", item[0])
                    if match:
                        found[int(match.group(1))] = item[1]
            for uid in part:
                if uid in found:
                    yield uid, found[uid]

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.logout()
            except Exception:   # closing a broken connection must not hide the sync's result
                pass
            self.conn = None


def _quote(folder: str) -> str:
    return folder if folder.isalnum() else '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _response(conn, name: str) -> str | None:
    _typ, data = conn.response(name)
    return data[0].decode() if data and data[0] else None
