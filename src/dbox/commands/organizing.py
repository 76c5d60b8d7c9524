"""``dbox action create|list|show|edit|cancel|invite|rsvp|attend|import-results|assign|unassign|publish|sheet|stats``,
``dbox interaction add|import`` and ``dbox contacts timeline``: parse, call dbox.organizing, print."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from dbox.commands.common import (ExcelOption, FormatOption, OutputOption, SelectionArgs, TextFormatOption, YesOption,
                                 confirm_or_abort, selection_options, store_from)
from dbox.commands.messages import MessageArgs, deliver, message_options, n
from dbox.i18n import N_, _

action_app = typer.Typer(no_args_is_help=True, help="Actions: door-to-door, leafleting, phone banks, meetings, events.")
interaction_app = typer.Typer(no_args_is_help=True, help="Interactions with contacts: calls, doors, meetings, notes.")

ActionArg = typer.Argument(..., metavar="ACTION", help="Action id or title.")
TypeOption = typer.Option(None, "--type", "-t", help="porte-a-porte, tractage, phoning, reunion, evenement, or your own word.")
DateOption = typer.Option(None, "--date", "-d", help="Start, local time: 2026-12-05T10:00 or \"05/12/2026 10h00\".")
EndOption = typer.Option(None, "--end", help="End: a time the same day (12:00) or a date and time.")
CommuneOption = typer.Option(None, "--commune", help="Commune: INSEE name, \"Name (38)\" or INSEE code.")
AddressOption = typer.Option(None, "--address", help="Meeting point or street address.")
CapacityOption = typer.Option(None, "--capacity", help="How many people it can take.")
DescriptionOption = typer.Option(None, "--description", help="A few words shown in invitations ({{ action.description }}).")
TargetOption = typer.Option(None, "--target", help="Whom the walk or call lists reach: a filter expression.")
ScriptOption = typer.Option(None, "--script", help="What canvassers or callers say: text, or @FILE to read it from a file.")
WordingOption = typer.Option(None, "--consent-wording",
                             help="Consent text printed on the sheets, read to people before they agree.")
SheetOption = typer.Option(None, "--sheet", help="What `dbox action sheet` prints: walk, call or list (default: by type).")
TimezoneOption = typer.Option(None, "--timezone", help="Time zone of --date (default: [dbox] timezone of "
                                                       "config.toml, Europe/Paris).")


_n = n


def _out():
    from dbox.console import out

    return out


def _read_script(value: Optional[str]) -> Optional[str]:
    if value is None or not value.startswith("@"):
        return value
    from dbox.sending.compose import _read

    return _read(Path(value[1:]), "script")


def _input(**kw):
    from dbox.organizing.actions import ActionInput

    if kw.get("script") is not None:
        kw["script"] = _read_script(kw["script"])
    return ActionInput(**kw)


def _action(store, ref: str):
    from dbox.organizing.actions import find

    return find(store, ref)


def _contact(store, ref: str) -> int:
    from dbox.store.contacts import find_contact

    return find_contact(store, ref)


# --- create, list, show, edit, cancel -------------------------------------------------------------------

@action_app.command("create")
def create(
    ctx: typer.Context,
    title: str = typer.Argument(..., help="Title, e.g. \"Porte-à-porte quartier Mistral\"."),
    type_: Optional[str] = TypeOption, date: Optional[str] = DateOption, end: Optional[str] = EndOption,
    commune: Optional[str] = CommuneOption, address: Optional[str] = AddressOption,
    capacity: Optional[int] = CapacityOption, description: Optional[str] = DescriptionOption,
    target: Optional[str] = TargetOption, script: Optional[str] = ScriptOption,
    consent_wording: Optional[str] = WordingOption, sheet: Optional[str] = SheetOption,
    timezone_: Optional[str] = TimezoneOption,
):
    """Create an action (door-to-door, leafleting, phone bank, meeting, event, or a type of your own)."""
    from dbox.labels import shown
    from dbox.organizing import actions

    store = store_from(ctx)
    action = actions.create(store, _input(title=title, type=type_, date=date, end=end, commune=commune,
                                          address=address, capacity=capacity, description=description, target=target,
                                          script=script, consent_wording=consent_wording, sheet=sheet,
                                          timezone=timezone_))
    _out().print(_("Action {id} created: {title} — {type}, {when}").format(
                     id=action.id, title=action.title, type=action.type_label, when=action.when_text())
                 + (f", {action.place}" if action.place else "") + ".", markup=False)
    if action.sheet in ("walk", "call") and not action.target:
        _out().print(_("Next: set whom the {sheet} lists reach (dbox action edit {id} --target EXPR), assign "
                       "volunteers (dbox action assign {id} VOLUNTEER), print the sheets (dbox action sheet {id}).").format(
                         sheet=shown("sheet", action.sheet), id=action.id), markup=False)


@action_app.command("list")
def list_(
    ctx: typer.Context,
    past: bool = typer.Option(False, "--past", help="Past actions instead of upcoming ones."),
    all_: bool = typer.Option(False, "--all", help="Every action, past and upcoming."),
    type_: Optional[str] = typer.Option(None, "--type", "-t", help="Only this type."),
    cancelled: bool = typer.Option(False, "--cancelled", help="Include cancelled actions."),
    fmt: str = FormatOption, output: Optional[Path] = OutputOption, excel: bool = ExcelOption,
):
    """List actions (upcoming by default) with invited, yes/no/maybe and came."""
    from dbox.labels import shown
    from dbox.organizing import actions
    from dbox.output import emit

    when = "all" if all_ else "past" if past else "upcoming"
    rows = actions.list_(store_from(ctx), when=when, type_=type_, include_cancelled=cancelled)
    columns = ["id", "date", "type", "title", "commune", "capacity", "invited", "yes", "no", "maybe", "came",
               "volunteers", "status"]
    emit(([r["id"], _local(r["starts_at"]), r["type"], r["title"], r["commune"] or "", r["capacity"] or "",
           r["invited"], r["yes"], r["no"], r["maybe"], r["came"], r["volunteers"], r["status"]] for r in rows),
         columns, fmt=fmt, output=output, excel=excel, shown={"status": lambda v: shown("action", v)})


def _local(starts_at: str, tz: str = "Europe/Paris") -> str:
    from zoneinfo import ZoneInfo

    from dbox.organizing.actions import from_iso

    return f"{from_iso(starts_at).astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M}"


@action_app.command("show")
def show(ctx: typer.Context, action: str = ActionArg,
         fmt: str = TextFormatOption):
    """Everything about one action: details, answers, attendance, volunteers, invitations."""
    from dbox.labels import shown
    from dataclasses import asdict

    from dbox.organizing import stats
    from dbox.store import organizing as so

    store = store_from(ctx)
    a = _action(store, action)
    s = stats.action_stats(store, a)
    volunteers = so.assignments(store, a.id)
    campaigns = so.invitation_campaigns(store, a.id)
    if fmt == "json":
        typer.echo(json.dumps({**asdict(a), "stats": s.as_dict(), "assignments": volunteers,
                               "campaigns": [{"id": i, "channel": ch, "status": st} for i, ch, st in campaigns]},
                              ensure_ascii=False, indent=2))
        return
    out = _out()
    out.print(_("Action {id}: {title}").format(id=a.id, title=a.title) + (_(" (CANCELLED)") if a.cancelled else ""),
              markup=False)
    lines = [(N_("type"), _("{type} (sheet: {sheet})").format(type=a.type_label, sheet=shown("sheet", a.sheet))),
             (N_("when"), a.when_text() + f" ({a.timezone})"),
             (N_("place"), a.place), (N_("capacity"), a.capacity), (N_("description"), a.description),
             (N_("target"), a.target), (N_("consent wording"), a.consent_wording),
             (N_("cancelled"), f"{a.cancelled_at} — {a.cancel_reason or ''}" if a.cancelled else None)]
    for label, value in lines:
        if value not in (None, ""):
            out.print(f"  {_(label) + ':':<17}{value}", markup=False)
    if a.script:
        out.print(_("  script:"), markup=False)
        for line in a.script.splitlines():
            out.print(f"    | {line}", markup=False)
    _print_counts(s)
    if volunteers:
        out.print(_("  volunteers ({n}):").format(n=len(volunteers)), markup=False)
        for v in volunteers:
            name = " ".join(x for x in (v["first_name"], v["last_name"]) if x)
            zone = ", ".join(t["label"] for t in v["territory"]) or _("a share of what is left")
            out.print(f"    {v['contact_id']:>6}  {name} — {zone}", markup=False)
    if campaigns:
        from dbox.labels import campaign_status

        out.print(_("  invitation campaigns: {items}").format(
            items=", ".join(f"{i} ({ch}, {campaign_status(st)})" for i, ch, st in campaigns)), markup=False)


def _print_counts(s) -> None:
    out = _out()
    ans = s.answers
    cap = f" / {s.action.capacity}" if s.action.capacity else ""
    out.print(_("  invited:         {n}").format(n=_n(s.invited))
              + (_(" (answered: {n})").format(n=_n(s.replied)) if s.invited else ""), markup=False)
    out.print(_("  answers:         yes {n}{cap}, maybe {n2}, no {n3}").format(
                  n=_n(ans['yes']), cap=cap, n2=_n(ans['maybe']), n3=_n(ans['no'])),
              markup=False)
    out.print(_("  came:            {n}").format(n=_n(ans["came"]))
              + (_(" (said yes but did not come: {n}; came without answering: {n2})").format(
                  n=_n(ans["no_show"]), n2=_n(ans["came_unannounced"])) if ans["came"] or ans["no_show"] else ""),
              markup=False)
    r = s.results
    if r["contacts"]:
        noun = "calls" if s.action.sheet == "call" else "doors"
        out.print(_("  {value:<17}{n} (reached {n2}, support 4-5 {n3}, opposed 1-2 {n4}, want a call {n5}, contacts gained {n6})").format(
                      value=noun + ':', n=_n(r['contacts']), n2=_n(r['reached']), n3=_n(r['supporters']), n4=_n(r['opponents']), n5=_n(r['wants_call']), n6=_n(r['gained'])), markup=False)


@action_app.command("edit")
def edit(
    ctx: typer.Context, action: str = ActionArg,
    title: Optional[str] = typer.Option(None, "--title", help="New title."),
    type_: Optional[str] = TypeOption, date: Optional[str] = DateOption,
    end: Optional[str] = typer.Option(None, "--end", help="End time (\"\" removes it)."),
    commune: Optional[str] = CommuneOption, address: Optional[str] = AddressOption,
    capacity: Optional[int] = CapacityOption, description: Optional[str] = DescriptionOption,
    target: Optional[str] = TargetOption, script: Optional[str] = ScriptOption,
    consent_wording: Optional[str] = WordingOption, sheet: Optional[str] = SheetOption,
    timezone_: Optional[str] = TimezoneOption,
):
    """Change an action's details (what is not given stays as it is; "" clears a text)."""
    from dbox.organizing import actions

    store = store_from(ctx)
    a = _action(store, action)
    updated, changed = actions.edit(store, a, _input(
        title=title, type=type_, date=date, end=end, commune=commune, address=address, capacity=capacity,
        description=description, target=target, script=script, consent_wording=consent_wording, sheet=sheet,
        timezone=timezone_))
    if not changed:
        _out().print(_("Action {id}: nothing changed.").format(id=a.id))
        return
    _out().print(_("Action {id} updated ({items}): {title}, {when}.").format(
                     id=a.id, items=", ".join(changed), title=updated.title, when=updated.when_text()), markup=False)
    if {"starts_at", "ends_at", "address", "commune_name"} & set(changed) and so_invited(store, a.id):
        _out().print(_("People were already invited: to tell them, dbox action invite {id} ... --again "
                       "with a message about the change.").format(id=a.id), markup=False)


