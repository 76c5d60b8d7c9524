"""Writing rows as a Rich table, CSV or JSON: streamed, so a 3-million-row export stays flat.

CSV cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab
or CR) are prefixed with a quote character (OWASP's advice for CSV injection). ``excel=True``
writes UTF-8 with a BOM and ``;`` separators, which French Excel opens without a wizard.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

FORMATS = ("table", "csv", "json")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def excel_safe(value) -> str:
    """Neutralize a cell a spreadsheet would evaluate: ``=HYPERLINK(...)`` -> ``'=HYPERLINK(...)``."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


@contextmanager
def _open_output(output: Path | None, *, bom: bool = False):
    if output is None:
        yield sys.stdout
        return
    from dbox.files import open_private

    encoding = "utf-8-sig" if bom else "utf-8"
    with open_private(output, "w", encoding=encoding, newline="") as fh:   # rows about people: 0600
        yield fh


def write_csv(rows: Iterable[Sequence], columns: Sequence[str], fh: IO[str], *, excel: bool = False) -> int:
    # CRLF (RFC 4180) in both modes: the csv module then quotes any cell holding a CR or LF, so a
    # stray CR cannot split a cell into a new row that starts with a formula.
    writer = csv.writer(fh, delimiter=";" if excel else ",", lineterminator="\r\n")
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow([excel_safe(v) for v in row])
        count += 1
    return count


def write_json(rows: Iterable[Sequence], columns: Sequence[str], fh: IO[str]) -> int:
    """A JSON array written one object at a time (never built whole in memory)."""
    count = 0
    fh.write("[")
    for row in rows:
        fh.write(",\n" if count else "\n")
        fh.write(json.dumps(dict(zip(columns, row)), ensure_ascii=False))
        count += 1
    fh.write("\n]\n" if count else "]\n")
    return count


def render_table(rows: Iterable[Sequence], columns: Sequence[str], *, title: str | None = None) -> int:
    from rich.table import Table

    from dbox.console import out

    table = Table(title=title, show_lines=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    count = 0
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
        count += 1
    out.print(table)
    return count


def emit(rows: Iterable[Sequence], columns: Sequence[str], *, fmt: str = "table",
         output: Path | None = None, excel: bool = False, title: str | None = None) -> int:
    """Write ``rows`` in ``fmt`` to ``output`` (stdout when None); returns the row count."""
    if fmt not in FORMATS:
        from dbox.errors import InputError

        raise InputError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if fmt == "table" and output is None:
        return render_table(rows, columns, title=title)
    if fmt == "json":
        with _open_output(output) as fh:
            return write_json(rows, columns, fh)
    with _open_output(output, bom=excel) as fh:
        return write_csv(rows, columns, fh, excel=excel)
