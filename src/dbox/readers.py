"""Reading contact files as rows of text: CSV/TSV in the encodings French offices produce, and .xlsx.

Every value is read as text (a postal code ``07340`` stays ``07340``). Rows are streamed: a reader
yields ``(row_number, cells)`` where row_number is the row a spreadsheet shows (the header is 1).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dbox.errors import InputError
from dbox.text import fold_key

SAMPLE_BYTES = 256 * 1024
DELIMITERS = (";", ",", "\t", "|")


@dataclass
class FileInfo:
    path: Path
    kind: str           # csv | xlsx
    encoding: str | None
    delimiter: str | None
    header: list[str]


def detect_encoding(sample: bytes, path: Path) -> str:
    """UTF-8 (with or without BOM) when the bytes are valid UTF-8, else the best single-byte guess.

    French Excel writes cp1252; charset-normalizer chooses among the encodings such files use.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        # A multi-byte character may be cut at the end of the sample: ignore the last 3 bytes.
        sample[:-3 if len(sample) == SAMPLE_BYTES else None].decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(sample, cp_isolation=["cp1252", "latin_1", "iso8859_15", "mac_roman", "cp850"]).best()
    if best is None:
        raise InputError(f"{path}: cannot tell the text encoding", hint="try: --encoding cp1252")
    return "cp1252" if best.encoding in ("latin_1", "iso8859_15") else best.encoding


def detect_delimiter(text_sample: str) -> str:
    lines = [line for line in text_sample.splitlines()[:50] if line.strip()]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines[:20]), delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        header = lines[0]
        return max(DELIMITERS, key=header.count)


def _dedupe_header(header: list[str], path: Path) -> list[str]:
    out, seen = [], {}
    for i, name in enumerate(header):
        name = (name or "").strip()
        if not name:
            name = f"column_{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name} ({seen[name]})"
        else:
            seen[name] = 1
        out.append(name)
    return out


class CsvReader:
    def __init__(self, path: Path, encoding: str | None = None, delimiter: str | None = None):
        self.path = path
        with path.open("rb") as fh:
            sample = fh.read(SAMPLE_BYTES)
        if not sample.strip():
            raise InputError(f"{path}: the file is empty")
        self.encoding = encoding or detect_encoding(sample, path)
        try:
            text_sample = sample.decode(self.encoding, errors="ignore")
        except LookupError:
            raise InputError(f"{path}: unknown encoding {self.encoding!r}") from None
        self.delimiter = delimiter or detect_delimiter(text_sample)
        # surrogateescape: a byte the encoding cannot decode is caught on its own row (see rows()),
        # not wherever the decoder's read-ahead happens to be.
        self._fh = path.open("r", encoding=self.encoding, errors="surrogateescape", newline="")
        self._reader = csv.reader(self._fh, delimiter=self.delimiter)
        try:
            header = next(self._reader)
        except (StopIteration, csv.Error) as exc:
            self._fh.close()
            raise InputError(f"{path}: cannot read the header row ({exc})") from None
        self.header = _dedupe_header(header, path)

    def info(self) -> FileInfo:
        return FileInfo(self.path, "csv", self.encoding, self.delimiter, self.header)

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        row_number = 1
        width = len(self.header)
        try:
            for cells in self._reader:
                row_number += 1
                try:
                    "".join(cells).encode("utf-8")
                except UnicodeEncodeError:
                    raise InputError(
                        f"{self.path}: row {row_number}: bytes that are not {self.encoding}",
                        hint="try: --encoding cp1252" if self.encoding.startswith("utf") else "try: --encoding utf-8",
                    ) from None
                if not any(c.strip() for c in cells):
                    continue
                if len(cells) < width:
                    cells = cells + [""] * (width - len(cells))
                elif len(cells) > width and any(c.strip() for c in cells[width:]):
                    # keep the row, its reason is given by the pipeline
                    yield row_number, cells
                    continue
                yield row_number, cells[:width]
        except csv.Error as exc:
            raise InputError(f"{self.path}: row {row_number + 1}: {exc}") from None
        finally:
            self._fh.close()

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
            raise InputError(f"{path}: not a readable .xlsx workbook ({exc})") from None
        try:
            self._ws = self._wb[sheet] if sheet else self._wb.worksheets[0]
        except KeyError:
            raise InputError(f"{path}: no sheet named {sheet!r} (sheets: {', '.join(self._wb.sheetnames)})") from None
        self._rows = self._ws.iter_rows(values_only=True)
        header = next(self._rows, None)
        if header is None:
            raise InputError(f"{path}: the sheet is empty")
        while header and header[-1] is None:
            header = header[:-1]
        self.header = _dedupe_header([_cell_text(v) for v in header], path)
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
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a file")
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic == b"PK\x03\x04":
        return XlsxReader(path, sheet)
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(f"{path}: old binary Excel (.xls) is not supported", hint="save it as .xlsx or CSV")
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
            raise InputError(f"{path}: columns {header[found[name][0]]!r} and {title!r} both give the {name}",
                             hint="keep one of them")
        found.setdefault(name, []).append(i)
    return found, ignored
