"""Reading contact files as rows of text: CSV/TSV in the encodings French offices produce, and .xlsx.

Every value is read as text (a postal code ``07340`` stays ``07340``). Rows are streamed: a reader
yields ``(row_number, cells)`` where row_number is the row a spreadsheet shows (the header is 1).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from dbox.errors import InputError
from dbox.text import fold, fold_key
from dbox.i18n import _, grouped

SAMPLE_BYTES = 256 * 1024
DELIMITERS = (";", ",", "\t", "|")
# The longest line (and, through csv's own limit, the longest field) dbox reads. A line is read
# at most this many characters at a time, so a 50 MB field costs no more memory than a short one.
MAX_FIELD_CHARS = 131_072
# The encodings French offices produce. Any other code page is used only when --encoding says so.
SINGLE_BYTE = "cp1252"
_UNDEFINED_CP1252 = frozenset(b"\x81\x8d\x8f\x90\x9d")
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


@dataclass
class FileInfo:
    path: Path
    kind: str           # csv | xlsx
    encoding: str | None
    delimiter: str | None
    header: list[str]


def detect_encoding(sample: bytes, path: Path) -> str:
    """UTF-8 (with or without BOM) when the bytes are UTF-8, else cp1252 — never another code page.

    French files are UTF-8 or cp1252 (Latin-1 and Latin-9 text reads the same in cp1252 but for
    ``€``/``¤``; ``--encoding iso8859-15`` says which). A sample where some lines are UTF-8 and
    others are not is a UTF-8 file with damaged rows: it is read as UTF-8 and the first such row
    is named (see ``CsvReader.rows``). A byte cp1252 does not define (0x81, 0x8D, 0x8F, 0x90, 0x9D)
    is named with its row too, instead of guessing cp850 or mac_roman from it.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    # A multi-byte character may be cut at the end of the sample: ignore the last 3 bytes.
    body = sample[:-3] if len(sample) == SAMPLE_BYTES else sample
    try:
        body.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    utf8_lines = bad_lines = 0
    for line in body.splitlines():
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8_lines += _UTF8_MULTIBYTE.search(line) is not None
        except UnicodeDecodeError:
            bad_lines += 1
    if utf8_lines and bad_lines <= utf8_lines * 4:
        return "utf-8"
    return SINGLE_BYTE


def _rows_widths(text_sample: str, delimiter: str, truncated: bool) -> list[int]:
    rows = []
    reader = csv.reader(io.StringIO(text_sample), delimiter=delimiter)
    try:
        rows.extend(islice(reader, 21))
    except csv.Error:        # a field over the limit: judge on the rows before it
        truncated = False
    if truncated and len(rows) > 1:
        rows = rows[:-1]   # the sample may end inside a row
    return [len(r) for r in rows[:20] if any(c.strip() for c in r)]


def detect_delimiter(text_sample: str, truncated: bool = False) -> str:
    """The separator that splits the header into the most columns and the rows like the header.

    Each candidate is tried with a real CSV parse, so a separator inside a quoted cell (a
    formula such as ``=HYPERLINK("a","b")``) is not counted: ``csv.Sniffer`` counted it.
    """
    best, best_score = ",", None
    for delimiter in DELIMITERS:
        widths = _rows_widths(text_sample, delimiter, truncated)
        if not widths or widths[0] < 2:
            continue
        alike = sum(w == widths[0] for w in widths) / len(widths)
        score = (alike >= 0.8, widths[0], alike)
        if best_score is None or score > best_score:
            best, best_score = delimiter, score
    return best


def _dedupe_header(header: list[str], path: Path, warnings: list[str] | None = None) -> list[str]:
    """Blank names become ``column_N``; a name seen before gets `` (2)`` and a warning naming both
    columns (the pipeline makes it an error under ``--strict``)."""
    out, seen, first_at = [], {}, {}
    for i, name in enumerate(header):
        name = (name or "").strip()
        if not name:
            name = f"column_{i + 1}"
        if name in seen:
            seen[name] += 1
            if warnings is not None:
                warnings.append(f"{path.name}: columns {first_at[name] + 1} and {i + 1} are both named {name!r}; "
                                f"the second is read as '{name} ({seen[name]})'")
            name = f"{name} ({seen[name]})"
        else:
            seen[name] = 1
            first_at[name] = i
        out.append(name)
    return out


