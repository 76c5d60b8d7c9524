"""``dbox send``, ``dbox channels list|setup``, ``dbox campaigns list|show|reconcile|sync``,
``dbox optouts sync``, ``dbox run-due``: parse, call dbox.sending.service, print."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from dbox.commands.common import (ExcelOption, FormatOption, OutputOption, SelectionArgs, confirm_or_abort,
                                 selection_options, store_from)

channels_app = typer.Typer(no_args_is_help=True, help="Sending channels (plugins): list them, set them up.")
campaigns_app = typer.Typer(no_args_is_help=True, help="Campaigns sent or scheduled: counts, reconciling, delivery.")
optouts_app = typer.Typer(no_args_is_help=True, help="Opt-outs coming back from providers.")

LogOption = typer.Option(None, "--log", help="Append one line per campaign step to this file.")


def _log(path: Optional[Path]):
    from dbox.sending.steplog import StepLog

    return StepLog(path)


def _n(value: int) -> str:
    return f"{value:,}".replace(",", "\u202f")


# --- dbox send -------------------------------------------------------------------------------------

@selection_options
def send(
    ctx: typer.Context,
    selection: SelectionArgs,
    sms: bool = typer.Option(False, "--sms", help="Send an SMS."),
    email: bool = typer.Option(False, "--email", help="Send an e-mail."),
    channel_id: Optional[str] = typer.Option(None, "--channel", help="Another channel from a plugin (see "
                                                                     "`dbox channels list`)."),
    message: Optional[str] = typer.Option(None, "--message", "-m", help="The text (Jinja2: {{ first_name }})."),
    template: Optional[Path] = typer.Option(None, "--template", "-t", help="The text from a UTF-8 file."),
    subject: Optional[str] = typer.Option(None, "--subject", help="E-mail subject."),
    html: Optional[Path] = typer.Option(None, "--html", help="E-mail HTML part from a file."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Confirm without asking (scripts, cron)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be sent; send nothing."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="--dry-run: write the messages to this CSV."),
    limit: Optional[int] = typer.Option(None, "--limit", "-n", help="Send at most N messages in this run."),
    at: Optional[str] = typer.Option(None, "--at", help="Schedule: \"2026-12-01 18:00\" (Europe/Paris)."),
    now: bool = typer.Option(False, "--now", help="Send now even outside quiet hours."),
    rate: Optional[str] = typer.Option(None, "--rate", help="Messages per second or minute: 10/s, 300/min."),
    workers: Optional[int] = typer.Option(None, "--workers", help="Parallel connections to the provider."),
    resume: Optional[int] = typer.Option(None, "--resume", help="Send what is left of campaign ID."),
    retry_in_doubt: bool = typer.Option(False, "--retry-in-doubt",
                                        help="Also resend in-doubt messages (after looking them up)."),
    new_campaign: bool = typer.Option(False, "--new-campaign",
                                      help="Send again even if the same campaign was already sent."),
    log: Optional[Path] = LogOption,
):
    """Send an SMS or an e-mail to the reachable contacts of a segment, once each.

    Shows how many will receive it and how many are excluded (by reason), then asks; --yes answers
    for scripts. A rerun of the same command (or --resume ID) sends only what is left.
    """
    from dbox.errors import InputError
    from dbox.sending import service

    store = store_from(ctx)
    steps = _log(log)
    if resume is not None:
        if sms or email or channel_id or message or template or selection.given:
            raise InputError("--resume takes a campaign id only (its channel, audience and text are stored)")
        return _resume(store, resume, yes, limit, rate, workers, now, retry_in_doubt, steps)
    if sum([sms, email, channel_id is not None]) != 1:
        raise InputError("choose the channel: --sms or --email (or --channel ID for a plugin's)")
    from dbox.channels import get_channel
    from dbox.sending.audience import resolve
    from dbox.sending.compose import load_template

    channel = "sms" if sms else "email" if email else channel_id
    kind = get_channel(channel).compose_rules({}).kind
    request = service.SendRequest(
        channel=channel, selection=resolve(store, selection.expression, selection.segment, selection.shortcuts),
        template=load_template(kind, message, template, subject, html), at=at, now=now, rate=rate,
        workers=workers, limit=limit, dry_run=dry_run, new_campaign=new_campaign, retry_in_doubt=retry_in_doubt)
    if output is not None and not dry_run:
        raise InputError("--output is for --dry-run")
    from dbox.privacy.notice import send_warning   # third-party contacts must be told who writes (docs/privacy.md)

    if notice := send_warning(store, request.selection.where, request.selection.params, channel, request.template.body):
        from dbox.console import print_warning

        print_warning(notice)
    if dry_run:
        return _dry_run(store, request, output)
    plan = service.plan_send(store, request)
    _print_plan(plan)
    if plan.existing is None:
        _privacy_warning(store, request)
    if plan.existing is not None and plan.due_at is not None:
        from dbox.console import out
        from dbox.sending.window import local_text

        out.print(f"Campaign {plan.existing.id} is already scheduled for {local_text(plan.due_at)}; nothing to do "
                  f"now (add --now to send it now).", markup=False)
        return
    if plan.existing is not None:
        left = plan.planned
        confirm_or_abort(f"Resume campaign {plan.existing.id}: send the {_n(left)} message(s) left?", yes)
    else:
        if plan.planned == 0:
            raise InputError("nothing to send: no reachable contact in this selection")
        word = {"sms": "SMS", "email": "e-mail(s)"}.get(channel, f"{channel} message(s)")
        when = " now" if not plan.due_at else ""
        confirm_or_abort(f"Send {_n(plan.planned)} {word}{when}?", yes)
    progress = _progress(plan.planned)
    with progress as advance:
        campaign_id, report = service.start(store, plan, log=steps, progress=advance)
    from dbox.privacy.audit import record

    record(store, "send", report.accepted if report else 0,
           {"campaign": campaign_id, "channel": channel, "audience": plan.planned, "scheduled": report is None})
    _print_outcome(campaign_id, plan, report)


def _privacy_warning(store, request) -> None:
    """The privacy area's check: third-party contacts owed an information mention (GDPR art. 14)."""
    try:
        from dbox.privacy.notice import send_warning
    except ModuleNotFoundError:
        return
    from dbox.console import print_warning

    sel, tpl = request.selection, request.template
    warning = send_warning(store, sel.where, sel.params, request.channel,
                           "\n".join(t for t in (tpl.subject, tpl.body, tpl.html) if t))
    if warning:
        print_warning(warning)


