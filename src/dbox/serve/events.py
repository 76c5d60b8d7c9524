"""Public event pages: ``/e/ACTION`` shows a published action (when, where, what) with a form to
answer; an answer becomes the same RSVP as ``dbox action rsvp``. The person is found or added by
the import's own rules (:func:`dbox.forms.submit.submit`, as a form with no consent box): an
erased or opposed person is not added back, and their answer is not recorded — the page thanks
everyone alike."""

from __future__ import annotations

from html import escape

from dbox.errors import InputError
from dbox.forms.definitions import SignupForm
from dbox.forms.submit import submit
from dbox.organizing import people
from dbox.organizing.actions import Action
from dbox.organizing.pages import open_for_answers, places_left, public_action
from dbox.serve.app import context, in_store
from dbox.serve.forms import _field_html
from dbox.serve.guard import CSRF_FIELD, HONEYPOT_FIELD, client_of, guard_of, same_origin
from dbox.i18n import N_, _
from dbox.serve.pages import error_summary, hidden, honeypot, not_found, page, respond
from dbox.store import geo as store_geo

FIELDS = ["first_name", "last_name", "email", "mobile"]
ANSWERS = ("yes", "maybe", "no")
ANSWER_LABELS = {"yes": N_("Yes"), "maybe": N_("Maybe"), "no": N_("No")}


def answer_form(action: Action) -> SignupForm:
    """The person part of the page, as a form with no consent box (its rules are a sign-up's)."""
    return SignupForm(id=0, slug=f"action-{action.id}", title=action.title, intro=None, fields=list(FIELDS),
                      required=["first_name", "last_name"], consents={}, tags=[], status="active",
                      submissions=0, created_at="", updated_at="")


def _load(store, ref: str):
    action = public_action(store, ref)
    if action is None:
        return None
    return action, places_left(store, action)


def render(guard, action: Action, left: int | None, values: dict, answer: str | None, errors: dict[str, str], *,
           notice: str = "", done: bool = False) -> str:
    labels = {"when": _("When"), "where": _("Where"), "what": _("What"), "left": _("Places left")}
    parts = [f"<h1>{escape(action.title)}</h1><dl>",
             f"<dt>{labels['when']}</dt><dd>{escape(action.when_text())}</dd>"]
    if action.place:
        parts.append(f"<dt>{labels['where']}</dt><dd>{escape(action.place)}</dd>")
    what = action.type_label.capitalize() + (f" — {action.description}" if action.description else "")
    parts.append(f"<dt>{labels['what']}</dt><dd>{escape(what)}</dd>")
    if left is not None:
        parts.append(f"<dt>{labels['left']}</dt><dd>{left}</dd>")
    parts.append("</dl>")
    if done:
        said = _("Your answer is recorded. Thank you!")
        parts.append(f'<div class="notice" role="status"><p>{escape(said)}</p></div>')
    if action.cancelled:
        said = _("This action was cancelled.")
        parts.append(f'<div class="summary" role="status"><p>{escape(said)}</p></div>')
    elif not open_for_answers(action):
        said = _("Answers are closed.")
        parts.append(f"<p>{escape(said)}</p>")
    elif not done:
        form = answer_form(action)
        if notice:
            parts.append(f'<div class="summary" role="alert">{escape(_(notice))}</div>')
        parts.append(error_summary(errors, {**{n: f"f-{n}" for n in FIELDS}, "answer": "a-yes"}))
        parts.append(f'<form method="post" action="/e/{action.id}" novalidate>')
        parts.append(hidden(CSRF_FIELD, guard.token(f"/e/{action.id}")))
        radios = "".join(
            f'<div class="check"><input type="radio" id="a-{a}" name="answer" value="{a}"'
            + (" checked" if answer == a else "") + f'><label for="a-{a}">{escape(_(ANSWER_LABELS[a]))}</label></div>'
            for a in ANSWERS)
        error = errors.get("answer")
        legend = _("Will you come?")
        parts.append(f"<fieldset><legend>{escape(legend)}</legend>"
                     + (f'<p class="error">{escape(_(error))}</p>' if error else "")
                     + f'<div class="radios">{radios}</div></fieldset>')
        for name in FIELDS:
            parts.append(_field_html(form, name, str(values.get(name, "")), errors.get(name)))
        parts.append(honeypot())
        button = _("Send")
        parts.append(f'<p><button type="submit">{escape(button)}</button></p></form>')
    return page(action.title, "".join(parts), robots="index")


def _answer(store, action: Action, values: dict, answer: str, page_url: str, cache: dict):
    if "geo_index" not in cache:
        cache["geo_index"] = store_geo.load_index(store)
    outcome = submit(store, answer_form(action), values, [], index=cache["geo_index"], page_url=page_url)
    if outcome.status == "invalid" or outcome.contact_id is None:
        return outcome
    try:
        people.rsvp(store, action, outcome.contact_id, answer, source="web")
    except InputError:
        pass                      # cancelled meanwhile: the page says so on the next visit
    return outcome


async def event_page(request):
    ref = request.path_params["ref"]
    found = await in_store(request, _load, ref)
    if found is None:
        return not_found()
    action, left = found
    guard = guard_of(request)
    if request.method == "GET":
        return respond(render(guard, action, left, {}, None, {}, done=request.query_params.get("sent") == "1"))
    data = await request.form()
    values = {name: str(data.get(name, "")) for name in FIELDS}
    answer = str(data.get("answer", ""))
    scope = f"/e/{action.id}"
    if not open_for_answers(action):
        return respond(render(guard, action, left, values, None, {}), 409)
    if not guard.allow(client_of(request), scope):
        return respond(render(guard, action, left, values, answer, {},
                              notice=N_("Too many attempts. Please try again later.")), 429)
    if not same_origin(request) or not guard.check_token(scope, str(data.get(CSRF_FIELD, ""))):
        return respond(render(guard, action, left, values, answer, {}, notice=N_(
            "This page has expired. Please check your answers and send the form again.")), 403)
    if str(data.get(HONEYPOT_FIELD, "")).strip():
        return respond(render(guard, action, left, {}, None, {}, done=True))
    ctx = context(request)
    base = ctx.public_url or f"{request.url.scheme}://{request.url.netloc}"
    errors = {} if answer in ANSWERS else {"answer": N_("Please choose an answer.")}
    if not errors:
        outcome = await in_store(request, _answer, action, values, answer, f"{base}{scope}", ctx.extra)
        errors = outcome.errors
    if errors:
        return respond(render(guard, action, left, values, answer, errors), 422)
    from starlette.responses import RedirectResponse

    return RedirectResponse(f"{scope}?sent=1", status_code=303)


def register_routes(register) -> None:
    from starlette.routing import Route

    register(Route("/e/{ref}", event_page, methods=["GET", "POST"]))
