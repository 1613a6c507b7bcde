"""Reading a lab's results file (CSV or XLSX) into checked rows: plain functions, no ORM.

One row per barcode and test. Columns (English or the Chinese headers labs use; order free):

| column | required | values |
|---|---|---|
| barcode / 条码 | yes | a specimen's or a pool's barcode |
| test / 检测项目 | yes | nucleic_acid (核酸), serology_igm (IgM), serology_igg (IgG) |
| result / 结果 | yes | negative (阴性, neg, -), positive (阳性, pos, +) |
| tested_at / 检测时间 | yes | 2020-06-20 14:30 (China time) or ISO 8601 with a zone |
| received_at / 接收时间 | no | when the lab received the tube |
| reported_at / 报告时间 | no | defaults to the time of the upload |
| ct_orf1ab, ct_n, ct_e / Ct值 | no | cycle threshold, 0 to 50 |

Errors name the row (as a spreadsheet shows it: the header is row 1) and the column.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta, timezone

CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")
MAX_ROWS = 200_000
MAX_BARCODE = 40
BARCODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z\-_]{3,39}$")

HEADERS = {
    "barcode": "barcode",
    "条码": "barcode",
    "条码号": "barcode",
    "标本条码": "barcode",
    "test": "test",
    "检测项目": "test",
    "项目": "test",
    "result": "result",
    "结果": "result",
    "检测结果": "result",
    "tested_at": "tested_at",
    "检测时间": "tested_at",
    "received_at": "received_at",
    "接收时间": "received_at",
    "reported_at": "reported_at",
    "报告时间": "reported_at",
    "ct_orf1ab": "ct_orf1ab",
    "ct_n": "ct_n",
    "ct_e": "ct_e",
    "orf1ab": "ct_orf1ab",
    "n基因": "ct_n",
    "e基因": "ct_e",
}
REQUIRED = ("barcode", "test", "result", "tested_at")
CT_COLUMNS = ("ct_orf1ab", "ct_n", "ct_e")

TESTS = {
    "nucleic_acid": "nucleic_acid",
    "核酸": "nucleic_acid",
    "核酸检测": "nucleic_acid",
    "pcr": "nucleic_acid",
    "rt-pcr": "nucleic_acid",
    "serology_igm": "serology_igm",
    "igm": "serology_igm",
    "igm抗体": "serology_igm",
    "serology_igg": "serology_igg",
    "igg": "serology_igg",
    "igg抗体": "serology_igg",
}
RESULTS = {
    "negative": "negative",
    "neg": "negative",
    "阴性": "negative",
    "-": "negative",
    "positive": "positive",
    "pos": "positive",
    "阳性": "positive",
    "+": "positive",
}


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    code: str
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class ResultRow:
    row: int
    barcode: str
    analyte: str
    result: str
    tested_at: datetime
    received_at: datetime | None = None
    reported_at: datetime | None = None
    ct_values: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "row": self.row,
            "barcode": self.barcode,
            "analyte": self.analyte,
            "result": self.result,
            "tested_at": self.tested_at.isoformat(),
            "received_at": self.received_at.isoformat() if self.received_at else None,
            "reported_at": self.reported_at.isoformat() if self.reported_at else None,
            "ct_values": dict(self.ct_values),
        }

    @classmethod
    def from_dict(cls, data: dict) -> ResultRow:
        def when(value):
            return datetime.fromisoformat(value) if value else None

        return cls(
            row=data["row"],
            barcode=data["barcode"],
            analyte=data["analyte"],
            result=data["result"],
            tested_at=datetime.fromisoformat(data["tested_at"]),
            received_at=when(data.get("received_at")),
            reported_at=when(data.get("reported_at")),
            ct_values=dict(data.get("ct_values") or {}),
        )


@dataclass
class Parsed:
    rows: list[ResultRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


class FileError(ValueError):
    """The file as a whole cannot be read (not CSV/XLSX, no header, too many rows)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# --- reading cells ------------------------------------------------------------------------


def read_table(data: bytes, filename: str) -> list[list]:
    """Rows of cells from a CSV (UTF-8, with or without BOM, or GB18030) or XLSX file."""
    name = (filename or "").lower()
    if name.endswith(".xlsx") or data[:2] == b"PK":
        return _read_xlsx(data)
    if name.endswith((".csv", ".txt")) or not name:
        return _read_csv(data)
    raise FileError("file_type", "Send a .csv or .xlsx file.")


def _read_csv(data: bytes) -> list[list]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise FileError("encoding", "The file is neither UTF-8 nor GB18030 text.")
    if "\x00" in text:
        raise FileError("file_type", "This is not a CSV text file.")
    try:
        return [row for row in csv.reader(io.StringIO(text, newline=""))]
    except csv.Error as exc:
        raise FileError("csv", f"The CSV file cannot be read: {exc}.")


def _read_xlsx(data: bytes) -> list[list]:
    import zipfile

    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise FileError("xlsx", f"The Excel file cannot be read: {exc.__class__.__name__}.")
    try:
        sheet = book.worksheets[0]
        rows = []
        for row in sheet.iter_rows(values_only=True):
            rows.append(list(row))
            if len(rows) > MAX_ROWS + 1:
                break
        return rows
    finally:
        book.close()


