"""Writing rows as a Rich table, CSV or JSON: streamed, so a 3-million-row export stays flat.

CSV cells that a spreadsheet would run as a formula (starting with ``=``, ``@``, tab or CR, or
with ``+`` or ``-`` followed by anything but a number) are prefixed with a quote character (OWASP's
advice for CSV injection); a number or a phone (``+33785812350``, ``-12``) is not a formula and is
written as it is. ``excel=True`` writes UTF-8 with a BOM and ``;`` separators, which French Excel
opens without a wizard. Phones (columns ``mobile``, ``fixed``) are written in ``phone_format``:
``national`` (``07 85 81 23 50``, the default with ``excel``) or ``e164`` (``+33785812350``).
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO
from dbox.console import out
from dbox.errors import InputError
from dbox.files import open_private
from dbox.i18n import N_, _
from dbox.normalize import PHONE_FORMATS, format_phone

FORMATS = ("table", "csv", "json")
# Headers of --excel exports, in the user's language (the contact columns; others stay as named).
EXCEL_HEADERS = (
    N_("id"), N_("civility"), N_("first_name"), N_("last_name"), N_("email"), N_("mobile"), N_("fixed"),
    N_("address"), N_("postal_code"), N_("commune"), N_("commune_insee"), N_("departement"), N_("canton"),
    N_("canton_code"), N_("circonscription"), N_("tags"), N_("consents"), N_("created_at"), N_("updated_at"),
)
# Headers of the tables dbox draws on screen (the English key stays in JSON and CSV): translated where
# the table is drawn, so every listing's columns are marked here, once.
TABLE_HEADERS = (
    N_("channel"), N_("title"), N_("plugin"), N_("configured"), N_("rate"), N_("quiet_hours"), N_("status"),
    N_("due_at"), N_("audience"), N_("planned"), N_("claimed"), N_("sent"), N_("delivered"), N_("failed"),
    N_("skipped"), N_("in_doubt"), N_("at"), N_("by"), N_("field"), N_("old"), N_("new"), N_("reason"),
    N_("rule"), N_("contact_id"), N_("last_exchange"), N_("user"), N_("host"), N_("role"), N_("command"),
    N_("count"), N_("detail"), N_("received_at"), N_("name"), N_("phone"), N_("campaign"), N_("action"),
    N_("kind"), N_("answer"), N_("body"), N_("network"), N_("relations"), N_("relation"), N_("account_id"),
    N_("handle"), N_("display_name"), N_("profile_url"), N_("linked_by"), N_("first_seen"), N_("people"),
    N_("contacts"), N_("audience_only"), N_("account"), N_("connected"), N_("token_until"),
    N_("renews_itself"), N_("followers_synced"), N_("text"), N_("post_or_error"), N_("profile"), N_("store"),
    N_("channels"), N_("active"), N_("bureau"), N_("order"), N_("first_names"), N_("number"), N_("street"),
    N_("complement"), N_("contact"), N_("member"), N_("slug"), N_("fields"), N_("submissions"),
    N_("emails_confirmed"), N_("date"), N_("type"), N_("capacity"), N_("invited"), N_("yes"), N_("no"),
    N_("maybe"), N_("came"), N_("volunteers"), N_("expression"), N_("description"), N_("tag"),
    N_("import"), N_("file"), N_("finished"), N_("rows"), N_("origin"), N_("segments"), N_("subject"),
    N_("to"), N_("followers"), N_("date"), N_("value"), N_("expanded"), N_("created_at"), N_("updated_at"),
    N_("what"), N_("cut-off"), N_("due"), N_("since"), N_("source"), N_("wording"), N_("oldest"), N_("newest"),
)
_FORMULA_START = ("=", "@", "\t", "\r")
_SIGNED_NUMBER = re.compile(r"[+-][0-9 .,]*")      # +33785812350, +33 7 85 81 23 50, -12,5
PHONE_COLUMNS = ("mobile", "fixed")


def starts_formula(text: str) -> bool:
    """Would a spreadsheet read this cell as a formula? ``=``, ``@``, tab or CR always; ``+`` and
    ``-`` unless a number follows (``-2+3+cmd|' /C calc'!A0`` is a formula, ``+33785812350`` is not)."""
    if text.startswith(_FORMULA_START):
        return True
    return text[:1] in ("+", "-") and not _SIGNED_NUMBER.fullmatch(text)


def excel_safe(value) -> str:
    """Neutralize a cell a spreadsheet would evaluate: ``=HYPERLINK(...)`` -> ``'=HYPERLINK(...)``."""
    if value is None:
        return ""
    text = str(value)
    if starts_formula(text):
        return "'" + text
    return text


