"""``dbox contacts list|show|count``: check what imports did."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from dbox.commands.common import (ColumnsOption, ExcelOption, FormatOption, OutputOption, PhoneFormatOption,
                                 TextFormatOption, YesOption, confirm_or_abort, parse_columns, store_from)
from dbox.i18n import _, grouped

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

    from dbox.labels import contact_key, contact_value

    for key, value in details.items():
        label = escape(contact_key(key))
        if isinstance(value, list):
            out.print(f"[bold]{label}[/]:")
            for item in value:
                text = ", ".join(f"{contact_key(k)}={contact_value((key, k), v)}" for k, v in item.items()
                                 if v is not None) \
                    if isinstance(item, dict) else str(item)
                out.print(f"  - {escape(text)}")
        elif isinstance(value, dict):        # custom fields: their names are the user's own
            out.print(f"[bold]{label}[/]:")
            for k, v in value.items():
                out.print(f"  {escape(k)}: {escape(str(v))}")
        elif value is not None:
            out.print(f"[bold]{label}[/]: {escape(contact_value(key, value))}")


@app.command()
def count(ctx: typer.Context):
    """How many contacts the store holds."""
    from dbox.store.contacts import count_contacts

    typer.echo(count_contacts(store_from(ctx)))


@app.command()
def duplicates(
    ctx: typer.Context,
    limit: Optional[int] = typer.Option(100, "--limit", "-n", help="At most this many groups (0: all)."),
    fmt: str = TextFormatOption,
):
    """Possible duplicates: same name and postal code (kept apart by a different e-mail or mobile),
    or an e-mail or mobile held by several contacts. Merge with: dbox contacts merge KEEP OTHER."""
    from dbox.console import out
    from dbox.importing.duplicates import list_duplicates

    found = list_duplicates(store_from(ctx), limit or None)
    if fmt == "json":
        typer.echo(json.dumps([{"reason": d.reason, "value": d.value, "contacts": d.contacts} for d in found],
                              ensure_ascii=False, indent=2))
        return
    if not found:
        out.print(_("No possible duplicates."))
        return
    from rich.markup import escape

    for d in found:
        out.print(f"[bold]{escape(d.reason)}[/]: {escape(d.value)}")
        for c in d.contacts:
            who = " ".join(filter(None, (c["first_name"], c["last_name"]))) or "(no name)"
            where = " ".join(filter(None, (c["postal_code"], c["commune_name"])))
            out.print(f"  {c['id']}: {escape(who)}  {escape(where)}  {escape(', '.join(c['emails'] + c['mobiles']))}")
    out.print(_("{n} group(s). If two are one person: dbox contacts merge KEEP OTHER").format(n=grouped(len(found))))


@app.command()
def merge(
    ctx: typer.Context,
    keep: int = typer.Argument(..., help="The contact that stays."),
    other: int = typer.Argument(..., help="The contact merged into KEEP, then deleted."),
    yes: bool = YesOption,
):
    """Merge OTHER into KEEP: KEEP's fields win, empty ones are filled; e-mails, phones, tags,
    custom fields, consents (the most restrictive kept per channel) and history all move to KEEP.
    Recorded in the audit log."""
    from dbox.console import out
    from dbox.importing.duplicates import merge as merge_contacts

    store = store_from(ctx)
    confirm_or_abort(_("Merge contact {other} into contact {keep} (contact {other} is then deleted)?").format(
                         other=other, keep=keep), yes)
    result = merge_contacts(store, keep, other)
    text = _("Contact {other} merged into {keep}").format(other=other, keep=keep)
    if result.filled:
        text += _("; filled: {items}").format(items=", ".join(result.filled))
    if result.consents:
        text += _("; consents: {items}").format(items=", ".join(f"{ch} {st}" for ch, st in result.consents.items()))
    out.print(text + ".")


# `dbox contacts timeline`: the organizing area's command (dbox.commands.organizing), listed here
# with the other contact commands.
from dbox.commands.organizing import timeline as _timeline  # noqa: E402

app.command("timeline")(_timeline)