def so_invited(store, action_id: int) -> int:
    from dbox.store import organizing as so

    return so.invited_total(store, action_id)


@action_app.command("cancel")
def cancel(ctx: typer.Context, action: str = ActionArg,
           reason: Optional[str] = typer.Option(None, "--reason", help="Why (kept with the action)."),
           yes: bool = YesOption):
    """Cancel an action (kept, with its answers; nothing more is recorded for it)."""
    from dbox.organizing import actions
    from dbox.store import organizing as so

    store = store_from(ctx)
    a = _action(store, action)
    if a.cancelled:
        from dbox.errors import InputError

        raise InputError(_("action {id} is already cancelled ({cancelled_at})").format(
                             id=a.id, cancelled_at=a.cancelled_at[:10]))
    confirm_or_abort(_("Cancel action {id} « {title} » ({when_text})?").format(
                         id=a.id, title=a.title, when_text=a.when_text()), yes)
    actions.cancel(store, a, reason)
    counts = so.people_counts(store, a.id)
    _out().print(_("Action {id} cancelled.").format(id=a.id), markup=False)
    if counts["yes"] or counts["maybe"]:
        _out().print(_("{yes} said yes and {maybe} maybe: tell them, e.g. with dbox send 'invited:{id}' --sms -m '...'.").format(
                         yes=counts["yes"], maybe=counts["maybe"], id=a.id), markup=False)


