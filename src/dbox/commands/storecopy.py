"""``dbox store copy SRC DST``: a whole store from one engine to the other."""

from __future__ import annotations

import typer

from dbox.commands.common import YesOption
from dbox.i18n import _, grouped

app = typer.Typer(no_args_is_help=True, help="Whole-store operations: copy a store between engines.")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="store")


@app.command("copy")
def copy_(
    source: str = typer.Argument(..., help="The store to copy: a file, or postgresql://USER@HOST:PORT/DBNAME."),
    destination: str = typer.Argument(..., help="Where to copy it: a new file, or an empty PostgreSQL database."),
    replace: bool = typer.Option(False, "--replace",
                                 help="The destination holds data: delete all of it first, its audit log "
                                      "included (asks unless --yes)."),
    yes: bool = YesOption,
):
    """Copy every table of a store into another (SQLite to PostgreSQL and back): suppressions,
    erasures and the audit log kept, the copied audit chain verified. The destination is written in
    one transaction and must hold no data, unless --replace."""
    from dbox.commands.common import confirm_or_abort
    from dbox.console import out
    from dbox.privacy.copying import copy

    def confirm(held: dict) -> None:
        rows = sum(held.values())
        confirm_or_abort(_("{destination} holds {rows} rows in {tables} tables (audit log: {audit} rows). "
                           "Delete them all and copy {source} there?").format(
                             destination=destination, rows=grouped(rows), tables=len(held),
                             audit=grouped(held.get("audit_log", 0)), source=source), yes)

    result = copy(source, destination, replace=replace, confirm_replace=confirm)
    out.print(_("Copied {rows} rows in {tables} tables ({contacts} contacts) from {source} to {destination}.").format(
                  rows=grouped(result.report.total), tables=result.report.tables, contacts=grouped(result.contacts),
                  source=result.source, destination=result.destination), markup=False)
    if result.report.replaced:
        out.print(_("Replaced {rows} rows the destination held.").format(
                      rows=grouped(sum(result.report.replaced.values()))), markup=False)
    out.print(_("The copied audit log is intact ({rows} rows).").format(rows=grouped(result.audit_rows)), markup=False)
