"""The ``dbox`` command: a root Typer app that mounts one small app per area.

This module only wires things: options shared by every command, the error path, and the areas.
The work lives in the library modules the commands call.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Optional

import click
import typer
from typer.core import TyperGroup

from dbox.errors import DboxError


class _DboxGroup(TyperGroup):
    """Turns every ``DboxError`` raised below into one ``Error: ...`` line and its exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except DboxError as exc:
            from dbox.console import print_error

            print_error(exc)
            raise typer.Exit(exc.exit_code) from None
        except sqlite3.OperationalError as exc:   # disk full, read-only, locked: one line, exit 4
            from dbox.console import print_error
            from dbox.store.db import store_fault

            print_error(store_fault(exc))
            raise typer.Exit(4) from None


app = typer.Typer(
    cls=_DboxGroup,
    no_args_is_help=True,
    help="dbox: contacts, segments, SMS, e-mail and social posts for campaign teams.",
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    add_completion=False,
)


class AppState:
    """What the root options set, handed to every command through ``ctx.obj``."""

    def __init__(self, db: Optional[Path]):
        self.db_option = db
        self._store = None

    @property
    def store_path(self) -> Path:
        from dbox.paths import default_store_path

        return self.db_option or default_store_path()

    def store(self):
        if self._store is None:
            from dbox.store.db import open_store

            self._store = open_store(self.store_path)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


@app.callback()
def root(
    ctx: typer.Context,
    db: Optional[Path] = typer.Option(
        None, "--db", envvar="DBOX_DB", help="The contact store (default: a file in the user data dir).",
        show_envvar=True,
    ),
):
    """dbox: contacts, segments, SMS, e-mail and social posts for campaign teams."""
    import warnings

    from dbox.console import print_warning

    warnings.showwarning = lambda message, *args, **kwargs: print_warning(str(message))
    state = AppState(db)
    ctx.obj = state
    ctx.call_on_close(state.close)


def _mount() -> None:
    from dbox.commands import contacts, importing, store

    store.register(app)
    importing.register(app)
    app.add_typer(contacts.app, name="contacts", help="List, show and count contacts.")
    # Areas added by later work register themselves here, one line each.
    for module_name in _OPTIONAL_AREAS:
        try:
            module = __import__(f"dbox.commands.{module_name}", fromlist=["register"])
        except ModuleNotFoundError as exc:
            if exc.name != f"dbox.commands.{module_name}":
                raise
            continue
        module.register(app)


# Command areas that live in their own modules; each module exposes ``register(app)``.
_OPTIONAL_AREAS = ("segments", "sending", "privacy", "social", "organizing", "insights")

_mount()


def main() -> None:
    app(prog_name="dbox")


if __name__ == "__main__":
    main()
    sys.exit(0)
