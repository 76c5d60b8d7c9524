"""Sign-up form pages: ``/f/SLUG`` (the form; POST records a sign-up) and ``/f/confirm/TOKEN``
(double opt-in: GET shows a button, only the POST confirms — mail scanners follow links).

The rules of a submission are :mod:`dbox.forms.submit`'s; this module draws the pages and applies
:mod:`dbox.serve.guard` (CSRF, honeypot, rate limit) before anything reaches the store."""

from __future__ import annotations

from html import escape

from dbox.forms.definitions import FIELDS, SignupForm, find_active
from dbox.forms.submit import Outcome, confirm, lookup, send_confirmation, submit
from dbox.serve.app import context, in_store
from dbox.serve.guard import CSRF_FIELD, HONEYPOT_FIELD, client_of, guard_of, same_origin
from dbox.i18n import N_, _
from dbox.serve.pages import error_summary, hidden, honeypot, not_found, page, respond
from dbox.store import geo as store_geo

def _field_html(form: SignupForm, name: str, value: str, error: str | None) -> str:
    spec = FIELDS[name]
    required = name in form.required
    described = f' aria-describedby="{name}-error" aria-invalid="true"' if error else ""
    mode = f' inputmode="{spec.inputmode}"' if spec.inputmode else ""
    label, needed = _(spec.label), _("required")
    html = f'<div class="field"><label for="f-{name}">{escape(label)}'
    if required:
        html += f' <span class="req">({escape(needed)})</span>'
    html += "</label>"
    if error:
        html += f'<p class="error" id="{name}-error">{escape(_(error))}</p>'
    html += (f'<input type="{spec.input_type}" id="f-{name}" name="{name}" value="{escape(value, quote=True)}" '
             f'autocomplete="{spec.autocomplete}"{mode}{described}' + (" required" if required else "")
             + ' maxlength="200"></div>')
    return html


def render_form(guard, form: SignupForm, values: dict, ticked, errors: dict[str, str], *,
                notice: str = "") -> str:
    parts = [f"<h1>{escape(form.title)}</h1>"]
    if form.intro:
        parts.append(f"<p>{escape(form.intro)}</p>")
    if notice:
        parts.append(f'<div class="summary" role="alert">{escape(_(notice))}</div>')
    parts.append(error_summary(errors, {n: f"f-{n}" for n in form.fields}))
    parts.append(f'<form method="post" action="/f/{escape(form.slug)}" novalidate>')
    parts.append(hidden(CSRF_FIELD, guard.token(f"/f/{form.slug}")))
    for name in form.fields:
        parts.append(_field_html(form, name, str(values.get(name, "")), errors.get(name)))
    for channel, wording in form.consents.items():
        checked = " checked" if channel in ticked else ""
        parts.append(f'<div class="check"><input type="checkbox" id="c-{channel}" name="consent" '
                     f'value="{channel}"{checked}><label for="c-{channel}">{escape(wording)}</label></div>')
    parts.append(honeypot())
    button = _("Sign up")
    parts.append(f'<p><button type="submit">{escape(button)}</button></p></form>')
    return page(form.title, "".join(parts))


def _thanks(form: SignupForm) -> str:
    title, recorded = _("Thank you!"), _("Your sign-up is recorded.")
    body = (f"<h1>{escape(form.title)}</h1><div class=\"notice\" role=\"status\"><h2>{escape(title)}</h2>"
            f"<p>{escape(recorded)}</p>")
    if "email" in form.consents:
        mailed = _("If you asked for e-mails, we sent you a message: open its link to confirm your address.")
        body += f"<p>{escape(mailed)}</p>"
    return page(form.title, body + "</div>")


def _submit(store, form: SignupForm, values: dict, ticked: list[str], page_url: str, cache: dict) -> Outcome:
    if "geo_index" not in cache:
        cache["geo_index"] = store_geo.load_index(store)
    return submit(store, form, values, ticked, index=cache["geo_index"], page_url=page_url)


