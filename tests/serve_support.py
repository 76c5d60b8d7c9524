"""Helpers for tests of ``dbox serve``: the real server (uvicorn) on 127.0.0.1, a free port, in a
thread, stopped at once. Import the fixture into a test module::

    from serve_support import live_server  # noqa: F401  (a fixture)

    def test_x(live_server):
        server = live_server()                 # the store at $DBOX_DB; server.url
        requests.get(server.url + "/healthz")
"""

from __future__ import annotations

import os

import pytest

from dbox.serve.server import ServerThread


@pytest.fixture
def live_server(store):
    """A factory: ``live_server(public_url=None)`` starts a server over the test's store (the
    ``store`` fixture) and stops it when the test ends. ``public_url`` defaults to the server's
    own address."""
    started: list[ServerThread] = []

    def start(public_url: str | None = None) -> ServerThread:
        server = ServerThread(os.environ["DBOX_DB"], public_url=public_url).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
