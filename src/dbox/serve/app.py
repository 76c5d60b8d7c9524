"""The Starlette application of ``dbox serve`` and how a route reaches the store.

Why Starlette under uvicorn: a small, well-kept ASGI toolkit with explicit routes, form parsing
and test-free real HTTP (uvicorn is already installed with Datasette, which ``dbox browse`` runs);
no ORM, no global state, no template engine it imposes. The store stays synchronous: a route hands
its work to :func:`in_store`, which runs it in a worker thread with a store opened for that request
alone (a connection per request: SQLite's WAL lets the server write while a ``dbox send`` runs).

A route module (:mod:`dbox.serve.routes`) writes::

    async def inbound(request):
        form = await request.form()
        result = await in_store(request, take_reply, dict(form))   # take_reply(store, fields)
        ...
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from dbox.serve.accesslog import AccessLog
from dbox.serve.routes import collect
from dbox.store.db import open_store


@dataclass
class ServeContext:
    """What every request of one server shares (``request.app.state.dbox``)."""

    store_path: Path | str            # a SQLite file or a postgresql:// URL (dbox.store.db.open_store)
    public_url: str | None = None       # https://dbox.example.fr, as the public reaches it
    extra: dict[str, Any] = field(default_factory=dict)   # route modules keep their own state here


def create_app(store_path: Path | str, *, public_url: str | None = None):
    """The ASGI application serving the store at ``store_path``."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware

    app = Starlette(routes=collect(), middleware=[Middleware(AccessLog)])
    app.state.dbox = ServeContext(store_path, public_url.rstrip("/") if public_url else None)
    return app


def context(request) -> ServeContext:
    return request.app.state.dbox


@contextmanager
def request_store(request):
    """A store opened for this request only (never created: a missing store is a server fault)."""
    store = open_store(context(request).store_path, create=False)
    try:
        yield store
    finally:
        store.close()


async def in_store(request, work: Callable, *args, **kwargs):
    """``work(store, *args, **kwargs)`` in a worker thread, with a store opened for it."""
    from starlette.concurrency import run_in_threadpool

    def call():
        with request_store(request) as store:
            return work(store, *args, **kwargs)

    return await run_in_threadpool(call)


def public_url_for(request) -> str:
    """The URL the public used for this request: ``public_url`` + path + query (what Twilio signs),
    or the request's own URL when no public URL is set."""
    base = context(request).public_url
    if not base:
        return str(request.url)
    query = request.url.query
    return base + request.url.path + (f"?{query}" if query else "")


async def small_body(request, limit: int) -> bytes | None:
    """The request's body, or None past ``limit`` bytes (read no further: an over-long body costs
    no memory). The webhooks and the one-click unsubscribe read their bodies through it."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
