"""``dbox import FILE``: bring a contacts file into the store."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from dbox.commands.common import store_from
from dbox.i18n import N_, _, grouped


def import_(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="CSV, TSV or .xlsx file of contacts (or: followers FILE, see below)."),
    followers_file: Optional[Path] = typer.Argument(None, hidden=True),
    map_: list[str] = typer.Option([], "--map", "-m", help='Override a column: --map "Portable=mobile" (or =ignore).'),
    consent: Optional[str] = typer.Option(
        None, "--consent", help="Channels every row consented to (sms,email,phone,post); needs --consent-source."),
    consent_source: Optional[str] = typer.Option(
        None, "--consent-source", help="How that consent was collected (kept with each consent)."),
    consent_wording: list[str] = typer.Option(
        [], "--consent-wording",
        help='The wording people agreed to, kept with every consent the import records; "sms=..." for one channel.'),
    strict: bool = typer.Option(False, "--strict", help="Duplicate column names are an error, not a warning."),
    update: bool = typer.Option(False, "--update", help="Let the file overwrite filled fields of matched contacts."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would happen; change nothing."),
    force: bool = typer.Option(False, "--force", help="Import again a file already imported."),
    encoding: Optional[str] = typer.Option(None, "--encoding", help="Text encoding (default: detected)."),
    delimiter: Optional[str] = typer.Option(None, "--delimiter", help="CSV separator (default: detected)."),
    sheet: Optional[str] = typer.Option(None, "--sheet", help="Worksheet of an .xlsx file (default: the first)."),
    show_mapping: bool = typer.Option(True, "--show-mapping/--no-show-mapping", help="Print the column mapping."),
    from_: Optional[str] = typer.Option(None, "--from", hidden=True),
):
    """Import contacts: read, map columns, normalize, place in communes and cantons, dedupe.

    The whole import is one transaction. Rows that cannot be imported are written with a reason
    column to FILE.rejected.csv. Nothing is consented by default.

    `dbox import followers FILE` (or `--from NETWORK`) is `dbox followers import`.
    """
    # The social area owns followers; this only recognises the word (a file named "followers" wins).
    if str(file) == "followers" and not file.exists():
        from dbox.commands.social import import_followers_alias

        return import_followers_alias(ctx, followers_file, from_, dry_run=dry_run, force=force)
    if followers_file is not None or from_ is not None:
        from dbox.errors import InputError

        raise InputError(_("dbox import takes one contacts FILE"), hint=_("for followers: dbox import followers FILE"))
    from dbox.console import err, is_interactive
    from dbox.importing.pipeline import ImportOptions, import_file, parse_consent_wording

    store = store_from(ctx)
    options = ImportOptions(
        map_specs=list(map_), consent=tuple(c.strip() for c in (consent or "").split(",") if c.strip()),
        consent_source=consent_source, consent_wording=parse_consent_wording(consent_wording), strict=strict,
        update=update, dry_run=dry_run, force=force,
        encoding=encoding, delimiter=delimiter, sheet=sheet)
    progress = None
    if is_interactive() and file.exists() and file.stat().st_size > 2_000_000:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err,
                       transient=True)
        task = bar.add_task("reading rows")
        bar.start()
        progress = lambda n: bar.update(task, description=f"{n:,} rows")  # noqa: E731
    try:
        report = import_file(store, file, options, progress=progress)
    finally:
        if progress:
            bar.stop()
    if not report.dry_run and not report.already_imported:
        from dbox.privacy.audit import record

        record(store, "import", report.counts["added"] + report.counts["merged"],
               {"file": report.path.name, "import_id": report.import_id, "rows": report.counts["read"]})
    print_report(report, show_mapping)


# The rows of the import summary: (label, key of ImportReport.counts).
_SUMMARY_ROWS = (
    (N_("read"), "read"), (N_("added"), "added"), (N_("merged"), "merged"), (N_("unchanged"), "unchanged"),
    (N_("rejected"), "rejected"), (N_("suppressed (erased or opposed)"), "suppressed"),
    (N_("values left out (bad cells; contact kept)"), "values_rejected"),
    (N_("duplicates inside the file"), "duplicates_in_file"),
    (N_("possible duplicates (same name and postal code, another e-mail or mobile)"), "possible_duplicates"),
    (N_("conflicts"), "conflicts"), (N_("e-mail domains that look mistyped"), "email_typos"),
    (N_("consents refused (non)"), "consent_refused"), (N_("consents ended by a refusal"), "consent_ended"),
    (N_("consent conflicts inside the file (refusal kept)"), "consent_conflicts"),
    (N_("consents not restored (withdrawn)"), "consent_not_restored"),
)


# How each column was mapped (importing.mapping's codes), as the mapping table says it.
HOW_SHOWN = {code: code for code in (N_("alias"), N_("override"), N_("custom"), N_("custom (duplicate)"),
                                     N_("dbox rejects column"))}


def print_report(report, show_mapping: bool = True) -> None:
    from rich.markup import escape
    from rich.table import Table

    from dbox.console import out, print_warning

    for warning in report.warnings:
        print_warning(warning)
    if report.already_imported:
        import_id, name, when = report.already_imported
        out.print(_("{name} was already imported on {when} (import {import_id}); nothing to do. Use --force to import it again.").format(
                      name=report.path.name, when=when, import_id=import_id))
        return
    info = report.info
    if show_mapping and report.mapping:
        source = _("{kind}, {encoding}, separator {delimiter!r}").format(
            kind=info.kind, encoding=info.encoding, delimiter=info.delimiter) if info.kind == "csv" else info.kind
        table = Table(title=_("Columns of {name} ({source})").format(name=report.path.name, source=source))
        table.add_column(_("column"))
        table.add_column(_("field"))
        table.add_column(_("how"))
        for header, target, how in report.mapping.describe():
            table.add_row(escape(header), target.replace("field:", "field."), _(HOW_SHOWN.get(how, how)))
        out.print(table)
    c = report.counts
    title = _("Import of {name}").format(name=report.path.name)
    summary = Table(title=_("Dry run: nothing was written. {title}").format(title=title) if report.dry_run else title)
    summary.add_column(_("rows"), justify="left")
    summary.add_column("", justify="right")
    for label, key in _SUMMARY_ROWS:
        if key in ("read", "added", "merged", "unchanged", "rejected") or c.get(key):
            summary.add_row(_(label), grouped(c.get(key, 0)))
    out.print(summary)
    g = report.geo
    if g:
        out.print(_("Geography: {g} placed in their commune, {g2} with a postal code shared by several communes and no town to tell, {g3} unknown postal code or town, {g4} with no address.").format(
                      g=grouped(g.get('resolved', 0)), g2=grouped(g.get('ambiguous', 0)), g3=grouped(g.get('unknown', 0)), g4=grouped(g.get('missing', 0))))
    if report.split_communes:
        listed = ", ".join(f"{escape(name)} ({n})" for name, n in report.split_communes.most_common(8))
        out.print(_("Canton left empty for {g} contacts in communes split over several cantons: {listed}. dbox does not guess a canton from a postal code.").format(
                      g=grouped(g.get('canton_ambiguous', 0)), listed=listed))
    if report.fallback_rows:
        rows = ", ".join(map(str, report.fallback_rows[:10])) + (" …" if len(report.fallback_rows) > 10 else "")
        encoding = report.info.encoding.partition(",")[2]
        print_warning(_("{n} row{value} read as {encoding}, not {partition}: row {rows}").format(
                          n=grouped(len(report.fallback_rows)), value='s' if len(report.fallback_rows) > 1 else '', encoding=encoding, partition=report.info.encoding.partition(',')[0], rows=rows))
    if c.get("consents_without_wording"):
        print_warning(_("{consents_without_wording} consents recorded without the wording people agreed to (dbox consent show flags them); give it with --consent-wording").format(
                          consents_without_wording=grouped(c['consents_without_wording'])))
    for line in report.conflicts[:10]:
        out.print(_("  note: {line}").format(line=escape(line)))
    if len(report.conflicts) > 10:
        out.print(_("  … and {value} more notes").format(value=grouped(len(report.conflicts) - 10)))
    for line in report.rejections[:10]:
        out.print(_("  rejected: {line}").format(line=escape(line)))
    if report.rejected_file:
        out.print(_("Rejected rows and values (row, column, value, reason): {rejected_file}").format(
                      rejected_file=report.rejected_file))


def register(app: typer.Typer) -> None:
    app.command("import")(import_)