def _bounded_lines(fh, path: Path, limit: int = MAX_FIELD_CHARS) -> Iterator[str]:
    """The file's lines, each read at most ``limit + 1`` characters at a time: a line longer than
    the limit is refused before the rest of it is read."""
    line_number = 0
    while True:
        line = fh.readline(limit + 1)
        if not line:
            return
        line_number += 1
        if len(line) > limit and not line.endswith(("\n", "\r")):
            raise InputError(_("{path}: line {line_number}: longer than {limit} characters").format(
                                 path=path, line_number=line_number, limit=grouped(limit)),
                             hint=_("a field this long is not contact data; check the separator and the quotes"))
        yield line


class CsvReader:
    """``encoding`` may name a fallback for rows that are not in the first encoding:
    ``utf-8,cp1252`` reads a UTF-8 file with a few cp1252 rows, and lists those rows."""

    def __init__(self, path: Path, encoding: str | None = None, delimiter: str | None = None):
        self.path = path
        self.warnings: list[str] = []
        self.fallback_rows: list[int] = []
        with path.open("rb") as fh:
            sample = fh.read(SAMPLE_BYTES)
        if not sample.strip():
            raise InputError(_("{path}: the file is empty").format(path=path))
        self.encoding, _unused, fallback = (encoding or detect_encoding(sample, path)).partition(",")
        self.encoding = self.encoding.strip()
        self.fallback = fallback.strip() or None
        for name in filter(None, (self.encoding, self.fallback)):
            try:
                codecs.lookup(name)
            except LookupError:
                raise InputError(_("{path}: unknown encoding {name!r}").format(path=path, name=name)) from None
        text_sample = sample.decode(self.encoding, errors="ignore")
        self.delimiter = delimiter or detect_delimiter(text_sample, truncated=len(sample) == SAMPLE_BYTES)
        # surrogateescape: a byte the encoding cannot decode is caught on its own row (see rows()),
        # not wherever the decoder's read-ahead happens to be.
        self._fh = path.open("r", encoding=self.encoding, errors="surrogateescape", newline="")
        self._reader = csv.reader(_bounded_lines(self._fh, path), delimiter=self.delimiter)
        try:
            header = next(self._reader)
        except (StopIteration, csv.Error) as exc:
            self._fh.close()
            raise InputError(_("{path}: cannot read the header row ({exc})").format(path=path, exc=exc)) from None
        except InputError:
            self._fh.close()
            raise
        header = self._decoded(1, header)
        self.header = _dedupe_header(header, path, self.warnings)

    def info(self) -> FileInfo:
        return FileInfo(self.path, "csv", self.encoding + (f",{self.fallback}" if self.fallback else ""),
                        self.delimiter, self.header)

    def _decoded(self, row_number: int, cells: list[str]) -> list[str]:
        """The cells, checked: a byte the encoding cannot read is an error naming the row, or the
        row is read in the fallback encoding (and listed) when one was given."""
        try:
            "".join(cells).encode("utf-8")
            return cells
        except UnicodeEncodeError:
            pass
        if self.fallback:
            try:
                cells = [c.encode(self.encoding, "surrogateescape").decode(self.fallback) for c in cells]
                self.fallback_rows.append(row_number)
                return cells
            except UnicodeError:
                pass
        byte = next(ord(ch) - 0xDC00 for c in cells for ch in c if 0xDC80 <= ord(ch) <= 0xDCFF)
        if self.encoding.startswith("utf") and not self.fallback:
            raise InputError(
                _("{path}: row {row_number}: bytes that are not {encoding} (0x{byte:02X})").format(
                    path=self.path, row_number=row_number, encoding=self.encoding, byte=byte),
                hint=_("if the other rows read well, --encoding {encoding},cp1252 reads only the rows that are not {encoding} as cp1252 (the report lists them); else fix row {row_number}").format(
                         encoding=self.encoding, row_number=row_number))
        encodings = self.encoding + (f" nor {self.fallback}" if self.fallback else "")
        raise InputError(
            _("{path}: row {row_number}: byte 0x{byte:02X} is not {encodings}").format(
                path=self.path, row_number=row_number, byte=byte, encodings=encodings),
            hint=_("if the whole file is in another code page, name it (--encoding cp850 for DOS, mac_roman); else fix row {row_number}").format(
                     row_number=row_number))

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        row_number = 1
        width = len(self.header)
        open_at_end = None   # a row whose last cell ends with a line break: a quote left open?
        try:
            for cells in self._reader:
                row_number += 1
                open_at_end = None
                # The row's text once: checked for bytes the encoding could not read, line
                # breaks and emptiness in three C calls (cell by cell only when it has to).
                joined = "".join(cells)
                if not joined.isascii():
                    cells = self._decoded(row_number, cells)
                    joined = "".join(cells)
                if "\n" in joined or "\r" in joined:
                    for i, cell in enumerate(cells):
                        if "\n" in cell or "\r" in cell:
                            self._check_quote(row_number, i, cell, width)
                            if cell.endswith(("\n", "\r")):
                                open_at_end = (row_number, i, cell)
                if not joined.strip():
                    continue
                if len(cells) < width:
                    cells = cells + [""] * (width - len(cells))
                elif len(cells) > width and any(c.strip() for c in cells[width:]):
                    # keep the row, its reason is given by the pipeline
                    yield row_number, cells
                    continue
                yield row_number, cells[:width]
            if open_at_end:
                self._unclosed(*open_at_end)
        except csv.Error as exc:
            raise InputError(_("{path}: row {value}: {exc}").format(path=self.path, value=row_number + 1, exc=exc)) from None
        finally:
            self._fh.close()

    def _check_quote(self, row_number: int, column: int, cell: str, width: int) -> None:
        """A quoted cell may hold line breaks (an address on two lines), but not lines that look
        like rows of the file: that is a quote opened and never closed, swallowing the rows."""
        need = max(1, width - 1)
        if any(line.count(self.delimiter) >= need for line in cell.splitlines()[1:]):
            self._unclosed(row_number, column, cell)

    def _unclosed(self, row_number: int, column: int, cell: str) -> None:
        name = self.header[column] if column < len(self.header) else f"column {column + 1}"
        lines = len(cell.splitlines())
        raise InputError(
            _("{path}: row {row_number}: a quote opened in column {name!r} is not closed: it would take in the {value} line{value2} after it as one value").format(
                path=self.path, row_number=row_number, name=name, value=lines - 1, value2='s' if lines > 2 else ''),
            hint=_('close or remove the quote (") on row {row_number}').format(row_number=row_number))

    def close(self) -> None:
        self._fh.close()


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


