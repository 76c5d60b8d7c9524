"""The ``dbox`` command: a root Typer app that mounts one small app per area.

This module only wires things: options shared by every command, the error path, and the areas.
The work lives in the library modules the commands call.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from typer.core import TyperGroup

from dbox.errors import DboxError


class _DboxGroup(TyperGroup):
    """Turns every ``DboxError`` raised below into one ``Error: ...`` line and its exit code, and
    gives every command's help the same shape (``tidy_help``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        tidy_help(self)

    def invoke(self, ctx: typer.Context):
        try:
            return super().invoke(ctx)
        except DboxError as exc:
            from dbox.console import print_error

            print_error(exc)
            raise typer.Exit(exc.exit_code) from None
        except Exception as exc:
            # SQLite failing at run time (disk full, read-only, locked): the store says what it
            # means, one line, exit 4. Anything else goes on up (typer's Exit and Abort included).
            if type(exc).__module__ != "sqlite3":
                raise
            from dbox.store.db import fault_of

            error = fault_of(exc)
            if error is None:
                raise
            from dbox.console import print_error

            print_error(error)
            raise typer.Exit(error.exit_code) from None


HELP_OPTIONS = ["-h", "--help"]


def reflow(text: Optional[str]) -> Optional[str]:
    """Join the lines of each paragraph, so the terminal wraps help text at its own width instead
    of at the source's line breaks. A paragraph starting with ``\\b`` (click's marker) or holding
    indented or bulleted lines is kept as written."""
    if not text:
        return text
    import inspect

    paragraphs = []
    for paragraph in inspect.cleandoc(text).split("\n\n"):
        lines = paragraph.splitlines()
        if paragraph.startswith("\b") or any(line.startswith((" ", "- ", "* ")) for line in lines):
            paragraphs.append(paragraph)
        else:
            paragraphs.append(" ".join(line.strip() for line in lines))
    return "\n\n".join(paragraphs)


def tidy_help(command) -> None:
    """One rule for every command's help, applied once to the whole tree: paragraphs reflowed
    (``reflow``), and no value placeholder after a flag (typer >= 0.2x shows ``--dry-run <bool>``,
    and users then type ``--dry-run true``, which reads ``true`` as the filter expression)."""
    command.help = reflow(command.help)
    command.short_help = reflow(command.short_help)
    params = list(command.params)
    if getattr(command, "_help_option", False) is None:   # typer's click caches its --help option: tidy it too
        params.append(command.get_help_option(typer.Context(command, help_option_names=HELP_OPTIONS)))
    for param in params:
        if param is None:
            continue
        if getattr(param, "help", None):
            param.help = reflow(param.help)
        if getattr(param, "is_flag", False) and not getattr(param, "count", False):
            param.metavar = ""
    for sub in (getattr(command, "commands", None) or {}).values():
        tidy_help(sub)


app = typer.Typer(
    cls=_DboxGroup,
    no_args_is_help=True,
    help="dbox: contacts, segments, SMS, e-mail and social posts for campaign teams.",
    context_settings={"help_option_names": HELP_OPTIONS},
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

            if self.db_option is None:
                # Neither --db nor DBOX_DB: say which file, or a fresh default store answering
                # "0 contacts" looks like lost data.
                import sys

                print(f"Store: {self.store_path} (the default; choose another with --db or DBOX_DB)", file=sys.stderr)
            self._store = open_store(self.store_path)
            from dbox.electoral.rolls import purge_due

            purge_due(self._store)   # retention: a roll goes once its election is over (docs/electoral.md)
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

    warnings.showwarning = _show_warning
    state = AppState(db)
    ctx.obj = state
    ctx.call_on_close(state.close)


def _show_warning(message, *args, **kwargs) -> None:
    """Python warnings print as dbox's own ``Warning: ...`` lines (rich loads only if one comes)."""
    from dbox.console import print_warning

    print_warning(str(message))


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
_OPTIONAL_AREAS = ("segments", "sending", "privacy", "social", "organizing", "insights", "electoral", "serve", "inbox")

_mount()


def main() -> None:
    app(prog_name="dbox")


if __name__ == "__main__":
    main()
    sys.exit(0)
