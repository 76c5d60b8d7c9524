"""``GET /healthz``: the process answers (for the reverse proxy and the service manager)."""

from __future__ import annotations


def register_routes(register) -> None:
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def healthz(request):
        return PlainTextResponse("ok", headers={"Cache-Control": "no-store"})

    register(Route("/healthz", healthz, methods=["GET", "HEAD"]))
