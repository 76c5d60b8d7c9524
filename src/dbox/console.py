"""Console helpers shared by the commands: stderr errors, masked identifiers, TTY detection."""

from __future__ import annotations

import sys

from rich.console import Console

from dbox.i18n import _

# A pipe or a file gets wide lines rather than tables folded at 80 columns.
out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def print_error(exc: Exception) -> None:
    from rich.markup import escape

    label, hint_label = _("Error:"), _("hint:")
    err.print(f"[bold red]{label}[/] {escape(str(exc))}")
    hint = getattr(exc, "hint", None)
    if hint:
        err.print(f"  {hint_label} {escape(hint)}")


def print_warning(text: str) -> None:
    from rich.markup import escape

    label = _("Warning:")
    err.print(f"[yellow]{label}[/] {escape(text)}")


def is_interactive() -> bool:
    """A person at a terminal (cron and pipes are not): prompts and progress bars only then."""
    return sys.stdin.isatty() and sys.stderr.isatty()