async def form_page(request):
    slug = request.path_params["slug"]
    form = await in_store(request, find_active, slug)
    if form is None:
        return not_found()
    guard = guard_of(request)
    if request.method == "GET":
        if request.query_params.get("sent") == "1":
            return respond(_thanks(form))
        return respond(render_form(guard, form, {}, set(), {}))
    data = await request.form()
    values = {name: str(data.get(name, "")) for name in form.fields}
    ticked = [str(c) for c in data.getlist("consent")]
    scope = f"/f/{form.slug}"
    if not guard.allow(client_of(request), scope):
        return respond(render_form(guard, form, values, ticked, {},
                                   notice=N_("Too many attempts. Please try again later.")), 429)
    if not same_origin(request) or not guard.check_token(scope, str(data.get(CSRF_FIELD, ""))):
        return respond(render_form(guard, form, values, ticked, {}, notice=N_(
            "This page has expired. Please check your answers and send the form again.")), 403)
    if str(data.get(HONEYPOT_FIELD, "")).strip():
        return respond(_thanks(form))          # a robot: answered as if it worked, nothing recorded
    ctx = context(request)
    base = ctx.public_url or f"{request.url.scheme}://{request.url.netloc}"
    outcome = await in_store(request, _submit, form, values, ticked, f"{base}/f/{form.slug}", ctx.extra)
    if outcome.status == "invalid":
        return respond(render_form(guard, form, values, ticked, outcome.errors), 422)
    if outcome.mail is not None:
        await in_store(request, send_confirmation, form, outcome.mail, base)
    from starlette.responses import RedirectResponse

    return RedirectResponse(f"/f/{form.slug}?sent=1", status_code=303)


_CONFIRM_TEXTS = {
    "confirmed": N_("Your address is confirmed. Thank you!"),
    "already": N_("This address was already confirmed."),
    "expired": N_("This link has expired: sign up again to get a new one."),
    "unknown": N_("This link is not valid."),
    "not-restored": N_("This address asked not to receive e-mails: nothing was changed. Contact the team if you "
                       "changed your mind."),
}


def _said(title: str, state: str, status: int, *, notice: bool = False):
    message = _(_CONFIRM_TEXTS[state])
    inner = f"<p>{escape(message)}</p>"
    if notice:
        inner = f'<div class="notice" role="status">{inner}</div>'
    return respond(page(title, f"<h1>{escape(title)}</h1>{inner}"), status, frame=False)


async def confirm_page(request):
    token = request.path_params["token"]
    row = await in_store(request, lookup, token)
    title = _("Confirm your e-mail address")
    scope = f"/f/confirm/{token}"
    guard = guard_of(request)
    if request.method == "GET":
        if row is None:
            return _said(title, "unknown", 404)
        if row["state"] != "pending":
            return _said(title, "already" if row["state"] == "confirmed" else row["state"], 200)
        button = _("Confirm my e-mail address")
        body = (f"<h1>{escape(title)}</h1><form method=\"post\" action=\"{escape(scope)}\">"
                f"{hidden(CSRF_FIELD, guard.token(scope))}"
                f"<p><button type=\"submit\">{escape(button)}</button></p></form>")
        return respond(page(title, body), frame=False)
    data = await request.form()
    if not guard.allow(client_of(request), "/f/confirm"):
        says = _("Too many attempts. Please try again later.")
        return respond(page(title, f"<h1>{escape(title)}</h1><p>{escape(says)}</p>"), 429, frame=False)
    if not same_origin(request) or not guard.check_token(scope, str(data.get(CSRF_FIELD, ""))):
        return _said(title, "unknown", 403)
    state = await in_store(request, confirm, token)
    status = 200 if state in ("confirmed", "already") else 404 if state == "unknown" else 409
    return _said(title, state, status, notice=True)


def register_routes(register) -> None:
    from starlette.routing import Route

    register(Route("/f/confirm/{token}", confirm_page, methods=["GET", "POST"]))
    register(Route("/f/{slug}", form_page, methods=["GET", "POST"]))
