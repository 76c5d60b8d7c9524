"""``dbox followers ...``, ``dbox connect ...``, ``dbox post ...``: the social networks."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from dbox.commands.common import FormatOption, OutputOption, YesOption, confirm_or_abort, store_from
from dbox.i18n import N_, _, grouped

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
        raise InputError(_("give either an export FILE or --from NETWORK"),
                         hint=_("dbox followers import Connections.csv, or dbox followers import --from x"))
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


def import_followers_alias(ctx: typer.Context, file: Optional[Path], from_: Optional[str], *, dry_run: bool,
                           force: bool) -> None:
    """``dbox import followers FILE`` / ``dbox import followers --from x``: the same as
    ``dbox followers import`` (called from dbox.commands.importing)."""
    followers_import(ctx, file, from_, full=False, max_wait=900, dry_run=dry_run, force=force)


def print_followers_report(report) -> None:
    from rich.markup import escape

    from dbox.console import out

    if report.already_imported:
        import_id, name, when = report.already_imported
        out.print(_("{name} was already imported on {when} (import {import_id}); nothing to do. Use --force to import it again.").format(
                      name=report.path.name, when=when, import_id=import_id))
        return
    export = report.export
    prefix = _("Dry run: nothing was written. ") if report.dry_run else ""
    out.print(f"{prefix}{escape(report.path.name)}: {export.description} ({export.network}, {export.relation}s)")
    line = _("  read {read}; new people {new}; already known {seen}; new {relation}s {new_relations}; "
             "rejected {rejected}").format(read=grouped(report.read), new=grouped(report.new_identities),
                                           seen=grouped(report.seen), relation=export.relation,
                                           new_relations=grouped(report.new_relations),
                                           rejected=grouped(len(report.rejected)))
    if report.suppressed:
        line += _("; not imported (erased or opposed) {n}").format(n=grouped(report.suppressed))
    out.print(line)
    linked = report.linked
    if linked:
        line = _("  linked to contacts: {by_email} by e-mail, {by_profile_url} by profile URL").format(
            by_email=grouped(linked.by_email), by_profile_url=grouped(linked.by_profile_url))
        if linked.ambiguous:
            line += _("; {n} match several contacts and stay unlinked").format(n=grouped(linked.ambiguous))
        out.print(line)
    out.print(_("  {network} {relation}s known: {known}, of which {known_linked} are contacts and {value} audience only").format(
                  network=export.network, relation=export.relation, known=grouped(report.known), known_linked=grouped(report.known_linked), value=grouped(report.known - report.known_linked)))
    for line in report.rejected[:10]:
        out.print(_("  rejected: {line}").format(line=escape(line)))
    if len(report.rejected) > 10:
        out.print(_("  … and {value} more").format(value=grouped(len(report.rejected) - 10)))


def print_sync_report(report) -> None:
    from dbox.console import out

    prefix = _("Dry run: nothing was written. ") if report.dry_run else ""
    line = _("{network}: {pages} pages, {read} followers read, {new} new").format(
        network=report.network, pages=grouped(report.pages), read=grouped(report.read), new=grouped(report.new))
    if report.total is not None:
        line += _("; the network counts {n} followers").format(n=grouped(report.total))
    out.print(prefix + line)
    if report.linked:
        out.print(_("  linked to contacts: {by_email} by e-mail, {by_profile_url} by profile URL").format(
                      by_email=grouped(report.linked.by_email), by_profile_url=grouped(report.linked.by_profile_url)))
    if report.stopped_early:
        out.print(_("  stopped: {stopped_early}. Run the same command again to go on from there.").format(
                      stopped_early=report.stopped_early))
    elif report.complete:
        out.print(_("  up to date."))


@followers_app.command("link")
def followers_link(ctx: typer.Context):
    """Link unlinked followers to contacts again (after importing or editing contacts)."""
    from dbox.console import out
    from dbox.social.followers import relink

    counts = relink(store_from(ctx))
    text = _("Linked {by_email} by e-mail and {by_profile_url} by profile URL").format(
        by_email=grouped(counts.by_email), by_profile_url=grouped(counts.by_profile_url))
    if counts.ambiguous:
        text += _("; {n} match several contacts and stay unlinked").format(n=grouped(counts.ambiguous))
    out.print(text + ".")


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


# -- dbox connect ----------------------------------------------------------------------------------------

def connect(
    ctx: typer.Context,
    network: Optional[str] = typer.Argument(None, help=NETWORK_HELP),
    list_: bool = typer.Option(False, "--list", help="Show the connected accounts and until when."),
    client_id: Optional[str] = typer.Option(None, "--client-id", help="Your app's client id (kept in config.toml)."),
    client_secret: bool = typer.Option(False, "--client-secret", help="Ask for the app's client secret (kept in the keyring)."),
    instance: Optional[str] = typer.Option(None, "--instance", help="Mastodon: your server, https://mastodon.social"),
    page: Optional[str] = typer.Option(None, "--page", help="Facebook: the Page to post as (id or name)."),
    paste: bool = typer.Option(False, "--paste", help="No browser here: paste the address the browser was sent to."),
    timeout: int = typer.Option(300, "--timeout", help="Seconds to wait for the browser."),
    disconnect: bool = typer.Option(False, "--disconnect", help="Forget the account and delete its tokens."),
):
    """Connect an account with OAuth (tokens go to the system keyring), or list connections.

    dbox prints an address to open in a browser and catches the answer on 127.0.0.1 (the
    redirect address registered with your app, default http://127.0.0.1:8765/callback). On a
    server without a browser, use --paste and paste back the address the browser ends up on.
    """
    from dbox.console import out
    from dbox.errors import InputError
    from dbox.social import connections, oauth
    from dbox.social.formats import check_network

    store = store_from(ctx)
    if list_:
        _print_accounts(store)
        return
    if network is None:
        raise InputError(_("which network? x, linkedin, facebook or mastodon"), hint=_("or: dbox connect --list"))
    network = check_network(network)
    if disconnect:
        done = connections.disconnect(store, network)
        out.print(_("{network}: disconnected; its tokens were deleted.").format(network=network) if done else _("{network}: was not connected.").format(
                                                                                        network=network))
        return
    from dbox.secrets import require_writable, where

    require_writable(f"DBOX_{network.upper()}_TOKEN")    # before the browser: a token must have a home
    secret = typer.prompt(_("{network} client secret").format(network=network), hide_input=True) if client_secret else None
    config = connections.prepare(network, client_id=client_id, client_secret=secret, instance=instance)
    auth = oauth.begin(config)
    if paste:
        out.print(_("Open this address in a browser, authorize dbox, then copy the address the browser is sent to:\n\n  {url}\n").format(
                      url=auth.url))
        pasted = typer.prompt(_("Address (or code)"))
    else:
        catcher = oauth.RedirectCatcher(config.redirect_uri)
        out.print(_("Opening the browser at:\n\n  {url}\n\nWaiting for the answer on {redirect_uri} (up to {timeout} s; no browser here? use --paste)").format(
                      url=auth.url, redirect_uri=config.redirect_uri, timeout=timeout))
        _open_browser(auth.url)
        pasted = catcher.wait(timeout)
    account = connections.complete(store, auth, pasted, page=page)
    who = account["handle"] or account["display_name"] or account["account_id"]
    until = f"until {account['expires_at']}" if account["expires_at"] else "with no expiry"
    renew = ", renews itself" if account["refreshable"] else ""
    out.print(_("{network}: connected as {who} ({until}{renew}). Tokens are in {where}.").format(
                  network=network, who=who, until=until, renew=renew, where=where()), markup=False)


def _open_browser(url: str) -> None:
    """In a thread: some browsers' launchers wait for the page, which waits for our catcher."""
    import threading
    import webbrowser

    threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()


def _print_accounts(store) -> None:
    from dbox.output import emit
    from dbox.store.social import list_accounts

    rows = [(a["network"], a["handle"] or a["display_name"] or a["account_id"], a["connected_at"],
             a["expires_at"] or "no expiry", "yes" if a["refreshable"] else "no", a["synced_at"] or "")
            for a in list_accounts(store)]
    if not rows:
        from dbox.console import out

        out.print(_("No account connected. Try: dbox connect x"))
        return
    emit(rows, ["network", "account", "connected", "token_until", "renews_itself", "followers_synced"])


# -- dbox post -------------------------------------------------------------------------------------------

def post(
    ctx: typer.Context,
    text: str = typer.Argument(..., help="The text of the post."),
    image: Optional[Path] = typer.Option(None, "--image", help="An image (JPEG, PNG, GIF, WebP)."),
    network: Optional[str] = typer.Option(None, "--network", "-n", help="Comma-separated networks (default: every connected one)."),
    at: Optional[str] = typer.Option(None, "--at", help="Publish later (2026-12-01T18:30, local time): run-due publishes it."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only check and preview."),
    yes: bool = YesOption,
):
    """Publish a post to several networks at once, checked, previewed and confirmed.

    Each network's rules are checked before anything is sent (X counts 280 with every link as
    23). The same post is never published twice: running the command again reports the post
    already made.
    """
    from dbox.console import out
    from dbox.social import posting

    store = store_from(ctx)
    networks = [n.strip() for n in network.split(",") if n.strip()] if network else None
    plan = posting.plan_post(store, text, networks, image, posting.parse_at(at))
    _print_preview(plan)
    if not plan.ok:
        from dbox.errors import InputError

        problems = "; ".join(f"{c.network}: {', '.join(c.problems)}" for c in plan.checks if not c.ok)
        raise InputError(_("the post does not fit: {problems}; nothing was published").format(problems=problems),
                         hint=_("shorten it, or leave a network out with --network"))
    if dry_run:
        out.print(_("Dry run: nothing was published."))
        return
    from dbox.clock import local_text

    when = f"at {local_text(plan.due_at)}" if plan.due_at else "now"     # the zone named, as typed
    confirm_or_abort(_("Publish to {items} {when}?").format(items=', '.join(plan.networks), when=when), yes)
    outcomes = posting.create_posts(store, plan, created_by=_user())
    if not plan.due_at:
        outcomes = [posting.publish_campaign(store, o.campaign_id) if o.state == "scheduled" else o for o in outcomes]
    _print_outcomes(outcomes)
    if plan.due_at:
        out.print(_("Scheduled for {local_text}.").format(local_text=local_text(plan.due_at)), markup=False)


def _user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:
        return "dbox"


def _print_preview(plan) -> None:
    from rich.markup import escape
    from rich.table import Table

    from dbox.console import out

    out.print(_("[bold]Post[/] ({n} characters{value}):").format(
                  n=len(plan.text), value=', image ' + escape(plan.image.name) if plan.image else ''))
    out.print(escape(plan.text), soft_wrap=True)
    table = Table(title=_("Per network"))
    for column in ("network", "account", "length", "limit", "check"):
        table.add_column(column)
    for check in plan.checks:
        account = plan.accounts[check.network]
        table.add_row(check.network, escape(account["handle"] or account["display_name"] or account["account_id"]),
                      str(check.length), str(check.limit), "ok" if check.ok else escape("; ".join(check.problems)))
    out.print(table)


def _print_outcomes(outcomes) -> None:
    from dbox.console import out

    words = {"published": N_("published"), "scheduled": N_("scheduled"),
             "already-published": N_("already published, not again"),
             "in-doubt": N_("IN DOUBT (may be published; check before retrying)"),
             "failed": N_("failed, nothing published"), "busy": N_("being published by another dbox process")}
    for o in outcomes:
        where = o.url or o.post_id or o.detail or ""
        out.print(_("{network}: {state} (campaign {id}) {where}").format(
            network=o.network, state=_(words[o.state]), id=o.campaign_id, where=where).rstrip())
    if any(o.state == "scheduled" for o in outcomes):
        out.print(_("Scheduled posts are published by dbox run-due (from cron), or dbox posts publish-due."))
    if any(o.state in ("in-doubt",) for o in outcomes):
        out.print(_("After checking the account: dbox posts retry CAMPAIGN --retry-in-doubt"))


posts_app = typer.Typer(no_args_is_help=True, help="Posts made or scheduled with dbox post.")


@posts_app.command("list")
def posts_list(ctx: typer.Context, fmt: str = FormatOption, output: Optional[Path] = OutputOption):
    """Every post campaign: network, status, when, post id (or error)."""
    from dbox.output import emit
    from dbox.social.posting import post_campaigns

    from dbox.clock import local_rows

    rows, columns = post_campaigns(store_from(ctx)), ["campaign", "network", "status", "due_at", "text", "post_or_error"]
    if fmt == "table" and output is None:     # on screen: local time, the zone named; files keep UTC
        rows, columns = local_rows(rows, columns, ("due_at",))
    emit(rows, columns, fmt=fmt, output=output)


@posts_app.command("publish-due")
def posts_publish_due(ctx: typer.Context):
    """Publish the scheduled posts that are due (for cron, next to dbox run-due)."""
    from dbox.social.posting import publish_due

    _print_outcomes(publish_due(store_from(ctx)))


@posts_app.command("retry")
def posts_retry(
    ctx: typer.Context,
    campaign: int = typer.Argument(..., help="The post's campaign id (dbox posts list)."),
    retry_in_doubt: bool = typer.Option(False, "--retry-in-doubt", help="Publish even if it may already be online."),
    yes: bool = YesOption,
):
    """Publish again a post that failed (or, with --retry-in-doubt, one in doubt)."""
    from dbox.social.posting import publish_campaign

    confirm_or_abort(_("Publish campaign {campaign} again?").format(campaign=campaign), yes)
    _print_outcomes([publish_campaign(store_from(ctx), campaign, retry_in_doubt=retry_in_doubt)])


@posts_app.command("cancel")
def posts_cancel(ctx: typer.Context, campaign: int = typer.Argument(..., help="The post's campaign id (dbox posts list)."),
                 yes: bool = YesOption):
    """Cancel a scheduled post: it is never published (journalled and audited)."""
    from dbox.commands.sending import _control

    _control(ctx, campaign, "cancel", True, yes)


def register(app: typer.Typer) -> None:
    app.add_typer(followers_app, name="followers", help="Import followers, link them to contacts, follow growth.")
    app.command("connect")(connect)
    app.command("post")(post)
    app.add_typer(posts_app, name="posts", help="Posts made or scheduled with dbox post.")
