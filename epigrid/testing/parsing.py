"""Reading a lab's results file (CSV or XLSX, read by `lib.tables`) into checked rows: plain
functions, no ORM.

One row per barcode and test. Columns (English or the Chinese headers labs use; order free):

| column | required | values |
|---|---|---|
| barcode / 条码 | yes | a specimen's or a pool's barcode |
| test / 检测项目 | yes | 核酸 (nucleic_acid), IgM 抗体 (serology_igm), IgG 抗体 (serology_igg) |
| result / 结果 | yes | 阴性 (negative, neg, -), 阳性 (positive, pos, +) |
| tested_at / 检测时间 | yes | 2020-06-20 14:30 (China time) or ISO 8601 with a zone |
| received_at / 接收时间 | no | when the lab received the tube |
| reported_at / 报告时间 | no | defaults to the time of the upload |
| ct_orf1ab, ct_n, ct_e / ORF1ab, N基因, E基因 | no | cycle threshold, 0 to 50 |

The tests and results are one vocabulary with the pages (`vocabulary`): a value is accepted
in any spelling a page shows it in, Chinese or English, and a serology order of the sampling
desk (血清学检测（IgM/IgG）) is answered by one IgM row and one IgG row.

Errors name the row (as a spreadsheet shows it: the header is usually row 1) and the column,
in the language of the request.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from epigrid.lib import tables
from epigrid.lib.chinatime import CHINA_TZ

MAX_ROWS = 200_000
MAX_BYTES = 20 * 1024 * 1024
BARCODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z\-_]{3,39}$")

# our column → its name in the template (Chinese, English) and the other headers labs write
COLUMNS = {
    "barcode": (gettext_lazy("Barcode"), ("条码", "barcode", "条码号", "标本条码")),
    "test": (gettext_lazy("Test"), ("检测项目", "test", "项目")),
    "result": (gettext_lazy("Result"), ("结果", "result", "检测结果")),
    "tested_at": (gettext_lazy("Tested at"), ("检测时间", "tested_at")),
    "received_at": (gettext_lazy("Received at"), ("接收时间", "received_at")),
    "reported_at": (gettext_lazy("Reported at"), ("报告时间", "reported_at")),
    "ct_orf1ab": (gettext_lazy("Ct ORF1ab"), ("ORF1ab", "ct_orf1ab")),
    "ct_n": (gettext_lazy("Ct N gene"), ("N基因", "ct_n")),
    "ct_e": (gettext_lazy("Ct E gene"), ("E基因", "ct_e")),
}
HEADERS = {
    alias.lower().replace(" ", ""): key for key, (_label, aliases) in COLUMNS.items() for alias in aliases
}
REQUIRED = ("barcode", "test", "result", "tested_at")
CT_COLUMNS = ("ct_orf1ab", "ct_n", "ct_e")


def column_label(key: str) -> str:
    """A column as the page names it, in the request's language."""
    found = COLUMNS.get(key)
    return str(found[0]) if found else key


# --- the vocabulary of tests and results --------------------------------------------------

# spellings labs write beside the labels the pages show (which `vocabulary` adds itself)
_TEST_SHORTHAND = {
    "nucleic_acid": ("核酸", "核酸检测", "新冠核酸", "pcr", "rt-pcr", "nucleic_acid"),
    "serology_igm": ("IgM", "IgM抗体", "IgM抗体检测", "血清学IgM", "血清学检测IgM", "serology_igm"),
    "serology_igg": ("IgG", "IgG抗体", "IgG抗体检测", "血清学IgG", "血清学检测IgG", "serology_igg"),
}
_RESULT_SHORTHAND = {
    "negative": ("阴性", "neg", "-", "negative"),
    "positive": ("阳性", "pos", "+", "positive"),
}
_PUNCTUATION = re.compile(r"[\s()（）\[\]【】·.,，:：/_\-]+")


def normalise_word(value) -> str:
    """A test or result as compared: NFKC (full-width letters and brackets to plain ones),
    lower case, without spaces, brackets or punctuation ("IgM 抗体" and "igm抗体" are one)."""
    text = unicodedata.normalize("NFKC", _text(value)).lower()
    return text if text in ("-", "+") else _PUNCTUATION.sub("", text)


@dataclass(frozen=True)
class Word:
    code: str
    label: str  # as the pages show it, in the request's language
    spellings: tuple[str, ...]  # what the upload accepts, the label first


