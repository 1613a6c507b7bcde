"""The one reader of uploaded tables (`lib.tables`, `lib.zipcheck`): what it reads, what it
refuses and with which error, and that no file, however made, reaches calamine with cells
beyond the limits (calamine allocates the whole box of a sheet before reading a row)."""

import codecs
import csv
import io
import zipfile
from datetime import date, datetime

import openpyxl
import pytest
import python_calamine
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from epigrid.lib import tables, zipcheck
from epigrid.lib.errors import DomainError
from tests.lib.hostile import MAIN, hostile_files, inline, sheet_xml, workbook

HEADER = ["证件号码", "姓名", "来源地"]


def _csv(rows, encoding="utf-8", delimiter=",") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows(rows)
    return out.getvalue().encode(encoding)


def _xlsx(rows, write_only=False) -> bytes:
    book = openpyxl.Workbook(write_only=write_only)
    sheet = book.create_sheet("名单") if write_only else book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _read(data, name="l.csv", **limits):
    table = tables.open_table(data, name, **limits)
    return table, list(table.rows)


# --- what it reads ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "encoding,prefix",
    [
        ("utf-8", b""),
        ("utf-8", codecs.BOM_UTF8),
        ("gb18030", b""),
        ("gb18030", b"\x84\x31\x95\x33"),
        ("utf-16-le", codecs.BOM_UTF16_LE),
    ],
)
def test_it_reads_csv_in_utf8_with_or_without_a_bom_gb18030_and_excel_unicode_text(encoding, prefix):
    rows = [HEADER, ["11010519491231002X", "张三", "湖北省武汉市"], ["", "李四", "上海市"]]
    delimiter = "\t" if encoding.startswith("utf-16") else ","
    table, read = _read(prefix + _csv(rows, encoding, delimiter))
    assert (table.kind, table.header_row, table.headers) == ("csv", 1, HEADER)
    assert read == [(2, ("11010519491231002X", "张三", "湖北省武汉市")), (3, (None, "李四", "上海市"))]
    assert tables.detect_encoding(prefix + _csv(rows, encoding, delimiter)).replace("-sig", "") in (
        encoding.replace("-le", ""),
        "utf-8",
    )


def test_it_tells_gb18030_from_utf8():
    text = "姓名,来源地\n王芳,湖北省\n"
    assert tables.detect_encoding(text.encode("utf-8")) == "utf-8"
    assert tables.detect_encoding(text.encode("gb18030")) == "gb18030"
    assert tables.detect_encoding(b"name,origin\nWang,Hubei\n") == "utf-8"


def test_it_reads_a_csv_with_blank_lines_and_a_title_row_gap():
    data = "\n\n证件号码,姓名\n11010519491231002X,张三\n,\n110105194912310021,李四\n".encode()
    table, read = _read(data)
    assert (table.header_row, table.headers) == (3, ["证件号码", "姓名"])
    assert [n for n, _ in read] == [4, 6]
    assert table.size_hint == 6


def test_it_finds_the_delimiter_of_the_first_line():
    table, read = _read("姓名;手机\n张三;13900000000\n".encode())
    assert table.headers == ["姓名", "手机"] and read == [(2, ("张三", "13900000000"))]


@pytest.mark.parametrize("write_only", [False, True])
def test_it_reads_a_workbook_with_its_cell_types(write_only):
    rows = [
        ["证件号码", "姓名", "到达时间", "人数", None, "备注"],
        ["11010519491231002X", "张三", datetime(2020, 4, 18, 8, 30), 3, None, "a & b <c>"],
        [None, "李四", date(2020, 4, 19), -7.5, "gap", ""],
        [],
        ["110105194912310021", "王 五", "2020-04-20 10:00", 12345678901, None, None],
    ]
    table, read = _read(_xlsx(rows, write_only), "l.xlsx")
    assert (table.kind, table.header_row) == ("xlsx", 1)
    assert table.headers == ["证件号码", "姓名", "到达时间", "人数", "", "备注"]
    assert [n for n, _ in read] == [2, 3, 5]
    first = read[0][1]
    assert first[:2] == ("11010519491231002X", "张三") and first[2] == datetime(2020, 4, 18, 8, 30)
    assert first[3] == 3 and first[4] is None and first[5] == "a & b <c>"
    assert read[1][1][2] in (date(2020, 4, 19), datetime(2020, 4, 19)) and read[1][1][3] == -7.5


