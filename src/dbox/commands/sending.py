"""``dbox send``, ``dbox channels list|setup``, ``dbox campaigns list|show|reconcile|sync``,
``dbox optouts sync``, ``dbox run-due``: parse, call dbox.sending.service, print."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from dbox.commands.common import (ExcelOption, FormatOption, OutputOption, SelectionArgs, YesOption,
                                 confirm_or_abort, selection_options, store_from)
from dbox.commands.messages import MessageArgs, deliver, message_options, n, print_outcome, progress
from dbox.i18n import _

channels_app = typer.Typer(no_args_is_help=True, help="Sending channels (plugins): list them, set them up.")
campaigns_app = typer.Typer(no_args_is_help=True, help="Campaigns sent or scheduled: counts, reconciling, delivery.")
optouts_app = typer.Typer(no_args_is_help=True, help="Opt-outs coming back from providers.")
bounces_app = typer.Typer(no_args_is_help=True, help="Bounces and complaints coming back by e-mail.")

LogOption = typer.Option(None, "--log", help="Append one line per campaign step to this file.")


def _log(path: Optional[Path]):
    from dbox.sending.steplog import StepLog

    return StepLog(path)


# --- dbox send -------------------------------------------------------------------------------------

@selection_options
@message_options
def send(
    ctx: typer.Context,
    selection: SelectionArgs,
    msg: MessageArgs,
    channel_id: Optional[str] = typer.Option(None, "--channel", help="Another channel from a plugin (see "
                                                                     "`dbox channels list`)."),
    output: Optional[Path] = OutputOption,
    rate: Optional[str] = typer.Option(None, "--rate", help="Messages per second or minute: 10/s, 300/min."),
    workers: Optional[int] = typer.Option(None, "--workers", help="Parallel connections to the provider."),
    resume: Optional[int] = typer.Option(None, "--resume", help="Send what is left of campaign ID."),
    retry_in_doubt: bool = typer.Option(False, "--retry-in-doubt",
                                        help="Also resend in-doubt messages (after looking them up)."),
    new_campaign: bool = typer.Option(False, "--new-campaign",
                                      help="Send again even if the same campaign was already sent."),
    gsm: bool = typer.Option(False, "--gsm", help="SMS: replace the characters that force UCS-2 (ê → e, « » → \"; "
                                                  "é and è stay), shown in the preview."),
    log: Optional[Path] = LogOption,
):
    """Send an SMS or an e-mail to the reachable contacts of a segment, once each.

    Shows how many will receive it and how many are excluded (by reason), then asks; --yes answers
    for scripts. A rerun of the same command (or --resume ID) sends only what is left. --dry-run
    prints the first messages, or writes them all to a CSV with --output FILE.
    """
    from dbox.errors import InputError
    from dbox.sending import service

    store = store_from(ctx)
    steps = _log(log)
    if resume is not None:
        if msg.given or channel_id or selection.given:
            raise InputError(_("--resume takes a campaign id only (its channel, audience and text are stored)"))
        return _resume(store, resume, msg.yes, msg.limit, rate, workers, msg.now, retry_in_doubt, steps)
    channel = msg.channel(channel_id)
    if output is not None and not msg.dry_run:
        raise InputError(_("--output is for --dry-run"))
    from dbox.channels import get_channel
    from dbox.sending.audience import resolve
    from dbox.sending.compose import load_template

    kind = get_channel(channel).compose_rules({}).kind
    if gsm and kind != "text":
        raise InputError(_("--gsm is for SMS (text channels)"))
    template = load_template(kind, msg.message, msg.template, msg.subject, msg.html)
    template.gsm = gsm
    request = service.SendRequest(
        channel=channel, selection=resolve(store, selection.expression, selection.segment, selection.shortcuts),
        template=template, at=msg.at, now=msg.now,
        rate=rate, workers=workers, limit=msg.limit, dry_run=msg.dry_run, new_campaign=new_campaign,
        retry_in_doubt=retry_in_doubt)
    word = {"sms": "SMS", "email": "e-mail(s)"}.get(channel, f"{channel} message(s)")
    deliver(store, request, yes=msg.yes, output=output, noun=word,
            start=lambda plan, advance: service.start(store, plan, log=steps, progress=advance))


def _resume(store, campaign_id, yes, limit, rate, workers, now, retry_in_doubt, steps) -> None:
    from dbox.labels import campaign_status
    from dbox.errors import InputError
    from dbox.sending import service
    from dbox.store import ledger

    campaign = ledger.get_campaign(store, campaign_id)
    if service.is_broadcast(store, campaign):      # a post: published and retried by `dbox posts`
        raise InputError(_("campaign {campaign_id} is a post").format(campaign_id=campaign_id),
                         hint=_("use: dbox posts {action} {campaign_id}").format(action="retry", campaign_id=campaign_id))
    counts = ledger.state_counts(store, campaign_id)
    left = counts["planned"] + (counts["in-doubt"] if retry_in_doubt else 0)
    from dbox.console import out

    out.print(_("Campaign {campaign_id} ({channel}, {shown_status}): {n} planned, {n2} in doubt.").format(
                  campaign_id=campaign_id, channel=campaign.channel, shown_status=campaign_status(campaign.shown_status), n=n(counts['planned']), n2=n(counts['in-doubt'])))
    if campaign.control is not None:
        service.resume(store, campaign_id)             # refuses, saying what to do
    if not now and campaign.status in ("scheduled", "waiting") and campaign.due_at:
        from datetime import datetime, timezone

        from dbox.sending.window import from_iso, local_text

        due = from_iso(campaign.due_at)
        if due > datetime.now(timezone.utc):
            out.print(_("Campaign {campaign_id} is scheduled for {local_text}: nothing sent now (`dbox run-due` sends it then; add --now to send it now).").format(
                          campaign_id=campaign_id, local_text=local_text(due)), markup=False)
            return
    confirm_or_abort(_("Resume campaign {campaign_id}: send up to {n} message(s)?").format(
                         campaign_id=campaign_id, n=n(left)), yes)
    with progress(left) as advance:
        report = service.resume(store, campaign_id, rate=rate, workers=workers, limit=limit, now=now,
                                retry_in_doubt=retry_in_doubt, log=steps, progress=advance)
    print_outcome(campaign_id, None, report)


# --- dbox run-due ------------------------------------------------------------------------------------

def run_due(ctx: typer.Context, log: Optional[Path] = LogOption):
    """Send the campaigns that are due (for cron).

    Due: scheduled, waiting for quiet hours to end, or left running by a process that died.
    A second concurrent run exits at once with code 7.
    """
    from dbox.labels import campaign_status
    from dbox.console import out
    from dbox.sending import service

    store = store_from(ctx)
    results = service.run_due(store, log=_log(log))
    for campaign_id, report in results:
        if campaign_id is None:          # what run-due schedules besides campaigns: bounces sync
            out.print(_("bounces: {value}").format(value=report if isinstance(report, Exception) else report.line()), markup=False)
        elif isinstance(report, str):
            out.print(_("campaign {campaign_id}: {report}").format(campaign_id=campaign_id, report=report), markup=False)
        elif isinstance(report, Exception):
            out.print(_("campaign {campaign_id}: error: {report}").format(campaign_id=campaign_id, report=report), markup=False)
        else:
            out.print(_("campaign {campaign_id}: {accepted} sent, {failed} failed, {in_doubt_total} in doubt, {left} left ({status})").format(
                          campaign_id=campaign_id, accepted=report.accepted, failed=report.failed, in_doubt_total=report.in_doubt_total, left=report.left, status=campaign_status(report.status)), markup=False)
    error = service.run_due_failure(results)
    if error is not None:
        raise error


# --- dbox channels ------------------------------------------------------------------------------------

@channels_app.command("list")
def channels_list(fmt: str = FormatOption):
    """The channels loaded from plugins, and whether each is configured."""
    from dbox.labels import yes_no
    from dbox.channels import channels
    from dbox.output import emit

    rows = []
    for channel in channels().values():
        settings = channel.settings()
        missing = channel.missing(settings)
        rows.append((channel.id, channel.title, type(channel).__module__,
                     "yes" if not missing else "missing: " + ", ".join(missing),
                     settings.get("rate") or channel.default_rate,
                     "yes" if settings.get("quiet_hours", channel.quiet_hours) else "no"))
    emit(iter(rows), ["channel", "title", "plugin", "configured", "rate", "quiet_hours"], fmt=fmt,
         shown={"title": _, "configured": _configured_shown, "quiet_hours": yes_no})


def _configured_shown(value: str) -> str:
    """``yes`` or ``missing: a, b`` (as JSON says it), in the user's language."""
    from dbox.labels import yes_no
    if value.startswith("missing: "):
        return _("missing: {items}").format(items=value[len("missing: "):])
    return yes_no(value)


