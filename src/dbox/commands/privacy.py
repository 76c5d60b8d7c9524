"""Personal-data commands: ``dbox consent``, ``dbox optouts import``, ``dbox privacy``, ``dbox audit``,
``dbox backup``, ``dbox restore``. Thin: the work is in ``dbox.privacy``; rules in docs/privacy.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from dbox.commands.common import (FormatOption, OutputOption, SelectionArgs, TextFormatOption, YesOption,
                                 confirm_or_abort, selection_options, store_from)
from dbox.i18n import N_, _, grouped, ngettext

consent_app = typer.Typer(no_args_is_help=True, help="Consent per channel: show the history, grant, withdraw.")
privacy_app = typer.Typer(no_args_is_help=True,
                          help="Rights requests, retention, third-party sources (docs/privacy.md).")
optouts_app = typer.Typer(no_args_is_help=True, help="Opt-outs collected outside dbox: unsubscribes, STOPs.")

ChannelOption = typer.Option(..., "--channel", "-C", help="sms, email, phone, post or social (repeat, or a,b).")


# -- dbox consent ----------------------------------------------------------------------------------

def _contact(store, ref: str) -> int:
    from dbox.store.contacts import find_contact

    return find_contact(store, ref)


def _selection(store, contact: Optional[str], selection: SelectionArgs):
    """(where, params, description, single contact id or None) from CONTACT or the selection options."""
    from dbox.errors import InputError

    if bool(contact) == selection.given:
        raise InputError(_("name one contact, or a --segment, or a --filter expression (exactly one)"))
    if contact:
        contact_id = _contact(store, contact)
        from dbox.store.contacts import one_contact_where

        return *one_contact_where(contact_id), f"contact {contact_id}", contact_id
    chosen = selection.select(store)
    return chosen.where, list(chosen.params), selection.describe(), None


@consent_app.command("show")
def consent_show(
    ctx: typer.Context,
    contact: str = typer.Argument(..., help="Contact id, e-mail or phone."),
    fmt: str = TextFormatOption,
):
    """The current consent per channel and every grant and withdrawal, with source and wording."""
    from dbox.console import out
    from dbox.output import render_table
    from dbox.privacy import consent

    store = store_from(ctx)
    data = consent.state(store, _contact(store, contact))
    if fmt == "json":
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    from dbox.labels import shown

    render_table(([ch, shown("consent", s["status"]) + (_(" (no wording recorded)") if s.get("without_wording") else ""),
                   s["at"] or "", s["source"] or ""] for ch, s in data["current"].items()),
                 ["channel", "status", "since", "source"],
                 title=_("Consent of contact {id}").format(id=data["contact_id"]))
    if data["history"]:
        render_table(([e["at"], e["channel"], e["action"], e["source"],
                       e["wording"] or (_("NO WORDING RECORDED") if e["action"] == "grant" else ""),
                       e["detail"] if e["detail"] != e["wording"] else ""] for e in data["history"]),
                     ["at", "channel", "action", "source", "wording", "detail"], title=_("History"),
                     shown={"action": lambda v: shown("consent_action", v)})
        missing = sorted(ch for ch, s in data["current"].items() if s.get("without_wording"))
        if missing:
            from dbox.console import print_warning

            print_warning(_("consent without the wording the person agreed to: {items} (imported without --consent-wording); record it with dbox consent grant --wording, or ask the person again").format(
                              items=', '.join(missing)))
    else:
        out.print(_("No consent was ever recorded for this contact: nothing may be sent to them."))


def _print_change(change, dry: bool = False) -> None:
    from dbox.console import out

    c = change.counts
    if change.action == "grant":
        text = ngettext("{n} consent granted", "{n} consents granted", c["changed"]).format(n=grouped(c["changed"]))
        if c["unchanged"]:
            text += _(", {n} already granted").format(n=grouped(c["unchanged"]))
    else:
        text = ngettext("{n} consent withdrawn", "{n} consents withdrawn", c["changed"]).format(n=grouped(c["changed"]))
        if c["unchanged"]:
            text += _(", {n} already withdrawn").format(n=grouped(c["unchanged"]))
    if c["kept_withdrawn"]:
        text += _(", {n} left withdrawn (only the person can lift an opposition)").format(n=grouped(c["kept_withdrawn"]))
    out.print(text + ".")


@consent_app.command("grant")
@selection_options(expression="--filter")
def consent_grant(
    ctx: typer.Context,
    contact: Optional[str] = typer.Argument(None, help="Contact id, e-mail or phone (or use --segment/--filter)."),
    channel: list[str] = ChannelOption,
    source: str = typer.Option("manual", "--source", help="How it was obtained: form, manual, letter, meeting, ..."),
    wording: Optional[str] = typer.Option(None, "--wording", help="The text the person agreed to (required)."),
    renewed: bool = typer.Option(False, "--renewed", help="The person asked again after withdrawing (one contact)."),
    selection: SelectionArgs = None,
    yes: bool = YesOption,
):
    """Record a consent. Needs the wording; never lifts a withdrawal in bulk."""
    from dbox.console import out
    from dbox.labels import shown
    from dbox.errors import InputError
    from dbox.privacy import consent

    store = store_from(ctx)
    where, params, description, contact_id = _selection(store, contact, selection)
    if contact_id is not None:
        _print_change(consent.grant(store, contact_id, channel, source=source, wording=wording, renewed=renewed))
        return
    if renewed:
        raise InputError(_("--renewed applies to one contact: a person lifts their own opposition"))
    plan = consent.plan_bulk(store, where, params, channel, "grant")
    total = sum(n for (ch, _unused), n in plan.items() if ch == consent.parse_channels(channel)[0])
    consent.check_source(source)
    out.print(_("{description}: {total} contacts.").format(description=description, total=grouped(total)) + " "
              + ", ".join(f"{ch} {shown('consent', st)}: {grouped(n)}" for (ch, st), n in sorted(plan.items())))
    confirm_or_abort(_("Record consent ({items}) for {total} contacts?").format(
                         items=', '.join(consent.parse_channels(channel)), total=grouped(total)), yes)
    _print_change(consent.bulk(store, where, params, channel, "grant", source=source, wording=wording,
                               description=description))


@consent_app.command("withdraw")
@selection_options(expression="--filter")
def consent_withdraw(
    ctx: typer.Context,
    contact: Optional[str] = typer.Argument(None, help="Contact id, e-mail or phone (or use --segment/--filter)."),
    channel: list[str] = ChannelOption,
    source: str = typer.Option("manual", "--source", help="stop-reply, unsubscribe, letter, phone-call, manual, ..."),
    detail: Optional[str] = typer.Option(None, "--detail", help="What the person said, or the campaign."),
    selection: SelectionArgs = None,
    yes: bool = YesOption,
):
    """Record a withdrawal (an opposition): honoured by every later send and import."""
    from dbox.console import out
    from dbox.privacy import consent

    store = store_from(ctx)
    where, params, description, contact_id = _selection(store, contact, selection)
    if contact_id is not None:
        _print_change(consent.withdraw(store, contact_id, channel, source=source, detail=detail))
        return
    consent.check_source(source)
    channels = consent.parse_channels(channel)
    plan = consent.plan_bulk(store, where, params, channels, "withdraw")
    total = sum(n for (ch, _unused), n in plan.items() if ch == channels[0])
    out.print(_("{description}: {total} contacts.").format(description=description, total=grouped(total)))
    confirm_or_abort(_("Withdraw consent ({items}) for {total} contacts?").format(
                         items=', '.join(channels), total=grouped(total)), yes)
    _print_change(consent.bulk(store, where, params, channels, "withdraw", source=source, wording=detail,
                               description=description))


# -- dbox optouts import ---------------------------------------------------------------------------

def optouts_import(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="CSV/xlsx of e-mails or phones, a provider's export, or the endpoint's queue."),
    channel: Optional[str] = typer.Option(None, "--channel", help="email (default for addresses), sms (default for "
                                                                   "phones) or phone."),
    column: Optional[str] = typer.Option(None, "--column", help="The column holding the addresses."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would happen; change nothing."),
    encoding: Optional[str] = typer.Option(None, "--encoding", help="Text encoding (default: detected)."),
):
    """Import unsubscribes / STOPs: withdraw consent and suppress the addresses on that channel."""
    from rich.markup import escape

    from dbox.console import out
    from dbox.privacy.optouts import import_optouts

    report = import_optouts(store_from(ctx), file, channel=channel, column=column, dry_run=dry_run,
                            encoding=encoding)
    c = report.counts
    source = (_("column {column!r}").format(column=report.column) if report.column
              else _("first column, no header"))
    kinds = {"phone": N_("phones"), "email": N_("emails"), "token": N_("tokens")}
    text = _("{file} ({kind}, {source}) -> channel {channel}: {read} rows, {addresses} addresses suppressed, "
             "{withdrawn} contacts had consent withdrawn, {already} had already withdrawn, {unknown} match no "
             "contact").format(file=file.name, kind=_(kinds[report.kind]) if report.kind in kinds else report.kind,
                               source=source, channel=report.channel, read=grouped(c["read"]),
                               addresses=grouped(c["addresses"]), withdrawn=grouped(c["withdrawn"]),
                               already=grouped(c["already_withdrawn"]), unknown=grouped(c["unknown"]))
    if c["duplicates"]:
        text += _(", {n} duplicates").format(n=grouped(c["duplicates"]))
    if c["invalid"]:
        text += _(", {n} rows skipped").format(n=grouped(c["invalid"]))
    out.print((_("Dry run: nothing was written. ") if dry_run else "") + text + ".")
    for line in report.problems[:10]:
        out.print(_("  skipped: {line}").format(line=escape(line)))
    if len(report.problems) > 10:
        out.print(_("  … and {value} more").format(value=grouped(c['invalid'] - 10)))


# -- dbox privacy ----------------------------------------------------------------------------------

@privacy_app.command("export")
def privacy_export(
    ctx: typer.Context,
    contact: str = typer.Argument(..., help="Contact id, e-mail or phone."),
    output: Optional[Path] = typer.Option(None, "--output-dir", "-o", "--output",
                                          help="The folder to write the files to (each 0600)."),
    fmt: str = TextFormatOption,
):
    """Everything held on one person (right of access): fields, tags, consents with history, sources,
    messages sent and their outcomes, other records. As JSON and as a readable text."""
    from dbox.console import out
    from dbox.privacy import rights

    store = store_from(ctx)
    data = rights.export(store, _contact(store, contact))
    if output is not None:
        json_path, text_path = rights.write_export(data, output)
        out.print(_("Written: {json_path}\n         {text_path}\nSend them to the person within one month of their request.").format(
                      json_path=json_path, text_path=text_path))
        return
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str) if fmt == "json"
               else rights.render_text(data), nl=False)


@privacy_app.command("forget")
def privacy_forget(
    ctx: typer.Context,
    contact: str = typer.Argument(..., help="Contact id, e-mail or phone."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be erased; change nothing."),
    yes: bool = YesOption,
):
    """Erase one person everywhere (right to erasure); keep a salted hash of their e-mails and phones
    so no later import or follower sync brings them back."""
    from dbox.console import out
    from dbox.privacy import rights

    store = store_from(ctx)
    contact_id = _contact(store, contact)
    plan = rights.forget(store, contact_id, dry_run=True)
    hashes = ", ".join(f"{n} {kind}" for kind, n in sorted(plan.hashes.items())) or "none"
    rows = ", ".join(f"{table} {n}" for table, n in plan.removed.items())
    if dry_run:
        out.print(_("Dry run: erasing contact {contact_id} would remove: {rows}; hashes kept: {hashes}.").format(
                      contact_id=contact_id, rows=rows, hashes=hashes))
        return
    confirm_or_abort(_("Erase contact {contact_id} for good ({rows})?").format(contact_id=contact_id, rows=rows), yes)
    report = rights.forget(store, contact_id)
    rows = ", ".join(f"{table} {n}" for table, n in report.removed.items() if n)
    out.print(_("Contact {contact_id} erased ({rows}). Hashes kept so they stay out: {hashes}. Backups made before today still hold them: they expire with your backup rotation.").format(
                  contact_id=contact_id, rows=rows, hashes=hashes))


@privacy_app.command("rectify")
def privacy_rectify(
    ctx: typer.Context,
    contact: str = typer.Argument(..., help="Contact id, e-mail or phone."),
    set_: list[str] = typer.Option([], "--set", help="FIELD=VALUE (repeat); an empty value clears. Fields: civility, "
                                                     "first_name, last_name, email, mobile, fixed, address, "
                                                     "postal_code, commune, field.<name>."),
    reason: Optional[str] = typer.Option(None, "--reason", help="Why (e.g. the person's request of 12/11)."),
    history: bool = typer.Option(False, "--history", help="Show the changes recorded so far instead."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the changes; write nothing."),
    fmt: str = FormatOption,
):
    """Correct a contact (right to rectification); who changed what is recorded."""
    from dbox.console import out
    from dbox.output import emit, render_table
    from dbox.privacy import rights
    from dbox.store import privacy as store_privacy

    store = store_from(ctx)
    contact_id = _contact(store, contact)
    if history:
        emit(store_privacy.rectification_history(store, contact_id), ["at", "by", "field", "old", "new", "reason"],
             fmt=fmt, title=_("Changes to contact {contact_id}").format(contact_id=contact_id))
        return
    result = rights.rectify(store, contact_id, rights.parse_assignments(set_), reason=reason, dry_run=dry_run)
    if not result.changes:
        out.print(_("Contact {contact_id}: nothing to change (the values are already these).").format(
                      contact_id=contact_id))
        return
    render_table(([f, old or "", new or ""] for f, old, new in result.changes), ["field", "old", "new"],
                 title=(_("Dry run: contact {contact_id}") if dry_run else _("Contact {contact_id}")).format(
                     contact_id=contact_id))


@privacy_app.command("retention")
def privacy_retention(
    ctx: typer.Context,
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Judge as on this date (YYYY-MM-DD; default today)."),
    election_date: Optional[str] = typer.Option(None, "--election-date",
                                                help="The vote's date: its prospect list is due after it."),
    election_tag: list[str] = typer.Option([], "--election-tag", help="Tag of that election's prospects (repeat)."),
    list_: bool = typer.Option(False, "--list", help="List the contacts due (id, rule, last exchange)."),
    purge: bool = typer.Option(False, "--purge", help="Erase the contacts due (asks first)."),
    fmt: str = FormatOption,
    output: Optional[Path] = OutputOption,
    yes: bool = YesOption,
):
    """What falls due under the retention rules of the config file, and purging it."""
    from dbox.console import out
    from dbox.output import emit, render_table
    from dbox.clock import parse_day
    from dbox.labels import shown
    from dbox.privacy import retention

    store = store_from(ctx)
    rules = retention.load_rules()
    if election_date:
        rules.election_date = parse_day(election_date, "--election-date")
    if election_tag:
        rules.election_tags = tuple(election_tag)
    day = parse_day(as_of, "--as-of") if as_of else None
    plan = retention.plan(store, rules, day)
    if list_:
        emit(retention.iter_due(store, plan), ["rule", "contact_id", "last_exchange"], fmt=fmt, output=output)
        return
    rows = [[r.name, r.description, r.cutoff or "", f"{r.count:,}"] for r in plan.rules]
    if rules.opposition_years:
        rows.append(["oppositions", _("opposition hashes older than {years} years").format(years=rules.opposition_years),
                     plan.opposition_cutoff, f"{plan.oppositions_due:,}"])
    if plan.inbox_due:
        rows.append(["inbox", _("SMS received from numbers no contact holds (dbox serve)"), plan.inbox_cutoff,
                     f"{plan.inbox_due:,}"])
    render_table(rows, ["rule", "what", "cut-off", "due"], title=_("Retention as of {day}").format(day=plan.as_of.isoformat()),
                 shown={"rule": lambda v: shown("retention_rule", v)})
    if not rules.election_date:
        out.print(_("No election date set: add --election-date and --election-tag (or \\[privacy.retention] in the config) to purge an election's prospect list after the vote."))
    if not purge:
        if plan.total:
            out.print(_("{total} contacts are due. See them with --list; erase them with --purge.").format(
                          total=grouped(plan.total)))
        return
    if not plan.total and not plan.oppositions_due and not plan.inbox_due:
        out.print(_("Nothing is due."))
        return
    confirm_or_abort(_("Erase {total} contacts for good?").format(total=grouped(plan.total)), yes)
    report = retention.purge(store, plan)
    text = _("Erased {n} contacts ({rules}); {kept} oppositions kept as hashes").format(
        n=grouped(sum(report.contacts.values())),
        rules=", ".join(f"{shown('retention_rule', rule)} {grouped(n)}" for rule, n in report.contacts.items()),
        kept=grouped(report.oppositions_kept))
    if report.oppositions_purged:
        text += _("; {n} old opposition hashes purged").format(n=grouped(report.oppositions_purged))
    if report.inbox_purged:
        text += _("; {n} SMS from unknown numbers deleted").format(n=grouped(report.inbox_purged))
    out.print(text + ".")


@privacy_app.command("sources")
def privacy_sources(
    ctx: typer.Context,
    import_id: Optional[int] = typer.Argument(None, help="An import to mark (see the list without it)."),
    third_party: Optional[str] = typer.Option(None, "--third-party",
                                              help="Mark the import as third-party data, saying where it came from."),
    own: bool = typer.Option(False, "--own", help="Mark the import as the campaign's own data again."),
    fmt: str = FormatOption,
):
    """Imports and whether their data came from a third party (information duty, short retention)."""
    from dbox.console import out
    from dbox.errors import InputError
    from dbox.labels import shown
    from dbox.output import emit
    from dbox.privacy import notice

    store = store_from(ctx)
    if import_id is not None:
        if bool(third_party) == own:
            raise InputError(_('say --third-party "origin" or --own'))
        row = notice.mark_import(store, import_id, None if own else third_party)
        out.print(_("Import {id} ({file}): the campaign's own data.").format(id=import_id, file=row[1]) if own else
                  _("Import {id} ({file}): third-party data ({origin}).").format(
                      id=import_id, file=row[1], origin=" ".join(third_party.split())))
        return
    emit(([i, f, k, done or "(unfinished)", n, origin or "own"] for i, f, k, done, n, origin in notice.sources(store)),
         ["import", "file", "kind", "finished", "contacts", "origin"], fmt=fmt, title=_("Where the data came from"),
         shown={"kind": lambda v: shown("import_kind", v), "origin": lambda v: shown("origin", v),
                "finished": lambda v: shown("origin", v)})


@privacy_app.command("suppressions")
def privacy_suppressions(ctx: typer.Context):
    """The suppression list in numbers (its values are salted hashes: they cannot be listed)."""
    from dbox.output import render_table
    from dbox.store import privacy as store_privacy

    render_table(store_privacy.suppression_counts(store_from(ctx)),
                 ["kind", "reason", "channel", "count", "oldest", "newest"], title=_("Suppression list"))


# -- dbox audit, backup, restore -------------------------------------------------------------------

def audit_(
    ctx: typer.Context,
    since: Optional[str] = typer.Option(None, "--since", help="From this date (YYYY-MM-DD) on."),
    command: Optional[str] = typer.Option(None, "--command", help="Only this command (e.g. 'import', 'privacy')."),
    user: Optional[str] = typer.Option(None, "--user", help="Only what this OS user did."),
    limit: int = typer.Option(50, "--limit", "-n", help="At most this many rows, newest first (0: all)."),
    verify: bool = typer.Option(False, "--verify", help="Check that no row was changed or removed."),
    fmt: str = FormatOption,
    output: Optional[Path] = OutputOption,
):
    """The audit log: who ran what, when, on how many contacts (imports, exports, sends, erasures)."""
    from dbox.console import out
    from dbox.errors import DboxError
    from dbox.output import emit
    from dbox.privacy import audit
    from dbox.clock import parse_day

    store = store_from(ctx)
    if verify:
        checked, broken = audit.verify(store)
        if broken is not None:
            raise DboxError(_("the audit log was altered: row {broken} does not follow from the rows before it ({checked} rows check out before it)").format(
                                broken=broken, checked=grouped(checked)))
        out.print(_("The audit log is intact ({checked} rows).").format(checked=grouped(checked)))
        return
    since_stamp = parse_day(since, "--since").strftime("%Y-%m-%dT00:00:00Z") if since else None
    rows = ([e.id, e.at, e.os_user, e.host or "", e.db_role or "", e.command, e.count,
             json.dumps(e.detail, ensure_ascii=False, sort_keys=True) if e.detail else ""]
            for e in audit.entries(store, since=since_stamp, command=command, user=user, limit=limit or None))
    emit(rows, ["id", "at", "user", "host", "role", "command", "count", "detail"], fmt=fmt, output=output)


def backup_(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="The backup file to write."),
    force: bool = typer.Option(False, "--force", help="Overwrite FILE if it exists."),
):
    """Copy the store to FILE with SQLite's online backup API (safe while dbox runs); FILE is 0600."""
    from dbox.console import out
    from dbox.privacy.backup import backup

    info = backup(store_from(ctx), file, force=force)
    out.print(_("Backed up {contacts} contacts to {path} (schema {schema}). It holds personal data: keep it encrypted or locked away, and delete old backups on schedule.").format(
                  contacts=grouped(info.contacts), path=info.path, schema=info.schema))