def test_a_sheet_that_starts_below_and_right_keeps_spreadsheet_rows_and_columns():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["C3"], sheet["D3"] = "证件号码", "姓名"
    sheet["C4"], sheet["D4"] = "11010519491231002X", "张三"
    out = io.BytesIO()
    book.save(out)
    table, read = _read(out.getvalue(), "l.xlsx")
    assert table.header_row == 3 and table.headers == ["", "", "证件号码", "姓名"]
    assert read == [(4, (None, None, "11010519491231002X", "张三"))]


def test_it_reads_a_workbook_without_cell_references_or_with_a_namespace_prefix():
    """Cells without `r` follow the one before; cells written as `<x:c>` are cells: both go the
    exact way, and read as calamine reads them."""
    plain = sheet_xml(
        '<row><c t="inlineStr"><is><t>姓名</t></is></c><c t="inlineStr"><is><t>手机</t></is></c></row>'
        '<row><c t="inlineStr"><is><t>张三</t></is></c></row>'
    )
    prefixed = (
        f'<x:worksheet xmlns:x="{MAIN}"><x:sheetData><x:row r="1">'
        '<x:c r="A1" t="inlineStr"><x:is><x:t>姓名</x:t></x:is></x:c></x:row><x:row r="2">'
        '<x:c r="A2" t="inlineStr"><x:is><x:t>张三</x:t></x:is></x:c></x:row></x:sheetData></x:worksheet>'
    ).encode()
    table, read = _read(workbook(plain), "l.xlsx")
    assert table.headers == ["姓名", "手机"] and read == [(2, ("张三", None))]
    table, read = _read(workbook(prefixed), "l.xlsx")
    assert table.headers == ["姓名"] and read == [(2, ("张三",))]


def test_a_wide_sheet_as_excel_writes_it_is_read_by_its_references():
    header = [f"列{i}" for i in range(40)]
    table, read = _read(_xlsx([header, ["x"] * 40]), "l.xlsx")
    assert table.headers == header and read[0][1][39] == "x"


# --- what it refuses ------------------------------------------------------------------------------

REFUSED = {
    "zip_bomb": "file_too_large",
    "lying_zip_bomb": "file_unsafe",
    "sparse_cells": "too_many_rows",
    "huge_column": "too_many_columns",
    "huge_row": "too_many_rows",
    "implied_far_cell": "too_many_columns",
    "quoted_far_cell": "too_many_rows",
    "prefixed_far_cell": "too_many_rows",
    "xxe": "file_unsafe",
    "billion_laughs": "file_unsafe",
    "late_doctype": "file_unsafe",
    "broken_zip": "file_unreadable",
    "truncated_zip": "file_unreadable",
    "ods_as_xlsx": "file_type",
    "old_xls": "xls_unsupported",
    "png_as_xlsx": "file_unreadable",
    "pdf_as_csv": "file_type",
    "wrong_extension": "file_type",
    "binary_garbage": "file_encoding",
    "nul_in_csv": "file_binary",
    "empty": "file_empty",
    "csv_too_many_rows": "too_many_rows",
    "csv_too_many_columns": "too_many_columns",
    "csv_endless_line": "line_too_long",
    "csv_unclosed_quote": "csv_malformed",
}


def test_every_hostile_file_is_in_the_table():
    assert set(REFUSED) == set(hostile_files())


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_it_refuses_a_hostile_file_with_one_error_that_says_why(case):
    name, data = hostile_files()[case]
    with pytest.raises(tables.TableError) as raised:
        _read(data, name)
    error = raised.value
    assert isinstance(error, DomainError) and error.status == 400
    assert (error.code, error.field) == (REFUSED[case], "file")
    assert error.message and error.detail in error.message
    assert error.as_dict()["code"] == error.code
    if error.row is not None:
        assert error.as_dict()["errors"][0]["row"] == error.row


def test_an_error_names_its_row_and_column():
    from django.utils import translation

    with translation.override("en"), pytest.raises(tables.TableError) as raised:
        _read((",".join(["姓名"] * 3) + "\n" + ",".join(["x"] * 9) + "\n").encode(), max_columns=5)
    error = raised.value
    assert (error.row, error.column) == (2, "F")
    assert error.message.startswith("Row 2, column F: ")


def test_a_malformed_workbook_part_is_unreadable_not_a_crash():
    bad = workbook(
        sheet_xml('<row r="1"><c r="A1" t="inlineStr"><is><t>姓名</t></is></c><c r="1A">x</c></row>')
    )
    with pytest.raises(tables.TableError) as raised:
        _read(bad, "l.xlsx")
    assert raised.value.code == "file_unreadable"


