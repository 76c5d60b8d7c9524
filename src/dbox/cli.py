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

    def main(self, args=None, *rest, **kwargs):
        """Choose the language before anything is shown (``--lang``, config, locale: dbox.i18n),
        then say the whole command tree's help in it."""
        from dbox.commands.framework import translate_tree
        from dbox.i18n import choose_language, use

        args = list(sys.argv[1:] if args is None else args)
        use(choose_language(_lang_option(self, args)))
        translate_tree(self)
        return super().main(args, *rest, **kwargs)

    def make_context(self, *args, **kwargs):
        try:
            return super().make_context(*args, **kwargs)
        except (typer._click.exceptions.ClickException, typer.Abort) as exc:
            _translate(exc)
            raise

    def _path(self, ctx: typer.Context) -> str:
        """The command being run (``contacts list``), from the words after the root options."""
        words = [*getattr(ctx, "_protected_args", []), *ctx.args]
        path, group = [], self
        for word in words:
            command = group.commands.get(word) if hasattr(group, "commands") else None
            if command is None:
                break
            path.append(word)
            group = command
        return " ".join(path)

    def invoke(self, ctx: typer.Context):
        path = self._path(ctx)       # before click consumes the words
        try:
            return super().invoke(ctx)
        except (typer._click.exceptions.ClickException, typer.Abort) as exc:
            _translate(exc)
            raise
        except DboxError as exc:
            from dbox.console import print_error
            from dbox.errors import NotAllowedError

            if isinstance(exc, NotAllowedError):      # the server's refusal, said in dbox's words
                from dbox.privacy.team import refusal

                exc = refusal(getattr(ctx.obj, "_store", None), path, exc)
            print_error(exc)
            raise typer.Exit(exc.exit_code) from None
        except Exception as exc:
            # The engine failing at run time (disk full, read-only, locked, server gone): the store
            # says what it means, one line, exit 4. Anything else goes on up (typer's Exit and Abort included).
            if type(exc).__module__ not in ("sqlite3", "dbox.store.db"):
                raise
            from dbox.store.db import fault_of

            error = fault_of(exc)
            if error is None:
                raise
            from dbox.console import print_error

            print_error(error)
            raise typer.Exit(error.exit_code) from None


def _translate(exc) -> None:
    """Click's usage errors and Typer's "Aborted." in the user's language, before Typer prints them."""
    from dbox.commands.framework import translate_click_error, translate_typer_texts

    if isinstance(exc, typer._click.exceptions.ClickException):
        translate_click_error(exc)
    else:
        translate_typer_texts()


def _lang_option(root, args: list[str]):
    """The value of the root's ``--lang`` in ``args``, read before Click parses anything (the help
    text is built in the language). Only the root's options come before the command's name."""
    takes_value = {opt for param in root.params if not getattr(param, "is_flag", False)
                   for opt in getattr(param, "opts", ())}
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--lang" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
        if arg == "--" or not arg.startswith("-"):
            return None
        i += 2 if arg in takes_value else 1
    return None


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

    def __init__(self, db: Optional[str], profile: Optional[str] = None):
        # A file path, or a postgresql:// URL (kept as text: a Path would fold its "//").
        self.db_option = (db if db.startswith(("postgresql://", "postgres://")) else Path(db)) if db else None
        self.profile = profile
        self._store = None

    @property
    def store_path(self):
        """The store's file (a Path), or its PostgreSQL URL (text)."""
        if self.profile is not None:
            from dbox.profiles import store_location

            return store_location(self.profile)
        from dbox.paths import default_store_path

        return self.db_option or default_store_path()

    def store(self):
        if self._store is None:
            from dbox.store.db import open_store

            if self.db_option is None:
                # Neither --db nor DBOX_DB: say which file, or a fresh default store answering
                # "0 contacts" looks like lost data.
                import sys

                from dbox.i18n import _

                if self.profile is not None:
                    from dbox.profiles import mask_url

                    print(_("Store: {path} (profile {profile})").format(
                        path=mask_url(str(self.store_path)), profile=self.profile), file=sys.stderr)
                else:
                    print(_("Store: {path} (the default; choose another with --db or DBOX_DB)").format(
                        path=self.store_path), file=sys.stderr)
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
    db: Optional[str] = typer.Option(
        None, "--db", envvar="DBOX_DB",
        help="The contact store: a file (default: one in the user data dir) or postgresql://USER@HOST:PORT/DBNAME.",
        show_envvar=True,
    ),
    profile: Optional[str] = typer.Option(
        None, "--profile", envvar="DBOX_PROFILE", show_envvar=True,
        help="A client's profile (a profiles.NAME table of config.toml): its store, channels and settings "
             "(see: dbox profiles list).",
    ),
    lang: Optional[str] = typer.Option(
        None, "--lang", metavar="fr|en", show_default=False,
        help="Language of messages: fr or en (default: the lang setting of config.toml, else the locale).",
    ),
):
    """dbox: contacts, segments, SMS, e-mail and social posts for campaign teams."""
    if lang is not None:
        from dbox.i18n import language_of_locale

        if language_of_locale(lang) is None:
            from dbox.errors import InputError
            from dbox.i18n import _

            raise InputError(_("unknown language {lang!r}: choose fr or en").format(lang=lang))
    import warnings

    warnings.showwarning = _show_warning
    if profile:
        from dbox.config import forget_profile, use_profile

        use_profile(profile)      # every setting and keyring entry read below is this profile's
        ctx.call_on_close(forget_profile)
    if profile and db is not None:
        from dbox.errors import InputError
        from dbox.i18n import _

        source = "--db" if ctx.get_parameter_source("db").name == "COMMANDLINE" else "DBOX_DB"
        raise InputError(_("--profile {profile} names its own store; {source} chooses another").format(
                             profile=profile, source=source),
                         hint=_("drop {source}, or set db in [profiles.{profile}] of config.toml").format(
                             source=source, profile=profile))
    state = AppState(db, profile or None)
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
_OPTIONAL_AREAS = ("segments", "sending", "privacy", "social", "organizing", "insights", "electoral", "serve",
                  "profiles", "forms", "inbox", "storecopy", "team")

_mount()


def main() -> None:
    app(prog_name="dbox")


if __name__ == "__main__":
    main()
    sys.exit(0)
