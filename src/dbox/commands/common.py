"""Pieces shared by command modules: the store from the context, output options, confirmation."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

FormatOption = typer.Option("table", "--format", "-f", help="table, csv or json.")
OutputOption = typer.Option(None, "--output", "-o", help="Write to this file instead of the terminal.")
ExcelOption = typer.Option(False, "--excel", help="CSV for French Excel: UTF-8 with BOM, ';' separators.")
ColumnsOption = typer.Option(None, "--columns", "-c",
                             help="Comma-separated columns (see `dbox contacts list --help`).")


def store_from(ctx: typer.Context):
    return ctx.obj.store()


def parse_columns(columns: Optional[str], default) -> list[str]:
    if not columns:
        return list(default)
    return [c.strip() for c in columns.split(",") if c.strip()]


def confirm_or_abort(question: str, yes: bool) -> None:
    """Ask before anything irreversible; ``--yes`` answers for scripts. With no terminal and no
    ``--yes``, refuse rather than hang or assume."""
    if yes:
        return
    from dbox.console import is_interactive
    from dbox.errors import DboxError

    if not is_interactive():
        raise DboxError(f"{question} Not confirmed: no terminal to ask on", hint="add --yes to confirm")
    typer.confirm(question, abort=True)

