"""A tiny hosted endpoint for one-click unsubscribes (RFC 8058), as a WSGI app.

The contact store stays on the campaign's own computer; this app runs on a small public server
behind HTTPS and only *queues* what it receives. ``dbox optouts import QUEUE`` then reads the
queue file (copied back, or on a shared folder) and withdraws e-mail consent for each valid token.

- ``POST /u/<token>`` (or ``/u?token=<token>``) with ``List-Unsubscribe=One-Click`` (what mail
  clients send) or from the confirmation page: appends ``received_at,token`` to the queue file
  and answers 200. Set the e-mail channel's ``unsubscribe_url`` to ``https://HOST/u/{token}``.
- ``GET /u/<token>``: a page with a confirmation button. A GET never unsubscribes (mail
  scanners fetch links).
- ``GET /healthz``: ``ok``.

The app has no key: it checks a token's syntax only and stores no IP address, no user agent; the
built-in server below logs no request line (it would hold the IP and the token). Under gunicorn,
leave its access log off (the default) and keep the reverse proxy's logs free of the path.
Run it with any WSGI server, e.g.::

    gunicorn 'dbox.privacy.unsubscribe_app:app_from_env()'   # DBOX_UNSUBSCRIBE_QUEUE=/srv/desabo.csv
    python -m dbox.privacy.unsubscribe_app --queue /srv/desabo.csv --port 8025   # wsgiref, behind a proxy
"""

from __future__ import annotations

import csv
import fcntl
import html
import io
import os
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qs, quote

from dbox.privacy.unsubscribe import well_formed
from dbox.i18n import _
from dbox.files import open_private

QUEUE_HEADER = ("received_at", "token")
MAX_BODY = 4096
_PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title}</title></head><body style="font-family: sans-serif; max-width: 32em; margin: 3em auto">
<h1>{title}</h1>{body}</body></html>
"""


def append_token(queue: Path, token: str, received_at: str | None = None) -> None:
    """Append one line to the queue, creating it (0600, with its header) if needed. Concurrent
    workers are serialized with an exclusive lock on the file."""
    received_at = received_at or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    with open_private(queue, "a", encoding="utf-8", newline="") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            writer = csv.writer(fh, lineterminator="\n")
            if os.fstat(fh.fileno()).st_size == 0:
                writer.writerow(QUEUE_HEADER)
            writer.writerow((received_at, token))
            fh.flush()
            os.fsync(fh.fileno())
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def page(title: str, body: str) -> bytes:
    """The HTML of one of the unsubscribe pages (shared with ``dbox serve``'s ``/u/...``)."""
    return _PAGE.format(title=html.escape(title), body=body).encode("utf-8")


def confirm_form(token: str, sender: str = "") -> str:
    """The confirmation button a GET shows (a GET never unsubscribes: mail scanners fetch links)."""
    who = f" de {html.escape(sender)}" if sender else ""
    return (f'<p>Ne plus recevoir les e-mails{who} ?</p><form method="post" action="/u/{quote(token)}">'
            f'<input type="hidden" name="List-Unsubscribe" value="One-Click">'
            f'<button type="submit">Me désinscrire</button></form>')


PAGE_HEADERS = (("Cache-Control", "no-store"), ("X-Robots-Tag", "noindex"))
INVALID = ("Lien inconnu", "<p>Ce lien de désinscription n'est pas valide.</p>")
INCOMPLETE = ("Requête incomplète", "<p>Il manque <code>List-Unsubscribe=One-Click</code>.</p>")


def done(sender: str = "") -> tuple[str, str]:
    who = f" de {html.escape(sender)}" if sender else ""
    return "Désinscription enregistrée", f"<p>Vous ne recevrez plus d'e-mails{who}.</p>"


def make_app(queue: Path | str, *, sender: str = ""):
    """The WSGI application writing to ``queue``; ``sender`` names who sends the e-mails."""
    queue = Path(queue)

    def respond(start_response, status: str, title: str, body: str, extra=()):
        payload = page(title, body)
        start_response(status, [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(payload))),
                                *PAGE_HEADERS, *extra])
        return [payload]

    def app(environ, start_response):
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "")
        if path == "/healthz" and method in ("GET", "HEAD"):
            start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
            return [b"ok"]
        token = path[3:] if path.startswith("/u/") else ""
        if path == "/u":
            token = (parse_qs(environ.get("QUERY_STRING", "")).get("token") or [""])[0]
        if not well_formed(token):
            return respond(start_response, "404 Not Found", *INVALID)
        if method == "GET" or method == "HEAD":
            return respond(start_response, "200 OK", "Désinscription", confirm_form(token, sender))
        if method != "POST":
            return respond(start_response, "405 Method Not Allowed", "Méthode non permise", "",
                           extra=[("Allow", "GET, POST")])
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY:
            return respond(start_response, "413 Payload Too Large", "Requête trop longue", "")
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        fields = parse_qs(body.decode("utf-8", "replace"))
        if fields.get("List-Unsubscribe") != ["One-Click"]:
            return respond(start_response, "400 Bad Request", *INCOMPLETE)
        try:
            append_token(queue, token)
        except OSError:
            return respond(start_response, "503 Service Unavailable", "Réessayez plus tard",
                           "<p>La désinscription n'a pas pu être enregistrée. Réessayez dans un instant.</p>")
        return respond(start_response, "200 OK", *done(sender))

    return app


def app_from_env():
    """For WSGI servers: the queue from ``DBOX_UNSUBSCRIBE_QUEUE``, the sender from ``DBOX_UNSUBSCRIBE_SENDER``."""
    queue = os.environ.get("DBOX_UNSUBSCRIBE_QUEUE")
    if not queue:
        raise SystemExit("set DBOX_UNSUBSCRIBE_QUEUE to the queue file")
    return make_app(queue, sender=os.environ.get("DBOX_UNSUBSCRIBE_SENDER", ""))


def read_queue(text: str) -> list[tuple[str, str]]:
    """(received_at, token) rows of a queue file's text (used by tests and tools)."""
    rows = list(csv.reader(io.StringIO(text)))
    return [tuple(r) for r in rows[1:] if len(r) == 2]


def _quiet_handler():
    """wsgiref's handler logs every request as ``IP - - [date] "POST /u/<token>"``: both identify
    the person. This one logs only failures of the server itself, with neither."""
    from wsgiref.simple_server import WSGIRequestHandler

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, code="-", size="-"):
            pass

        def log_message(self, format, *args):   # noqa: A002 - the base class's signature
            pass

    return QuietHandler


def main(argv: list[str] | None = None) -> None:
    import argparse
    from wsgiref.simple_server import make_server

    parser = argparse.ArgumentParser(description="dbox one-click unsubscribe endpoint (put it behind HTTPS).")
    parser.add_argument("--queue", required=True, help="file the tokens are appended to")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025, help="0 picks a free port")
    parser.add_argument("--sender", default="", help="who sends the e-mails (shown on the pages)")
    args = parser.parse_args(argv)
    with make_server(args.host, args.port, make_app(args.queue, sender=args.sender),
                     handler_class=_quiet_handler()) as server:
        print(_("listening on http://{host}:{server_port}/u/<token>, queue: {queue}").format(
                  host=args.host, server_port=server.server_port, queue=args.queue), flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main()
