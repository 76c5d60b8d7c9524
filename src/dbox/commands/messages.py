"""What the commands that send messages share (``dbox send``, ``dbox action invite``): the message
options, declared once (``@message_options``); one confirm-and-send flow (``deliver``); one way to
print a plan, a dry run and an outcome.

The rules themselves (who is reachable, quiet hours, at most one message each, the information
notice, the audit log) are dbox.sending.service's; this module only asks and prints.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Optional

import typer

from dbox.commands.common import YesOption, confirm_or_abort, replace_parameter, typer_parameter
from dbox.i18n import _

DRY_RUN_SHOWN = 20          # messages printed by a dry run (--output FILE writes them all)

_MESSAGE_OPTIONS = (
    # (parameter name, annotation, typer option)
    ("msg_sms", bool, typer.Option(False, "--sms", help="Send by SMS.")),
    ("msg_email", bool, typer.Option(False, "--email", help="Send by e-mail.")),
    ("msg_message", Optional[str], typer.Option(None, "--message", "-m",
                                                help="The text, a Jinja2 template: {{ first_name }}, {{ commune }}, "
                                                     "... (docs/sending.md).")),
    ("msg_template", Optional[Path], typer.Option(None, "--template", "-t", help="The text from a UTF-8 file.")),
    ("msg_subject", Optional[str], typer.Option(None, "--subject", help="E-mail subject.")),
    ("msg_html", Optional[Path], typer.Option(None, "--html", help="E-mail HTML part from a file.")),
    ("msg_yes", bool, YesOption),
    ("msg_dry_run", bool, typer.Option(False, "--dry-run", help="Show what would be sent; send nothing.")),
    ("msg_limit", Optional[int], typer.Option(None, "--limit", "-n", help="Send at most N messages in this run.")),
    ("msg_at", Optional[str], typer.Option(None, "--at", help="Schedule: \"2026-12-01 18:00\", \"01/12/2026 18h00\" or 18:00 (today), in the [dbox] timezone of config.toml (Europe/Paris).")),
    ("msg_now", bool, typer.Option(False, "--now", help="Send now even outside quiet hours.")),
)


class MessageArgs:
    """What the message options of a command received."""

    def __init__(self, sms: bool, email: bool, message: Optional[str], template: Optional[Path],
                 subject: Optional[str], html: Optional[Path], yes: bool, dry_run: bool, limit: Optional[int],
                 at: Optional[str], now: bool):
        self.sms, self.email, self.message, self.template = sms, email, message, template
        self.subject, self.html, self.yes, self.dry_run = subject, html, yes, dry_run
        self.limit, self.at, self.now = limit, at, now

    @property
    def given(self) -> bool:
        """Whether a channel or a text was given (``--resume`` takes neither)."""
        return bool(self.sms or self.email or self.message or self.template)

    def channel(self, plugin: Optional[str] = None) -> str:
        """sms, email, or a plugin's channel id (``--channel``, where the command offers it)."""
        if sum([self.sms, self.email, plugin is not None]) != 1:
            from dbox.errors import InputError

            raise InputError(_("choose the channel: --sms or --email") +
                             (_(" (or --channel ID for a plugin's)") if plugin is not None else ""))
        return "sms" if self.sms else "email" if self.email else plugin


def message_options(func):
    """Decorator adding ``--sms``, ``--email``, ``--message``, ``--template``, ``--subject``, ``--html``,
    ``--yes``, ``--dry-run``, ``--limit``, ``--at`` and ``--now`` to a Typer command, in place of its
    ``msg`` parameter, which receives a :class:`MessageArgs`."""
    injected = [typer_parameter(name, annotation, default) for name, annotation, default in _MESSAGE_OPTIONS]

    def build(kwargs) -> MessageArgs:
        return MessageArgs(*(kwargs.pop(name) for name, _unused, _unused in _MESSAGE_OPTIONS))

    return replace_parameter(func, "msg", injected, build)


def n(value: int) -> str:
    """A count with a narrow no-break space between thousands (French style)."""
    return f"{value:,}".replace(",", "\u202f")


# --- the flow -----------------------------------------------------------------------------------------