def test_a_caller_narrows_the_limits_and_settings_set_them():
    data = _csv([["姓名"]] + [["张三"]] * 10)
    with pytest.raises(tables.TableError) as raised:
        _read(data, max_rows=5)
    assert (raised.value.code, raised.value.row) == ("too_many_rows", 6)
    assert tables.limits(max_rows=10**9).max_rows == tables.Limits().max_rows  # narrowed, never widened
    with override_settings(EPIGRID_TABLE_LIMITS={"max_bytes": 10}):
        assert tables.limits().max_bytes == 10
        with pytest.raises(tables.TableError) as raised:
            _read(data)
        assert raised.value.code == "file_too_large"
    workbook_data = _xlsx([["姓名"]] + [["张三" * 50]] * 200)
    with pytest.raises(tables.TableError) as raised:
        _read(workbook_data, "l.xlsx", max_unpacked=10_000)
    assert raised.value.code == "file_too_large"


def test_a_sheet_within_the_rows_but_past_the_cells_is_refused():
    rows = [["姓名", "a", "b"]] + [["张三", "x", "y"]] * 30
    with pytest.raises(tables.TableError) as raised:
        _read(_xlsx(rows), "l.xlsx", max_cells=60)
    assert raised.value.code == "too_many_cells"


@given(st.binary(max_size=600), st.sampled_from(["l.csv", "l.xlsx", "l.txt", "", "l.pdf"]))
@settings(max_examples=80, deadline=None)
def test_any_bytes_are_read_or_refused_with_a_table_error(data, name):
    try:
        table = tables.open_table(data, name)
    except tables.TableError as exc:
        assert exc.code and exc.message
        return
    for _number, cells in table.rows:  # once opened, reading the rows never raises
        assert isinstance(cells, tuple)


@given(st.binary(min_size=1, max_size=300))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_damaged_workbook_is_refused_never_a_crash(noise):
    good = bytearray(_xlsx([["姓名", "手机"], ["张三", "13900000000"]]))
    at = len(noise) * 37 % (len(good) - len(noise))
    good[at : at + len(noise)] = noise
    try:
        table = tables.open_table(bytes(good), "l.xlsx")
    except tables.TableError:
        return
    list(table.rows)


# --- the archive check against calamine itself ------------------------------------------------

_CELL = st.tuples(
    st.sampled_from(["explicit", "implied", "empty", "selfclosed", "quoted_first"]),
    st.integers(1, 9),  # column
    st.integers(1, 30),  # row
)


def _sheet(rows, prefix: str) -> bytes:
    p = f"{prefix}:" if prefix else ""
    body = []
    for row_ref, cells in rows:
        parts = []
        for kind, col, row in cells:
            ref = f"{tables.column_name(col - 1)}{row}"
            if kind == "explicit":
                parts.append(f'<{p}c r="{ref}" t="inlineStr"><{p}is><{p}t>v</{p}t></{p}is></{p}c>')
            elif kind == "implied":
                parts.append(f'<{p}c t="inlineStr"><{p}is><{p}t>v</{p}t></{p}is></{p}c>')
            elif kind == "empty":
                parts.append(f'<{p}c r="{ref}"></{p}c>')
            elif kind == "selfclosed":
                parts.append(f'<{p}c r="{ref}"/>')
            else:
                parts.append(f'<{p}c s=">" r="{ref}" t="inlineStr"><{p}is><{p}t>v</{p}t></{p}is></{p}c>')
        attr = f' r="{row_ref}"' if row_ref else ""
        body.append(
            f"<{p}row{attr}>{''.join(parts)}</{p}row>" if parts or not row_ref else f"<{p}row{attr}/>"
        )
    xmlns = f'xmlns:{prefix}="{MAIN}"' if prefix else f'xmlns="{MAIN}"'
    return f"<{p}worksheet {xmlns}><{p}sheetData>{''.join(body)}</{p}sheetData></{p}worksheet>".encode()