@channels_app.command("setup")
def channels_setup(
    channel_id: str = typer.Argument(..., help="sms, email, or a plugin's channel."),
    values: Optional[list[str]] = typer.Option(None, "--set", help="name=value (repeatable), for scripts."),
    secret_stdin: Optional[str] = typer.Option(None, "--secret-stdin",
                                               help="Read this secret (e.g. auth_token) from standard input."),
):
    """Ask for a channel's settings: secrets go to the system keyring, the rest to config.toml."""
    from dbox.console import is_interactive, out
    from dbox.sending.setup import apply_setup, parse_assignments

    import sys

    given = parse_assignments(values or [])
    stdin_secret = sys.stdin.readline().rstrip("\r\n") if secret_stdin else None

    def ask(field, current):
        if field.secret:
            shown = " (leave empty to keep the current one)" if current else ""
            return typer.prompt(f"{_(field.prompt)}{shown}", default="", hide_input=True, show_default=False)
        return typer.prompt(_(field.prompt), default="" if current is None else str(current), show_default=True)

    from dbox.console import print_warning

    report = apply_setup(channel_id, given, ask if is_interactive() else None,
                         {secret_stdin: stdin_secret} if secret_stdin else {}, warn=print_warning)
    for line in report:
        out.print(line, markup=False)


