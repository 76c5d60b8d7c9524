"""Running the app: under uvicorn in the foreground (``dbox serve``), or in a thread (tests).

uvicorn handles SIGINT and SIGTERM itself: it stops accepting, lets the requests in flight finish
(at most ``GRACE`` seconds) and returns, so a service manager's stop is clean. Its own access log
is off (it would log client IPs and paths); :mod:`dbox.serve.accesslog` logs instead.
"""

from __future__ import annotations

import logging
import signal
import socket
import sys
import threading
import time
from pathlib import Path

from dbox.serve.app import create_app

GRACE = 10          # seconds the requests in flight get on SIGTERM


def _config(app, host: str, port: int, **kwargs):
    import uvicorn

    return uvicorn.Config(app, host=host, port=port, access_log=False, proxy_headers=False,
                          server_header=False, lifespan="off", log_config=None,
                          timeout_graceful_shutdown=kwargs.pop("grace", GRACE), **kwargs)


def setup_logging(stream=None) -> None:
    """JSON access lines and uvicorn's start/stop lines on stderr (journald, docker logs)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    for name in ("dbox.serve", "uvicorn.error"):
        log = logging.getLogger(name)
        log.handlers[:] = [handler]
        log.setLevel(logging.INFO)
        log.propagate = False


def run(store_path: Path | str, *, host: str = "127.0.0.1", port: int = 8000, public_url: str | None = None) -> None:
    """Serve until SIGINT/SIGTERM."""
    import uvicorn

    setup_logging()
    server = uvicorn.Server(_config(create_app(store_path, public_url=public_url), host, port))
    # uvicorn catches SIGINT/SIGTERM while serving, shuts down, then raises the signal again for
    # the handlers that were there before: these make that a clean exit (status 0).
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _stopped)
    server.run()


def _stopped(signum, frame) -> None:
    raise SystemExit(0)


def _quick_stop_server(config):
    """A uvicorn server that a thread runs and the code that started it stops (a test, a
    rehearsal): uvicorn looks at ``should_exit`` every 0.1 s, this one every 10 ms, so ``stop()``
    returns at once. uvicorn's own tick (the date header, the request limit) still runs every 0.1 s."""
    import asyncio

    import uvicorn

    class QuickStop(uvicorn.Server):
        async def main_loop(self) -> None:
            counter = 0
            should_exit = await self.on_tick(counter)
            while not should_exit:
                for _ in range(10):
                    await asyncio.sleep(0.01)
                    if self.should_exit:
                        return
                counter = (counter + 1) % 864000
                should_exit = await self.on_tick(counter)

    return QuickStop(config)


class ServerThread:
    """The real server on ``host`` (127.0.0.1) and a free port, in a thread::

        with ServerThread(store_path) as server:
            requests.post(server.url + "/twilio/inbound", ...)

    ``public_url`` defaults to the server's own address (what Twilio would be told to call).
    Stopping returns as soon as uvicorn has closed its socket (no grace period)."""

    def __init__(self, store_path: Path | str, *, host: str = "127.0.0.1", public_url: str | None = None):
        import uvicorn

        if host not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError("a test server listens on this machine only")
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        self.app = create_app(store_path, public_url=public_url or self.url)
        self.server = _quick_stop_server(_config(self.app, host, self.port, grace=1))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       name="dbox-serve", daemon=True)

    def start(self) -> "ServerThread":
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("dbox serve did not start")
            time.sleep(0.002)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.server.force_exit = True
        self.thread.join(10)
        self.sock.close()

    def __enter__(self) -> "ServerThread":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