# --- invitations, answers, attendance -----------------------------------------------------------------------

@action_app.command("invite")
@selection_options
@message_options
def invite(
    ctx: typer.Context, action: str = ActionArg,
    selection: SelectionArgs = None,
    msg: MessageArgs = None,
    again: bool = typer.Option(False, "--again", help="Also people already invited or who already answered."),
):
    """Invite a segment to an action by SMS or e-mail, through the normal send pipeline.

    The text may use the action's fields: {{ action.title }}, {{ action.when }}, {{ action.place }},
    {{ action.description }} ... (default: a short invitation). Only people not yet invited and who have
    not answered are invited, unless --again.
    """
    from dbox.errors import InputError
    from dbox.organizing import invite as inv

    channel = msg.channel()
    store = store_from(ctx)
    a = _action(store, action)
    invitation = inv.prepare(store, a, channel, expression=selection.expression, segment=selection.segment,
                             shortcuts=selection.shortcuts, message=msg.message, template_path=msg.template,
                             subject=msg.subject, html=msg.html, again=again, limit=msg.limit, now=msg.now, at=msg.at,
                             dry_run=msg.dry_run)

    def nobody() -> InputError:
        return InputError(_("nobody to invite: no reachable contact in this selection")
                          + (_(" who was not already invited or has not answered") if invitation.excluded_already
                             else ""), hint=None if again else _("add --again to invite them again"))

    deliver(store, invitation.request, yes=msg.yes, noun="invitation(s)", nobody=nobody,
            header=_("Invitation to action {id} « {title} », {when}").format(id=a.id, title=a.title, when=a.when_text()),
            start=lambda plan, advance: inv.start(store, invitation, plan, progress=advance))


