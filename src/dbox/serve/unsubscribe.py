"""One-click unsubscribes (RFC 8058) served by ``dbox serve``: ``/u/{token}`` and ``/u?token=``.

Same rules as the queueing endpoint of :mod:`dbox.privacy.unsubscribe_app` (its pages are shared),
except that here the store is at hand, so a valid ``POST`` withdraws e-mail consent and suppresses
the address at once (:func:`dbox.privacy.optouts.unsubscribe_one_click`, the rule ``dbox optouts
import`` applies to a queued token) instead of queueing it:

- ``GET``/``HEAD``: a confirmation button; a GET never unsubscribes (mail scanners fetch links);
- ``POST`` with ``List-Unsubscribe=One-Click`` (what mail clients send, and the button): applied,
  200; without it, 400 and nothing changes;
- a token that is not well formed, forged, or whose contact was erased: 404, nothing changes.

Nothing about the request is stored; the access log shows the route template ``/u/{token}`` only.
"""

from __future__ import annotations

from dbox.privacy import unsubscribe_app as pages
from dbox.privacy.optouts import unsubscribe_one_click
from dbox.privacy.unsubscribe import well_formed
from dbox.serve.app import context, in_store, small_body
from dbox.config import section

MAX_BODY = pages.MAX_BODY


def _sender(request) -> str:
    """The name the pages give the sender: the e-mail channel's ``from_name`` (read once)."""
    extra = context(request).extra
    if "unsubscribe.sender" not in extra:
        extra["unsubscribe.sender"] = str(section("channels.email").get("from_name") or "")
    return extra["unsubscribe.sender"]


def _page(status: int, title: str, body: str, **headers):
    from starlette.responses import HTMLResponse

    return HTMLResponse(pages.page(title, body), status_code=status, headers={**dict(pages.PAGE_HEADERS), **headers})


async def unsubscribe(request):
    token = request.path_params.get("token")
    if token is None:
        token = request.query_params.get("token", "")
    if not well_formed(token):
        return _page(404, *pages.INVALID)
    sender = _sender(request)
    if request.method in ("GET", "HEAD"):
        return _page(200, "Désinscription", pages.confirm_form(token, sender))
    body = await small_body(request, MAX_BODY)
    if body is None:
        return _page(413, "Requête trop longue", "")
    from urllib.parse import parse_qs

    if parse_qs(body.decode("utf-8", "replace")).get("List-Unsubscribe") != ["One-Click"]:
        return _page(400, *pages.INCOMPLETE)
    if not await in_store(request, unsubscribe_one_click, token):
        return _page(404, *pages.INVALID)
    return _page(200, *pages.done(sender))


def register_routes(register) -> None:
    from starlette.routing import Route

    register(Route("/u/{token}", unsubscribe, methods=["GET", "HEAD", "POST"]))
    register(Route("/u", unsubscribe, methods=["GET", "HEAD", "POST"]))