def _resume(store, campaign_id, yes, limit, rate, workers, now, retry_in_doubt, steps) -> None:
    from dbox.sending import service
    from dbox.store import ledger

    campaign = ledger.get_campaign(store, campaign_id)
    counts = ledger.state_counts(store, campaign_id)
    left = counts["planned"] + (counts["in-doubt"] if retry_in_doubt else 0)
    from dbox.console import out

    out.print(f"Campaign {campaign_id} ({campaign.channel}, {campaign.status}): {_n(counts['planned'])} planned, "
              f"{_n(counts['in-doubt'])} in doubt.")
    confirm_or_abort(f"Resume campaign {campaign_id}: send up to {_n(left)} message(s)?", yes)
    with _progress(left) as advance:
        report = service.resume(store, campaign_id, rate=rate, workers=workers, limit=limit, now=now,
                                retry_in_doubt=retry_in_doubt, log=steps, progress=advance)
    _print_outcome(campaign_id, None, report)


def _dry_run(store, request, output: Optional[Path]) -> None:
    from dbox.console import out
    from dbox.sending import service
    from dbox.masking import mask

    rows: list = []
    shown = [0]

    def collect(contact_id, address, rendered) -> None:
        if output is not None:
            rows.append((contact_id, address, rendered.segments or "", rendered.subject or "", rendered.body))
            return
        shown[0] += 1
        if shown[0] <= 20:
            head = f"--- contact {contact_id}, to {mask(address)}"
            if rendered.segments:
                head += f", {rendered.segments} segment(s) {rendered.encoding}"
            out.print(head, markup=False)
            if rendered.subject:
                out.print(f"Subject: {rendered.subject}", markup=False)
            out.print(rendered.body, markup=False)

    plan = service.plan_send(store, request, dry_run_rows=collect)
    if output is not None:
        from dbox.output import emit

        emit(iter(rows), ["contact_id", "to", "segments", "subject", "body"], fmt="csv", output=output)
        from dbox.sending.engine import _audit

        _audit(store, "send --dry-run --output", len(rows), {"channel": request.channel, "file": output.name})
        out.print(f"Wrote {_n(len(rows))} message(s) to {output}.")
    elif shown[0] > 20:
        out.print(f"... and {_n(shown[0] - 20)} more (use --output FILE to write them all).")
    _print_plan(plan, sample=False)
    out.print("This was a dry run: nothing was sent and no campaign was created. To send, run the same "
              "command without --dry-run.")