@action_app.command("rsvp")
def rsvp(ctx: typer.Context, action: str = ActionArg,
         contact: str = typer.Argument(..., help="Contact id, e-mail or phone."),
         answer: str = typer.Argument(..., help="yes, no or maybe (oui, non, peut-être).")):
    """Record a person's answer to an invitation."""
    from dbox.organizing import people

    store = store_from(ctx)
    a = _action(store, action)
    contact_id = _contact(store, contact)
    previous, new = people.rsvp(store, a, contact_id, answer)
    note = _(" (was {previous})").format(previous=_(previous)) if previous and previous != new else ""
    _out().print(_("Contact {contact_id} answered {answer} to action {id}{note}.").format(
        contact_id=contact_id, answer=_(new), id=a.id, note=note), markup=False)


@action_app.command("attend")
def attend(ctx: typer.Context, action: str = ActionArg,
           contacts: list[str] = typer.Argument(..., help="Contacts who came: ids, e-mails or phones."),
           absent: bool = typer.Option(False, "--absent", help="Record that they did not come.")):
    """Record who came to an action (or, with --absent, who did not)."""
    from dbox.organizing import people

    store = store_from(ctx)
    a = _action(store, action)
    ids = [_contact(store, ref) for ref in contacts]
    report = people.attend(store, a, ids, came=not absent)
    verb = "did not come" if absent else "came"
    text = f"Action {a.id}: {report.recorded} recorded as {verb}"
    if report.unchanged:
        text += f", {report.unchanged} already were"
    _out().print(text + ".", markup=False)


