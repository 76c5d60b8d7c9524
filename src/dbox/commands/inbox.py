"""``dbox inbox``: the SMS replies people sent (docs/serve.md). The work is in :mod:`dbox.serve.inbox`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from dbox.i18n import _
from dbox.commands.common import FormatOption, OutputOption, YesOption, confirm_or_abort, store_from

inbox_app = typer.Typer(no_args_is_help=False, invoke_without_command=True,
                        help="SMS replies: list them, read them, answer them.")
COLUMNS = ("id", "received_at", "status", "contact_id", "name", "phone", "campaign", "action", "kind", "answer",
           "body")


def register(app: typer.Typer) -> None:
    app.add_typer(inbox_app, name="inbox")


def _contact(store, ref: str) -> int:
    from dbox.store.contacts import find_contact

    return find_contact(store, ref)


def _rows(found):
    for m in found:
        yield (m.id, m.received_at, "unread" if m.read_at is None else "read", m.contact_id, m.contact_name or "",
               m.sender, m.campaign_id, m.action_id, m.kind, m.answer or "", m.body)


# The listing's options, declared once for `dbox inbox` and `dbox inbox list`.
ContactFilter = typer.Option(None, "--contact", help="Only this contact's messages (id, e-mail or phone).")
CampaignFilter = typer.Option(None, "--campaign", help="Only the replies to this campaign.")
UnreadFilter = typer.Option(False, "--unread", help="Only the messages nobody has read.")
LimitOption = typer.Option(None, "--limit", min=1, help="At most this many messages.")


@inbox_app.callback()
def inbox(
    ctx: typer.Context,
    contact: Optional[str] = ContactFilter,
    campaign: Optional[int] = CampaignFilter,
    unread: bool = UnreadFilter,
    limit: Optional[int] = LimitOption,
    fmt: str = FormatOption,
    output: Optional[Path] = OutputOption,
):
    """List SMS replies, unread first, then newest first (dbox inbox read CONTACT marks them read).

    Every inbound SMS is kept whole, linked to its contact and to the campaign (and action) it
    answers. STOPs are honoured when they arrive; answers to an invitation that read clearly as
    yes or no become RSVPs; the rest wait here for a person.
    """
    if ctx.invoked_subcommand is not None:
        return
    _list(ctx, contact, campaign, unread, limit, fmt, output)


@inbox_app.command("list")
def list_(
    ctx: typer.Context,
    contact: Optional[str] = ContactFilter,
    campaign: Optional[int] = CampaignFilter,
    unread: bool = UnreadFilter,
    limit: Optional[int] = LimitOption,
    fmt: str = FormatOption,
    output: Optional[Path] = OutputOption,
):
    """List SMS replies, unread first (the same as dbox inbox with no command)."""
    _list(ctx, contact, campaign, unread, limit, fmt, output)


def _list(ctx, contact, campaign, unread, limit, fmt, output) -> None:
    from dbox.output import emit
    from dbox.serve.inbox import messages

    store = store_from(ctx)
    contact_id = _contact(store, contact) if contact else None
    found = messages(store, contact_id=contact_id, campaign_id=campaign, unread_only=unread, limit=limit)
    if not found and fmt == "table" and output is None:
        typer.echo(_("No message.") if not (contact or campaign or unread) else _("No message matches."))
        return
    emit(_rows(found), COLUMNS, fmt=fmt, output=output, title="Inbox")


@inbox_app.command("read")
def read(ctx: typer.Context, contact: str = typer.Argument(..., help="Contact id, e-mail or phone.")):
    """Show a contact's messages and mark them read."""
    from dbox.serve.inbox import read as read_messages

    store = store_from(ctx)
    contact_id = _contact(store, contact)
    found, unread = read_messages(store, contact_id)
    if not found:
        typer.echo(_("No message from contact {id}.").format(id=contact_id))
        return
    for m in sorted(found, key=lambda m: (m.received_at, m.id)):
        about = ""
        if m.campaign_id:
            about = " (" + (_("campaign {campaign}, action {action}") if m.action_id else _("campaign {campaign}")
                            ).format(campaign=m.campaign_id, action=m.action_id) + ")"
        note = {"optout": " [" + _("STOP: consent withdrawn") + "]",
                "rsvp": " [" + _("RSVP: {answer}").format(answer=m.answer) + "]"}.get(m.kind, "")
        typer.echo(f"{m.received_at}{about}{note}\n  {m.body}")
    typer.echo(_("{n} message(s) marked read.").format(n=unread))


@inbox_app.command("reply")
def reply(
    ctx: typer.Context,
    contact: str = typer.Argument(..., help="Contact id, e-mail or phone."),
    message: str = typer.Option(..., "--message", "-m", help="The text to send."),
    again: bool = typer.Option(False, "--again", help="Send it even if this very text was sent to them before."),
    yes: bool = YesOption,
):
    """Answer a contact by SMS, through the send ledger: consent, opt-outs, quiet hours, exactly once.

    Out of the sending hours the reply waits for dbox run-due. Run twice, the same text is not
    sent twice (--again sends it once more)."""
    from dbox.serve.inbox import reply as send_reply

    store = store_from(ctx)
    contact_id = _contact(store, contact)
    confirm_or_abort(_("Send this SMS to contact {id}?").format(id=contact_id), yes)
    campaign_id = send_reply(store, contact_id, message, again=again)
    typer.echo(_("Reply to contact {id}: campaign {campaign} (dbox campaigns show {campaign}).").format(
        id=contact_id, campaign=campaign_id))


@inbox_app.command("ack")
def ack(
    ctx: typer.Context,
    action: str = typer.Argument(..., help="Action id or title."),
    yes_text: Optional[str] = typer.Option(None, "--yes-text", help="Sent to whoever answers yes by SMS."),
    no_text: Optional[str] = typer.Option(None, "--no-text", help="Sent to whoever answers no by SMS."),
):
    """Set the acknowledgement of an action's answers read from SMS replies (none by default).

    Without --yes-text and --no-text, the action sends no acknowledgement any more."""
    from dbox.serve.inbox import set_ack

    action_id = set_ack(store_from(ctx), action, yes_text, no_text)
    if yes_text or no_text:
        typer.echo(_("Action {id}: answers read from replies are acknowledged.").format(id=action_id))
    else:
        typer.echo(_("Action {id}: no acknowledgement.").format(id=action_id))
