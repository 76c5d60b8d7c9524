"""Pieces shared by command modules: the store from the context, the options every command spells
the same way, confirmation, and the selection of contacts.

One option, one definition: a command that confirms takes ``yes: bool = YesOption``, a command that
lists takes ``fmt: str = FormatOption`` and ``output: Optional[Path] = OutputOption``; a command
that shows one record takes ``fmt: str = TextFormatOption``. A command that chooses contacts is
decorated with ``@selection_options``. The rules: docs/cli.md.
"""

from __future__ import annotations

from typing import Optional

import typer
from dbox.i18n import _

LIST_FORMATS = ("table", "csv", "json")
TEXT_FORMATS = ("text", "json")


def _format_check(choices: tuple[str, ...]):
    """A callback refusing an unknown --format before the command does any work."""

    def check(value: Optional[str]) -> Optional[str]:
        if value is not None and value not in choices:
            from dbox.errors import InputError

            raise InputError(_("unknown format {value!r}: choose one of {items}").format(
                                 value=value, items=', '.join(choices)))
        return value

    return check


YesOption = typer.Option(False, "--yes", "-y", help="Confirm without asking (scripts, cron).")
FormatOption = typer.Option("table", "--format", "-f", help="table, csv or json.",
                            callback=_format_check(LIST_FORMATS))
TextFormatOption = typer.Option("text", "--format", "-f", help="text or json.",
                                callback=_format_check(TEXT_FORMATS))
OutputOption = typer.Option(None, "--output", "-o", help="Write to this file instead of the terminal.")
ExcelOption = typer.Option(False, "--excel", help="CSV for French Excel: UTF-8 with BOM, ';' separators.")
PhoneFormatOption = typer.Option(None, "--phone-format", metavar="national|e164",
                                 help="Phones as 07 85 81 23 50 (national, the default with --excel) "
                                      "or +33785812350 (e164).")
ColumnsOption = typer.Option(None, "--columns", "-c",
                             help="Comma-separated columns (see `dbox contacts list --help`).")


def store_from(ctx: typer.Context):
    return ctx.obj.store()


def parse_columns(columns: Optional[str], default) -> list[str]:
    if not columns:
        return list(default)
    return [c.strip() for c in columns.split(",") if c.strip()]


def confirm_or_abort(question: str, yes: bool) -> None:
    """Ask before anything irreversible; ``--yes`` answers for scripts. With no terminal and no
    ``--yes``, refuse rather than hang or assume."""
    if yes:
        return
    from dbox.console import is_interactive
    from dbox.errors import DboxError

    if not is_interactive():
        raise DboxError(_("{question} Not confirmed: no terminal to ask on").format(question=question), hint=_("add --yes to confirm"))
    typer.confirm(question, abort=True)


def replace_parameter(func, name: str, injected: list, build):
    """Decorator plumbing: ``func``'s parameter ``name`` becomes the Typer parameters ``injected``
    (``inspect.Parameter`` objects); at call time ``build(kwargs)`` pops their values and returns
    the object passed as ``name``. Typer reads the new signature, so the options show in --help."""
    import functools
    import inspect

    try:
        signature = inspect.signature(func, eval_str=True)
    except NameError:
        signature = inspect.signature(func)
    if name not in signature.parameters:
        raise TypeError(f"{func.__name__} needs a {name!r} parameter")
    parameters = []
    for parameter in signature.parameters.values():
        parameters.extend(injected if parameter.name == name else [parameter])

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        kwargs[name] = build(kwargs)
        return func(*args, **kwargs)

    wrapper.__signature__ = signature.replace(parameters=parameters)
    annotations = {k: v for k, v in getattr(func, "__annotations__", {}).items() if k != name}
    annotations.update({p.name: p.annotation for p in injected})
    wrapper.__annotations__ = annotations
    return wrapper


def typer_parameter(name: str, annotation, default):
    """A parameter for ``replace_parameter``: ``default`` is a ``typer.Option`` or ``typer.Argument``."""
    import inspect

    return inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=annotation, default=default)