# --- dbox campaigns -------------------------------------------------------------------------------------

@campaigns_app.command("list")
def campaigns_list(ctx: typer.Context, fmt: str = FormatOption, output: Optional[Path] = OutputOption,
                   excel: bool = ExcelOption):
    """Campaigns, newest first, with their counts per state."""
    from dbox.labels import campaign_status
    from dbox.clock import local_rows
    from dbox.output import emit
    from dbox.store.ledger import list_campaigns

    columns = ["id", "channel", "status", "created_at", "due_at", "audience", "planned", "claimed", "sent",
               "delivered", "failed", "skipped", "in_doubt"]
    rows = list_campaigns(store_from(ctx))
    if fmt == "table" and output is None:     # on screen: local time, the zone named; files keep UTC
        rows, columns = local_rows(rows, columns, ("created_at", "due_at"))
    emit(rows, columns, fmt=fmt, output=output, excel=excel, shown={"status": campaign_status})


@campaigns_app.command("show")
def campaigns_show(ctx: typer.Context, campaign_id: int = typer.Argument(..., help="Campaign id.")):
    """One campaign: audience, text, counts per state, why contacts were skipped, its journal."""
    from dbox.labels import campaign_status, shown
    from dbox.console import out
    from dbox.store import ledger

    store = store_from(ctx)
    c = ledger.get_campaign(store, campaign_id)
    from dbox.clock import configured_timezone, local_column, local_text

    lines = [_("campaign {id} ({channel}): {status}").format(id=c.id, channel=c.channel,
                                                           status=campaign_status(c.status)),
             _("created {when} by {user}").format(when=local_text(c.created_at), user=c.created_by)]
    if c.due_at:
        lines.append(_("due {when}").format(when=local_text(c.due_at)))
    account = ledger.broadcast_account(store, c.id)
    if account is not None:                 # a broadcast (a post): no contacts, one account publishes
        lines.append(_("posted from account {account} to its followers (no contacts messaged)").format(
                         account=account or "?"))
    else:
        audience = (_("segment {name}").format(name=c.segment) if c.segment else (c.expression or _("everyone")))
        lines.append(_("audience: {audience}").format(audience=audience))
    if c.template.get("subject"):
        lines.append(_("subject: {subject}").format(subject=c.template["subject"]))
    lines.append(_("text: {text}").format(text=c.template["body"].replace("\n", " / ")))
    counts = ledger.state_counts(store, c.id)
    states = ", ".join(f"{shown('state', k)} {v}" for k, v in counts.items() if v) or _("none")
    lines.append(_("states: {states}").format(states=states))
    for state in ("skipped", "failed", "undelivered"):
        reasons = ledger.reason_counts(store, c.id, state)
        if reasons:
            listed = ", ".join(f"{shown('reason', k)} {v}" for k, v in reasons.items())
            lines.append(_("{state}: {reasons}").format(state=shown("state", state), reasons=listed))
    segments = ledger.segment_total(store, c.id)
    if segments:
        lines.append(_("SMS segments sent: {n}").format(n=segments))
    if c.last_error:
        lines.append(_("last error: {error}").format(error=c.last_error))
    lines.append(_("journal ({zone}):").format(zone=configured_timezone()))
    lines.extend(f"  {local_column(at)} {shown('campaign', event)}" + (f" {detail}" if detail else "")
                 for at, event, detail in ledger.campaign_events(store, c.id))
    for line in lines:
        out.print(line, markup=False)


