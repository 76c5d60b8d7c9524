"""``dbox electoral roll|addresses|results ...`` and ``dbox elections add|list|allow|remove``: parse,
call dbox.electoral, print. docs/electoral.md is the reference."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from dbox.commands.common import ExcelOption, FormatOption, OutputOption, YesOption, store_from
from dbox.i18n import _

electoral_app = typer.Typer(no_args_is_help=True, help="Electoral geography: the roll, bureaux de vote, past results.")
roll_app = typer.Typer(no_args_is_help=True, help="The commune's electoral roll (REU extract from the mairie).")
addresses_app = typer.Typer(no_args_is_help=True, help="Address -> bureau de vote tables.")
results_app = typer.Typer(no_args_is_help=True, help="Results per bureau de vote (Ministry of the Interior).")
elections_app = typer.Typer(no_args_is_help=True, help="Elections: rounds, area, and the electoral silence (L49).")
electoral_app.add_typer(roll_app, name="roll")
electoral_app.add_typer(addresses_app, name="addresses")
electoral_app.add_typer(results_app, name="results")

MapOption = typer.Option(None, "--map", help='Column mapping override, "Header=field" (repeatable).')
EncodingOption = typer.Option(None, "--encoding", help="Text encoding of a CSV (default: detected).")
SheetOption = typer.Option(None, "--sheet", help="Sheet of an .xlsx (default: the first).")


def _n(value) -> str:
    return f"{value or 0:,}".replace(",", "\u202f")


def _out():
    from dbox.console import out

    return out


def _purge(store) -> None:
    """Every electoral command first purges the rolls whose election is over (retention)."""
    from dbox.electoral.rolls import purge_due

    for roll_id, commune, election, voters in purge_due(store):
        _out().print(_("Purged roll {id} ({commune}, {n} voters): {election} is over.").format(
            id=roll_id, commune=commune, n=_n(voters), election=election))


def _print_assignment(a) -> None:
    out = _out()
    out.print(_("  contacts registered (matched to a voter): {n} (by birth date {n2}, by address {n3})").format(
                  n=_n(a.registered), n2=_n(a.matched_birth_date), n3=_n(a.matched_address)))
    if a.ambiguous:
        out.print(_("  ambiguous, not matched: {n} (same name and address or birth date as another)").format(
                      n=_n(a.ambiguous)))
    out.print(_("  contacts placed by their address: {n}").format(n=_n(a.by_address)))
    if a.unsure:
        out.print(_("  unsure, left without a bureau: {n}").format(n=_n(len(a.unsure))))
        for cid, address, reason in a.unsure[:10]:
            out.print(_("    contact {cid}: {address} — {reason}").format(cid=cid, address=address, reason=reason))
        if len(a.unsure) > 10:
            out.print(_("    ... and {n} more (dbox electoral unsure lists them all)").format(
                          n=_n(len(a.unsure) - 10)))
    if a.cantons_set or a.circos_set:
        out.print(_("  split communes: {n} contacts got their canton, {n2} their circonscription from their bureau").format(
                      n=_n(a.cantons_set), n2=_n(a.circos_set)))


@roll_app.command("import")
def roll_import(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="The roll: CSV or .xlsx extract of the REU given by the mairie."),
    commune: str = typer.Option(..., "--commune", help="The roll's commune: INSEE code or name."),
    election: str = typer.Option(..., "--election", help="The election it was obtained for (dbox elections list)."),
    source: str = typer.Option(..., "--source", help='Who gave it and when: "mairie de Grenoble, 2026-02-01".'),
    map_: Optional[List[str]] = MapOption, encoding: Optional[str] = EncodingOption,
    sheet: Optional[str] = SheetOption,
):
    """Import a commune's electoral roll (Code électoral L37): voters stay in their own tables, never
    messaged; matched contacts get their bureau and `registered`. Purged after the election."""
    from dbox.electoral.rolls import import_roll
    from dbox.privacy.audit import record

    store = store_from(ctx)
    _purge(store)
    report = import_roll(store, file, commune, election=election, source=source, overrides=map_ or [],
                         encoding=encoding, sheet=sheet)
    record(store, "electoral roll import", len(report.file.voters),
           {"file": file.name, "commune": report.commune, "election": election, "roll": report.roll_id})
    out = _out()
    verb = "already imported (same file)" if report.already else "imported"
    out.print(_("Roll of {commune} {verb}: {n} voters in {n2} bureaux, {n3} streets; kept until {purge_after} ({election}).").format(
                  commune=report.commune, verb=verb, n=_n(len(report.file.voters)), n2=_n(report.bureaux), n3=_n(report.streets), purge_after=report.purge_after, election=election))
    if report.file.not_kept:
        out.print(_("  not kept (CNIL: no targeting by origin): {items}").format(
                      items=', '.join(report.file.not_kept)))
    if report.file.ignored:
        out.print(_("  columns not used: {items}").format(items=', '.join(report.file.ignored)))
    _print_assignment(report.assignment)


@roll_app.command("list")
def roll_list(ctx: typer.Context):
    """The rolls in the store, their source and when they are purged."""
    from dbox.store.electoral import rolls

    store = store_from(ctx)
    _purge(store)
    rows = rolls(store)
    if not rows:
        _out().print(_("No roll imported."))
        return
    for rid, insee, name, filename, source, election, purge_after, at, voters, matched in rows:
        _out().print(_("{id}  {insee} {name}  {n} voters, {matched} matched  file {file}  source: {source}  "
                       "for {election}, purged on {purge_after}  (imported {at})").format(
            id=rid, insee=insee, name=name or "", n=_n(voters), matched=_n(matched), file=filename, source=source,
            election=election, purge_after=purge_after, at=at))


@roll_app.command("purge")
def roll_purge(ctx: typer.Context, commune: Optional[str] = typer.Option(None, "--commune", help="Only this commune."),
               yes: bool = YesOption):
    """Remove a roll before its election is over (they are removed after it anyway)."""
    from dbox.commands.common import confirm_or_abort
    from dbox.electoral.assign import assign_commune
    from dbox.electoral.rolls import resolve_commune
    from dbox.privacy.audit import record
    from dbox.store import electoral as se

    store = store_from(ctx)
    _purge(store)
    code = resolve_commune(store, commune) if commune else None
    rows = [r for r in se.rolls(store) if code is None or r[1] == code]
    if not rows:
        _out().print(_("No roll to purge."))
        return
    confirm_or_abort(_("Remove {n} roll(s) and their {n2} voters?").format(
                         n=len(rows), n2=_n(sum((r[8] for r in rows)))), yes)
    with store.transaction(immediate=True):
        se.delete_rolls(store, [r[0] for r in rows])
        for commune_code in {r[1] for r in rows}:
            assign_commune(store, commune_code)
        record(store, "electoral roll purge", sum(r[8] for r in rows), {"rolls": [r[0] for r in rows]})
    _out().print(_("Removed {n} roll(s).").format(n=len(rows)))


@electoral_app.command("voters")
def voters_list(
    ctx: typer.Context,
    expression: Optional[str] = typer.Argument(None, metavar="EXPR",
                                               help="bureau, age, sex, registered: 'bureau = 38185-0012 and age >= 65'."),
    count: bool = typer.Option(False, "--count", help="Only count them."),
    fmt: str = FormatOption, output: Optional[Path] = OutputOption, excel: bool = ExcelOption,
):
    """Voters of the roll for a walk list, selected by bureau, age, sex or registered only (CNIL);
    voters are listed, never messaged."""
    from dbox.electoral import voters
    from dbox.output import emit
    from dbox.privacy.audit import record

    store = store_from(ctx)
    _purge(store)
    if count:
        _out().print(_n(voters.count(store, expression)))
        return
    n = emit(voters.rows(store, expression), voters.COLUMNS, fmt=fmt, output=output, excel=excel)
    record(store, "electoral voters", n or 0, {"expression": expression or "", "output": bool(output)})


@addresses_app.command("import")
def addresses_import(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="INSEE table \"bureaux de vote et adresses de leurs électeurs\" (CSV)."),
    map_: Optional[List[str]] = MapOption, encoding: Optional[str] = EncodingOption,
):
    """Load the INSEE address -> bureau table (whole départements), and place the contacts of its
    communes in their bureau by street and number; unsure cases are listed, never guessed."""
    from dbox.electoral.addresses import import_addresses
    from dbox.privacy.audit import record

    store = store_from(ctx)
    _purge(store)
    report = import_addresses(store, file, overrides=map_ or [], encoding=encoding)
    placed = sum(a.by_address + a.registered for a in report.assignments)
    record(store, "electoral addresses import", placed, {"file": file.name, "communes": len(report.communes)})
    _out().print(f"Address table: {_n(report.rows)} addresses, {_n(report.streets)} streets in "
                 f"{_n(len(report.communes))} communes.")
    for a in report.assignments:
        if a.by_address or a.registered or a.unsure:
            _out().print(f"{a.commune}:")
            _print_assignment(a)


@results_app.command("import")
def results_import(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="Results per bureau de vote (Ministry of the Interior, data.gouv.fr)."),
    election: str = typer.Option(..., "--election", help="A name for this round: legislatives-2024-t1."),
    map_: Optional[List[str]] = MapOption, encoding: Optional[str] = EncodingOption,
    sheet: Optional[str] = SheetOption,
):
    """Import results per bureau: turnout and shares for filters and stats, and each bureau's canton
    or circonscription, which places contacts of split communes."""
    from dbox.electoral.results import import_results
    from dbox.privacy.audit import record

    store = store_from(ctx)
    _purge(store)
    report = import_results(store, file, election, overrides=map_ or [], encoding=encoding, sheet=sheet)
    record(store, "electoral results import", 0, {"file": file.name, "election": report.election})
    out = _out()
    out.print(_("Results of {election}: {n} bureaux ({n2} with their canton, {n3} with their circonscription).").format(
                  election=report.election, n=_n(report.bureaux), n2=_n(report.cantons), n3=_n(report.circos)))
    if report.unplaced:
        out.print(f"  canton or circonscription not found in the geography reference: {', '.join(report.unplaced[:10])}"
                  + (" ..." if len(report.unplaced) > 10 else ""))
    if report.cantons_set or report.circos_set:
        out.print(_("  split communes: {n} contacts got their canton, {n2} their circonscription from their bureau").format(
                      n=_n(report.cantons_set), n2=_n(report.circos_set)))


@results_app.command("list")
def results_list(ctx: typer.Context):
    """The results loaded: election, bureaux, inscrits."""
    from dbox.store.electoral import result_elections

    rows = result_elections(store_from(ctx))
    if not rows:
        _out().print(_("No results loaded (dbox electoral results import)."))
    for election, bureaux, inscrits in rows:
        _out().print(_("{election}  {bureaux} bureaux, {inscrits} inscrits").format(
            election=election, bureaux=_n(bureaux), inscrits=_n(inscrits)))


def register(app: typer.Typer) -> None:
    app.add_typer(electoral_app, name="electoral", help="Electoral geography: the roll, bureaux de vote, past results.")
    app.add_typer(elections_app, name="elections", help="Elections: rounds, area, and the electoral silence (L49).")


# --- elections -------------------------------------------------------------------------------------------

@elections_app.command("add")
def elections_add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="A name: municipales-2026, legislatives-2027."),
    round_: List[str] = typer.Option(..., "--round", help="Date of a round, YYYY-MM-DD (repeat for each round)."),
    area: List[str] = typer.Option(..., "--area", help="france, departement:38, commune:38185, circo:38-01 or "
                                                       "canton:3809 (repeatable, one kind)."),
):
    """Record an election: no SMS, e-mail or social post goes out in its area from 00:00 on the eve of
    each round until the polls close (Code électoral L49)."""
    from dbox.electoral.calendar import add_election
    from dbox.privacy.audit import record

    store = store_from(ctx)
    election = add_election(store, name, round_, area)
    record(store, "elections add", 0, {"election": name})
    _print_election(election)


def _print_election(e: dict) -> None:
    area = "France" if e["area_kind"] == "france" else f"{e['area_kind']} {', '.join(e['areas'])}"
    _out().print(f"{e['name']}  ({area})")
    for r in e["rounds"]:
        _out().print(_("  round {day}: silence from {start} to {end} (UTC)").format(
            day=r["day"], start=r["quiet_from"], end=r["quiet_until"]))


@elections_app.command("list")
def elections_list(ctx: typer.Context):
    """Elections and their silence periods (UTC)."""
    from dbox.store.electoral import elections

    rows = elections(store_from(ctx))
    if not rows:
        _out().print(_("No election recorded (dbox elections add)."))
    for e in rows:
        _print_election(e)


@elections_app.command("remove")
def elections_remove(ctx: typer.Context, name: str = typer.Argument(...),
                     yes: bool = YesOption):
    """Remove an election (its silence no longer holds sends)."""
    from dbox.commands.common import confirm_or_abort
    from dbox.errors import InputError
    from dbox.privacy.audit import record
    from dbox.store.electoral import delete_election

    store = store_from(ctx)
    confirm_or_abort(_("Remove the election {name}?").format(name=name), yes)
    with store.transaction(immediate=True):
        if not delete_election(store, name):
            raise InputError(_("no election named {name!r}").format(name=name), hint=_("dbox elections list"))
        record(store, "elections remove", 0, {"election": name})
    _out().print(_("Removed {name}.").format(name=name))


@elections_app.command("allow")
def elections_allow(ctx: typer.Context, campaign: int = typer.Argument(..., help="Campaign id."),
                    reason: str = typer.Option(..., "--reason", help="Why it may go out during the silence.")):
    """Let one campaign go out during an electoral silence (recorded in the audit log)."""
    from dbox.electoral.calendar import allow

    allow(store_from(ctx), campaign, reason)
    _out().print(_("Campaign {campaign} may go out during the electoral silence; recorded in the audit log.").format(
        campaign=campaign))
