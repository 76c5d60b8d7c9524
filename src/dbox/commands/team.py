"""``dbox team add|list|remove``: members of a PostgreSQL store and their roles."""

from __future__ import annotations

import typer

from dbox.commands.common import FormatOption, store_from
from dbox.i18n import _

app = typer.Typer(no_args_is_help=True,
                  help="Team members of a PostgreSQL store and their roles (admin, staff, organizer, volunteer).")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="team")


@app.command("add")
def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The member's PostgreSQL login (lowercase, digits, _)."),
    role: str = typer.Option(..., "--role", help="admin, staff, organizer or volunteer."),
    password_stdin: bool = typer.Option(False, "--password-stdin",
                                        help="Read the new login's password from standard input "
                                             "(else one is generated and shown once)."),
):
    """Add a member (a PostgreSQL login) with a role, or change a member's role."""
    import sys

    from dbox.console import out
    from dbox.errors import InputError
    from dbox.privacy import team

    if role not in team.ROLES:
        raise InputError(_("--role {role}: choose one of {items}").format(role=role, items=', '.join(team.ROLES)))
    password = sys.stdin.readline().rstrip("\n") if password_stdin else team.new_password()
    if password_stdin and len(password) < 12:
        raise InputError(_("--password-stdin: the password needs at least 12 characters"))
    created = team.add(store_from(ctx), name, role, password)
    if created:
        out.print(_("Added {name} as {role}.").format(name=name, role=role), markup=False)
        if not password_stdin:
            out.print(_("Password (shown once, give it to {name} privately; it goes in ~/.pgpass or PGPASSWORD, never on a command line): {password}").format(
                          name=name, password=password), markup=False)
    else:
        out.print(_("{name} is now {role} (login kept, password unchanged).").format(name=name, role=role), markup=False)


@app.command("list")
def list_(ctx: typer.Context, fmt: str = FormatOption):
    """Members of this store's team and their roles."""
    from dbox.output import emit
    from dbox.privacy import team

    emit([[m.name, m.role] for m in team.members(store_from(ctx))], ["member", "role"], fmt=fmt)


@app.command("remove")
def remove(ctx: typer.Context, name: str = typer.Argument(..., help="The member's login.")):
    """Take a member's role on this store away (the login is dropped when no other store uses it)."""
    from dbox.console import out
    from dbox.privacy import team

    dropped = team.remove(store_from(ctx), name)
    out.print((_("Removed {name} from the team and dropped the login.") if dropped else
               _("Removed {name} from the team (the login stays: another store or object uses it).")).format(name=name),
              markup=False)