@action_app.command("import-results")
def import_results(
    ctx: typer.Context, action: str = ActionArg,
    file: Path = typer.Argument(..., help="The filled-in CSV (or .xlsx) of `dbox action sheet`."),
    wording: Optional[str] = typer.Option(None, "--wording", help="Consent wording for lines that do not give it."),
    check: bool = typer.Option(False, "--check", help="Check the file and show what it would record; write nothing."),
    encoding: Optional[str] = typer.Option(None, "--encoding", help="Text encoding (default: detected)."),
    delimiter: Optional[str] = typer.Option(None, "--delimiter", help="CSV separator (default: detected)."),
    sheet: Optional[str] = typer.Option(None, "--sheet", help="Worksheet of an .xlsx file."),
):
    """Import the sheet volunteers bring back: who came, each door or call, support, new contacts, consent."""
    from dbox.console import print_warning
    from dbox.errors import InputError
    from dbox.organizing import results

    store = store_from(ctx)
    a = _action(store, action)
    try:
        report = results.import_results(store, a, file, wording=wording, dry_run=check, encoding=encoding,
                                        delimiter=delimiter, sheet=sheet)
    except InputError as exc:
        problems = getattr(exc, "problems", None)
        if check and problems:
            for problem in problems:
                _out().print(problem, markup=False)
            raise InputError(_("{n} problem(s) in {file}; nothing was imported").format(n=len(problems), file=file)) from None
        raise
    for warning in report.warnings:
        print_warning(warning)
    out = _out()
    head = "Check only — nothing written. " if check else ""
    out.print(_("{head}{file}: {rows} line(s) for action {id}.").format(
                  head=head, file=file, rows=report.rows, id=a.id), markup=False)
    noun = "call(s)" if a.sheet == "call" else "door(s)" if a.sheet == "walk" else "conversation(s)"
    parts = [f"came {report.came}", f"absent {report.absent}"] if report.came or report.absent else []
    if report.results_new or report.results_updated:
        parts.append(f"{noun} {report.results_new} new, {report.results_updated} updated "
                     f"(reached {report.reached}, not reached {report.not_reached})")
    parts += [f"support 4-5: {report.supporters}", f"want a call: {report.wants_call}",
              f"e-mails added: {report.emails_added}", f"phones added: {report.phones_added}"]
    if report.consents:
        parts.append("consents: " + ", ".join(f"{k} {v}" for k, v in sorted(report.consents.items())))
    if report.volunteers_present:
        parts.append(f"volunteers marked present: {report.volunteers_present}")
    if report.no_result:
        parts.append(f"lines left blank: {report.no_result}")
    for part in parts:
        out.print(f"  {part}", markup=False)
    for note in report.notes:
        out.print(_("  note: {note}").format(note=note), markup=False)


# --- volunteers and sheets --------------------------------------------------------------------------------------

@action_app.command("assign")
def assign(
    ctx: typer.Context, action: str = ActionArg,
    volunteer: str = typer.Argument(..., help="The volunteer: contact id, e-mail or phone."),
    streets: Optional[str] = typer.Option(None, "--streets", help="Territory: streets, separated by ';'."),
    communes: Optional[str] = typer.Option(None, "--communes", help="Territory: communes, separated by ','."),
    remove: bool = typer.Option(False, "--remove", help="Take the volunteer off the action (same as unassign)."),
    link_days: Optional[int] = typer.Option(None, "--link-days",
                                            help="Days the private link works (default: until 2 days after the action)."),
):
    """Assign a volunteer to an action, with a territory (streets or communes) or a share of the rest,
    and print their private link to their list on `dbox serve` (/v/...; a new one each time)."""
    from dbox.organizing import links, volunteers

    store = store_from(ctx)
    a = _action(store, action)
    contact_id = _contact(store, volunteer)
    if remove:
        volunteers.unassign(store, a, contact_id)
        _out().print(f"Contact {contact_id} is no longer assigned to action {a.id}; their link no longer works.",
                     markup=False)
        return
    territory = volunteers.assign(store, a, contact_id, streets=streets, communes=communes)
    token, expires = links.issue(store, a, contact_id, days=link_days)
    zone = ", ".join(t["label"] for t in territory) or "a share of the people no territory covers"
    out = _out()
    out.print(_("Contact {contact_id} assigned to action {id}: {zone}.").format(
                  contact_id=contact_id, id=a.id, zone=zone), markup=False)
    from dbox.commands.forms import public_base

    base = public_base()
    out.print(_("Private link (give it to the volunteer only; until {local}): {value}/v/{token}").format(
                  local=_local(expires, a.timezone), value=base or '', token=token), markup=False, soft_wrap=True)
    if not base:
        from dbox.console import print_warning

        print_warning(_("public_url is not set: prefix the link with the address of dbox serve (DBOX_PUBLIC_URL, or public_url in the [serve] table of the config)"))


