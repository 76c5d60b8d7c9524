"""Message templates in a bounded Jinja2: what a template may do, and how long and how large its
rendering can get.

Jinja2's sandbox keeps a template from reaching Python's internals, but not from exhausting time
or memory (``{{ 'x' * 100000000 }}``, nested loops, a ``{% set %}`` doubling a string forty times)
or from failing with a bare Python exception. A message needs fields, filters and conditions, so
that is what is allowed:

- refused before anything is rendered, with the part and line: loops, ``{% set %}``/``{% with %}``,
  macros and ``{% call %}``, ``{% include %}``/``{% import %}``/``{% extends %}``, function and
  method calls (``range(...)``, ``first_name.upper()``: use filters), and filters outside
  ``ALLOWED_FILTERS``. Without loops, assignments or macros every expression runs at most once
  per message, so the work is bounded by the template's length;
- at rendering, no value may exceed ``MAX_CHARS`` characters: ``*`` and ``**`` on strings and
  numbers, ``%`` formatting and the filters that can grow a value (``replace``, ``join``,
  ``format``...) are checked *before* they build it, every other filter's result after;
- any exception while rendering becomes one ``InputError`` naming the part, the line and the
  contact (``RenderError``), raised while the audience is counted, before anything is sent.
"""

from __future__ import annotations

import re
import traceback

from dbox import placenames
from dbox.errors import InputError
from dbox.i18n import _, grouped

MAX_CHARS = 1_000_000          # any value while rendering, and each rendered part
MAX_EXPONENT = 64

ALLOWED_FILTERS = frozenset({
    "abs", "capitalize", "count", "d", "default", "e", "escape", "first", "float", "forceescape",
    "format", "int", "join", "last", "length", "lower", "replace", "reverse", "round", "safe",
    "string", "striptags", "title", "trim", "truncate", "upper", "urlencode", "wordcount", "wordwrap",
    "de", "a",     # French place names: {{ commune | de }} -> "du Bourg-d'Oisans" (dbox.placenames)
})

_REFUSED = {
    "For": "loops ({% for %})",
    "Assign": "assignments ({% set %})",
    "AssignBlock": "assignments ({% set %})",
    "With": "{% with %} blocks",
    "Macro": "macros",
    "CallBlock": "{% call %} blocks",
    "Include": "{% include %}",
    "Import": "{% import %}",
    "FromImport": "{% import %}",
    "Extends": "{% extends %}",
    "Block": "{% block %}",
    "Call": "function and method calls",
}
_NUMBER = re.compile(r"\d+")


class TooLarge(Exception):
    """A value would exceed MAX_CHARS."""


def check_template(part: str, ast) -> None:
    """Refuse what an unbounded or failing rendering needs (see the module's docstring)."""
    from jinja2 import nodes

    for node in ast.find_all(nodes.Node):
        what = _REFUSED.get(type(node).__name__)
        if what:
            hint = "use a filter: {{ first_name|upper }}" if what.startswith("function") else None
            raise InputError(_("{part}, line {lineno}: {what}: not allowed in a message template").format(
                                 part=part, lineno=node.lineno, what=what),
                             hint=hint)
        if isinstance(node, (nodes.Filter, nodes.FilterBlock)):
            name = node.name if isinstance(node, nodes.Filter) else node.filter.name
            if name not in ALLOWED_FILTERS:
                raise InputError(_("{part}, line {lineno}: filter {name!r} is not allowed in a message template").format(
                                     part=part, lineno=node.lineno, name=name),
                                 hint=_("filters: {items}").format(items=", ".join(sorted(ALLOWED_FILTERS))))


def _size(value) -> int:
    return len(value) if isinstance(value, (str, list, tuple, dict)) else 0


def _check_size(value, what: str):
    if _size(value) > MAX_CHARS:
        raise TooLarge(f"{what} would be longer than {MAX_CHARS:,} characters")
    return value


def _check_format_string(fmt, what: str) -> None:
    """A width or precision in a format string (``%0999999999d``, ``{:>999999999}``) builds a value
    that large: refuse any number in the format above the limit."""
    if isinstance(fmt, str) and any(len(n) > 7 or int(n) > MAX_CHARS for n in _NUMBER.findall(fmt)):
        raise TooLarge(f"{what}: a width or precision larger than {MAX_CHARS:,}")


def _check_ints(args, what: str) -> None:
    for arg in args:
        if isinstance(arg, int) and not isinstance(arg, bool) and abs(arg) > MAX_CHARS:
            raise TooLarge(f"{what}: the number {arg} is larger than {MAX_CHARS:,}")


def _context_types() -> tuple:
    from jinja2 import Environment
    from jinja2.nodes import EvalContext
    from jinja2.runtime import Context

    return (Environment, EvalContext, Context)