# --- values -------------------------------------------------------------------------------


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def parse_time(value, default_tz=CHINA_TZ) -> datetime:
    """A cell as an aware datetime: an Excel datetime, or text in ISO 8601 or `YYYY-MM-DD HH:MM`
    (China time when no zone is written). Raises ValueError."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=default_tz)
    if isinstance(value, date):
        return datetime.combine(value, time(), default_tz)
    text = _text(value).replace("/", "-").replace("T", " ").replace("Z", "+00:00")
    if not text:
        raise ValueError("empty")
    text = re.sub(r"\s+", " ", text)
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=default_tz)


def parse_ct(value) -> float:
    number = float(_text(value))
    if math.isnan(number) or not 0.0 <= number <= 50.0:
        raise ValueError("out of range")
    return round(number, 2)


def header_map(header: list) -> tuple[dict[str, int], list[RowError]]:
    columns: dict[str, int] = {}
    errors = []
    for index, cell in enumerate(header):
        key = HEADERS.get(_text(cell).lower().replace(" ", ""))
        if key is None:
            continue
        if key in columns:
            errors.append(RowError(1, key, "column_twice", f"The column {key} appears twice."))
        columns[key] = index
    for key in REQUIRED:
        if key not in columns:
            errors.append(RowError(1, key, "column_missing", f"The column {key} is missing."))
    return columns, errors


def parse_rows(table: list[list], *, now: datetime) -> Parsed:
    """Check every row; a row with any error is left out of `rows` and reported in `errors`."""
    out = Parsed()
    if not table or not any(_text(c) for c in table[0]):
        raise FileError("empty", "The file has no header row.")
    if len(table) - 1 > MAX_ROWS:
        raise FileError("too_many_rows", f"A file holds at most {MAX_ROWS:,} rows; split it.")
    columns, header_errors = header_map(table[0])
    if header_errors:
        out.errors.extend(header_errors)
        return out
    seen: dict[tuple[str, str], int] = {}
    latest = now + timedelta(minutes=10)  # a lab clock a little ahead is no error
    for number, cells in enumerate(table[1:], start=2):
        if not any(_text(c) for c in cells):
            continue

        def cell(key, cells=cells):
            index = columns.get(key)
            return cells[index] if index is not None and index < len(cells) else None

        errors: list[RowError] = []
        barcode = _text(cell("barcode"))
        if not barcode:
            errors.append(RowError(number, "barcode", "barcode_missing", "The barcode is empty."))
        elif not BARCODE.match(barcode):
            errors.append(
                RowError(number, "barcode", "barcode_format", "A barcode is 4 to 40 letters, digits or -_.")
            )
        analyte = TESTS.get(_text(cell("test")).lower())
        if analyte is None:
            errors.append(
                RowError(
                    number,
                    "test",
                    "test_invalid",
                    "The test is nucleic_acid, serology_igm or serology_igg.",
                )
            )
        result = RESULTS.get(_text(cell("result")).lower())
        if result is None:
            errors.append(RowError(number, "result", "result_invalid", "The result is negative or positive."))
        times: dict[str, datetime | None] = {}
        for key in ("tested_at", "received_at", "reported_at"):
            raw = cell(key)
            if raw is None or _text(raw) == "":
                if key == "tested_at":
                    errors.append(RowError(number, key, "time_missing", "The test time is empty."))
                times[key] = None
                continue
            try:
                moment = parse_time(raw)
            except (ValueError, TypeError, OverflowError):
                errors.append(RowError(number, key, "time_format", "Write the time as 2020-06-20 14:30."))
                times[key] = None
                continue
            if moment > latest:
                errors.append(RowError(number, key, "time_future", "The time is in the future."))
            times[key] = moment
        tested, received, reported = times["tested_at"], times["received_at"], times["reported_at"]
        if received and tested and received > tested:
            errors.append(
                RowError(number, "received_at", "time_order", "The tube was received after it was tested.")
            )
        if reported and tested and reported < tested:
            errors.append(
                RowError(number, "reported_at", "time_order", "The result was reported before the test.")
            )
        ct_values = {}
        for key in CT_COLUMNS:
            raw = cell(key)
            if raw is None or _text(raw) == "":
                continue
            try:
                ct_values[key[3:]] = parse_ct(raw)
            except (ValueError, TypeError):
                errors.append(RowError(number, key, "ct_invalid", "A Ct value is a number from 0 to 50."))
        if barcode and analyte:
            key = (barcode, analyte)
            if key in seen:
                errors.append(
                    RowError(number, "barcode", "row_twice", f"The same barcode and test as row {seen[key]}.")
                )
            else:
                seen[key] = number
        if errors:
            out.errors.extend(errors)
            continue
        out.rows.append(
            ResultRow(
                row=number,
                barcode=barcode,
                analyte=analyte,
                result=result,
                tested_at=tested,
                received_at=received,
                reported_at=reported,
                ct_values=ct_values,
            )
        )
    return out


def parse_file(data: bytes, filename: str, *, now: datetime) -> Parsed:
    return parse_rows(read_table(data, filename), now=now)