def _control(ctx, campaign_id: int, action: str, posts: bool, yes: bool = True) -> None:
    from dbox.labels import campaign_status
    from dbox.console import out
    from dbox.sending import service

    store = store_from(ctx)
    if action == "cancel":
        from dbox.store import ledger

        left = ledger.count_state(store, campaign_id, "planned")
        confirm_or_abort(_("Cancel campaign {campaign_id} ({n} message(s) not sent yet)? This cannot be undone.").format(
                             campaign_id=campaign_id, n=n(left)),
                         yes)
    campaign, cancelled = service.control(store, campaign_id, action, posts=posts)
    what = _("post") if posts else _("campaign")
    if action == "cancel":
        out.print(_("Cancelled {what} {campaign_id}: {n} planned message(s) will not be sent.").format(
                      what=what, campaign_id=campaign_id, n=n(cancelled)), markup=False)
    elif action == "pause":
        out.print(_("Paused {what} {campaign_id}: `dbox run-due` leaves it alone until `dbox campaigns resume {campaign_id}`.").format(
                      what=what, campaign_id=campaign_id), markup=False)
    else:
        out.print(_("Resumed {what} {campaign_id} ({status}): `dbox run-due` sends it when due, or `dbox send --resume {campaign_id}`.").format(
                      what=what, campaign_id=campaign_id, status=campaign_status(campaign.status)), markup=False)


@campaigns_app.command("cancel")
def campaigns_cancel(ctx: typer.Context, campaign_id: int = typer.Argument(..., help="Campaign id."),
                     yes: bool = YesOption):
    """Cancel a campaign: its planned messages are never sent (claimed and in-doubt ones stay)."""
    _control(ctx, campaign_id, "cancel", False, yes)


@campaigns_app.command("pause")
def campaigns_pause(ctx: typer.Context, campaign_id: int = typer.Argument(..., help="Campaign id.")):
    """Pause a campaign: run-due skips it until `dbox campaigns resume ID`."""
    _control(ctx, campaign_id, "pause", False)


@campaigns_app.command("resume")
def campaigns_resume(ctx: typer.Context, campaign_id: int = typer.Argument(..., help="Campaign id.")):
    """Resume a paused campaign: run-due sends it again when it is due."""
    _control(ctx, campaign_id, "resume", False)


