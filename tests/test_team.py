"""``dbox team`` (issue 14 item 6): members are PostgreSQL logins, roles are enforced by the server,
and a refusal is one clear line naming the role."""

import json

import pytest

from dbox.errors import NotAllowedError
from dbox.store.db import open_store


def as_member(url: str, name: str) -> str:
    """The same database, logged in as ``name`` (the test server trusts 127.0.0.1)."""
    return url.replace("postgresql://postgres@", f"postgresql://{name}@", 1)


@pytest.fixture
def team_db(pg_database):
    """The test's database; afterwards its group roles and the members it made are dropped (roles
    are cluster-wide, and CI's workers share one server: only this database's are touched)."""
    yield pg_database
    import psycopg

    dbname = pg_database.rsplit("/", 1)[1]
    with psycopg.connect(pg_database, autocommit=True) as admin:
        groups = [f"{dbname}_{role}"[:63] for role in ("volunteer", "organizer", "staff", "admin")]
        members = [m for (m,) in admin.execute(
            "SELECT m.rolname FROM pg_auth_members am JOIN pg_roles g ON g.oid = am.roleid "
            "JOIN pg_roles m ON m.oid = am.member WHERE g.rolname = ANY(%s)", (groups,)).fetchall()]
        made = [r for (r,) in admin.execute("SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)",
                                            (groups + members,)).fetchall()]
        if made:
            names = ", ".join(f'"{r}"' for r in made)
            admin.execute(f"DROP OWNED BY {names}")           # their grants in this database
            for role in made:
                admin.execute(f'DROP ROLE IF EXISTS "{role}"')


@pytest.mark.engine("postgresql")
def test_roles_are_enforced_by_the_server(engine, store, team_db, cli, tmp_path):
    added = cli("team", "add", "tm_orga", "--role", "organizer")
    assert added.exit_code == 0, added.output
    assert "Added tm_orga as organizer." in added.output
    password = added.output.split("never on a command line): ")[1].strip()
    assert len(password) >= 20 and password not in str(store.execute(
        "SELECT rolpassword FROM pg_authid WHERE rolname = 'tm_orga'").fetchone())      # only its verifier
    assert cli("team", "add", "tm_vol", "--role", "volunteer").exit_code == 0
    assert cli("team", "add", "tm_staff", "--role", "staff").exit_code == 0
    listed = json.loads(cli("team", "list", "--format", "json").stdout)
    assert listed == [{"member": "tm_orga", "role": "organizer"}, {"member": "tm_staff", "role": "staff"},
                      {"member": "tm_vol", "role": "volunteer"}]

    with open_store(as_member(team_db, "tm_orga")) as orga:
        assert orga.execute("SELECT count(first_name) FROM contacts").fetchone() == (0,)   # names: yes
        with pytest.raises(NotAllowedError, match="permission denied"):
            orga.execute("SELECT mobile FROM contacts")                                    # phones: no
    with open_store(as_member(team_db, "tm_vol")) as vol:
        assert vol.execute("SELECT count(*) FROM actions").fetchone() == (0,)
        with pytest.raises(NotAllowedError):
            vol.execute("SELECT count(*) FROM contacts")
        with pytest.raises(NotAllowedError):
            vol.execute("INSERT INTO campaigns (uid) VALUES ('x')")
    with open_store(as_member(team_db, "tm_staff")) as staff:
        assert staff.execute("SELECT count(mobile) FROM contacts").fetchone() == (0,)
        with pytest.raises(NotAllowedError):
            staff.execute("DELETE FROM contacts")                   # erasure is the admin's

    # through the command line: one line naming the role and what it may not do
    refused = cli("store", "copy", as_member(team_db, "tm_vol"), tmp_path / "stolen.sqlite3")
    assert refused.exit_code == 8, refused.output
    assert refused.output.startswith("Error: your role volunteer cannot copy the store (permission denied")
    assert not (tmp_path / "stolen.sqlite3").exists()
    staff_adds = cli("--db", as_member(team_db, "tm_staff"), "team", "add", "tm_other", "--role", "volunteer")
    assert staff_adds.exit_code == 8, staff_adds.output
    assert staff_adds.output.startswith("Error: your role staff cannot manage the team (")


@pytest.mark.engine("postgresql")
def test_every_audit_row_names_the_member(engine, store, team_db, cli):
    assert cli("team", "add", "tm_admin", "--role", "admin").exit_code == 0
    assert cli("--db", as_member(team_db, "tm_admin"), "team", "add", "tm_vol2", "--role", "volunteer").exit_code == 0
    rows = json.loads(cli("audit", "--format", "json").stdout)
    assert [(r["command"], r["role"]) for r in rows[:2]] == [("team add", "tm_admin"), ("team add", "postgres")]
    removed = cli("team", "remove", "tm_vol2")
    assert removed.exit_code == 0 and "dropped the login" in removed.output
    assert [m["member"] for m in json.loads(cli("team", "list", "--format", "json").stdout)] == ["tm_admin"]
    unknown = cli("team", "remove", "tm_nobody")
    assert unknown.exit_code == 3 and "not a member" in unknown.output


def test_team_needs_a_postgresql_store(store, cli, monkeypatch):
    result = cli("team", "list")
    assert result.exit_code == 4
    assert "dbox team needs a PostgreSQL store" in result.output
    bad = cli("team", "add", "x", "--role", "chef")
    assert bad.exit_code == 3 and "choose one of volunteer, organizer, staff, admin" in bad.output


def test_a_scram_verifier_has_postgresqls_shape():
    from dbox.store.team import scram_verifier

    v = scram_verifier("correct horse battery staple")
    assert v.startswith("SCRAM-SHA-256$4096:") and "correct" not in v
