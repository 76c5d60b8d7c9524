"""``dbox segment ...`` and ``dbox tag ...``: choose contacts with a filter, save segments, tag in bulk.

Thin: each command parses its options, calls dbox.segments and prints. The filter language is in
docs/filters.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from typer.core import TyperGroup

from dbox.commands.common import (
    ColumnsOption, ExcelOption, FormatOption, OutputOption, PhoneFormatOption, SelectionArgs, TextFormatOption,
    YesOption, confirm_or_abort, parse_columns,
    selection_options, store_from,
)
from dbox.i18n import _, ngettext

DEFAULT_COMMAND = "query"
PREVIEW_ROWS = 20


class _SegmentGroup(TyperGroup):
    """``dbox segment EXPR ...`` runs the ``query`` command; ``dbox segment list`` etc. the others."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ctx.help_option_names):
            args = [DEFAULT_COMMAND, *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_SegmentGroup, no_args_is_help=False,
    help="Choose contacts with a filter expression; save, list and explain segments.\n\n"
         "dbox segment query [EXPR] [--canton X] [--commune X] [--departement N] [--circo X] [--tag T] "
         "[--reachable sms|email] [--segment NAME] shows how many contacts match and a preview "
         "(options: dbox segment query --help); dbox segment EXPR is short for it. "
         "The language: docs/filters.md.",
)
tag_app = typer.Typer(no_args_is_help=True, help="Add or remove a tag on every contact of a selection; list tags.")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="segment")
    root.add_typer(tag_app, name="tag")


def _warn_left_out(store, selection) -> None:
    from dbox import segments
    from dbox.console import print_warning

    for note in segments.left_out(store, selection):
        print_warning(note)


# -- dbox segment query [EXPR] ----------------------------------------------------------------------

@app.command(DEFAULT_COMMAND)
@selection_options
def query(
    ctx: typer.Context,
    selection: SelectionArgs,
    count: bool = typer.Option(False, "--count", help="Print only the number of contacts."),
    limit: Optional[int] = typer.Option(
        None, "--limit", "-n", help=f"At most this many rows (the terminal preview shows {PREVIEW_ROWS})."),
    columns: Optional[str] = ColumnsOption,
    fmt: str = FormatOption,
    output: Optional[Path] = OutputOption,
    excel: bool = ExcelOption,
    phone_format: Optional[str] = PhoneFormatOption,
):
    """How many contacts match, and a preview; with --format csv|json or --output FILE, export them all.

    EXPR, --segment and the shortcut flags combine with "and"; with none of them, every contact.
    Exports are safe to open in a spreadsheet (a cell that would start a formula is quoted);
    --excel writes UTF-8 with BOM and ';' for French Excel, phones as 07 85 81 23 50.
    """
    from dbox import segments
    from dbox.console import err, out
    from dbox.output import emit
    from dbox.store.contacts import DEFAULT_COLUMNS, check_columns

    store = store_from(ctx)
    cols = check_columns(parse_columns(columns, DEFAULT_COLUMNS))
    sel = selection.select(store)
    _warn_left_out(store, sel)
    if count:
        typer.echo(segments.count(store, sel))
        return
    if fmt == "table" and output is None and not excel:
        total = segments.count(store, sel)
        what = sel.expression or "every contact"
        out.print(_("{total} contact{value} match: {what}").format(
                      total=total, value='' if total == 1 else 's', what=what), markup=False)
        shown = emit(segments.rows(store, sel, cols, limit or PREVIEW_ROWS), cols, fmt="table",
                     phone_format=phone_format) if total else 0
        if total > shown:
            out.print(_("… and {value} more: --limit N shows more, --output FILE exports them all").format(
                          value=total - shown), markup=False)
        return
    written = segments.export(store, sel, cols, fmt=fmt, output=output, excel=excel, limit=limit,
                              phone_format=phone_format)
    if output is not None:
        err.print(_("Wrote {written} contact{value} to {output}").format(
                      written=written, value='' if written == 1 else 's', output=output), markup=False, highlight=False)


# -- saved segments -----------------------------------------------------------------------------

