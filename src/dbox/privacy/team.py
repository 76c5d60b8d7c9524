"""``dbox team``: who may do what on a shared (PostgreSQL) store.

Each member is a PostgreSQL login holding one of dbox's roles (``dbox.store.team``: the grants);
the server refuses what a role may not do, and dbox says so in one line: "your role organizer
cannot export contacts". A new member's password is generated and shown once, or read from
standard input; it is never an argument, never logged, and only its SCRAM verifier is sent.
"""

from __future__ import annotations

import secrets

from dbox.errors import NotAllowedError
from dbox.privacy import audit
from dbox.store import team as store_team
from dbox.store.db import Store, open_store
from dbox.i18n import N_, _

ROLES = store_team.ROLES

# What a command does, as the refusal says it ("your role volunteer cannot <this>").
_DOING = {
    "contacts list": N_("export contacts"), "contacts show": N_("read contacts"), "contacts count": N_("count contacts"),
    "segment query": N_("export contacts"), "segment save": N_("save segments"), "segment": N_("select contacts"),
    "send": N_("send messages"), "run-due": N_("send messages"), "campaigns": N_("manage campaigns"),
    "import": N_("import contacts"), "tag add": N_("tag contacts"), "tag remove": N_("untag contacts"),
    "privacy forget": N_("erase contacts"), "privacy retention": N_("apply retention rules"),
    "privacy export": N_("export a person's data"), "privacy rectify": N_("correct contacts"),
    "team add": N_("manage the team"), "team remove": N_("manage the team"),
    "action invite": N_("invite people"), "action add": N_("create actions"), "store copy": N_("copy the store"),
    "init": N_("upgrade the store"),
}


def refusal(store: Store | None, command: str, error: NotAllowedError) -> NotAllowedError:
    """The server's "permission denied" as dbox says it, naming the member's role and the act."""
    role = None
    try:
        url = getattr(error, "url", None)
        if url:          # the store that refused (its connection may be closed or mid-rollback by now)
            with open_store(url, create=False) as refused_by:
                role = store_team.role_of(refused_by)
        elif store is not None:
            role = store_team.role_of(store)
    except Exception:       # the refusal must be said even when the lookup fails
        role = None
    doing = _DOING.get(command) or _DOING.get(command.split(" ")[0])
    doing = _(doing) if doing else (_("run `dbox {command}`").format(command=command) if command else _("do this"))
    who = _("your role {role}").format(role=role) if role else _("your database login")
    return NotAllowedError(_("{who} cannot {doing} ({error})").format(who=who, doing=doing, error=error),
                           hint=_("ask an admin of this store (see: dbox team list)"))


def new_password() -> str:
    return secrets.token_urlsafe(18)


def add(store: Store, name: str, role: str, password: str) -> bool:
    created = store_team.add_member(store, name, role, password)
    audit.record(store, "team add", 0, {"member": name, "role": role, "created": created})
    return created


def remove(store: Store, name: str) -> bool:
    dropped = store_team.remove_member(store, name)
    audit.record(store, "team remove", 0, {"member": name, "login_dropped": dropped})
    return dropped


def members(store: Store) -> list[store_team.Member]:
    return store_team.members(store)
