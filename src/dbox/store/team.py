"""Team roles on a PostgreSQL store: each member is a PostgreSQL login, each dbox role a group role
of this database holding the grants it needs, so that the server enforces who may do what.

Group roles are named ``<database>_<role>`` (roles are cluster-wide, grants per database: an agency's
member may be staff for one client and nothing for another). A member gets CONNECT on this database
only through the group. The rules: docs/team.md.

- ``volunteer``: reads actions and their assignments, records results (interactions). No contact
  table at all: no export, no send.
- ``organizer``: volunteer, plus runs actions and their invitations (actions, people invited,
  assignments); reads contacts without their addresses, phones and e-mails (to pick invitees by
  name, commune, tag), so cannot export them.
- ``staff``: reads and writes everything a campaign needs (imports, segments, sends, exports), but
  deletes no contact (erasure), no suppression and no consent history.
- ``admin``: everything (erasure, retention), and adds or removes members (CREATEROLE).

Every role reads the schema bookkeeping, the store's keys and the geography reference, and appends
to the audit log (whose triggers refuse changes to anyone).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from dbox.errors import InputError, StoreError
from dbox.store.db import Store
from dbox.i18n import _

ROLES = ("volunteer", "organizer", "staff", "admin")
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

_EVERYONE_READS = ("schema_migrations", "meta", "electoral_rolls")
_ACTIONS = ("actions", "action_people", "action_assignments", "action_invitations")
# Contact columns an organizer may not read: how to reach someone (an export's point).
_ADDRESS_COLUMNS = {"mobile", "fixed", "email", "address", "address_key"}
_STAFF_NO_DELETE = ("contacts", "suppressions", "consent_events", "audit_log", "erased_recipients")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def check_name(name: str) -> str:
    if not _NAME.match(name or ""):
        raise InputError(_("member name {name!r}: lowercase letters, digits and _ (a PostgreSQL login), at most 63, not starting with a digit").format(
                             name=name))
    return name


def _require_postgres(store: Store) -> None:
    if store.engine != "postgresql":
        raise StoreError(_("{location}: dbox team needs a PostgreSQL store (a SQLite file has no users: whoever can read the file can do everything)").format(
                             location=store.location),
                         hint=_("move the store to a PostgreSQL server: dbox store copy (docs/team.md)"))


def group_name(store: Store, role: str) -> str:
    database = store.execute("SELECT current_database()").fetchone()[0]
    return f"{database}_{role}"[:63]


def _tables(store: Store) -> list[str]:
    return [t for (t,) in store.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")]


def _columns(store: Store, table: str) -> list[str]:
    return [c for (c,) in store.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = ? ORDER BY ordinal_position", (table,))]


def ensure_roles(store: Store) -> dict[str, str]:
    """Create this database's four group roles if needed and (re)apply their grants (a store
    migrated since gets its new tables granted). Returns {role: group role name}."""
    _require_postgres(store)
    groups = {role: group_name(store, role) for role in ROLES}
    database = _quote(store.execute("SELECT current_database()").fetchone()[0])
    tables = _tables(store)
    with store.transaction():
        existing = {r for (r,) in store.execute("SELECT rolname FROM pg_roles WHERE rolname = ANY(?)",
                                                (list(groups.values()),))}
        for role, group in groups.items():
            if group not in existing:
                store.execute(f"CREATE ROLE {_quote(group)} NOLOGIN")
        store.execute(f"REVOKE CONNECT ON DATABASE {database} FROM PUBLIC")
        everyone = ", ".join(_quote(g) for g in groups.values())
        store.execute(f"GRANT CONNECT ON DATABASE {database} TO {everyone}")
        store.execute(f"GRANT USAGE ON SCHEMA public TO {everyone}")
        store.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {everyone}")
        store.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {everyone}")
        reference = [t for t in tables if t.startswith("geo_") or t in _EVERYONE_READS]
        store.execute(f"GRANT SELECT ON {', '.join(_quote(t) for t in reference)} TO {everyone}")
        store.execute(f"GRANT SELECT, INSERT ON audit_log TO {everyone}")
        actions = [t for t in _ACTIONS if t in tables]
        vol, org, staff, admin = (_quote(groups[r]) for r in ROLES)
        store.execute(f"GRANT SELECT ON {', '.join(actions)} TO {vol}")
        store.execute(f"GRANT SELECT, INSERT, UPDATE ON interactions TO {vol}, {org}")
        store.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {', '.join(actions)} TO {org}")
        readable = [c for c in _columns(store, "contacts") if c not in _ADDRESS_COLUMNS]
        store.execute(f"GRANT SELECT ({', '.join(_quote(c) for c in readable)}) ON contacts TO {org}")
        store.execute(f"GRANT SELECT ON tags, contact_tags, segments TO {org}")
        rest = [t for t in tables if t != "audit_log"]
        store.execute(f"GRANT SELECT, INSERT, UPDATE ON {', '.join(_quote(t) for t in rest)} TO {staff}")
        deletable = [t for t in rest if t not in _STAFF_NO_DELETE]
        store.execute(f"GRANT DELETE ON {', '.join(_quote(t) for t in deletable)} TO {staff}")
        store.execute(f"GRANT ALL ON {', '.join(_quote(t) for t in rest)} TO {admin}")
        store.execute(f"GRANT {staff} TO {admin}")
    return groups


@dataclass
class Member:
    name: str
    role: str
    can_login: bool


def members(store: Store) -> list[Member]:
    _require_postgres(store)
    groups = {group_name(store, role): role for role in ROLES}
    rows = store.execute(
        "SELECT m.rolname, g.rolname, m.rolcanlogin FROM pg_auth_members am "
        "JOIN pg_roles g ON g.oid = am.roleid JOIN pg_roles m ON m.oid = am.member "
        "WHERE g.rolname = ANY(?) AND m.rolname <> ALL(?) ORDER BY 1", (list(groups), list(groups))).fetchall()
    return [Member(name, groups[group], login) for name, group, login in rows]


def role_of(store: Store, name: str | None = None) -> str | None:
    """The dbox role of ``name`` (default: this session's login) on this store, or None."""
    if store.engine != "postgresql":
        return None
    name = name or store.execute("SELECT session_user").fetchone()[0]
    found = [m.role for m in members(store) if m.name == name]
    return max(found, key=ROLES.index) if found else None


def scram_verifier(password: str, iterations: int = 4096) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for ``password``: computed here, so that the
    password itself never travels to the server nor appears in its statement log."""
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = base64.b64encode
    return (f"SCRAM-SHA-256${iterations}:{b64(salt).decode()}$"
            f"{b64(stored_key).decode()}:{b64(server_key).decode()}")


def add_member(store: Store, name: str, role: str, password: str) -> bool:
    """Create login ``name`` (or reuse it) and make it a ``role`` of this store, leaving any other
    role it had here. Returns True when the login was created."""
    check_name(name)
    if role not in ROLES:
        raise InputError(_("--role {role}: choose one of {items}").format(role=role, items=', '.join(ROLES)))
    groups = ensure_roles(store)
    with store.transaction():
        exists = store.execute("SELECT 1 FROM pg_roles WHERE rolname = ?", (name,)).fetchone() is not None
        if name in groups.values():
            raise InputError(_("{name} is one of dbox's group roles; choose another name").format(name=name))
        if not exists:
            store.execute(f"CREATE ROLE {_quote(name)} LOGIN PASSWORD '{scram_verifier(password)}'")
        for other in ROLES:
            if other != role:
                store.execute(f"REVOKE {_quote(groups[other])} FROM {_quote(name)}")
        store.execute(f"GRANT {_quote(groups[role])} TO {_quote(name)}")
        store.execute(f"ALTER ROLE {_quote(name)} {'CREATEROLE' if role == 'admin' else 'NOCREATEROLE'}")
    return not exists


def remove_member(store: Store, name: str) -> bool:
    """Take every dbox role of this store from ``name``; drop the login when nothing else holds it
    (another store's role, objects it owns). Returns True when the login was dropped."""
    check_name(name)
    groups = ensure_roles(store)
    if name not in [m.name for m in members(store)]:
        raise InputError(_("{name} is not a member of this store's team").format(name=name), hint=_("see: dbox team list"))
    with store.transaction():
        for group in groups.values():
            store.execute(f"REVOKE {_quote(group)} FROM {_quote(name)}")
        others = store.execute("SELECT count(*) FROM pg_auth_members am JOIN pg_roles m ON m.oid = am.member "
                               "WHERE m.rolname = ?", (name,)).fetchone()[0]
        if others:
            return False
        try:
            with store.savepoint():
                store.execute(f"DROP ROLE {_quote(name)}")
        except store.DatabaseError:
            return False      # it owns something or holds grants elsewhere: the login stays, without this store
    return True


def database_role(store: Store) -> str | None:
    """This session's login on a PostgreSQL store (None on SQLite)."""
    if store.engine != "postgresql":
        return None
    return store.execute("SELECT session_user").fetchone()[0]
