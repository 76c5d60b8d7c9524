"""``dbox serve``: the real server answers over HTTP, logs without personal data, stops cleanly."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time

import requests

from serve_support import live_server  # noqa: F401  (a fixture)


def test_the_server_answers_and_logs_route_templates_only(live_server, caplog):
    server = live_server()
    with caplog.at_level(logging.INFO, logger="dbox.serve"):
        assert requests.get(server.url + "/healthz", timeout=5).text == "ok"
        missing = requests.get(server.url + "/nothing/secret-token-of-someone", timeout=5)
        assert missing.status_code == 404
        # the server thread writes its line once the answer has gone: wait for it (bounded)
        deadline = time.monotonic() + 10
        while len([r for r in caplog.records if r.name == "dbox.serve"]) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "dbox.serve"]
    assert [(line["method"], line["route"], line["status"]) for line in lines] == [
        ("GET", "/healthz", 200), ("GET", "-", 404)]
    text = caplog.text
    assert "secret-token" not in text and "127.0.0.1" not in text


def test_two_routes_on_one_path_and_method_are_refused():
    from starlette.routing import Route

    from dbox.plugins import plugin_manager
    from dbox.serve.routes import collect

    class Plugin:
        @staticmethod
        def register_web_routes(register):
            register(Route("/healthz", lambda request: None, methods=["GET"]))

    from dbox.hookspecs import hookimpl

    Plugin.register_web_routes = hookimpl(Plugin.register_web_routes)
    pm = plugin_manager()
    pm.register(Plugin, name="test-routes")
    try:
        try:
            collect()
        except ValueError as exc:
            assert "GET /healthz" in str(exc)
        else:
            raise AssertionError("a second GET /healthz was accepted")
    finally:
        pm.unregister(name="test-routes")


def test_a_plugin_route_is_served(live_server):
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from dbox.hookspecs import hookimpl
    from dbox.plugins import plugin_manager

    class Plugin:
        @staticmethod
        @hookimpl
        def register_web_routes(register):
            register(Route("/hello", lambda request: PlainTextResponse("bonjour")))

    pm = plugin_manager()
    pm.register(Plugin, name="test-hello")
    try:
        server = live_server()
    finally:
        pm.unregister(name="test-hello")
    assert requests.get(server.url + "/hello", timeout=5).text == "bonjour"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_dbox_serve_stops_cleanly_on_sigterm(store, tmp_path):
    port = _free_port()
    env = dict(os.environ, DBOX_PUBLIC_URL="https://dbox.example.fr")
    proc = subprocess.Popen([sys.executable, "-m", "dbox", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stderr:                 # uvicorn says when it listens
            if "Uvicorn running" in line:
                break
        assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).text == "ok"
        proc.send_signal(signal.SIGTERM)
        rest = proc.communicate(timeout=20)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    access = [json.loads(line) for line in rest.splitlines() if line.startswith("{")]
    assert access == [] or all("route" in entry for entry in access)
    assert "Shutting down" in rest or "Finished server process" in rest