def restore_(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="A backup made by dbox backup."),
    yes: bool = YesOption,
):
    """Replace the store's content with a backup (asks first). The audit log keeps its newer rows."""
    from dbox.console import out
    from dbox.privacy.backup import inspect, restore

    info = inspect(file)
    store = store_from(ctx)
    confirm_or_abort(_("Replace the store {path} with {file} ({contacts} contacts)?").format(
                         path=store.path, file=file, contacts=grouped(info.contacts)), yes)
    result = restore(store, file)
    out.print(_("Restored {contacts} contacts from {file} (the store had {contacts_before}). Kept from the replaced store: {audit_rows_carried} audit rows, {suppressions_carried} suppression hashes; erased again {erased_again} people erased since the backup, withdrew again {withdrawn_again} consents.").format(
                  contacts=grouped(result.source.contacts), file=file, contacts_before=grouped(result.contacts_before), audit_rows_carried=grouped(result.audit_rows_carried), suppressions_carried=grouped(result.suppressions_carried), erased_again=grouped(result.erased_again), withdrawn_again=grouped(result.withdrawn_again)))
    if result.other_store:
        from dbox.console import print_warning

        print_warning(_("{file} is a backup of another store: erasures and oppositions recorded in the replaced store could not be matched against it; check `dbox audit --command privacy` and erase again").format(
                          file=file))


def register(app: typer.Typer) -> None:
    app.add_typer(consent_app, name="consent", help="Consent per channel: show the history, grant, withdraw.")
    app.add_typer(privacy_app, name="privacy", help="Rights requests, retention, third-party sources.")
    existing = next((g.typer_instance for g in app.registered_groups if g.name == "optouts"), None)
    target = existing or optouts_app
    target.command("import")(optouts_import)
    if existing is None:
        app.add_typer(optouts_app, name="optouts", help="Opt-outs collected outside dbox: unsubscribes, STOPs.")
    app.command("audit")(audit_)
    app.command("backup")(backup_)
    app.command("restore")(restore_)
