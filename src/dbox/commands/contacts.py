"""``dbox contacts list|show|count``: check what imports did."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from dbox.commands.common import (ColumnsOption, ExcelOption, FormatOption, OutputOption, PhoneFormatOption,
                                 TextFormatOption, parse_columns, store_from)

app = typer.Typer(no_args_is_help=True, help="List, show and count contacts.")


@app.command("list")
def list_(
    ctx: typer.Context,
    limit: Optional[int] = typer.Option(50, "--limit", "-n", help="At most this many rows (0: all)."),
    columns: Optional[str] = ColumnsOption,
    fmt: str = FormatOption,
    output: Optional[Path] = OutputOption,
    excel: bool = ExcelOption,
    phone_format: Optional[str] = PhoneFormatOption,
):
    """List contacts, oldest first.

    Columns: id, civility, first_name, last_name, email, mobile, fixed, address, postal_code,
    commune, commune_insee, departement, canton, canton_code, circonscription, tags, consents,
    created_at, updated_at, field.<name>.
    """
    from dbox.output import emit
    from dbox.store.contacts import DEFAULT_COLUMNS, iter_contacts

    store = store_from(ctx)
    cols = parse_columns(columns, DEFAULT_COLUMNS)
    rows = iter_contacts(store, cols, limit=limit or None)
    count = emit(rows, cols, fmt=fmt, output=output, excel=excel, phone_format=phone_format)
    if output is not None or fmt != "table":
        from dbox.privacy.audit import record

        record(store, "contacts list", count, {"format": fmt, "output": str(output) if output else None})


@app.command()
def show(
    ctx: typer.Context,
    contact: str = typer.Argument(..., help="Contact id, e-mail or phone."),
    fmt: str = TextFormatOption,
    show_all: bool = typer.Option(False, "--all", help="Also the internal search keys (first_name_key, ...)."),
):
    """Everything held on one contact: fields, addresses, tags, consents, where it came from."""
    from dbox.console import out
    from dbox.store.contacts import contact_details, find_contact, without_internal_keys

    store = store_from(ctx)
    details = contact_details(store, find_contact(store, contact))
    if not show_all:
        details = without_internal_keys(details)
    if fmt == "json":
        typer.echo(json.dumps(details, ensure_ascii=False, indent=2))
        return
    from rich.markup import escape

    for key, value in details.items():
        if isinstance(value, list):
            out.print(f"[bold]{key}[/]:")
            for item in value:
                text = ", ".join(f"{k}={v}" for k, v in item.items()) if isinstance(item, dict) else str(item)
                out.print(f"  - {escape(text)}")
        elif isinstance(value, dict):
            out.print(f"[bold]{key}[/]:")
            for k, v in value.items():
                out.print(f"  {escape(k)}: {escape(str(v))}")
        elif value is not None:
            out.print(f"[bold]{key}[/]: {escape(str(value))}")


@app.command()
def count(ctx: typer.Context):
    """How many contacts the store holds."""
    from dbox.store.contacts import count_contacts

    typer.echo(count_contacts(store_from(ctx)))


# `dbox contacts timeline`: the organizing area's command (dbox.commands.organizing), listed here
# with the other contact commands.
from dbox.commands.organizing import timeline as _timeline  # noqa: E402

app.command("timeline")(_timeline)
