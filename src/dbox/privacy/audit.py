"""The audit log: who (the OS user, on which host, as which database role) did what, when, to how
many contacts.

Every command that reads many contacts or changes them calls :func:`record` once it has done its
work, inside its own transaction where it has one, so the log and the change commit together::

    from dbox.privacy.audit import record
    record(store, "import", report.counts["added"] + report.counts["merged"], {"file": path.name})

``detail`` is a small JSON-able dict. Never put an e-mail, a phone or a name in it: the log
outlives erasures.
"""

from __future__ import annotations

import getpass
import os

from dbox.store import audit as store_audit
from dbox.store.db import Store, utcnow


def os_user() -> str:
    """The operating-system user running dbox: the name of the process's uid (environment
    variables such as USER can be set to anything, the uid cannot), else what ``getpass`` finds."""
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError, OSError):
        pass
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def host() -> str:
    """The machine's name: on a shared store, which team member's machine ran the command."""
    import socket

    return socket.gethostname() or "?"


def record(store: Store, command: str, count: int, detail: dict | None = None) -> int:
    """Append one row to the audit log (the store adds its database role); returns its id."""
    if not command or not command.strip():
        raise ValueError("an audit entry needs a command name")
    return store_audit.append(store, utcnow(), os_user(), command.strip(), int(count), detail, host())


def entries(store: Store, **filters):
    return store_audit.entries(store, **filters)


def verify(store: Store) -> tuple[int, int | None]:
    return store_audit.verify(store)