@action_app.command("unassign")
def unassign(
    ctx: typer.Context, action: str = ActionArg,
    volunteer: str = typer.Argument(..., help="The volunteer: contact id, e-mail or phone."),
):
    """Take a volunteer off an action; their private link stops working at once."""
    from dbox.organizing import volunteers

    store = store_from(ctx)
    a = _action(store, action)
    contact_id = _contact(store, volunteer)
    volunteers.unassign(store, a, contact_id)
    _out().print(f"Contact {contact_id} is no longer assigned to action {a.id}; their link no longer works.",
                 markup=False)


@action_app.command("publish")
def publish(
    ctx: typer.Context, action: str = ActionArg,
    unpublish: bool = typer.Option(False, "--unpublish", help="Take the public page down."),
):
    """Show the action to the public at /e/ACTION on `dbox serve`, with a form to answer (RSVP)."""
    from dbox.commands.forms import public_base
    from dbox.organizing import pages

    store = store_from(ctx)
    a = _action(store, action)
    changed = pages.publish(store, a, not unpublish)
    if unpublish:
        _out().print(f"Action {a.id}: public page " + ("taken down." if changed else "was not published."),
                     markup=False)
        return
    state = "published" if changed else "already published"
    _out().print(f"Action {a.id} {state}: {public_base() or ''}/e/{a.id}", markup=False, soft_wrap=True)


@action_app.command("sheet")
@selection_options
def sheet(
    ctx: typer.Context, action: str = ActionArg,
    selection: SelectionArgs = None,
    folder: Path = typer.Option(Path("."), "--output-dir", "-o", help="The folder to write the files to (each 0600)."),
    fmt: str = typer.Option("pdf", "--format", "-f", help="Printable format: pdf or html (a CSV is always written)."),
    volunteer: Optional[str] = typer.Option(None, "--volunteer", help="Only this volunteer's sheet."),
    kind: Optional[str] = typer.Option(None, "--kind", help="walk, call or list (default: the action's)."),
):
    """Write the walk list, call list or attendance list of each volunteer: PDF or HTML, and CSV.

    EXPR, --segment and the shortcut flags choose whom the lists reach (default: the action's target)."""
    from dbox.organizing import sheets
    from dbox.organizing.actions import parse_sheet

    store = store_from(ctx)
    a = _action(store, action)
    only = _contact(store, volunteer) if volunteer else None
    plan = sheets.plan(store, a, expression=selection.expression, segment=selection.segment,
                       shortcuts=selection.shortcuts, volunteer_id=only,
                       kind=parse_sheet(kind) if kind else None)
    written = sheets.write(store, plan, folder, printable=fmt.lower())
    out = _out()
    noun = {"walk": "door(s)", "call": "call(s)", "list": "person(s)"}[plan.kind]
    out.print(_("Action {id}: {n} {noun} on {n2} sheet(s) ({expression}).").format(
                  id=a.id, n=_n(plan.total), noun=noun, n2=len(written), expression=plan.expression),
              markup=False)
    for w in written:
        out.print(f"  {w.sheet.label:<28} {len(w.sheet.entries):>5}  {w.printable}  {w.csv}", markup=False)
    if plan.left_out:
        out.print("  left out: " + ", ".join(f"{k} {v}" for k, v in sorted(plan.left_out.items())), markup=False)
    unassigned = next((w for w in written if w.sheet.volunteer is None), None)
    if unassigned is not None and plan.kind != "list":
        out.print(_("  {n} with no volunteer: assign more (dbox action assign {id} VOLUNTEER).").format(
                      n=len(unassigned.sheet.entries), id=a.id), markup=False)
    out.print(_("The files hold personal data. Bring the CSV back filled in: dbox action import-results {id} FILE").format(
                  id=a.id),
              markup=False)


# --- statistics --------------------------------------------------------------------------------------------------