class XlsxReader:
    def __init__(self, path: Path, sheet: str | None = None):
        import zipfile

        from openpyxl import load_workbook

        self.path = path
        self._fh = path.open("rb")  # a file object: openpyxl would judge a path by its suffix
        try:
            self._wb = load_workbook(self._fh, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
            self._fh.close()
            raise InputError(_("{path}: not a readable .xlsx workbook ({exc})").format(path=path, exc=exc)) from None
        try:
            self._ws = self._wb[sheet] if sheet else self._wb.worksheets[0]
        except KeyError:
            raise InputError(_("{path}: no sheet named {sheet!r} (sheets: {items})").format(
                                 path=path, sheet=sheet, items=', '.join(self._wb.sheetnames))) from None
        self._rows = self._ws.iter_rows(values_only=True)
        header = next(self._rows, None)
        if header is None:
            raise InputError(_("{path}: the sheet is empty").format(path=path))
        while header and header[-1] is None:
            header = header[:-1]
        self.warnings: list[str] = []
        self.fallback_rows: list[int] = []
        self.header = _dedupe_header([_cell_text(v) for v in header], path, self.warnings)
        self.encoding = None
        self.delimiter = None

    def info(self) -> FileInfo:
        return FileInfo(self.path, "xlsx", None, None, self.header)

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        width = len(self.header)
        try:
            for row_number, values in enumerate(self._rows, start=2):
                cells = [_cell_text(v) for v in values]
                if not any(c.strip() for c in cells):
                    continue
                if len(cells) < width:
                    cells += [""] * (width - len(cells))
                elif not any(c.strip() for c in cells[width:]):
                    cells = cells[:width]
                yield row_number, cells
        finally:
            self.close()

    def close(self) -> None:
        self._wb.close()
        self._fh.close()


def open_reader(path: Path, *, encoding: str | None = None, delimiter: str | None = None,
                sheet: str | None = None):
    """A reader for ``path`` chosen by content (a zip with a workbook is .xlsx), not by name."""
    if not path.exists():
        raise InputError(_("{path}: no such file").format(path=path))
    if path.is_dir():
        raise InputError(_("{path}: is a folder, not a file").format(path=path))
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic == b"PK\x03\x04":
        return XlsxReader(path, sheet)
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(_("{path}: old binary Excel (.xls) is not supported").format(path=path), hint=_("save it as .xlsx or CSV"))
    return CsvReader(path, encoding, delimiter)


def map_header(header: list[str], columns: dict[str, tuple[str, ...]], path: Path, *,
               repeatable: tuple[str, ...] = ()) -> tuple[dict[str, list[int]], list[str]]:
    """Which columns give which field: field -> column indexes, and the columns nobody reads.

    ``columns`` maps a field to the titles it answers to, compared folded without spaces or
    punctuation ("N° fiche" is "n fiche" is "nfiche"). Two columns for one field is an error, except
    for the ``repeatable`` fields (several e-mail or phone columns)."""
    keys = {fold_key(alias): name for name, aliases in columns.items() for alias in aliases}
    found: dict[str, list[int]] = {}
    ignored = []
    for i, title in enumerate(header):
        name = keys.get(fold_key(title))
        if name is None:
            ignored.append(title)
            continue
        if name in found and name not in repeatable:
            raise InputError(_("{path}: columns {header!r} and {title!r} both give the {name}").format(
                                 path=path, header=header[found[name][0]], title=title, name=name),
                             hint=_("keep one of them"))
        found.setdefault(name, []).append(i)
    return found, ignored


# -- --map: the user's own column mapping ---------------------------------------------------------

def parse_map(specs: Iterable[str], known: Callable[[str], bool], *, fields_hint: str,
              example: str | None = None) -> dict[str, str]:
    """``--map "Header=field"`` options -> folded header -> field: the one reading of ``--map``
    (contact imports and electoral files). The header is what stands before the last ``=``, compared
    folded like the aliases (:func:`dbox.text.fold`); ``known(field)`` says whether the field exists."""
    overrides = {}
    for spec in specs:
        header, sep, target = spec.rpartition("=")
        header, target = header.strip(), target.strip()
        if not sep or not header or not target:
            raise InputError(_("--map {spec!r}: expected HEADER=FIELD").format(spec=spec),
                             hint=f'--map "{example}"' if example else None)
        if not known(target):
            raise InputError(_("--map {spec!r}: unknown field {target!r}").format(spec=spec, target=target),
                             hint=fields_hint)
        overrides[fold(header)] = target
    return overrides


def folded_header(header: list[str], overrides: dict[str, str]) -> list[str]:
    """The header folded as ``--map`` and the aliases compare it; an error when ``--map`` names a
    column the file does not have (a typo would otherwise map nothing, silently)."""
    folded = [fold(h) for h in header]
    unknown = set(overrides) - set(folded)
    if unknown:
        raise InputError(_("--map names no column of the file: {items}").format(items=", ".join(sorted(unknown))),
                         hint=_("columns: {items}").format(items=", ".join(header)))
    return folded


def map_fields(header: list[str], aliases: dict[str, list[str]], specs: list[str] | None = None,
               *, what: str) -> dict[str, int]:
    """field -> column index for a file of a known kind (``what``: "an electoral roll"), from the
    fields' folded aliases and ``--map`` options; ``=ignore`` skips a column; the first column
    that gives a field wins. (``dbox import`` maps contacts with dbox.importing.mapping, which
    also keeps unknown columns as custom fields; fixed-format sheets use :func:`map_header`.)"""
    overrides = parse_map(specs or [], lambda f: f == "ignore" or f in aliases,
                          fields_hint=f"fields of {what}: " + ", ".join(aliases) + ", ignore")
    table = {fold(alias): name for name, names in aliases.items() for alias in names}
    found: dict[str, int] = {}
    for i, key in enumerate(folded_header(header, overrides)):
        target = overrides.get(key) or table.get(key)
        if target and target != "ignore" and target not in found:
            found[target] = i
    return found