# -- choosing contacts: [EXPR], --segment and the shortcut flags ----------------------------------
# Shared by every command that selects contacts (segment, tag, send, consent, action invite and
# sheet, stats, report): decorate it with @selection_options and give it a parameter
# `selection: SelectionArgs`; then `selection.select(store)` is the dbox.segments.Selection.

FILTER_HELP = ("Filter expression, e.g. 'tag:militant and canton = \"Grenoble-1\" and reachable:sms' "
               "(reference: docs/filters.md).")
_SELECTION_OPTIONS = (
    # (parameter name, shortcut key or None, option names, help)
    ("sel_segment", None, ("--segment", "-s"), "A saved segment (see `dbox segment list`)."),
    ("sel_canton", "canton", ("--canton",), "Same as: canton = X (INSEE name or code)."),
    ("sel_commune", "commune", ("--commune",), "Same as: commune = X (INSEE name or code)."),
    ("sel_departement", "departement", ("--departement", "--dep"), "Same as: departement = N."),
    ("sel_circo", "circo", ("--circo",), "Same as: circonscription = X (38-01)."),
    ("sel_tag", "tag", ("--tag",), "Same as: tag:T."),
    ("sel_reachable", "reachable", ("--reachable",), "Same as: reachable:sms or reachable:email."),
)


# What users type after a flag (`--dry-run true`), read as EXPR since flags take no value.
_FLAG_VALUES = {"true", "false", "yes", "no", "on", "off", "oui", "non"}


class SelectionArgs:
    """What the selection options of a command received."""

    def __init__(self, expression: Optional[str], segment: Optional[str], shortcuts: dict[str, str]):
        self.expression = expression
        self.segment = segment
        self.shortcuts = shortcuts

    @property
    def given(self) -> bool:
        """Whether anything narrows the selection (else it is every contact)."""
        return bool((self.expression or "").strip() or (self.segment or "").strip() or self.shortcuts)

    def select(self, store):
        from dbox.segments import select

        return select(store, self.expression, segment=self.segment, shortcuts=self.shortcuts)

    def describe(self) -> str:
        """How the user named the selection, for messages ("segment rural", the expression...)."""
        parts = [f"segment {self.segment}"] if self.segment else []
        parts += [self.expression] if (self.expression or "").strip() else []
        parts += [f"{key} {value}" for key, value in self.shortcuts.items()]
        return " and ".join(parts) or "every contact"


def selection_options(func=None, *, expression: str = "argument"):
    """Decorator adding ``[EXPR]``, ``--segment`` and the shortcut flags (``--canton``, ``--commune``,
    ``--departement``, ``--circo``, ``--tag``, ``--reachable``) to a Typer command, in place of its
    ``selection`` parameter, which receives a :class:`SelectionArgs`.

    ``expression="--filter"`` takes the expression as that option instead of the positional EXPR,
    for commands whose argument is something else (``dbox consent grant CONTACT``)."""
    if func is None:
        return lambda f: selection_options(f, expression=expression)
    if expression == "argument":
        expression_default = typer.Argument(None, metavar="EXPR", show_default=False, help=FILTER_HELP)
    else:
        expression_default = typer.Option(None, expression, metavar="EXPR", show_default=False, help=FILTER_HELP)
    injected = [typer_parameter("sel_expression", Optional[str], expression_default)]
    for name, _unused, decls, help_text in _SELECTION_OPTIONS:
        option = typer.Option(None, *decls, help=help_text, show_default=False)
        injected.append(typer_parameter(name, Optional[str], option))

    def build(kwargs) -> SelectionArgs:
        text = kwargs.pop("sel_expression", None)
        if text is not None and text.strip().lower() in _FLAG_VALUES:
            from dbox.errors import InputError

            raise InputError(_("{text!r} is not a filter expression: flags take no value").format(text=text.strip()),
                             hint=_("write --dry-run, not --dry-run true"))
        segment = kwargs.pop("sel_segment", None)
        shortcuts = {}
        for name, key, _unused, _unused in _SELECTION_OPTIONS[1:]:
            value = kwargs.pop(name, None)
            if value is not None:
                shortcuts[key] = value
        return SelectionArgs(text, segment, shortcuts)

    return replace_parameter(func, "selection", injected, build)