def deliver(store, request, *, yes: bool, start: Callable, noun: str, header: Optional[str] = None,
            output: Optional[Path] = None, nobody: Optional[Callable[[], Exception]] = None) -> None:
    """Plan ``request`` (a dbox.sending.service.SendRequest), print the plan, ask, send or schedule,
    print the outcome. ``start(plan, progress)`` creates and runs the campaign and returns
    (campaign id, report or None when scheduled); ``noun`` names the messages in the question
    ("SMS", "invitation(s)"); ``nobody()`` is the error when nobody is reachable."""
    from dbox.console import out
    from dbox.errors import InputError
    from dbox.sending import service

    if request.dry_run:
        return dry_run(store, request, output)
    plan = service.plan_send(store, request)
    if header:
        out.print(header, markup=False)
    print_plan(plan)
    if plan.existing is not None and plan.due_at is not None:
        from dbox.sending.window import local_text

        out.print(_("Campaign {id} is already scheduled for {local_text}; nothing to do now (add --now to send it now).").format(
                      id=plan.existing.id, local_text=local_text(plan.due_at)), markup=False)
        return
    if plan.existing is not None:
        confirm_or_abort(_("Resume campaign {id}: send the {n} {noun} left?").format(
                             id=plan.existing.id, n=n(plan.planned), noun=noun), yes)
    else:
        if plan.planned == 0:
            raise nobody() if nobody else InputError(_("nothing to send: no reachable contact in this selection"))
        confirm_or_abort(_("Send {n} {noun}{value}?").format(
                             n=n(plan.planned), noun=noun, value=' now' if not plan.due_at else ''), yes)
    with progress(plan.planned) as advance:
        campaign_id, report = start(plan, advance)
    print_outcome(campaign_id, plan, report)


def dry_run(store, request, output: Optional[Path]) -> None:
    """Render every message and send none: the first ones on the terminal, or all of them to a CSV
    (``--output``, 0600: it holds addresses)."""
    from dbox.console import out
    from dbox.masking import mask
    from dbox.sending import service

    shown = [0]

    def show(contact_id, address, rendered) -> None:
        shown[0] += 1
        if shown[0] <= DRY_RUN_SHOWN:
            head = _("--- contact {id}, to {address}").format(id=contact_id, address=mask(address))
            if rendered.segments:
                head += _(", {n} segment(s) {encoding}").format(n=rendered.segments, encoding=rendered.encoding)
            out.print(head, markup=False)
            if rendered.subject:
                out.print(_("Subject: {subject}").format(subject=rendered.subject), markup=False)
            out.print(rendered.body, markup=False)

    if output is None:
        plan = service.plan_send(store, request, dry_run_rows=show)
        if shown[0] > DRY_RUN_SHOWN:
            out.print(_("... and {n} more (use --output FILE to write them all).").format(
                          n=n(shown[0] - DRY_RUN_SHOWN)))
    else:
        plan, written = service.write_dry_run(store, request, output)
        out.print(_("Wrote {n} message(s) to {output}.").format(n=n(written), output=output))
    print_plan(plan, sample=False)
    out.print(_("This was a dry run: nothing was sent and no campaign was created. To send, run the same command without --dry-run."))


# --- printing -----------------------------------------------------------------------------------------

def _money(amount, currency) -> str:
    """An estimated cost: '6,00 €' in French (dbox.i18n.format_euros), '6.00 EUR' otherwise."""
    from dbox.i18n import current_language, format_euros

    if currency == "EUR" and current_language() == "fr":
        return format_euros(amount)
    return f"{amount:.2f} {currency}"


