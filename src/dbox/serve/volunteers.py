"""Volunteers' pages: ``/v/TOKEN`` lists the volunteer's own doors or calls for the action, in the
order of their printed sheet, each with a short form (answered, support 1–5, a new phone or e-mail
with the consent wording to read to the person, a note); a POST records one door or call through
``dbox action import-results``'s checks and writing (:func:`dbox.organizing.links.record`).

The link is the volunteer's key: unknown, expired or revoked links get no page; a volunteer can
record only the people of their own list. The pages are never framed nor cached."""

from __future__ import annotations

from html import escape

from dbox.normalize import format_phone
from dbox.organizing.links import NOT_ON_LIST, LinkRefused, Stop, Visit, open_link, record, volunteer_list
from dbox.serve.app import in_store
from dbox.serve.guard import CSRF_FIELD, client_of, guard_of, same_origin
from dbox.i18n import N_, _
from dbox.serve.pages import hidden, not_found, page, respond

OUTCOMES = {
    "walk": [("answered", N_("door opened")), ("not-home", N_("not home")), ("refused", N_("refused")),
             ("moved", N_("moved"))],
    "call": [("answered", N_("answered")), ("no-answer", N_("no answer")), ("voicemail", N_("voicemail")),
             ("wrong-number", N_("wrong number")), ("refused", N_("refused"))],
    "list": [("answered", N_("answered"))],
}
CONSENTS = (("sms", N_("Agrees to text messages")), ("email", N_("Agrees to e-mails")),
            ("phone", N_("Agrees to phone calls")))
VOLUNTEER_LIMIT = 120         # doors or calls recorded per link and per rate window (10 minutes)
FIELD_NAMES = ("outcome", "support", "wants_call", "phone", "email", "consent", "note")


def _open(store, token: str):
    visit = open_link(store, token)
    return visit, volunteer_list(store, visit)


def _stop_html(guard, token: str, visit: Visit, kind: str, stop: Stop, errors: dict[str, str], opened: bool) -> str:
    action = visit.action
    where = (f"{stop.house} {stop.street}".strip() if kind == "walk" else
             format_phone(stop.phone, "national") if stop.phone else "") or stop.address
    label = escape(stop.name) + (f" — {escape(where)}" if where else "")
    done = ""
    if stop.result:
        outcome = dict(OUTCOMES.get(kind, [])).get(stop.result["outcome"], stop.result["outcome"] or "")
        recorded = _("Recorded")
        done = f' <span class="done">✓ {escape(recorded)}: {escape(_(outcome))}'
        if stop.result["support"]:
            done += f" · {stop.result['support']}/5"
        done += "</span>"
    scope = f"/v/{token}"
    sid = f"c{stop.contact_id}"
    words = {"how": _("How did it go?"), "support": _("Support (1 opposed – 5 strong supporter)"),
             "call": _("Wants a call back"), "phone": _("New phone"), "email": _("New e-mail"),
             "read": _("Read this to the person before ticking:"), "note": _("Note"), "record": _("Record")}
    words = {k: escape(v) for k, v in words.items()}
    parts = [f'<li id="{sid}"><details{" open" if opened else ""}><summary>{label}{done}</summary>',
             f'<div class="stop"><form method="post" action="/v/{escape(token)}#{sid}" novalidate>',
             hidden(CSRF_FIELD, guard.token(scope)), hidden("contact", str(stop.contact_id))]
    if errors:
        parts.append('<div class="summary" role="alert"><ul>' + "".join(
            f"<li>{escape(message)}</li>" for message in errors.values()) + "</ul></div>")
    radios = "".join(f'<div class="check"><input type="radio" id="{sid}-o-{value}" name="outcome" value="{value}">'
                     f'<label for="{sid}-o-{value}">{escape(_(name))}</label></div>'
                     for value, name in OUTCOMES.get(kind, OUTCOMES["list"]))
    parts.append(f'<fieldset><legend>{words["how"]}</legend><div class="radios">{radios}</div></fieldset>')
    support = "".join(f'<div class="check"><input type="radio" id="{sid}-s-{n}" name="support" value="{n}">'
                      f'<label for="{sid}-s-{n}">{n}</label></div>' for n in range(1, 6))
    parts.append(f'<fieldset><legend>{words["support"]}</legend><div class="radios">{support}</div></fieldset>')
    parts.append(f'<div class="check"><input type="checkbox" id="{sid}-w" name="wants_call" value="oui">'
                 f'<label for="{sid}-w">{words["call"]}</label></div>')
    parts.append(f'<div class="field"><label for="{sid}-p">{words["phone"]}</label>'
                 f'<input type="tel" id="{sid}-p" name="phone" inputmode="tel" autocomplete="off" maxlength="40"></div>')
    parts.append(f'<div class="field"><label for="{sid}-e">{words["email"]}</label>'
                 f'<input type="email" id="{sid}-e" name="email" inputmode="email" autocomplete="off" '
                 f'maxlength="200"></div>')
    if action.consent_wording:
        parts.append(f'<p>{words["read"]}</p><p class="wording">{escape(action.consent_wording)}</p>')
        for channel, name in CONSENTS:
            parts.append(f'<div class="check"><input type="checkbox" id="{sid}-c-{channel}" name="consent" '
                         f'value="{channel}"><label for="{sid}-c-{channel}">{escape(_(name))}</label></div>')
    parts.append(f'<div class="field"><label for="{sid}-n">{words["note"]}</label>'
                 f'<textarea id="{sid}-n" name="note" rows="2" maxlength="1000"></textarea></div>')
    parts.append(f'<p><button type="submit">{words["record"]}</button></p></form></div></details></li>')
    return "".join(parts)


