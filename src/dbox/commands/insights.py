"""``dbox stats``, ``dbox report`` and ``dbox browse``: parse, call dbox.insights, print.

The rules (what is counted, how) are in docs/insights.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from dbox.commands.common import ExcelOption, FormatOption, OutputOption, SelectionArgs, selection_options, \
    store_from
from dbox.i18n import _

TERMINAL_ROWS = 25

ByOption = typer.Option("departement", "--by", "-b", help="Areas: departement, canton, commune, circo or bureau (bureaux de vote).")
SinceOption = typer.Option(None, "--since",
                           help="Activity from this date (2026-09-01) or span back (90d, 12w, 6m, 1y): "
                                "growth, campaigns, followers, new contacts.")
PeriodOption = typer.Option("auto", "--period", help="Growth per week, month, or auto (weeks up to 6 months).")
EmptyOption = typer.Option(False, "--empty",
                           help="Also list the areas of the départements reached that hold no contact.")


def register(app: typer.Typer) -> None:
    app.command("stats")(stats)
    app.command("report")(report)
    app.command("browse")(browse)


def _options(by, period, since, sections, empty):
    from datetime import datetime, timezone

    from dbox.insights import stats as lib

    lib.parse_since(since, datetime.now(timezone.utc))      # a bad --since fails before any work
    return lib.Options(by=lib.check_level(by), period=lib.check_period(period), since=since,
                       sections=lib.check_sections(sections), include_empty=empty)


@selection_options
def stats(
    ctx: typer.Context,
    selection: SelectionArgs,
    by: str = ByOption,
    period: str = PeriodOption,
    since: Optional[str] = SinceOption,
    section: Optional[list[str]] = typer.Option(
        None, "--section",
        help="Only these: summary, areas, growth, followers, campaigns, actions (repeat or comma-separate). "
             "CSV holds one table: areas unless another is chosen."),
    empty: bool = EmptyOption,
    top: Optional[int] = typer.Option(None, "--top", "-n",
                                      help=f"Rows of the areas table (terminal default {TERMINAL_ROWS}; 0: all)."),
    fmt: str = FormatOption,
    output: Optional[Path] = OutputOption,
    excel: bool = ExcelOption,
):
    """Contacts by département, canton, commune or circonscription (reachable by SMS and e-mail,
    per 1,000 inhabitants), growth, followers, campaign outcomes, actions and volunteers.

    EXPR, --segment and the shortcut flags choose the contacts (default: all of them), as for
    `dbox segment`. --format json prints everything as one document; csv one table.
    """
    import json

    from dbox.errors import InputError
    from dbox.insights import stats as lib
    from dbox.insights.tables import section_tables
    from dbox.output import emit

    if excel and fmt != "csv":
        raise InputError(_("--excel is for CSV (--format csv)"))
    if top is not None and top < 0:
        raise InputError(_("--top must be 0 (all) or more"))
    options = _options(by, period, since, section, empty)
    if fmt == "csv":
        if section and len(options.sections) > 1:
            raise InputError(_("CSV holds one table: choose one --section (summary, areas, growth, followers, campaigns, actions), or use --format json"))
        if not section:
            options.sections = ("areas",)
    store = store_from(ctx)
    chosen = selection.select(store)
    result = lib.compute(store, chosen, options)
    if top and fmt != "table" and "areas" in result:
        result["areas"]["rows"] = result["areas"]["rows"][:top]
    if fmt == "json":
        text = json.dumps(result, ensure_ascii=False, indent=2) + "\n"
        if output is None:
            typer.echo(text, nl=False)
        else:
            output.write_text(text, encoding="utf-8")
        return
    if fmt == "csv":
        table = section_tables(result, options.sections[0], csv=True)[0]
        emit(iter(table.rows), table.columns, fmt="csv", output=output, excel=excel)
        return
    _print_tables(result, options.sections, TERMINAL_ROWS if top is None else top, output)


def _print_tables(result: dict, sections, limit: int, output: Optional[Path]) -> None:
    from rich.console import Console
    from rich.table import Table as RichTable

    from dbox.console import out
    from dbox.numbers import format_number, format_percent
    from dbox.insights.tables import terminal_tables

    console = out if output is None else Console(file=open(output, "w", encoding="utf-8"), width=160)
    try:
        for section in sections:
            tables, lines = terminal_tables(result, section, limit)
            for table in tables:
                view = RichTable(title=table.title, title_justify="left")
                for i, column in enumerate(table.columns):
                    view.add_column(_(column), justify="left" if i == 0 or column in ("status", "period", "week",
                                                                                       "month", "sources") else "right")
                for row in table.rows:
                    if section == "summary":
                        label, value = row
                        row = (label, format_percent(value) if "(%)" in label else format_number(value))
                    view.add_row(*("" if v is None else str(v) for v in row))
                if table.more:
                    view.caption = _("… {more} more (--top 0 for all, or --format csv)").format(more=table.more)
                console.print(view)
            for line in lines:
                console.print(line, markup=False)
        for note in result.get("notes", []):
            console.print(_("note: {note}").format(note=note), markup=False)
    finally:
        if output is not None:
            console.file.close()


@selection_options
def report(
    ctx: typer.Context,
    selection: SelectionArgs,
    out_file: Optional[Path] = typer.Option(None, "--output", "-o", "--out",
                                                  help="The HTML page to write (self-contained)."),
    pdf: Optional[Path] = typer.Option(None, "--pdf", help="Also (or only) a PDF for print."),
    png: Optional[Path] = typer.Option(None, "--png", help="Also (or only) each chart as a PNG in this folder."),
    by: str = typer.Option("commune", "--by", "-b", help="Areas of the table: departement, canton, commune or circo."),
    period: str = PeriodOption,
    since: Optional[str] = SinceOption,
):
    """One HTML page to share: key numbers, a map of supporters, growth, followers, campaign
    outcomes and actions. It opens with no network (everything inlined) and holds counts only, no
    personal data. --pdf and --png draw the same charts for print (matplotlib).

    The numbers are those of `dbox stats --by BY --format json` with the same options.
    """
    from dbox.console import out
    from dbox.insights import report as lib

    lib.check_targets(out_file, pdf, png)
    options = _options(by, period, since, None, False)
    store = store_from(ctx)
    chosen = selection.select(store)
    _unused, written = lib.write(store, chosen, options, html=out_file, pdf=pdf, png_dir=png)
    for path in written:
        out.print(_("wrote {path}").format(path=path), markup=False)


def browse(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (this computer only by default)."),
    port: int = typer.Option(8001, "--port", "-p", help="Port to listen on (0: any free port)."),
    open_browser: bool = typer.Option(True, "--open/--no-open", help="Open the page in a web browser."),
    allow_network: bool = typer.Option(False, "--allow-network",
                                       help="Accept a --host other than this computer: anyone who can reach "
                                            "it sees every contact, with no password."),
):
    """Look through the store in a web browser (Datasette), read-only: tables with labelled columns,
    facets on commune, canton, tags and consent, a map of contacts by commune, SQL queries.

    Stop it with Ctrl+C.
    """
    from dbox.console import out
    from dbox.insights import browse as lib

    store_path = ctx.obj.store_path
    store = store_from(ctx)      # created or migrated by dbox first; kept open so the WAL files exist
    lib.refuse_engine(store)
    server = lib.Browser(store_path, host=host, port=port, allow_network=allow_network)
    url = server.start()
    lib.record_browse(store, server.host)
    out.print(_("Browsing {store_path} read-only at {url} — Ctrl+C to stop").format(store_path=store_path, url=url), markup=False)
    if open_browser:
        lib.open_in_browser(url)
    try:
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