@action_app.command("stats")
def stats_(
    ctx: typer.Context,
    action: Optional[str] = typer.Argument(None, metavar="[ACTION]", help="One action (default: a period)."),
    since: Optional[str] = typer.Option(None, "--since", help="Period start: 2026-11-01."),
    until: Optional[str] = typer.Option(None, "--until", help="Period end (excluded)."),
    top: int = typer.Option(10, "--top", help="How many volunteers to rank."),
    fmt: str = TextFormatOption,
):
    """Invited, answered, came; per volunteer, doors or calls and contacts gained; the most active volunteers."""
    from dbox.organizing import stats

    store = store_from(ctx)
    out = _out()
    if action is not None:
        s = stats.action_stats(store, _action(store, action))
        if fmt == "json":
            typer.echo(json.dumps(s.as_dict(), ensure_ascii=False, indent=2))
            return
        out.print(_("Action {id}: {title}, {when_text}").format(
                      id=s.action.id, title=s.action.title, when_text=s.action.when_text()), markup=False)
        _print_counts(s)
        if s.invitations:
            for channel, states in sorted(s.invitations.items()):
                out.print(f"  {channel} invitations: " + ", ".join(f"{k} {v}" for k, v in sorted(states.items())),
                          markup=False)
        if s.volunteers:
            out.print(_("  per volunteer:"), markup=False)
            noun = "calls" if s.action.sheet == "call" else "doors"
            for v in s.volunteers:
                out.print(_("    {value:<28} {noun} {contacts:>4}, reached {reached:>4}, support 4-5 {supporters:>3}, want a call {wants_call:>3}, contacts gained {gained:>3}").format(
                              value=v['volunteer'] or v['volunteer_id'], noun=noun, contacts=v['contacts'], reached=v['reached'], supporters=v['supporters'], wants_call=v['wants_call'], gained=v['gained']), markup=False)
        return
    data = stats.period(store, since, until, top)
    if fmt == "json":
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    span = f"{since or 'the beginning'} to {until or 'now and beyond'}"
    out.print(_("Actions from {span}: {n}").format(span=span, n=len(data['actions'])), markup=False)
    for r in data["actions"]:
        out.print(_("  {id:>4}  {local}  {type:<14} {title:<40} invited {invited:>4}, yes {yes:>3}, came {came:>3}, doors/calls {results_contacts:>4}, gained {results_gained:>3}").format(
                      id=r['id'], local=_local(r['starts_at']), type=r['type'], title=r['title'][:40], invited=r['invited'], yes=r['yes'], came=r['came'], results_contacts=r['results_contacts'], results_gained=r['results_gained']), markup=False)
    out.print(_("Most active volunteers ({n}):").format(n=len(data['volunteers'])), markup=False)
    for v in data["volunteers"]:
        out.print(_("  {value:<28} actions {actions:>3}, doors {doors:>4}, calls {calls:>4}, contacts gained {gained:>3}").format(
                      value=v['volunteer'] or v['volunteer_id'], actions=v['actions'], doors=v['doors'], calls=v['calls'], gained=v['gained']), markup=False)


# --- interactions -------------------------------------------------------------------------------------------------

@interaction_app.command("add")
def interaction_add(
    ctx: typer.Context,
    contact: str = typer.Argument(..., help="Contact id, e-mail or phone."),
    type_: str = typer.Option(..., "--type", "-t", help="door, call, meeting, message, note, donation, membership, other."),
    outcome: Optional[str] = typer.Option(None, "--outcome", help="answered, not-home, refused, moved, no-answer, "
                                                                 "voicemail, wrong-number, callback, or a word."),
    note: Optional[str] = typer.Option(None, "--note", help="A note."),
    support: Optional[int] = typer.Option(None, "--support", help="Support level 1 (opposed) to 5 (strong supporter)."),
    wants_call: bool = typer.Option(False, "--wants-call", help="The person wants a call back."),
    at: Optional[str] = typer.Option(None, "--at", help="When (default: now): 2026-12-05 10:30."),
    amount: Optional[str] = typer.Option(None, "--amount", help="Donation or membership fee in euros."),
    action: Optional[str] = typer.Option(None, "--action", help="The action it happened at (id or title)."),
    by: Optional[str] = typer.Option(None, "--by", help="The volunteer: contact id, e-mail or phone."),
):
    """Record an interaction with a contact."""
    from dbox.organizing import interactions

    store = store_from(ctx)
    contact_id = _contact(store, contact)
    row = interactions.add(store, contact_id, interactions.InteractionInput(
        type=type_, outcome=outcome, note=note, support=support, wants_call=wants_call, at=at, amount=amount,
        action=action, volunteer=by))
    _out().print(_("Recorded for contact {contact_id}: {what} ({at}).").format(
        contact_id=contact_id, what=interactions.describe(row), at=row["at"]), markup=False)


