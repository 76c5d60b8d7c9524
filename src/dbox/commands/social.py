"""``dbox followers ...``, ``dbox connect ...``, ``dbox post ...``: the social networks."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from dbox.commands.common import FormatOption, OutputOption, confirm_or_abort, store_from

followers_app = typer.Typer(no_args_is_help=True, help="Import followers, link them to contacts, follow growth.")

NETWORK_HELP = "x, linkedin, facebook or mastodon."


@followers_app.command("import")
def followers_import(
    ctx: typer.Context,
    file: Optional[Path] = typer.Argument(None, help="An export file (recognised by its content)."),
    from_: Optional[str] = typer.Option(None, "--from", help="Sync from a connected network's API instead: x or mastodon "
                                        "(facebook: follower count only)."),
    full: bool = typer.Option(False, "--full", help="With --from: page through every follower, not only new ones."),
    max_wait: int = typer.Option(900, "--max-wait", help="With --from: longest single wait for a rate limit, in seconds; "
                                 "past it dbox stops and the next run resumes."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would happen; change nothing."),
    force: bool = typer.Option(False, "--force", help="Import again a file already imported."),
):
    """Import followers from an export file, or sync them from a network's API (--from).

    Files: X archive data/follower.js and following.js, LinkedIn Connections.csv, Instagram
    followers_1.json and following.json, Facebook friends/followers JSON, Mastodon
    following_accounts.csv. Each follower becomes a social identity, attached to a contact when
    an e-mail or profile URL matches. One transaction per file.
    """
    from dbox.errors import InputError

    if (file is None) == (from_ is None):
        raise InputError("give either an export FILE or --from NETWORK",
                         hint="dbox followers import Connections.csv, or dbox followers import --from x")
    store = store_from(ctx)
    if file is not None:
        from dbox.social.followers import import_followers_file

        print_followers_report(import_followers_file(store, file, dry_run=dry_run, force=force))
        return
    from dbox.console import err
    from dbox.social.sync import sync_followers

    report = sync_followers(store, from_.strip().lower(), full=full, max_wait=max_wait, dry_run=dry_run,
                            progress=lambda text: err.print(text))
    print_sync_report(report)


def print_followers_report(report) -> None:
    from rich.markup import escape

    from dbox.console import out

    if report.already_imported:
        import_id, name, when = report.already_imported
        out.print(f"{report.path.name} was already imported on {when} (import {import_id}); nothing to do. "
                  "Use --force to import it again.")
        return
    export = report.export
    prefix = "Dry run: nothing was written. " if report.dry_run else ""
    out.print(f"{prefix}{escape(report.path.name)}: {export.description} ({export.network}, {export.relation}s)")
    out.print(f"  read {report.read:,}; new people {report.new_identities:,}; already known {report.seen:,}; "
              f"new {export.relation}s {report.new_relations:,}; rejected {len(report.rejected):,}"
              + (f"; not imported (erased or opposed) {report.suppressed:,}" if report.suppressed else ""))
    linked = report.linked
    if linked:
        out.print(f"  linked to contacts: {linked.by_email:,} by e-mail, {linked.by_profile_url:,} by profile URL"
                  + (f"; {linked.ambiguous:,} match several contacts and stay unlinked" if linked.ambiguous else ""))
    out.print(f"  {export.network} {export.relation}s known: {report.known:,}, of which {report.known_linked:,} "
              f"are contacts and {report.known - report.known_linked:,} audience only")
    for line in report.rejected[:10]:
        out.print(f"  rejected: {escape(line)}")
    if len(report.rejected) > 10:
        out.print(f"  … and {len(report.rejected) - 10:,} more")


def print_sync_report(report) -> None:
    from dbox.console import out

    prefix = "Dry run: nothing was written. " if report.dry_run else ""
    out.print(f"{prefix}{report.network}: {report.pages:,} pages, {report.read:,} followers read, "
              f"{report.new:,} new" + (f"; the network counts {report.total:,} followers" if report.total is not None
                                        else ""))
    if report.linked:
        out.print(f"  linked to contacts: {report.linked.by_email:,} by e-mail, "
                  f"{report.linked.by_profile_url:,} by profile URL")
    if report.stopped_early:
        out.print(f"  stopped: {report.stopped_early}. Run the same command again to go on from there.")
    elif report.complete:
        out.print("  up to date.")


@followers_app.command("link")
def followers_link(ctx: typer.Context):
    """Link unlinked followers to contacts again (after importing or editing contacts)."""
    from dbox.console import out
    from dbox.social.followers import relink

    counts = relink(store_from(ctx))
    out.print(f"Linked {counts.by_email:,} by e-mail and {counts.by_profile_url:,} by profile URL"
              + (f"; {counts.ambiguous:,} match several contacts and stay unlinked" if counts.ambiguous else "") + ".")


@followers_app.command("list")
def followers_list(
    ctx: typer.Context,
    network: Optional[str] = typer.Option(None, "--network", "-n", help=NETWORK_HELP + " Or instagram."),
    relation: Optional[str] = typer.Option(None, "--relation", help="follower, following, connection or friend."),
    linked: Optional[bool] = typer.Option(None, "--linked/--audience", help="Only those linked to a contact / only the others."),
    fmt: str = FormatOption,
    output: Optional[Path] = OutputOption,
):
    """List social identities (followers, connections, friends, followed accounts)."""
    from dbox.output import emit
    from dbox.social.formats import check_network, check_relation
    from dbox.store.social import iter_identities

    network = check_network(network, with_instagram=True) if network else None
    relation = check_relation(relation) if relation else None
    columns = ["id", "network", "relations", "account_id", "handle", "display_name", "profile_url", "email",
               "contact_id", "linked_by", "first_seen"]
    emit(iter_identities(store_from(ctx), network, relation, linked), columns, fmt=fmt, output=output)


@followers_app.command("stats")
def followers_stats(
    ctx: typer.Context,
    network: Optional[str] = typer.Option(None, "--network", "-n", help=NETWORK_HELP + " Or instagram."),
    history: bool = typer.Option(False, "--history", help="Every snapshot, oldest first (growth over time)."),
    fmt: str = FormatOption,
    output: Optional[Path] = OutputOption,
):
    """Followers per network: how many, how many are contacts, and their growth."""
    from dbox.output import emit
    from dbox.social.formats import check_network
    from dbox.store import social as store_social

    store = store_from(ctx)
    network = check_network(network, with_instagram=True) if network else None
    if history:
        emit(store_social.snapshots(store, network),
             ["taken_at", "network", "relation", "source", "total", "new", "known", "linked"], fmt=fmt, output=output)
        return
    rows = [r for r in store_social.audience_summary(store) if not network or r[0] == network]
    emit(rows, ["network", "relation", "people", "contacts", "audience_only"], fmt=fmt, output=output)


def register(app: typer.Typer) -> None:
    app.add_typer(followers_app, name="followers", help="Import followers, link them to contacts, follow growth.")
