"""Pieces shared by command modules: the store from the context, output options, confirmation."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

FormatOption = typer.Option("table", "--format", "-f", help="table, csv or json.")
OutputOption = typer.Option(None, "--output", "-o", help="Write to this file instead of the terminal.")
ExcelOption = typer.Option(False, "--excel", help="CSV for French Excel: UTF-8 with BOM, ';' separators.")
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
        raise DboxError(f"{question} Not confirmed: no terminal to ask on", hint="add --yes to confirm")
    typer.confirm(question, abort=True)



# -- choosing contacts: [EXPR], --segment and the shortcut flags ----------------------------------
# Shared by `dbox segment`, `dbox tag add|remove`, exports and `dbox send`: decorate a command with
# @selection_options and give it a parameter `selection: SelectionArgs`; then
# `selection.select(store)` is the dbox.segments.Selection (where, params, expression).

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


def selection_options(func):
    """Decorator adding ``[EXPR]``, ``--segment`` and the shortcut flags (``--canton``, ``--commune``,
    ``--departement``, ``--circo``, ``--tag``, ``--reachable``) to a Typer command, in place of its
    ``selection`` parameter, which receives a :class:`SelectionArgs`."""
    import functools
    import inspect

    try:
        signature = inspect.signature(func, eval_str=True)
    except NameError:
        signature = inspect.signature(func)
    if "selection" not in signature.parameters:
        raise TypeError(f"{func.__name__} needs a 'selection' parameter to use @selection_options")
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    injected = [inspect.Parameter(
        "sel_expression", kind, annotation=Optional[str],
        default=typer.Argument(None, metavar="EXPR", show_default=False, help=FILTER_HELP))]
    for name, _, decls, help_text in _SELECTION_OPTIONS:
        injected.append(inspect.Parameter(name, kind, annotation=Optional[str],
                                          default=typer.Option(None, *decls, help=help_text, show_default=False)))
    parameters = []
    for parameter in signature.parameters.values():
        parameters.extend(injected if parameter.name == "selection" else [parameter])

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        expression = kwargs.pop("sel_expression", None)
        segment = kwargs.pop("sel_segment", None)
        shortcuts = {}
        for name, key, _, _ in _SELECTION_OPTIONS[1:]:
            value = kwargs.pop(name, None)
            if value is not None:
                shortcuts[key] = value
        kwargs["selection"] = SelectionArgs(expression, segment, shortcuts)
        return func(*args, **kwargs)

    wrapper.__signature__ = signature.replace(parameters=parameters)
    annotations = {k: v for k, v in getattr(func, "__annotations__", {}).items() if k != "selection"}
    annotations.update({p.name: p.annotation for p in injected})
    wrapper.__annotations__ = annotations
    return wrapper
