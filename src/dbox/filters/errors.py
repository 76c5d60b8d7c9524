"""``FilterSyntaxError``: a filter expression is wrong at a given spot, and the message shows it.

The message names the column and, when a near miss exists, the likely intended word::

    unknown field "cantn" at column 1 — did you mean "canton"?
      cantn = "Grenoble-1"
      ^^^^^

An expression can come from three places, and the message says which: the text the user typed,
a shortcut flag (``--canton: unknown canton "Grenble-1" — did you mean "Grenoble-1"?``) or a
saved segment (``in saved segment "rural": ...``).
"""

from __future__ import annotations

from dataclasses import dataclass

from dbox.errors import InputError
from dbox.i18n import _

_WINDOW = 60  # characters shown either side of the error in a long expression


@dataclass(frozen=True)
class Source:
    """Where a piece of filter text came from."""

    text: str
    kind: str = "expression"     # expression | flag | segment
    name: str | None = None      # the flag ("--canton") or the saved segment's name

    @property
    def label(self) -> str | None:
        if self.kind == "flag":
            return self.name
        if self.kind == "segment":
            return f'in saved segment "{self.name}"'
        return None


class FilterSyntaxError(InputError):
    """A filter expression (or a value in it) is wrong at ``start``..``end`` of ``source.text``."""

    def __init__(self, message: str, source: Source | str, start: int, end: int | None = None, *,
                 suggestion: str | None = None, hint: str | None = None):
        if isinstance(source, str):
            source = Source(source)
        self.message = message
        self.source = source
        self.text = source.text
        self.start = max(0, min(start, len(source.text)))
        self.end = max(self.start + 1, end if end is not None else self.start + 1)
        self.suggestion = suggestion
        super().__init__(self._format(), hint=hint)

    @property
    def column(self) -> int:
        """1-based column of the error in its source text."""
        return self.start + 1

    def _format(self) -> str:
        near = _(' — did you mean "{close}"?').format(close=self.suggestion) if self.suggestion else ""
        if self.source.kind == "flag":
            return f"{self.source.label}: {self.message}{near}"
        prefix = f"{self.source.label}: " if self.source.label else ""
        where = _("{message} at column {column}").format(message=self.message, column=self.column)
        return f"{prefix}{where}{near}\n{self.caret_lines()}"

    def caret_lines(self) -> str:
        """The expression (or a window of it) and a line of carets under the error."""
        text = "".join(" " if ch in "\t\r\n\v\f" else ch for ch in self.text)
        # a long span (an expression too long from column 20,001 on) is shown by its start only
        start, end = self.start, min(self.end, max(len(text), self.start + 1), self.start + _WINDOW)
        left = max(0, start - _WINDOW)
        right = min(len(text), max(end, start + 1) + _WINDOW)
        shown = text[left:right]
        lead = ""
        if left > 0:
            shown, lead = "…" + shown, " "
        if right < len(text):
            shown += "…"
        width = max(1, min(end, right) - start)
        return f"  {shown}\n  {lead}{' ' * (start - left)}{'^' * width}"
