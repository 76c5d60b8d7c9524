"""``dbox serve``: the web process (docs/serve.md). The work lives in :mod:`dbox.serve`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (keep 127.0.0.1 behind a reverse proxy)."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="Port to listen on."),
):
    """Run the web process: Twilio webhooks, one-click unsubscribes, sign-up and volunteers' pages.

    Meant to sit behind a reverse proxy that terminates HTTPS (docs/serve.md). The public address
    comes from DBOX_PUBLIC_URL or public_url in the [serve] table of the config. Stops cleanly on
    SIGTERM or Ctrl-C. Logs one JSON line per request, with no personal data and no client IP.
    """
    from dbox.config import public_url
    from dbox.console import print_warning
    from dbox.i18n import _
    from dbox.serve.server import run

    url = public_url()
    state = ctx.obj
    state.store()                    # opens (and migrates) it now: a bad store fails here, not per request
    state.close()
    if not url:
        print_warning(_("no public_url: Twilio's webhooks will be checked against the address requests arrive at; "
                        "set DBOX_PUBLIC_URL or public_url in the [serve] table (docs/serve.md)"))
    typer.echo(_("dbox serve: listening on http://{host}:{port} (store: {store})").format(
        host=host, port=port, store=state.store_path), err=True)
    run(state.store_path, host=host, port=port, public_url=url)
