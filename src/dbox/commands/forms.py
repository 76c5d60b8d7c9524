"""``dbox forms create|list|show|disable|enable``: sign-up forms served by ``dbox serve`` at /f/SLUG."""

from __future__ import annotations

import json
from typing import Optional

import typer

from dbox.commands.common import FormatOption, TextFormatOption, store_from
from dbox.i18n import _

app = typer.Typer(no_args_is_help=True, help="Sign-up forms for the campaign's website (served by dbox serve).")


def public_base() -> str | None:
    """The public base URL of ``dbox serve`` (``public_url`` / DBOX_PUBLIC_URL), or None."""
    from dbox.config import public_url

    return public_url()


def _out():
    from dbox.console import out

    return out


@app.command("create")
def create(
    ctx: typer.Context,
    slug: str = typer.Argument(..., help="The form's name in its address: /f/SLUG (letters, digits, dashes)."),
    title: str = typer.Option(..., "--title", help="The title shown on the page."),
    fields: str = typer.Option("first_name,last_name,email,mobile,postal_code", "--fields",
                               help="Fields asked, in order: first_name, last_name, email, mobile, postal_code, "
                                    "commune, address."),
    consent: Optional[str] = typer.Option(None, "--consent", help="Channels a box offers consent for: sms, email, "
                                                                  "phone, post (comma-separated)."),
    wording: list[str] = typer.Option([], "--wording", help="The exact words shown beside the consent boxes: "
                                                            "one text for all, or CHANNEL=TEXT (repeatable)."),
    tag: list[str] = typer.Option([], "--tag", help="Tag given to every contact the form brings (repeatable)."),
    required: Optional[str] = typer.Option(None, "--required", help="Fields that must be filled (comma-separated)."),
    intro: Optional[str] = typer.Option(None, "--intro", help="A few words under the title."),
):
    """Create a sign-up form: its page is /f/SLUG on the server `dbox serve` runs."""
    from dbox.forms import definitions as fd

    store = store_from(ctx)
    form = fd.create(store, slug, title=title, fields=fields, consents=consent, wording=wording, tags=tag,
                     required=required, intro=intro)
    out = _out()
    out.print(_("Form {slug} created: {page_url}").format(slug=form.slug, page_url=fd.page_url(public_base(), form)), markup=False)
    if form.consents:
        for channel, text in form.consents.items():
            note = " (double opt-in: recorded once the address is confirmed)" if channel == "email" else ""
            out.print(_("  consent {channel}{note}: « {text} »").format(channel=channel, note=note, text=text), markup=False)
    out.print(_("Embed it in the campaign's website: dbox forms show {slug} --embed").format(slug=form.slug), markup=False)


@app.command("list")
def list_(ctx: typer.Context, fmt: str = FormatOption):
    """Every form, with its status and submissions."""
    from dbox.forms import definitions as fd
    from dbox.output import emit

    store = store_from(ctx)
    rows = []
    for form in fd.list_(store):
        counts = fd.confirmations(store, form)
        rows.append([form.slug, form.title, form.status, ",".join(form.fields), ",".join(form.consents),
                     ",".join(form.tags), form.submissions, counts["confirmed"]])
    emit(rows, ["slug", "title", "status", "fields", "consents", "tags", "submissions", "emails_confirmed"], fmt=fmt)


@app.command("show")
def show(ctx: typer.Context, slug: str = typer.Argument(..., help="The form's name."),
         embed: bool = typer.Option(False, "--embed", help="Print only the HTML snippet for the campaign's website."),
         fmt: str = TextFormatOption):
    """A form's settings, its address and counts; --embed prints the snippet to paste in a web page."""
    from dbox.forms import definitions as fd

    store = store_from(ctx)
    form = fd.get(store, slug)
    base = public_base()
    out = _out()
    if embed:
        if not base:
            from dbox.console import print_warning

            print_warning(_("public_url is not set: the snippet has a relative address (set DBOX_PUBLIC_URL or public_url in the [serve] table of the config)"))
        out.print(fd.embed_snippet(base, form), markup=False, soft_wrap=True)
        return
    counts = fd.confirmations(store, form)
    data = {"slug": form.slug, "title": form.title, "url": fd.page_url(base, form), "status": form.status,
            "fields": form.fields, "required": form.required, "consents": form.consents, "tags": form.tags,
            "submissions": form.submissions,
            "emails_to_confirm": counts["asked"] - counts["confirmed"], "emails_confirmed": counts["confirmed"],
            "created_at": form.created_at}
    if fmt == "json":
        out.print(json.dumps(data, ensure_ascii=False, indent=2), markup=False, soft_wrap=True)
        return
    for key, value in data.items():
        if isinstance(value, dict):
            value = "; ".join(f"{k}: « {v} »" for k, v in value.items()) or "-"
        elif isinstance(value, list):
            value = ", ".join(value) or "-"
        out.print(f"{key:<18} {value}", markup=False, soft_wrap=True)


@app.command("disable")
def disable(ctx: typer.Context, slug: str = typer.Argument(..., help="The form's name.")):
    """Stop taking sign-ups: the page answers 404 (what it brought stays)."""
    from dbox.forms import definitions as fd

    store = store_from(ctx)
    form = fd.set_active(store, fd.get(store, slug), False)
    _out().print(_("Form {slug} is disabled.").format(slug=form.slug), markup=False)


@app.command("enable")
def enable(ctx: typer.Context, slug: str = typer.Argument(..., help="The form's name.")):
    """Take sign-ups again on a disabled form."""
    from dbox.forms import definitions as fd

    store = store_from(ctx)
    form = fd.set_active(store, fd.get(store, slug), True)
    _out().print(_("Form {slug} is active again.").format(slug=form.slug), markup=False)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="forms", help="Sign-up forms for the campaign's website (served by dbox serve).")
