"""One reader for every table a user uploads (pushed lists, lab results, risk areas, and the
line lists and scan batches to come): a CSV or XLSX file in, its header row and data rows out,
or one `TableError` naming the row and column of the problem.

    table = tables.open_table(data, upload.name, max_rows=5000)
    table.headers            # ["证件号码", "姓名", …] as written in the header row
    for number, cells in table.rows:   # spreadsheet row numbers; blank rows skipped
        ...

Everything that can go wrong with the file itself is found by `open_table`, before a caller
creates anything: iterating `rows` afterwards does not raise. Cells are None (empty), str,
float, int, bool, or datetime/date/time/timedelta (XLSX); CSV cells are str or None.

- CSV: UTF-8 with or without a BOM, GB18030 (GBK) without one, UTF-16 with a BOM (Excel's
  "Unicode text"); UTF-8 is tried first because GB18030 text is almost never valid UTF-8. The
  delimiter is the one of `,` tab `;` the first line holds most. Read twice, as a stream: once
  to check every record, once for the caller.
- XLSX: the first sheet, through python-calamine, after `lib.zipcheck` has inflated every part
  and refused what no spreadsheet holds (see there). Old .xls, .xlsb, ODS and password-protected
  workbooks are refused with a message saying what to save instead.

Limits (`Limits`) come from `settings.EPIGRID_TABLE_LIMITS`; a caller narrows them, never
widens them, by naming its own: `open_table(data, name, max_rows=5000, max_bytes=5 * MB)`.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, fields, replace

from django.utils.translation import gettext as _

from epigrid.lib.errors import DomainError
from epigrid.lib.zipcheck import ArchiveProblem, check_archive

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 64 * MB  # the file as uploaded
    max_unpacked: int = 256 * MB  # an XLSX's parts, inflated, together
    max_parts: int = 1000  # parts of an XLSX archive
    max_rows: int = 300_000  # the last spreadsheet row (CSV: records)
    max_columns: int = 200  # the last column
    max_cells: int = 8_000_000  # cells of a sheet, and rows × columns of the box around them
    max_line: int = 1 * MB  # characters of one CSV line

    def narrowed(self, **values: int) -> Limits:
        return replace(self, **{k: min(v, getattr(self, k)) for k, v in values.items()})


def limits(**narrower: int) -> Limits:
    """The limits in force (defaults, then settings), narrowed by the caller's own."""
    from django.conf import settings

    configured = getattr(settings, "EPIGRID_TABLE_LIMITS", {}) or {}
    known = {f.name for f in fields(Limits)}
    base = replace(Limits(), **{k: int(v) for k, v in configured.items() if k in known})
    return base.narrowed(**narrower)


