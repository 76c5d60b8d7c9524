"""Structured access logs: one JSON line per request on the ``dbox.serve`` logger.

What is logged: time, method, the route's *template* (``/u/{token}``, never the path: a token or
a volunteer's link would identify a person), status, duration in milliseconds. What is never
logged: client IP addresses (uvicorn's own access log is off and proxy headers are ignored), query
strings, headers, bodies, phone numbers, e-mail addresses.
"""

from __future__ import annotations

import json
import logging
import time

logger = logging.getLogger("dbox.serve")


def route_template(scope) -> str:
    """The path template of the route that answers ``scope``, or ``-`` when none does."""
    from starlette.routing import Match

    app = scope.get("app")
    router = getattr(app, "router", None)
    for route in getattr(router, "routes", ()):
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return getattr(route, "path", "-")
    return "-"


class AccessLog:
    """Pure ASGI middleware (no body buffering)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = [500]
        logged = [False]

        def log() -> None:
            if logged[0]:
                return
            logged[0] = True
            entry = {"event": "request", "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                     "method": scope.get("method"), "route": route_template(scope), "status": status[0],
                     "ms": round((time.perf_counter() - started) * 1000, 1)}
            logger.info(json.dumps(entry, separators=(",", ":")))

        async def send_status(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                # Written before the response's last bytes leave: whoever has the response finds
                # its line in the log (after the app returned, it could come a moment too late).
                log()
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            log()          # the app failed, or ended without a body