@app.command("save")
@selection_options
def save(
    ctx: typer.Context,
    name: str = typer.Argument(..., metavar="NAME", help="The segment's name: letters, digits, - _ ."),
    selection: SelectionArgs = None,
    description: Optional[str] = typer.Option(None, "--description", "-d", help="What the segment is for."),
    replace: bool = typer.Option(False, "--replace", help="Change the segment if it exists."),
):
    """Save a filter under a name; it stays dynamic (counted afresh each time) and is usable as
    --segment NAME or in:NAME."""
    from dbox import segments
    from dbox.console import out

    store = store_from(ctx)
    info = segments.save_segment(store, name, selection.expression, segment=selection.segment,
                                 shortcuts=selection.shortcuts, description=description, replace=replace)
    out.print(_("Saved segment {name}: {expression} ({count} contact{value})").format(
                  name=info.name, expression=info.expression, count=info.count, value='' if info.count == 1 else 's'),
              markup=False)


@app.command("list")
def list_(
    ctx: typer.Context,
    fmt: str = FormatOption,
    counts: bool = typer.Option(True, "--counts/--no-counts", help="Count each segment's contacts now."),
):
    """Saved segments with their live counts."""
    from dbox import segments
    from dbox.output import emit

    store = store_from(ctx)
    infos = segments.list_segments(store, with_counts=counts)
    columns = ["name", "contacts", "expression", "description"] if counts else ["name", "expression", "description"]
    rows = [([i.name, "?" if i.count is None else i.count, i.expression, i.description or ""] if counts
             else [i.name, i.expression, i.description or ""]) for i in infos]
    if not rows and fmt == "table":
        typer.echo(_("No saved segments yet: dbox segment save NAME EXPR"))
        return
    emit(rows, columns, fmt=fmt)


@app.command("show")
def show(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="A saved segment."),
    fmt: str = TextFormatOption,
):
    """A saved segment: its definition, what it expands to, its live count."""
    from dbox import segments
    from dbox.console import out

    info = segments.segment_info(store_from(ctx), name)
    fields = {"name": info.name, "expression": info.expression, "expanded": info.expanded,
              "description": info.description, "contacts": info.count, "created_at": info.created_at,
              "updated_at": info.updated_at}
    if fmt == "json":
        typer.echo(json.dumps(fields, ensure_ascii=False, indent=2))
        return
    from dbox.output import header_shown

    for key, value in fields.items():
        if value is not None and not (key == "expanded" and value == info.expression):
            out.print(f"{header_shown(key)}: {value}", markup=False, highlight=False)


@app.command("delete")
def delete(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="A saved segment."),
    yes: bool = YesOption,
):
    """Delete a saved segment (never a contact). Refused while another segment uses it."""
    from dbox import segments
    from dbox.console import out

    store = store_from(ctx)
    info = segments.segment_info(store, name, with_count=False)
    confirm_or_abort(_("Delete segment {name} ({expression})?").format(name=info.name, expression=info.expression), yes)
    segments.delete_segment(store, info.name)
    out.print(_("Deleted segment {name} (was: {expression})").format(name=info.name, expression=info.expression), markup=False)


@app.command("rename")
def rename(
    ctx: typer.Context,
    old: str = typer.Argument(..., help="The segment's name."),
    new: str = typer.Argument(..., help="Its new name."),
):
    """Rename a saved segment; segments that use it (in:OLD) are updated."""
    from dbox import segments
    from dbox.console import out

    store = store_from(ctx)
    current = segments.segment_info(store, old, with_count=False).name
    updated = segments.rename_segment(store, old, new)
    out.print(_("Renamed segment {old} to {new}").format(old=current, new=new)
              + (_("; updated {items}").format(items=", ".join(updated)) if updated else ""), markup=False)


@app.command("explain")
@selection_options
def explain(
    ctx: typer.Context,
    selection: SelectionArgs,
    fmt: str = TextFormatOption,
):
    """The parsed form of a filter, the SQL it compiles to with its parameters, and SQLite's plan."""
    from dbox import segments
    from dbox.console import out

    store = store_from(ctx)
    info = segments.explain(store, selection.select(store))
    if fmt == "json":
        typer.echo(json.dumps(info, ensure_ascii=False, indent=2))
        return
    out.print(_("Expression: {value}").format(value=info['expression'] or '(every contact)'), markup=False, highlight=False)
    if info["expanded"] != info["expression"]:
        out.print(_("Expanded:   {expanded}").format(expanded=info['expanded']), markup=False, highlight=False)
    out.print(_("Parsed:"), markup=False)
    for line in info["tree"]:
        out.print(f"  {line}", markup=False, highlight=False)
    out.print(_("SQL (over contacts c):"), markup=False)
    out.print(_("  WHERE {where}").format(where=info['where']), markup=False, highlight=False)
    out.print(_("Parameters:"), markup=False)
    for i, value in enumerate(info["params"], 1):
        out.print(f"  {i}. {json.dumps(value, ensure_ascii=False)}", markup=False, highlight=False)
    out.print(_("Query plan:"), markup=False)
    for line in info["plan"]:
        out.print(f"  {line}", markup=False, highlight=False)