def column_name(index: int) -> str:
    """The spreadsheet letters of a 0-based column: 0 → A, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class TableError(DomainError):
    """The file cannot be read as a table. `row` (spreadsheet row) and `column` (letters) say
    where, when the problem has a place; `message` includes them, `detail` does not."""

    def __init__(self, code: str, detail: str, *, row: int | None = None, column: str | None = None):
        self.detail = detail
        self.row = row
        self.column = column
        super().__init__(code, _placed(detail, row, column), "file")

    def as_dict(self) -> dict:
        """The API's error, with the place in `errors` in the shape every error list has
        (`apierrors.item`), when the problem has one."""
        out = super().as_dict()
        if self.row is not None or self.column:
            out["errors"] = [
                {
                    "field": self.field,
                    "row": self.row,
                    "column": self.column,
                    "code": self.code,
                    "message": self.detail,
                }
            ]
        return out


def _placed(detail: str, row: int | None, column: str | None) -> str:
    if row is not None and column:
        return _("Row %(row)s, column %(column)s: %(message)s") % {
            "row": row,
            "column": column,
            "message": detail,
        }
    if row is not None:
        return _("Row %(row)s: %(message)s") % {"row": row, "message": detail}
    if column:
        return _("Column %(column)s: %(message)s") % {"column": column, "message": detail}
    return detail


@dataclass
class Table:
    kind: str  # "csv" or "xlsx"
    header_row: int  # the spreadsheet row of the header: the first row that is not blank
    headers: list[str]  # its cells as text, trailing empty ones dropped
    rows: Iterator[tuple[int, tuple]]  # (spreadsheet row, cells) after the header, blank rows skipped
    size_hint: int  # rows in the file, at most


def _blank(values) -> bool:
    # a loop, not all() over a generator: called once a row, and a row's first cell decides
    for v in values:  # noqa: SIM110
        if v is not None and (not isinstance(v, str) or v.strip()):
            return False
    return True


_BINARY_MAGIC = (
    b"%PDF",
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"\x1f\x8b",
    b"7z\xbc\xaf",
    b"Rar!",
    b"\x7fELF",
    b"MZ",
    b"BZh",
    b"\xfd7zXZ",
)


def open_table(data: bytes, file_name: str = "", **narrower: int) -> Table:
    """The header row and an iterator over the data rows of a CSV or XLSX file; TableError
    for any file that cannot be read safely and whole. Keyword arguments narrow the limits."""
    chosen = limits(**narrower)
    return _open(data, file_name, chosen)


def _open(data: bytes, file_name: str, limits: Limits) -> Table:
    if not data:
        raise TableError("file_empty", _("The file is empty."))
    if len(data) > limits.max_bytes:
        raise TableError(
            "file_too_large",
            _("The file is larger than %(size)s MB; split it.") % {"size": _megabytes(limits.max_bytes)},
        )
    name = (file_name or "").lower()
    if data[:4] == b"PK\x03\x04":
        return _open_xlsx(data, limits)
    if data[:4] == b"\xd0\xcf\x11\xe0":  # OLE: an old .xls, or an encrypted workbook
        raise TableError(
            "xls_unsupported",
            _(
                "Old Excel (.xls) and password-protected workbooks are not read: "
                "save the file as .xlsx or CSV."
            ),
        )
    if name.endswith((".xlsx", ".xlsm")) or data[:2] == b"PK":
        raise TableError("file_unreadable", _("The file is not a readable .xlsx workbook."))
    if data.startswith(_BINARY_MAGIC) or not name.endswith((".csv", ".txt", ".tsv")) and name:
        raise TableError("file_type", _("Upload an .xlsx workbook or a .csv file."))
    return _open_csv(data, limits)


def _megabytes(size: int) -> str:
    return f"{size / MB:g}"


# --- XLSX -----------------------------------------------------------------------------------


def _archive_error(problem: ArchiveProblem, limits: Limits) -> TableError:
    n = problem.numbers
    code, message = {
        "damaged": ("file_unreadable", _("The file is not a readable .xlsx workbook.")),
        "not_a_workbook": ("file_type", _("The archive is no Excel workbook; upload an .xlsx or .csv file.")),
        "xlsb": ("file_type", _("Binary workbooks (.xlsb) are not read: save the file as .xlsx or CSV.")),
        "ods": ("file_type", _("OpenDocument sheets (.ods) are not read: save the file as .xlsx or CSV.")),
        "encrypted": ("file_unreadable", _("The workbook is encrypted; save it without a password.")),
        "declaration": ("file_unsafe", _("The workbook holds XML declarations no spreadsheet has.")),
        "inflates": ("file_unsafe", _("A part of the workbook unpacks to more than it declares.")),
        "unpacked": (
            "file_too_large",
            _("The workbook unpacks to more than %(size)s MB; split it.")
            % {"size": _megabytes(n.get("limit", limits.max_unpacked))},
        ),
        "parts": (
            "file_unsafe",
            _("The workbook has %(parts)s parts; a workbook of one sheet has a few dozen at most.")
            % {"parts": n.get("parts")},
        ),
        "rows": (
            "too_many_rows",
            _("The sheet reaches row %(row)s; the last row may be row %(limit)s: split the file.")
            % {"row": f"{n.get('row', 0):,}", "limit": f"{limits.max_rows:,}"},
        ),
        "columns": (
            "too_many_columns",
            _("The sheet reaches column %(column)s; a file holds at most %(limit)s columns.")
            % {"column": column_name(n.get("column", 1) - 1), "limit": limits.max_columns},
        ),
        "cells": (
            "too_many_cells",
            _("The sheet spans more than %(limit)s cells; split it.") % {"limit": f"{limits.max_cells:,}"},
        ),
    }[problem.code]
    return TableError(code, message)


def _open_xlsx(data: bytes, limits: Limits) -> Table:
    import python_calamine

    try:
        check_archive(
            data,
            max_unpacked=limits.max_unpacked,
            max_parts=limits.max_parts,
            max_rows=limits.max_rows,
            max_columns=limits.max_columns,
            max_cells=limits.max_cells,
        )
    except ArchiveProblem as problem:
        raise _archive_error(problem, limits) from None
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = workbook.get_sheet_by_index(0)
        start, end = sheet.start, sheet.end
        rows = sheet.iter_rows()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # calamine's errors, and a Rust panic (a BaseException)
        raise TableError("file_unreadable", _("The file is not a readable .xlsx workbook.")) from exc
    if end is not None and end[0] + 1 > limits.max_rows:
        raise _archive_error(ArchiveProblem("rows", row=end[0] + 1), limits)
    if end is not None and end[1] + 1 > limits.max_columns:
        raise _archive_error(ArchiveProblem("columns", column=end[1] + 1), limits)
    first_column = start[1] if start else 0
    pad = (None,) * first_column

    def numbered() -> Iterator[tuple[int, tuple]]:
        # calamine gives every row from the top of the sheet, but each from the first column
        # that holds a value: the columns left of it are put back as empty cells
        for number, values in enumerate(rows, start=1):
            cells = tuple([None if v == "" else v for v in values])
            if pad:
                cells = pad + cells
            yield number, cells

    return _table("xlsx", numbered(), size_hint=sheet.height)


def _table(kind: str, rows: Iterator[tuple[int, tuple]], size_hint: int) -> Table:
    for number, values in rows:
        if not _blank(values):
            headers = ["" if v is None else str(v).strip() for v in values]
            while headers and not headers[-1]:
                headers.pop()
            return Table(kind, number, headers, _without_blanks(rows), size_hint)
    raise TableError("no_header", _("The file has no header row: the first row must name the columns."))


def _without_blanks(rows: Iterator[tuple[int, tuple]]) -> Iterator[tuple[int, tuple]]:
    for number, values in rows:
        if not _blank(values):
            yield number, values


# --- CSV ------------------------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (b"\x84\x31\x95\x33", "gb18030"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _valid(data: bytes, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        for at in range(0, len(data), MB):
            decoder.decode(data[at : at + MB], final=at + MB >= len(data))
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(data: bytes) -> str:
    """The encoding of CSV text: a BOM's, else UTF-8 if the bytes are valid UTF-8, else
    GB18030 if they are valid GB18030. TableError for neither."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            if not _valid(data[len(bom) :], encoding if encoding != "utf-16" else _utf16(bom)):
                raise TableError("file_encoding", _("The text of the file is damaged."))
            return encoding
    for encoding in ("utf-8", "gb18030"):
        if _valid(data, encoding):
            return encoding
    raise TableError("file_encoding", _("The CSV file is neither UTF-8 nor GB18030 (GBK) text."))