def print_plan(plan, sample: bool = True) -> None:
    """Recipients, exclusions by reason, SMS segments and cost, the first message, when it goes;
    then the information notice the service found owed (GDPR art. 14), if any."""
    from dbox.labels import shown
    from dbox.console import out, print_warning
    from dbox.masking import mask
    from dbox.sending.service import REASONS
    from dbox.sending.window import local_text

    req = plan.request
    who = _("segment {name}").format(name=req.selection.segment) if req.selection.segment \
        else (req.selection.expression or _("everyone"))
    if plan.existing is not None:
        c = plan.existing
        when = _("they are sent now, nothing twice") if plan.due_at is None else _("nothing is sent twice")
        out.print(_("Campaign {id} ({status}, created {created_at}) already has this message for {who}: {n} message(s) left; {when}.").format(
                      id=c.id, status=c.status, created_at=c.created_at, who=who, n=n(plan.planned), when=when), markup=False)
        return
    out.print(_("{value} to {who}").format(
                  value={'sms': _('SMS'), 'email': _('E-mail')}.get(req.channel, req.channel), who=who), markup=False)
    out.print(_("  recipients: {n}").format(n=n(plan.planned)))
    excluded = plan.excluded
    if excluded:
        out.print(_("  excluded:   {n}").format(n=n(sum(excluded.values()))))
        for reason, count in sorted(excluded.items(), key=lambda kv: -kv[1]):
            out.print(f"    {_(REASONS.get(reason, reason)):<40} {n(count):>10}", markup=False)
    if plan.segments:
        enc = ", ".join(f"{k}: {n(v)}" for k, v in sorted(plan.encodings.items()))
        line = _("  SMS segments: {n} ({encodings})").format(n=n(plan.segments), encodings=enc)
        if plan.cost is not None:
            line += _("; estimated cost {cost}").format(cost=_money(plan.cost, plan.composer.rules.currency))
        out.print(line, markup=False)
    if plan.ucs2_chars:
        chars = ", ".join(_("{char} ({n} message(s))").format(char=ch if ch.strip() else repr(ch), n=n(k))
                          for ch, k in sorted(plan.ucs2_chars.items(), key=lambda kv: -kv[1]))
        line = _("  UCS-2 because of: {chars}; in GSM-7 without them: {n} segments").format(
            chars=chars, n=n(plan.gsm_segments))
        cost = plan.price(plan.gsm_segments)
        if cost is not None:
            line += ", " + _money(cost, plan.composer.rules.currency)
        out.print(line + _(" — add --gsm to replace them (ê → e, « » → \")"), markup=False)
    if getattr(plan, "missing", None):
        out.print(_("  channel {id} not configured yet ({items} missing): the preview lacks what they add; before sending: {value}").format(
                      id=plan.channel.id, items=', '.join(plan.missing), value=plan.channel.setup_command or 'dbox channels setup'),
                  markup=False)
    if sample and plan.sample is not None:
        out.print(_("  first message, to {mask}:").format(mask=mask(plan.sample_to)), markup=False)
        if plan.sample.subject:
            out.print(_("    Subject: {subject}").format(subject=plan.sample.subject), markup=False)
        for line in plan.sample.body.splitlines()[:12]:
            out.print(f"    | {line}", markup=False)
    if plan.window is not None and not req.now:
        out.print(_("  quiet hours: sent only {describe}").format(describe=plan.window.describe()))
    if plan.due_at is not None:
        tz = plan.window.tz_name if plan.window else None      # None: the configured zone
        note = _(" — add --now to send now anyway") if plan.due_reason == "quiet hours" else ""
        out.print(_("  scheduled for {local_text} ({due_reason}){note}").format(
                      local_text=local_text(plan.due_at, tz), due_reason=shown('due', plan.due_reason), note=note), markup=False)
    if plan.notice:
        print_warning(plan.notice)


def print_outcome(campaign_id: int, plan, report) -> None:
    """What a run did, what is left and how to send it; raises the provider's error if it stopped
    the run (exit code 6)."""
    from dbox.labels import campaign_status, shown
    from dbox.console import out, print_warning
    from dbox.sending.service import provider_failure
    from dbox.sending.window import local_text

    if report is None:
        out.print(_("Campaign {campaign_id} scheduled for {local_text} ({due_reason}). `dbox run-due` sends it when due (run it from cron, see README), or `dbox send --resume {campaign_id} --now`.").format(
                      campaign_id=campaign_id, local_text=local_text(plan.due_at), due_reason=shown('due', plan.due_reason)), markup=False)
        return
    out.print(_("Campaign {campaign_id}: {n} sent, {n2} failed, {n3} skipped at send time, {n4} in doubt, {n5} left ({status}).").format(
                  campaign_id=campaign_id, n=n(report.accepted), n2=n(report.failed), n3=n(report.skipped), n4=n(report.in_doubt_total), n5=n(report.left), status=campaign_status(report.status)), markup=False)
    if report.skipped_reasons:
        out.print("  skipped: " + ", ".join(f"{k} {v}" for k, v in report.skipped_reasons.items()), markup=False)
    if report.in_doubt_total:
        print_warning(_("{in_doubt_total} message(s) in doubt (the provider may have them): never resent automatically; look them up with: dbox campaigns reconcile {campaign_id}").format(
                          in_doubt_total=report.in_doubt_total, campaign_id=campaign_id))
    if report.status == "waiting":
        out.print(_("Quiet hours: the rest goes at {local_text} with `dbox run-due` (cron) or `dbox send --resume {campaign_id}`.").format(
                      local_text=local_text(report.due_at), campaign_id=campaign_id), markup=False)
    elif report.stop_reason == "limit":
        out.print(_("--limit reached: send the rest with `dbox send --resume {campaign_id}` (or the same command).").format(
                      campaign_id=campaign_id),
                  markup=False)
    elif report.stop_reason == "interrupted":
        out.print(_("Interrupted: send the rest with `dbox send --resume {campaign_id}`.").format(
                      campaign_id=campaign_id), markup=False)
    error = provider_failure(campaign_id, report)
    if error is not None:
        raise error


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


def progress(total: int):
    """A progress bar on a terminal (none in cron or a pipe); yields the callback the engine calls."""
    from dbox.console import is_interactive

    return _Progress(total) if is_interactive() and total > 0 else _NoProgress()