def render(guard, token: str, visit: Visit, listing, *, errors: dict[str, str] | None = None,
           failed: int | None = None, saved: int | None = None) -> str:
    action = visit.action
    private = _("Private page: do not share this link.")
    parts = [f"<h1>{escape(action.title)}</h1>", f"<p>{escape(action.when_text())}"
             + (f" — {escape(action.place)}" if action.place else "") + "</p>",
             f'<p class="req">{escape(private)}</p>']
    if saved:
        said = _("Recorded.")
        parts.append(f'<div class="notice" role="status"><p>{escape(said)}</p></div>')
    if errors and failed is None:
        parts.append('<div class="summary" role="alert"><ul>' + "".join(
            f"<li>{escape(_(m))}</li>" for m in errors.values()) + "</ul></div>")
    if action.script:
        parts.append(f"<details><summary>Script</summary><p>{escape(action.script)}</p></details>")
    heading = _("Your list")
    parts.append(f"<h2>{escape(heading)} ({len(listing.stops)})</h2>")
    if listing.problem:
        parts.append(f"<p>{escape(listing.problem)}</p>")
    elif not listing.stops:
        said = _("Nobody is on your list yet.")
        parts.append(f"<p>{escape(said)}</p>")
    else:
        parts.append('<ol class="stops">')
        for stop in listing.stops:
            parts.append(_stop_html(guard, token, visit, listing.kind, stop,
                                    errors if failed == stop.contact_id else {}, failed == stop.contact_id))
        parts.append("</ol>")
    return page(action.title, "".join(parts))


def _refused(reason: str):
    title = _("Your link has expired. Ask the team for a new one.") if reason == "expired" else \
        _("This link no longer works. Ask the team.")
    status = 404 if reason == "unknown" else 410
    return respond(page(title, f"<h1>{escape(title)}</h1>"), status, frame=False)


def _record(store, token: str, contact_id: int, values: dict):
    visit = open_link(store, token)
    problems, _ = record(store, visit, contact_id, values)
    return problems, visit, volunteer_list(store, visit)


async def volunteer_page(request):
    token = request.path_params["token"]
    guard = guard_of(request)
    try:
        visit, listing = await in_store(request, _open, token)
    except LinkRefused as exc:
        return _refused(exc.reason)
    if request.method == "GET":
        saved = request.query_params.get("saved")
        return respond(render(guard, token, visit, listing, saved=int(saved) if (saved or "").isdigit() else None),
                       frame=False)
    data = await request.form()
    scope = f"/v/{token}"
    if not guard.allow(client_of(request), scope, limit=VOLUNTEER_LIMIT):
        return respond(render(guard, token, visit, listing,
                              errors={"": N_("Too many attempts. Please try again later.")}), 429, frame=False)
    if not same_origin(request) or not guard.check_token(scope, str(data.get(CSRF_FIELD, ""))):
        return respond(render(guard, token, visit, listing, errors={"": N_(
            "This page has expired. Please check your answers and send the form again.")}), 403, frame=False)
    contact = str(data.get("contact", ""))
    if not contact.isdigit():
        return not_found()
    contact_id = int(contact)
    values = {name: ", ".join(str(v) for v in data.getlist(name)) for name in FIELD_NAMES}
    try:
        problems, visit, listing = await in_store(request, _record, token, contact_id, values)
    except LinkRefused as exc:
        return _refused(exc.reason)
    if problems:
        status = 403 if problems.get("") == NOT_ON_LIST else 422
        return respond(render(guard, token, visit, listing, errors=problems,
                              failed=contact_id if status == 422 else None), status, frame=False)
    from starlette.responses import RedirectResponse

    return RedirectResponse(f"/v/{token}?saved={contact_id}#c{contact_id}", status_code=303)


def register_routes(register) -> None:
    from starlette.routing import Route

    register(Route("/v/{token}", volunteer_page, methods=["GET", "POST"]))