def phone_style(phone_format: str | None, excel: bool) -> str:
    """``--phone-format``, checked; by default national for Excel, E.164 otherwise."""
    if phone_format is None:
        return "national" if excel else "e164"
    if phone_format not in PHONE_FORMATS:
        raise InputError(_("--phone-format {phone_format}: choose {items}").format(
                             phone_format=phone_format, items=' or '.join(PHONE_FORMATS)))
    return phone_format


def with_phone_format(rows: Iterable[Sequence], columns: Sequence[str], style: str) -> Iterable[Sequence]:
    """``rows`` with their phone columns written in ``style`` (a generator: exports stay streamed)."""
    indexes = [i for i, name in enumerate(columns) if name in PHONE_COLUMNS]
    if style == "e164" or not indexes:
        yield from rows
        return
    for row in rows:
        row = list(row)
        for i in indexes:
            row[i] = format_phone(row[i], style)
        yield row


@contextmanager
def _open_output(output: Path | None, *, bom: bool = False):
    if output is None:
        yield sys.stdout
        return

    encoding = "utf-8-sig" if bom else "utf-8"
    with open_private(output, "w", encoding=encoding, newline="") as fh:   # rows about people: 0600
        yield fh


def write_csv(rows: Iterable[Sequence], columns: Sequence[str], fh: IO[str], *, excel: bool = False) -> int:
    # CRLF (RFC 4180) in both modes: the csv module then quotes any cell holding a CR or LF, so a
    # stray CR cannot split a cell into a new row that starts with a formula.
    writer = csv.writer(fh, delimiter=";" if excel else ",", lineterminator="\r\n")
    # --excel is for people: its header is in their language; plain CSV keeps the stable English keys.
    writer.writerow([_(c) for c in columns] if excel else columns)
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


def header_shown(column: str) -> str:
    """A column's title on screen, in the user's language; ``due_at (Europe/Paris)`` keeps its zone."""
    base, sep, zone = column.partition(" (")
    return _(base) + (f" ({zone}" if sep else "")


def render_table(rows: Iterable[Sequence], columns: Sequence[str], *, title: str | None = None,
                 shown: Mapping[str, Callable] | None = None) -> int:
    """A Rich table for people: titles in their language; ``shown`` maps a column to how its stored
    codes are said (``{"status": labels.campaign_status}``)."""
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for column in columns:
        table.add_column(header_shown(column), overflow="fold")
    say = [(shown or {}).get(column.partition(" (")[0]) for column in columns]
    count = 0
    for row in rows:
        table.add_row(*("" if v is None else str(f(v) if f else v) for v, f in zip(row, say)))
        count += 1
    out.print(table)
    return count


def emit(rows: Iterable[Sequence], columns: Sequence[str], *, fmt: str = "table",
         output: Path | None = None, excel: bool = False, title: str | None = None,
         phone_format: str | None = None, shown: Mapping[str, Callable] | None = None) -> int:
    """Write ``rows`` in ``fmt`` to ``output`` (stdout when None); returns the row count. Phone
    columns follow ``phone_format`` (default: national with ``excel``, else E.164). ``shown``: how
    the table on screen says a column's stored codes (files keep them as stored)."""
    rows = with_phone_format(rows, columns, phone_style(phone_format, excel))
    if fmt not in FORMATS:
        raise InputError(_("unknown format {fmt!r}: choose one of {items}").format(
                             fmt=fmt, items=', '.join(FORMATS)))
    if fmt == "table" and output is None:
        return render_table(rows, columns, title=title, shown=shown)
    if fmt == "json":
        with _open_output(output) as fh:
            return write_json(rows, columns, fh)
    with _open_output(output, bom=excel) as fh:
        return write_csv(rows, columns, fh, excel=excel)
