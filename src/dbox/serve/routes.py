"""How a module contributes routes to ``dbox serve``.

A route module defines ``register_routes(register)`` and calls ``register(route)`` with a
Starlette ``Route`` (or ``Mount``) for each path it answers, exactly as a third-party package does
through the ``register_web_routes`` hook of :mod:`dbox.hookspecs`. Built-in modules are listed in
:data:`BUILTIN` (one line each: add yours there); Starlette is imported by the route modules, which
are only imported when the app is built, so ``dbox --help`` and the other registries stay light.

A route path is logged as its template (``/u/{token}``), never as the requested path, so path
parameters (tokens) never reach the access log.
"""

from __future__ import annotations

import importlib

from dbox.plugins import hook

BUILTIN = (
    "dbox.serve.health",
    "dbox.serve.unsubscribe",
    "dbox.serve.twilio",
    "dbox.serve.forms",
    "dbox.serve.events",
    "dbox.serve.volunteers",
)


def collect() -> list:
    """Every route: the built-in modules' in :data:`BUILTIN` order, then the plugins'."""
    found: list = []
    for name in BUILTIN:
        importlib.import_module(name).register_routes(found.append)
    hook().register_web_routes(register=found.append)
    paths: dict[tuple, str] = {}
    for route in found:
        for method in sorted(getattr(route, "methods", None) or {"*"}):
            key = (route.path, method)
            if key in paths:
                raise ValueError(f"two routes answer {method} {route.path}")
            paths[key] = route.path
    return found