def _print_plan(plan, sample: bool = True) -> None:
    from dbox.console import out
    from dbox.masking import mask
    from dbox.sending.service import REASONS
    from dbox.sending.window import local_text

    req = plan.request
    who = f"segment {req.selection.segment}" if req.selection.segment else (req.selection.expression or "everyone")
    if plan.existing is not None:
        c = plan.existing
        when = "they are sent now, nothing twice" if plan.due_at is None else "nothing is sent twice"
        out.print(f"Campaign {c.id} ({c.status}, created {c.created_at}) already has this message for {who}: "
                  f"{_n(plan.planned)} message(s) left; {when}.", markup=False)
        return
    out.print(f"{ {'sms': 'SMS', 'email': 'E-mail'}.get(req.channel, req.channel)} to {who}")
    out.print(f"  recipients: {_n(plan.planned)}")
    excluded = plan.excluded
    if excluded:
        out.print(f"  excluded:   {_n(sum(excluded.values()))}")
        for reason, n in sorted(excluded.items(), key=lambda kv: -kv[1]):
            out.print(f"    {REASONS.get(reason, reason):<40} {_n(n):>10}", markup=False)
    if plan.segments:
        enc = ", ".join(f"{k}: {_n(v)}" for k, v in sorted(plan.encodings.items()))
        line = f"  SMS segments: {_n(plan.segments)} ({enc})"
        if plan.cost is not None:
            line += f"; estimated cost {plan.cost:.2f} {plan.composer.rules.currency}"
        out.print(line, markup=False)
    if sample and plan.sample is not None:
        out.print(f"  first message, to {mask(plan.sample_to)}:", markup=False)
        if plan.sample.subject:
            out.print(f"    Subject: {plan.sample.subject}", markup=False)
        for line in plan.sample.body.splitlines()[:12]:
            out.print(f"    | {line}", markup=False)
    if plan.window is not None and not req.now:
        out.print(f"  quiet hours: sent only {plan.window.describe()}")
    if plan.due_at is not None:
        tz = plan.window.tz_name if plan.window else "Europe/Paris"
        note = " — add --now to send now anyway" if plan.due_reason == "quiet hours" else ""
        out.print(f"  scheduled for {local_text(plan.due_at, tz)} ({plan.due_reason}){note}", markup=False)


class _NoProgress:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


class _Progress:
    def __init__(self, total: int):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        from dbox.console import err

        self.progress = Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                                 TimeRemainingColumn(), console=err, transient=True)
        self.task = self.progress.add_task("sending", total=total)

    def __enter__(self):
        self.progress.start()
        return lambda done: self.progress.update(self.task, completed=done)

    def __exit__(self, *exc):
        self.progress.stop()
        return False


