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
from dbox.serve.pages import error_summary, hidden, honeypot, not_found, page, respond, text
from dbox.store import geo as store_geo
from dbox.store.forms import form_language

CONSENT_LABELS = {"sms": "Text messages", "email": "E-mails", "phone": "Phone calls", "post": "Post"}


def _field_html(lang: str, form: SignupForm, name: str, value: str, error: str | None) -> str:
    spec = FIELDS[name]
    t = lambda m: text(lang, m)  # noqa: E731
    required = name in form.required
    described = f' aria-describedby="{name}-error" aria-invalid="true"' if error else ""
    mode = f' inputmode="{spec.inputmode}"' if spec.inputmode else ""
    return (f'<div class="field"><label for="f-{name}">{escape(t(spec.label))}'
            + (f' <span class="req">({t("required")})</span>' if required else "") + "</label>"
            + (f'<p class="error" id="{name}-error">{escape(t(error))}</p>' if error else "")
            + f'<input type="{spec.input_type}" id="f-{name}" name="{name}" value="{escape(value, quote=True)}" '
              f'autocomplete="{spec.autocomplete}"{mode}{described}' + (" required" if required else "")
            + ' maxlength="200"></div>')


def render_form(guard, form: SignupForm, values: dict, ticked, errors: dict[str, str], *,
                notice: str = "") -> str:
    lang = form.language
    t = lambda m: text(lang, m)  # noqa: E731
    parts = [f"<h1>{escape(form.title)}</h1>"]
    if form.intro:
        parts.append(f"<p>{escape(form.intro)}</p>")
    if notice:
        parts.append(f'<div class="summary" role="alert">{escape(t(notice))}</div>')
    parts.append(error_summary(lang, {k: v for k, v in errors.items()}, {n: f"f-{n}" for n in form.fields}))
    parts.append(f'<form method="post" action="/f/{escape(form.slug)}" novalidate>')
    parts.append(hidden(CSRF_FIELD, guard.token(f"/f/{form.slug}")))
    for name in form.fields:
        parts.append(_field_html(lang, form, name, str(values.get(name, "")), errors.get(name)))
    for channel, wording in form.consents.items():
        checked = " checked" if channel in ticked else ""
        parts.append(f'<div class="check"><input type="checkbox" id="c-{channel}" name="consent" '
                     f'value="{channel}"{checked}><label for="c-{channel}">{escape(wording)}</label></div>')
    parts.append(honeypot(lang))
    parts.append(f'<p><button type="submit">{t("Sign up")}</button></p></form>')
    return page(form.title, "".join(parts), lang)


def _thanks(form: SignupForm) -> str:
    t = lambda m: text(form.language, m)  # noqa: E731
    body = (f"<h1>{escape(form.title)}</h1><div class=\"notice\" role=\"status\"><h2>{t('Thank you!')}</h2>"
            f"<p>{t('Your sign-up is recorded.')}</p>")
    if "email" in form.consents:
        body += f"<p>{t('If you asked for e-mails, we sent you a message: open its link to confirm your address.')}</p>"
    return page(form.title, body + "</div>", form.language)


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
                                   notice="Too many attempts. Please try again later."), 429)
    if not same_origin(request) or not guard.check_token(scope, str(data.get(CSRF_FIELD, ""))):
        return respond(render_form(guard, form, values, ticked, {}, notice=(
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
    "confirmed": "Your address is confirmed. Thank you!",
    "already": "This address was already confirmed.",
    "expired": "This link has expired: sign up again to get a new one.",
    "unknown": "This link is not valid.",
    "not-restored": "This address asked not to receive e-mails: nothing was changed. Contact the team if you "
                    "changed your mind.",
}


def _confirmation_form(store, token: str) -> tuple[dict | None, str]:
    row = lookup(store, token)
    lang = "fr"
    if row and row["form_id"]:
        lang = form_language(store, row["form_id"]) or "fr"
    return row, lang


async def confirm_page(request):
    token = request.path_params["token"]
    row, lang = await in_store(request, _confirmation_form, token)
    t = lambda m: text(lang, m)  # noqa: E731
    title = t("Confirm your e-mail address")
    if request.method == "GET":
        if row is None or row["state"] != "pending":
            state = "unknown" if row is None else "already" if row["state"] == "confirmed" else row["state"]
            return respond(page(title, f"<h1>{title}</h1><p>{t(_CONFIRM_TEXTS[state])}</p>", lang),
                           404 if row is None else 200, frame=False)
        scope = f"/f/confirm/{token}"
        body = (f"<h1>{title}</h1><form method=\"post\" action=\"{escape(scope)}\">"
                f"{hidden(CSRF_FIELD, guard_of(request).token(scope))}"
                f"<p><button type=\"submit\">{t('Confirm my e-mail address')}</button></p></form>")
        return respond(page(title, body, lang), frame=False)
    data = await request.form()
    scope = f"/f/confirm/{token}"
    guard = guard_of(request)
    if not guard.allow(client_of(request), "/f/confirm"):
        return respond(page(title, f"<h1>{title}</h1><p>{t('Too many attempts. Please try again later.')}</p>",
                            lang), 429, frame=False)
    if not same_origin(request) or not guard.check_token(scope, str(data.get(CSRF_FIELD, ""))):
        return respond(page(title, f"<h1>{title}</h1><p>{t(_CONFIRM_TEXTS['unknown'])}</p>", lang), 403,
                       frame=False)
    state = await in_store(request, confirm, token)
    status = 200 if state in ("confirmed", "already") else 404 if state == "unknown" else 409
    return respond(page(title, f"<h1>{title}</h1><div class=\"notice\" role=\"status\"><p>"
                               f"{t(_CONFIRM_TEXTS[state])}</p></div>", lang), status, frame=False)


def register_routes(register) -> None:
    from starlette.routing import Route

    register(Route("/f/confirm/{token}", confirm_page, methods=["GET", "POST"]))
    register(Route("/f/{slug}", form_page, methods=["GET", "POST"]))