_CONTEXT_TYPES: tuple = ()


def _guard_filter(name: str, func):
    def guarded(*args, **kwargs):
        _check_ints([*args, *kwargs.values()], f"filter {name}")
        values = [a for a in args if not isinstance(a, _CONTEXT_TYPES)]      # pass_eval_context & co.
        if name == "replace" and len(values) >= 3 and isinstance(values[0], str):
            text, old, new = str(values[0]), str(values[1]), str(values[2])
            hits = text.count(old) if old else len(text) + 1
            _check_size_of(len(text) + hits * max(0, len(new) - len(old)), "filter replace")
        elif name == "join" and values:
            items = list(values[0])
            sep = values[1] if len(values) > 1 else kwargs.get("d", "")
            _check_size_of(sum(len(str(i)) for i in items) + len(str(sep)) * max(0, len(items) - 1), "filter join")
            args = tuple(items if a is values[0] else a for a in args)
        elif name == "format" and values:
            _check_format_string(values[0], "filter format")
        return _check_size(func(*args, **kwargs), f"filter {name}")

    for attribute in ("jinja_pass_arg",):      # pass_eval_context & co. must survive the wrapper
        if hasattr(func, attribute):
            setattr(guarded, attribute, getattr(func, attribute))
    guarded.__name__ = getattr(func, "__name__", name)
    return guarded


def _check_size_of(n: int, what: str) -> None:
    if n > MAX_CHARS:
        raise TooLarge(f"{what} would be longer than {MAX_CHARS:,} characters")


def make_environment(**options):
    """A sandboxed environment with no globals, the allowed filters (guarded) and guarded
    ``*``, ``**`` and ``%``."""
    from jinja2.sandbox import SandboxedEnvironment

    class BoundedEnvironment(SandboxedEnvironment):
        intercepted_binops = frozenset({"*", "**", "%"})

        def call_binop(self, context, operator, left, right):
            if operator == "*":
                for seq, times in ((left, right), (right, left)):
                    if isinstance(seq, (str, list, tuple)) and isinstance(times, int):
                        _check_size_of(len(seq) * max(times, 0), "'*'")
            elif operator == "**":
                if isinstance(right, (int, float)) and abs(right) > MAX_EXPONENT:
                    raise TooLarge(f"'**': an exponent larger than {MAX_EXPONENT}")
            elif operator == "%" and isinstance(left, str):
                _check_format_string(left, "'%'")
                _check_ints(right if isinstance(right, tuple) else (right,), "'%'")
            return _check_size(super().call_binop(context, operator, left, right), f"'{operator}'")

    global _CONTEXT_TYPES
    _CONTEXT_TYPES = _context_types()
    env = BoundedEnvironment(**options)
    env.filters.update(de=placenames.de, a=placenames.a)
    env.globals.clear()           # range, lipsum, cycler, joiner, namespace, dict: not for messages
    env.filters = {name: _guard_filter(name, f) for name, f in env.filters.items() if name in ALLOWED_FILTERS}
    env.tests = dict(env.tests)
    return env


def render(part: str, template, context: dict, contact_id: int) -> str:
    """Render one part for one contact; any failure is one InputError naming part, line, contact."""
    try:
        text = template.render(context)
    except TooLarge as exc:
        raise InputError(_("{part}, line {line}: template too large for contact {contact_id}: {exc}").format(
                             part=part, line=_line(exc), contact_id=contact_id, exc=exc),
                         hint=_("a message is a few thousand characters at most")) from None
    except RecursionError:
        raise InputError(_("{part}, line ?: template error for contact {contact_id}: too deeply nested").format(
                             part=part, contact_id=contact_id)) from None
    except Exception as exc:  # noqa: BLE001 - a template may fail in any way; it must not be a traceback
        from jinja2.exceptions import SecurityError

        if isinstance(exc, SecurityError):
            raise InputError(_("{part}, line {line}: template refused by the sandbox: {one_line}").format(
                                 part=part, line=_line(exc), one_line=_one_line(exc))) from None
        raise InputError(_("{part}, line {line}: template error for contact {contact_id}: {one_line}").format(
                             part=part, line=_line(exc), contact_id=contact_id, one_line=_one_line(exc))) from None
    if len(text) > MAX_CHARS:
        raise InputError(_("{part}: template too large for contact {contact_id}: longer than {MAX_CHARS} characters").format(
                             part=part, contact_id=contact_id, MAX_CHARS=grouped(MAX_CHARS)))
    return text


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:199] + "…"


def _line(exc: BaseException):
    """The template line Jinja2 put in the traceback (its frames are named <template>)."""
    line = "?"
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == "<template>":
            line = frame.lineno
    return line