# -- dbox tag add|remove|list -----------------------------------------------------------------------

def _require_selection(selection: SelectionArgs, all_: bool, verb: str) -> None:
    from dbox.errors import InputError

    if not selection.given and not all_:
        raise InputError(_("{verb} which contacts? Give a filter expression, --segment NAME or a shortcut flag").format(
                             verb=verb),
                         hint=_("or --all for every contact"))


@tag_app.command("add")
@selection_options
def tag_add(
    ctx: typer.Context,
    tag: str = typer.Argument(..., metavar="TAG", help="The tag (created if new)."),
    selection: SelectionArgs = None,
    all_: bool = typer.Option(False, "--all", help="Every contact (when no filter is given)."),
    yes: bool = YesOption,
    dry_run: bool = typer.Option(False, "--dry-run", help="Say how many contacts would be tagged; change nothing."),
):
    """Give a tag to every contact of a selection (EXPR, --segment NAME or shortcut flags)."""
    from dbox import segments
    from dbox.console import out

    _require_selection(selection, all_, _("Tag"))
    store = store_from(ctx)
    tag = segments.check_tag_name(tag)
    sel = selection.select(store)
    _warn_left_out(store, sel)
    total = segments.count(store, sel)
    what = sel.expression or _("every contact")
    if dry_run or total == 0:
        out.print(ngettext("{n} contact matches {what}; nothing changed", "{n} contacts match {what}; nothing changed",
                           total).format(n=total, what=what)
                  + (_(" (dry run)") if dry_run else ""), markup=False)
        return
    confirm_or_abort(_('Add tag "{tag}" to {total} contact{value} ({what})?').format(
                         tag=tag, total=total, value='' if total == 1 else 's', what=what), yes)
    added, already = segments.tag_contacts(store, tag, sel)
    out.print(ngettext('Tagged {n} contact "{tag}"', 'Tagged {n} contacts "{tag}"', added).format(n=added, tag=tag)
              + (_(" ({n} already had it)").format(n=already) if already else ""), markup=False)


@tag_app.command("remove")
@selection_options
def tag_remove(
    ctx: typer.Context,
    tag: str = typer.Argument(..., metavar="TAG", help="The tag."),
    selection: SelectionArgs = None,
    all_: bool = typer.Option(False, "--all", help="Every contact (when no filter is given)."),
    yes: bool = YesOption,
    dry_run: bool = typer.Option(False, "--dry-run", help="Say how many contacts would lose it; change nothing."),
):
    """Take a tag away from every contact of a selection. The tag itself stays (saved segments may
    use it)."""
    from dbox import segments
    from dbox.console import out

    _require_selection(selection, all_, _("Untag"))
    store = store_from(ctx)
    segments.require_tag(store, tag)
    sel = selection.select(store)
    _warn_left_out(store, sel)
    total = segments.count_with_tag(store, sel, tag)
    what = sel.expression or _("every contact")
    if dry_run or total == 0:
        out.print(ngettext("{n} contact of {what} has the tag; nothing changed",
                           "{n} contacts of {what} have the tag; nothing changed", total).format(n=total, what=what)
                  + (_(" (dry run)") if dry_run else ""), markup=False)
        return
    confirm_or_abort(_('Remove tag "{tag}" from {total} contact{value} ({what})?').format(
                         tag=tag, total=total, value='' if total == 1 else 's', what=what), yes)
    removed = segments.untag_contacts(store, tag, sel)
    out.print(_('Removed tag "{tag}" from {removed} contact{value}').format(
                  tag=tag, removed=removed, value='' if removed == 1 else 's'), markup=False)


@tag_app.command("list")
def tag_list(ctx: typer.Context, fmt: str = FormatOption):
    """Every tag with how many contacts bear it."""
    from dbox import segments
    from dbox.output import emit

    emit(segments.tag_counts(store_from(ctx)), ["tag", "contacts"], fmt=fmt)