@campaigns_app.command("reconcile")
def campaigns_reconcile(ctx: typer.Context, campaign_id: int = typer.Argument(..., help="Campaign id."),
                        log: Optional[Path] = LogOption):
    """Look in-doubt messages up at the provider; found ones count as sent.

    The others stay in doubt until you resend them with `dbox send --resume ID --retry-in-doubt`.
    """
    from dbox.console import out
    from dbox.sending import service

    r = service.reconcile(store_from(ctx), campaign_id, log=_log(log))
    if r["unsupported"]:
        out.print(_("{in_doubt} in doubt; this channel cannot look messages up (e-mails carry a deterministic Message-ID, so a duplicate can be spotted). Resend with --retry-in-doubt if you accept the risk.").format(
                      in_doubt=r['in_doubt']))
        return
    out.print(_("{in_doubt} in doubt: {found} found at the provider (now counted as sent), {not_found} not found.").format(
                  in_doubt=r['in_doubt'], found=r['found'], not_found=r['not_found']))
    if r["not_found"]:
        out.print(_("Resend those with: dbox send --resume {campaign_id} --retry-in-doubt").format(
                      campaign_id=campaign_id))


@campaigns_app.command("sync")
def campaigns_sync(ctx: typer.Context,
                   campaign_id: Optional[int] = typer.Argument(None, help="Campaign id (default: all with pending "
                                                                          "deliveries)."),
                   log: Optional[Path] = LogOption):
    """Fetch delivery statuses (delivered / undelivered / failed) from the provider."""
    from dbox.console import out
    from dbox.sending import service
    from dbox.store import ledger

    store = store_from(ctx)
    ids = [campaign_id] if campaign_id is not None else ledger.campaigns_with_pending_delivery(store)
    for cid in ids:
        r = service.sync_statuses(store, cid, log=_log(log))
        out.print(_("campaign {cid}: {checked} checked, {delivered} delivered, {undelivered} undelivered, {failed} failed, {pending} pending").format(
                      cid=cid, checked=r['checked'], delivered=r['delivered'], undelivered=r['undelivered'], failed=r['failed'], pending=r['pending']), markup=False)
    if not ids:
        out.print(_("No campaign waits for delivery statuses."))


@optouts_app.command("sync")
def optouts_sync(ctx: typer.Context, channel: str = typer.Option("sms", "--channel", help="Channel to read."),
                 log: Optional[Path] = LogOption):
    """Read inbound replies (STOP, ARRET, STOP SMS, ...): withdraw consent, suppress the number."""
    from dbox.console import out
    from dbox.sending import service

    r = service.sync_optouts(store_from(ctx), channel, log=_log(log))
    out.print(_("{replies} new repl{value}, {optouts} opt-out(s): consent withdrawn for {contacts} contact(s).").format(
                  replies=r['replies'], value='y' if r['replies'] == 1 else 'ies', optouts=r['optouts'], contacts=r['contacts']))


@bounces_app.command("sync")
def bounces_sync(ctx: typer.Context,
                 maildir: Optional[Path] = typer.Option(None, "--maildir", help="Read a Maildir folder instead of "
                                                                                "the IMAP mailbox."),
                 mbox: Optional[Path] = typer.Option(None, "--mbox", help="Read an mbox file instead of the IMAP "
                                                                          "mailbox."),
                 log: Optional[Path] = LogOption):
    """Read bounces (DSN) and complaints (ARF) from the bounce mailbox: suppress hard bounces, count
    soft ones, turn complaints into e-mail opt-outs. Safe to run twice.

    The mailbox is the IMAP folder set with `dbox channels setup email --set imap_host=...` (or the
    DBOX_IMAP_* variables), or a Maildir folder / an mbox file given here. `dbox run-due` runs it too.
    """
    from dbox.console import out
    from dbox.sending.bounces import sync

    summary = sync(store_from(ctx), maildir=maildir, mbox=mbox, log=_log(log))
    out.print(f"{summary.source}: {summary.line()}.", markup=False)


def register(app: typer.Typer) -> None:
    app.command("send")(send)
    app.command("run-due")(run_due)
    app.add_typer(channels_app, name="channels")
    app.add_typer(campaigns_app, name="campaigns")
    app.add_typer(bounces_app, name="bounces")
    existing = next((g.typer_instance for g in app.registered_groups if g.name == "optouts"), None)
    if existing is not None:          # another area made the group first: add our command to it
        existing.command("sync")(optouts_sync)
    else:
        app.add_typer(optouts_app, name="optouts")