@functools.cache
def _lookup(kind: str) -> dict[str, str]:
    return {
        normalise_word(spelling): word.code
        for word in _words(kind, ("zh-hans", "en"))
        for spelling in word.spellings
    }


def _words(kind: str, languages: Iterable[str]) -> list[Word]:
    from epigrid.testing.models import Analyte, Outcome, TestKind

    words = []
    shorthand = _TEST_SHORTHAND if kind == "test" else _RESULT_SHORTHAND
    choices = dict(Analyte.choices if kind == "test" else Outcome.choices)
    for code, extra in shorthand.items():
        spellings: list[str] = []
        for language in languages:
            with translation.override(language):
                spellings.append(str(choices[code]))
                if code == "nucleic_acid":
                    spellings.append(str(TestKind.NUCLEIC_ACID.label))  # the sampling desk's words
        spellings += [s for s in extra if s not in spellings]
        words.append(Word(code, str(choices[code]), tuple(dict.fromkeys(spellings))))
    return words


def vocabulary() -> dict[str, list[Word]]:
    """The tests and results an upload accepts, each with its label and spellings, for the page
    and the template (the label in the request's language first)."""
    from django.utils.translation import get_language

    current = get_language() or "zh-hans"
    others = [lang for lang in ("zh-hans", "en") if lang != current]
    return {"test": _words("test", [current, *others]), "result": _words("result", [current, *others])}


def _serology_order(text: str) -> bool:
    """The sampling desk's order (血清学检测（IgM/IgG）) names both antibodies: a result row
    names one."""
    from epigrid.testing.models import TestKind

    words = set()
    for language in ("zh-hans", "en"):
        with translation.override(language):
            words.add(normalise_word(TestKind.SEROLOGY.label))
    return normalise_word(text) in words | {"serology", "血清学", "血清学检测"}


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


def parse_test(value) -> str | None:
    return _lookup("test").get(normalise_word(value))


def parse_result(value) -> str | None:
    return _lookup("result").get(normalise_word(value))


def _listed(kind: str) -> str:
    return "、".join(word.label for word in vocabulary()[kind])


def header_map(header: list, header_row: int = 1) -> tuple[dict[str, int], list[RowError]]:
    columns: dict[str, int] = {}
    errors = []
    for index, cell in enumerate(header):
        key = HEADERS.get(_text(cell).lower().replace(" ", ""))
        if key is None:
            continue
        if key in columns:
            errors.append(
                RowError(
                    header_row,
                    key,
                    "column_twice",
                    _("The column %(column)s appears twice.") % {"column": column_label(key)},
                )
            )
        columns[key] = index
    for key in REQUIRED:
        if key not in columns:
            errors.append(
                RowError(
                    header_row,
                    key,
                    "column_missing",
                    _("The column %(column)s is missing.") % {"column": column_label(key)},
                )
            )
    return columns, errors


def _blank(cells) -> bool:
    return not any(_text(c) for c in cells)


def parse_rows(table: list[list], *, now: datetime) -> Parsed:
    """Check the rows of a table given as lists, the header first (row 1)."""
    if not table or _blank(table[0]):
        raise tables.TableError("no_header", _("The file has no header row."))
    numbered = ((n, cells) for n, cells in enumerate(table[1:], start=2) if not _blank(cells))
    return check_table(list(table[0]), 1, numbered, now=now)


