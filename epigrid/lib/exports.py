"""Every workbook and CSV file epigrid writes goes through here, so that every cell is text and
never a formula, whatever a pushed list, a grid worker's note or a lab put in it (OWASP: CSV
injection). `cell_text` is the one rule; `Workbook` and `write_csv` apply it to every cell.

The rule, for a value of any kind:
- text that begins with `=`, `+`, `-`, `@`, a tab, a carriage return or a line feed (or their
  full-width forms, which some spreadsheets read the same way), or that spells an error value
  (`#N/A`, `#REF!`, …), is written with a leading `'`: shown as the text it is, evaluated by no
  spreadsheet, now or after it is saved again as CSV;
- a number (and text that is nothing but a decimal number, such as `-3`, `-0.5` or `-1e+16`)
  is written as its digits without the quote: it cannot call anything, and "-3" stays
  readable as minus three, so a negative number is no exception to the safety of the rule
  (`-inf`, or `-2+3`, is no number: it gets the quote);
- characters XML 1.0 cannot hold (control characters but tab and line ends) are dropped, and a
  cell is cut at 32,767 characters, the most a spreadsheet cell holds.

In a workbook every cell is then an inline string (openpyxl writes text as `t="inlineStr"`,
and no text reaching it begins with `=` or spells an error value, the two it would take for
something else), and columns are formatted as text (`@`), so a value typed into the template
later stays text too.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal

DANGEROUS_FIRST = frozenset("=+-@\t\r\n＝＋－＠")
ERROR_VALUES = frozenset(
    {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA"}
)
MAX_CELL = 32_767
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_FIRST_LOOKED_AT = DANGEROUS_FIRST | {"#"}  # every error value begins with `#`
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def cell_text(value) -> str:
    """The text a cell is written with (see the module's rule)."""
    if value.__class__ is str:
        # the common case first: printable text that starts harmlessly is written as it is
        if not value or (value.isprintable() and value[0] not in _FIRST_LOOKED_AT and len(value) <= MAX_CELL):
            return value
        text = value
    elif value is None:
        return ""
    elif isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    elif isinstance(value, int | Decimal):
        text = str(value)
    elif isinstance(value, float):
        text = str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    elif isinstance(value, datetime | date | time):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    else:
        text = str(value)
    if not text.isprintable() and _ILLEGAL.search(text):
        text = _ILLEGAL.sub("", text)
    if len(text) > MAX_CELL:
        text = text[:MAX_CELL]
    if text and (text[0] in DANGEROUS_FIRST or text in ERROR_VALUES) and not _NUMBER.fullmatch(text):
        return "'" + text[: MAX_CELL - 1]
    return text


class Sheet:
    def __init__(self, sheet):
        self._sheet = sheet

    def append(self, values: Iterable) -> None:
        self._sheet.append([cell_text(v) for v in values])


class Workbook:
    """A workbook written row by row (openpyxl's write-only mode: a list of 100,000 rows never
    sits in memory), in which every cell is text."""

    def __init__(self):
        import openpyxl

        self._book = openpyxl.Workbook(write_only=True)

    def sheet(self, title: str, *, columns: int = 0, width: float | None = None) -> Sheet:
        """A new sheet; its first `columns` columns formatted as text, `width` characters wide."""
        from openpyxl.utils import get_column_letter

        sheet = self._book.create_sheet(title=str(title)[:31])
        for index in range(1, columns + 1):
            dimension = sheet.column_dimensions[get_column_letter(index)]
            dimension.number_format = "@"
            if width:
                dimension.width = width
        return Sheet(sheet)

    def save(self, fileobj) -> None:
        self._book.save(fileobj)


def write_csv(fileobj, rows: Iterable[Iterable]) -> None:
    """CSV in UTF-8 with a BOM (so Excel opens Chinese text as such), every cell by `cell_text`,
    written to a binary file."""
    fileobj.write(codecs.BOM_UTF8)
    text = io.TextIOWrapper(fileobj, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text)
    for row in rows:
        writer.writerow([cell_text(v) for v in row])
    text.detach()  # leave the caller's file open