@given(
    rows=st.lists(
        st.tuples(st.one_of(st.none(), st.integers(1, 30)), st.lists(_CELL, max_size=6)),
        min_size=1,
        max_size=8,
    ),
    prefix=st.sampled_from(["", "x"]),
    limits=st.tuples(st.integers(1, 40), st.integers(1, 12)),
)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_workbook_the_check_passes_never_reaches_past_the_limits_in_calamine(rows, prefix, limits):
    """Whatever mix of references, implied places, empty and self-closed cells, quoted `>` and
    namespace prefixes a sheet has: if the check lets it through, calamine's box fits the limits
    (the box is small here, so calamine may read it to compare)."""
    max_rows, max_columns = limits
    data = workbook(_sheet(rows, prefix))
    try:
        zipcheck.check_archive(
            data,
            max_unpacked=10**7,
            max_parts=50,
            max_rows=max_rows,
            max_columns=max_columns,
            max_cells=10**6,
        )
        passed = True
    except zipcheck.ArchiveProblem as problem:
        assert problem.code in ("rows", "columns", "cells", "damaged"), problem.code
        passed = False
    try:
        sheet = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0)
    except python_calamine.CalamineError:
        return
    if passed and sheet.end is not None:
        assert sheet.end[0] + 1 <= max_rows and sheet.end[1] + 1 <= max_columns, (sheet.end, limits)


def test_the_exact_way_places_cells_where_calamine_does():
    rows = [
        (None, [("explicit", 2, 1), ("selfclosed", 5, 1), ("implied", 1, 1)]),
        (4, []),
        (None, [("implied", 1, 1)]),
    ]
    data = workbook(_sheet(rows, ""))
    part = zipfile.ZipFile(io.BytesIO(data)).getinfo("xl/worksheets/sheet1.xml")
    extent = zipcheck.exact_extent(zipcheck._declarations_refused(zipcheck._inflated(data, part)))
    sheet = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0)
    assert (extent.rows, extent.columns) == (sheet.end[0] + 1, sheet.end[1] + 1) == (5, 6)


@pytest.mark.parametrize("limit", [1, 7, 9, 10, 99, 100, 5000, 5001, 300_000, 1_048_576])
def test_the_row_pattern_admits_exactly_the_rows_up_to_the_limit(limit):
    import re

    pattern = re.compile(zipcheck.at_most(limit))
    for n in [*range(1, 1200), limit - 1, limit, limit + 1, limit * 10, 10 ** len(str(limit))]:
        assert bool(pattern.fullmatch(str(n).encode())) == (1 <= n <= limit), n
    assert not pattern.fullmatch(b"0") and not pattern.fullmatch(b"01")


def test_column_names_are_spreadsheet_letters():
    assert [tables.column_name(i) for i in (0, 25, 26, 51, 701, 702, 16383)] == [
        "A",
        "Z",
        "AA",
        "AZ",
        "ZZ",
        "AAA",
        "XFD",
    ]
    assert zipcheck.column_number(b"XFD") == 16384 and zipcheck.column_number(b"aa") == 27


def test_inline_helper_builds_a_readable_workbook():
    table, read = _read(
        workbook(
            sheet_xml(f'<row r="1">{inline("A1", "姓名")}</row><row r="2">{inline("A2", "张三")}</row>')
        ),
        "l.xlsx",
    )
    assert table.headers == ["姓名"] and read == [(2, ("张三",))]


def test_it_reads_what_openpyxl_reads():
    """openpyxl as the oracle: the same cells, once read as text and times (calamine gives whole
    numbers as floats and date cells as dates where openpyxl gives ints and midnights)."""
    rows = [
        ["证件号码", "姓名", "到达时间", "人数", "比例", "已报备", None, "备注"],
        ["11010519491231002X", "张三", datetime(2020, 4, 18, 8, 30), 3, 0.5, True, None, "a & b <c>"],
        [None, "李四", date(2020, 4, 19), -7, 1e-7, False, "gap", ""],
        [],
        ["110105194912310021", "王 五", "2020-04-20 10:00", 12345678901, 2.0, None, None, "第三行"],
    ]
    data = _xlsx(rows)
    _table, read = _read(data, "l.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    expected = [
        (n, values) for n, values in enumerate(book.worksheets[0].iter_rows(values_only=True), start=1)
    ][1:]

    def same(value):
        if isinstance(value, datetime) and value.time() == datetime.min.time():
            value = value.date()
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return None if value in ("", None) else value

    def trimmed(values):
        values = [same(v) for v in values]
        while values and values[-1] is None:
            values.pop()
        return values

    got = {n: trimmed(v) for n, v in read}
    assert got == {n: trimmed(v) for n, v in expected if any(same(x) is not None for x in v)}