def check_table(header: list, header_row: int, rows: Iterator[tuple[int, tuple]], *, now: datetime) -> Parsed:
    """Check every row; a row with any error is left out of `rows` and reported in `errors`."""
    out = Parsed()
    columns, header_errors = header_map(header, header_row)
    if header_errors:
        out.errors.extend(header_errors)
        return out
    seen: dict[tuple[str, str], int] = {}
    latest = now + timedelta(minutes=10)  # a lab clock a little ahead is no error
    for number, cells in rows:
        if _blank(cells):
            continue

        def cell(key, cells=cells):
            index = columns.get(key)
            return cells[index] if index is not None and index < len(cells) else None

        errors: list[RowError] = []
        barcode = _check_barcode(number, _text(cell("barcode")), errors)
        analyte = _check_test(number, cell("test"), errors)
        result = _check_result(number, cell("result"), errors)
        tested, received, reported = _check_times(number, cell, latest, errors)
        ct_values = _check_ct_values(number, cell, errors)
        if barcode and analyte:
            key = (barcode, analyte)
            if key in seen:
                errors.append(
                    RowError(
                        number,
                        "barcode",
                        "row_twice",
                        _("The same barcode and test as row %(row)s.") % {"row": seen[key]},
                    )
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


def _check_barcode(number: int, barcode: str, errors: list[RowError]) -> str:
    if not barcode:
        errors.append(RowError(number, "barcode", "barcode_missing", _("The barcode is empty.")))
    elif not BARCODE.match(barcode):
        errors.append(
            RowError(number, "barcode", "barcode_format", _("A barcode is 4 to 40 letters, digits or -_."))
        )
    return barcode


def _check_test(number: int, raw, errors: list[RowError]) -> str | None:
    analyte = parse_test(raw)
    if analyte is None:
        if _serology_order(_text(raw)):
            message = _(
                "A serology test is reported in two rows, one for IgM and one for IgG: write %(tests)s."
            ) % {"tests": _listed("test")}
        else:
            message = _("The test is one of %(tests)s.") % {"tests": _listed("test")}
        errors.append(RowError(number, "test", "test_invalid", message))
    return analyte


def _check_result(number: int, raw, errors: list[RowError]) -> str | None:
    result = parse_result(raw)
    if result is None:
        errors.append(
            RowError(
                number,
                "result",
                "result_invalid",
                _("The result is one of %(results)s.") % {"results": _listed("result")},
            )
        )
    return result


def _check_times(number: int, cell, latest: datetime, errors: list[RowError]) -> tuple:
    """The tested, received and reported times (None where empty or unreadable), in order."""
    times: dict[str, datetime | None] = {}
    for key in ("tested_at", "received_at", "reported_at"):
        raw = cell(key)
        times[key] = None
        if raw is None or _text(raw) == "":
            if key == "tested_at":
                errors.append(RowError(number, key, "time_missing", _("The test time is empty.")))
            continue
        try:
            moment = parse_time(raw)
        except (ValueError, TypeError, OverflowError):
            errors.append(RowError(number, key, "time_format", _("Write the time as 2020-06-20 14:30.")))
            continue
        if moment > latest:
            errors.append(RowError(number, key, "time_future", _("The time is in the future.")))
        times[key] = moment
    tested, received, reported = times["tested_at"], times["received_at"], times["reported_at"]
    if received and tested and received > tested:
        errors.append(
            RowError(number, "received_at", "time_order", _("The tube was received after it was tested."))
        )
    if reported and tested and reported < tested:
        errors.append(
            RowError(number, "reported_at", "time_order", _("The result was reported before the test."))
        )
    return tested, received, reported


def _check_ct_values(number: int, cell, errors: list[RowError]) -> dict:
    ct_values = {}
    for key in CT_COLUMNS:
        raw = cell(key)
        if raw is None or _text(raw) == "":
            continue
        try:
            ct_values[key[3:]] = parse_ct(raw)
        except (ValueError, TypeError):
            errors.append(RowError(number, key, "ct_invalid", _("A Ct value is a number from 0 to 50.")))
    return ct_values


def parse_file(data: bytes, filename: str, *, now: datetime) -> Parsed:
    """Read a results file with `lib.tables` (TableError for a file that is no usable table)
    and check its rows."""
    table = tables.open_table(data, filename, max_rows=MAX_ROWS, max_bytes=MAX_BYTES)
    return check_table(table.headers, table.header_row, table.rows, now=now)


# --- the template ---------------------------------------------------------------------------


def template_rows() -> list[list[str]]:
    """The header row of the results template in the request's language, and example rows
    with every test and result as the pages name them."""
    chinese = (translation.get_language() or "zh-hans").startswith("zh")
    keys = list(COLUMNS)
    header = [COLUMNS[k][1][0] if chinese else COLUMNS[k][1][1] for k in keys]
    words = vocabulary()
    negative, positive = (w.label for w in words["result"])
    nucleic, igm, igg = (w.label for w in words["test"])
    return [
        header,
        ["P2020062100001", nucleic, negative, "2020-06-21 09:30", "2020-06-21 08:00", "", "", "", ""],
        ["S2020062100002", nucleic, positive, "2020-06-21 10:00", "2020-06-21 08:10", "", "28.5", "30.1", ""],
        ["S2020062100003", igm, negative, "2020-06-21 10:15", "", "", "", "", ""],
        ["S2020062100003", igg, positive, "2020-06-21 10:15", "", "", "", "", ""],
    ]