@interaction_app.command("import")
def interaction_import(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="CSV or .xlsx: contact, type, date, outcome, support, note, ..."),
    type_: Optional[str] = typer.Option(None, "--type", "-t", help="Type of the lines that have no type column."),
    check: bool = typer.Option(False, "--check", help="Check the file; write nothing."),
    again: bool = typer.Option(False, "--again", help="Import a file already imported (records it twice)."),
    encoding: Optional[str] = typer.Option(None, "--encoding", help="Text encoding (default: detected)."),
    delimiter: Optional[str] = typer.Option(None, "--delimiter", help="CSV separator (default: detected)."),
    sheet: Optional[str] = typer.Option(None, "--sheet", help="Worksheet of an .xlsx file."),
):
    """Import interactions from a file, in one transaction."""
    from dbox.console import print_warning
    from dbox.organizing import interactions

    store = store_from(ctx)
    report = interactions.import_file(store, file, default_type=type_, dry_run=check, again=again,
                                      encoding=encoding, delimiter=delimiter, sheet=sheet)
    for column in report.ignored_columns:
        print_warning(_("{file}: column {column!r} is not read").format(file=file, column=column))
    by_type = ", ".join(f"{k} {v}" for k, v in sorted(report.by_type.items()))
    head = "Check only — nothing written: " if check else ""
    _out().print(f"{head}{file}: {report.recorded} interaction(s) ({by_type}).", markup=False)


# --- contacts timeline (mounted on `dbox contacts` by dbox.commands.contacts) ---------------------------------------

def timeline(
    ctx: typer.Context,
    contact: str = typer.Argument(..., help="Contact id, e-mail or phone."),
    limit: Optional[int] = typer.Option(50, "--limit", "-n", help="The most recent N events (0: all)."),
    fmt: str = TextFormatOption,
):
    """Everything that happened with one contact, newest first: messages, actions, doors, calls, consent."""
    from dbox.organizing.timeline import summary, timeline as build

    store = store_from(ctx)
    contact_id = _contact(store, contact)
    events = build(store, contact_id, limit=limit or None)
    info = summary(store, contact_id)
    if fmt == "json":
        typer.echo(json.dumps({"contact_id": contact_id, **info, "events": [e.as_dict() for e in events]},
                              ensure_ascii=False, indent=2))
        return
    out = _out()
    head = [_("Contact {contact_id}").format(contact_id=contact_id)]
    if info["support"]:
        head.append(_("support {level}/5").format(level=info["support"]))
    if info["attended"]:
        head.append(_("came to {n} action(s)").format(n=info["attended"]))
    if info["last_interaction"]:
        head.append(_("last reached {day}").format(day=info["last_interaction"][:10]))
    from dbox.clock import configured_timezone, local_column

    head.append(_("times in {zone}").format(zone=configured_timezone()))
    out.print(" — ".join(head), markup=False)
    if not events:
        out.print(_("  (nothing recorded)"))
    for e in events:
        shown = local_column(e.at) if e.at and len(e.at) > 10 else (e.at or "")
        kind = _(TIMELINE_KINDS[e.kind]) if e.kind in TIMELINE_KINDS else e.kind
        out.print(f"  {shown:<16}  {kind:<11} {e.summary}", markup=False)


# The kinds of a timeline's events as the listing names them (JSON keeps the codes).
TIMELINE_KINDS = {"import": N_("import"), "consent": N_("consent"), "message": N_("message"), "rsvp": N_("rsvp"),
                  "attended": N_("attended"), "interaction": N_("interaction"), "volunteer": N_("volunteer"),
                  "exchange": N_("exchange")}


def register(app: typer.Typer) -> None:
    app.add_typer(action_app, name="action", help="Actions: door-to-door, leafleting, phone banks, meetings, events.")
    app.add_typer(interaction_app, name="interaction", help="Interactions with contacts: calls, doors, meetings, notes.")