def _utf16(bom: bytes) -> str:
    return "utf-16-le" if bom == codecs.BOM_UTF16_LE else "utf-16-be"


def _text_stream(data: bytes, encoding: str) -> io.TextIOWrapper:
    stream = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
    if encoding == "gb18030" and data.startswith(b"\x84\x31\x95\x33"):
        stream.read(1)  # GB18030's BOM decodes to U+FEFF
    return stream


def _lines(stream: io.TextIOWrapper, limits: Limits, counter: list[int]) -> Iterator[str]:
    while True:
        line = stream.readline(limits.max_line + 1)
        if not line:
            return
        if len(line) > limits.max_line:
            raise TableError(
                "line_too_long",
                _("A line holds more than %(n)s characters.") % {"n": f"{limits.max_line:,}"},
                row=counter[0] + 1,
            )
        yield line


def _records(data: bytes, encoding: str, delimiter: str, limits: Limits) -> Iterator[tuple[int, list]]:
    stream = _text_stream(data, encoding)
    counter = [0]  # the records read so far, for the place of an error
    reader = csv.reader(_lines(stream, limits, counter), delimiter=delimiter)
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            detail = (
                _("A cell is longer than any cell may be (an unclosed quote?).")
                if "field larger" in str(exc)
                else _("The CSV text is malformed (an unclosed quote?).")
            )
            raise TableError("csv_malformed", detail, row=counter[0] + 1) from exc
        counter[0] += 1
        yield counter[0], values


def _open_csv(data: bytes, limits: Limits) -> Table:
    encoding = detect_encoding(data)
    # a NUL is no character of text; in UTF-16 every other byte is one
    nul = -1 if encoding == "utf-16" else data.find(b"\x00")
    if nul >= 0:
        raise TableError(
            "file_binary",
            _("The file holds binary data, not CSV text."),
            row=data.count(b"\n", 0, nul) + 1,
        )
    head = _text_stream(data, encoding).readline(limits.max_line + 1)
    delimiter = max(",\t;", key=head.count) if any(d in head for d in ",\t;") else ","
    count = 0
    for number, values in _records(data, encoding, delimiter, limits):
        if number > limits.max_rows:
            raise TableError(
                "too_many_rows",
                _("The last row may be row %(limit)s: split the file.") % {"limit": f"{limits.max_rows:,}"},
                row=number,
            )
        if len(values) > limits.max_columns:
            raise TableError(
                "too_many_columns",
                _("A file holds at most %(limit)s columns.") % {"limit": limits.max_columns},
                row=number,
                column=column_name(limits.max_columns),
            )
        if encoding == "utf-16" and any("\x00" in v for v in values):
            raise TableError("file_binary", _("The file holds binary data, not CSV text."), row=number)
        count = number

    def rows() -> Iterator[tuple[int, tuple]]:
        for number, values in _records(data, encoding, delimiter, limits):
            yield number, tuple([v if v else None for v in values])

    return _table("csv", rows(), size_hint=count)