def _progress(total: int):
    from dbox.console import is_interactive

    return _Progress(total) if is_interactive() and total > 0 else _NoProgress()


def _print_outcome(campaign_id: int, plan, report) -> None:
    from dbox.console import out, print_warning
    from dbox.sending.service import provider_failure
    from dbox.sending.window import local_text

    if report is None:
        out.print(f"Campaign {campaign_id} scheduled for {local_text(plan.due_at)} ({plan.due_reason}). "
                  f"`dbox run-due` sends it when due (run it from cron, see README), or "
                  f"`dbox send --resume {campaign_id} --now`.", markup=False)
        return
    out.print(f"Campaign {campaign_id}: {_n(report.accepted)} sent, {_n(report.failed)} failed, "
              f"{_n(report.skipped)} skipped at send time, {_n(report.in_doubt_total)} in doubt, {_n(report.left)} left "
              f"({report.status}).", markup=False)
    if report.skipped_reasons:
        out.print("  skipped: " + ", ".join(f"{k} {v}" for k, v in report.skipped_reasons.items()), markup=False)
    if report.in_doubt_total:
        print_warning(f"{report.in_doubt_total} message(s) in doubt (the provider may have them): never resent "
                      f"automatically; look them up with: dbox campaigns reconcile {campaign_id}")
    if report.status == "waiting":
        out.print(f"Quiet hours: the rest goes at {local_text(report.due_at)} with `dbox run-due` (cron) or "
                  f"`dbox send --resume {campaign_id}`.", markup=False)
    elif report.stop_reason == "limit":
        out.print(f"--limit reached: send the rest with `dbox send --resume {campaign_id}` (or the same command).",
                  markup=False)
    elif report.stop_reason == "interrupted":
        out.print(f"Interrupted: send the rest with `dbox send --resume {campaign_id}`.", markup=False)
    error = provider_failure(campaign_id, report)
    if error is not None:
        raise error


# --- dbox run-due ------------------------------------------------------------------------------------

def run_due(ctx: typer.Context, log: Optional[Path] = LogOption):
    """Send the campaigns that are due (for cron).

    Due: scheduled, waiting for quiet hours to end, or left running by a process that died.
    A second concurrent run exits at once with code 7.
    """
    from dbox.console import out
    from dbox.sending import service

    store = store_from(ctx)
    results = service.run_due(store, log=_log(log))
    for campaign_id, report in results:
        if isinstance(report, str):
            out.print(f"campaign {campaign_id}: {report}", markup=False)
        elif isinstance(report, Exception):
            out.print(f"campaign {campaign_id}: error: {report}", markup=False)
        else:
            out.print(f"campaign {campaign_id}: {report.accepted} sent, {report.failed} failed, "
                      f"{report.in_doubt_total} in doubt, {report.left} left ({report.status})", markup=False)
    error = service.run_due_failure(results)
    if error is not None:
        raise error


# --- dbox channels ------------------------------------------------------------------------------------

@channels_app.command("list")
def channels_list(fmt: str = FormatOption):
    """The channels loaded from plugins, and whether each is configured."""
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
    emit(iter(rows), ["channel", "title", "plugin", "configured", "rate", "quiet_hours"], fmt=fmt)


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
            return typer.prompt(f"{field.prompt}{shown}", default="", hide_input=True, show_default=False)
        return typer.prompt(field.prompt, default="" if current is None else str(current), show_default=True)

    report = apply_setup(channel_id, given, ask if is_interactive() else None,
                         {secret_stdin: stdin_secret} if secret_stdin else {})
    for line in report:
        out.print(line, markup=False)


# --- dbox campaigns -------------------------------------------------------------------------------------

@campaigns_app.command("list")
def campaigns_list(ctx: typer.Context, fmt: str = FormatOption, output: Optional[Path] = OutputOption,
                   excel: bool = ExcelOption):
    """Campaigns, newest first, with their counts per state."""
    from dbox.output import emit
    from dbox.store.ledger import list_campaigns

    emit(list_campaigns(store_from(ctx)),
         ["id", "channel", "status", "created_at", "due_at", "audience", "planned", "claimed", "sent", "delivered",
          "failed", "skipped", "in_doubt"], fmt=fmt, output=output, excel=excel)


@campaigns_app.command("show")
def campaigns_show(ctx: typer.Context, campaign_id: int = typer.Argument(..., help="Campaign id.")):
    """One campaign: audience, text, counts per state, why contacts were skipped, its journal."""
    from dbox.console import out
    from dbox.store import ledger

    store = store_from(ctx)
    c = ledger.get_campaign(store, campaign_id)
    lines = [f"campaign {c.id} ({c.channel}): {c.status}", f"created {c.created_at} by {c.created_by}"]
    if c.due_at:
        lines.append(f"due {c.due_at}")
    lines.append("audience: " + (f"segment {c.segment}" if c.segment else (c.expression or "everyone")))
    if c.template.get("subject"):
        lines.append(f"subject: {c.template['subject']}")
    lines.append("text: " + c.template["body"].replace("\n", " / "))
    counts = ledger.state_counts(store, c.id)
    lines.append("states: " + (", ".join(f"{k} {v}" for k, v in counts.items() if v) or "none"))
    for state in ("skipped", "failed", "undelivered"):
        reasons = ledger.reason_counts(store, c.id, state)
        if reasons:
            lines.append(f"{state}: " + ", ".join(f"{k} {v}" for k, v in reasons.items()))
    segments = ledger.segment_total(store, c.id)
    if segments:
        lines.append(f"SMS segments sent: {segments}")
    if c.last_error:
        lines.append(f"last error: {c.last_error}")
    lines.append("journal:")
    lines.extend(f"  {at} {event}" + (f" {detail}" if detail else "") for at, event, detail in
                 ledger.campaign_events(store, c.id))
    for line in lines:
        out.print(line, markup=False)


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
        out.print(f"{r['in_doubt']} in doubt; this channel cannot look messages up (e-mails carry a deterministic "
                  f"Message-ID, so a duplicate can be spotted). Resend with --retry-in-doubt if you accept the risk.")
        return
    out.print(f"{r['in_doubt']} in doubt: {r['found']} found at the provider (now counted as sent), "
              f"{r['not_found']} not found.")
    if r["not_found"]:
        out.print(f"Resend those with: dbox send --resume {campaign_id} --retry-in-doubt")


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
        out.print(f"campaign {cid}: {r['checked']} checked, {r['delivered']} delivered, {r['undelivered']} "
                  f"undelivered, {r['failed']} failed, {r['pending']} pending", markup=False)
    if not ids:
        out.print("No campaign waits for delivery statuses.")


@optouts_app.command("sync")
def optouts_sync(ctx: typer.Context, channel: str = typer.Option("sms", "--channel", help="Channel to read."),
                 log: Optional[Path] = LogOption):
    """Read inbound replies (STOP, ARRET, STOP SMS, ...): withdraw consent, suppress the number."""
    from dbox.console import out
    from dbox.sending import service

    r = service.sync_optouts(store_from(ctx), channel, log=_log(log))
    out.print(f"{r['replies']} new repl{'y' if r['replies'] == 1 else 'ies'}, {r['optouts']} opt-out(s): consent "
              f"withdrawn for {r['contacts']} contact(s).")


def register(app: typer.Typer) -> None:
    app.command("send")(send)
    app.command("run-due")(run_due)
    app.add_typer(channels_app, name="channels")
    app.add_typer(campaigns_app, name="campaigns")
    existing = next((g.typer_instance for g in app.registered_groups if g.name == "optouts"), None)
    if existing is not None:          # another area made the group first: add our command to it
        existing.command("sync")(optouts_sync)
    else:
        app.add_typer(optouts_app, name="optouts")
