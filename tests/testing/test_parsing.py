"""Reading lab result files: every problem is named by row and column, nothing is guessed.
Hypothesis feeds the time and Ct parsers and the row checker arbitrary cells."""

import csv
import io
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook

from epigrid.lib import tables
from epigrid.testing import parsing
from epigrid.testing.geo import distance_km, nearest, parse_coordinates

NOW = datetime(2020, 6, 21, 12, tzinfo=parsing.CHINA_TZ)
HEADER = ["barcode", "test", "result", "tested_at", "ct_orf1ab", "ct_n"]


def csv_bytes(rows, header=HEADER, encoding="utf-8"):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def test_it_reads_a_clean_csv_with_chinese_values():
    data = csv_bytes(
        [
            ["P0001", "核酸", "阴性", "2020-06-21 09:30", "", ""],
            ["S0002", "nucleic_acid", "positive", "2020-06-21T10:00:00+08:00", "28.5", "30.1"],
            ["S0003", "IgM", "neg", "2020/06/21 10:15", "", ""],
        ]
    )
    parsed = parsing.parse_file(data, "results.csv", now=NOW)
    assert parsed.errors == []
    assert [(r.row, r.barcode, r.analyte, r.result) for r in parsed.rows] == [
        (2, "P0001", "nucleic_acid", "negative"),
        (3, "S0002", "nucleic_acid", "positive"),
        (4, "S0003", "serology_igm", "negative"),
    ]
    assert parsed.rows[0].tested_at == datetime(2020, 6, 21, 9, 30, tzinfo=parsing.CHINA_TZ)
    assert parsed.rows[1].ct_values == {"orf1ab": 28.5, "n": 30.1}


def test_it_reads_chinese_headers_in_gb18030():
    header = ["条码", "检测项目", "结果", "检测时间"]
    data = csv_bytes([["P0001", "核酸", "阳性", "2020-06-21 09:30"]], header=header, encoding="gb18030")
    parsed = parsing.parse_file(data, "结果.csv", now=NOW)
    assert parsed.errors == [] and parsed.rows[0].result == "positive"


def test_it_names_every_bad_row_and_column():
    data = csv_bytes(
        [
            ["P0001", "核酸", "阴性", "2020-06-21 09:30", "", ""],
            ["", "核酸", "阴性", "2020-06-21 09:30", "", ""],
            ["S0002", "flu", "阳性", "2020-06-21 09:30", "", ""],
            ["S0003", "核酸", "maybe", "yesterday", "", ""],
            ["S0004", "核酸", "阴性", "2020-06-25 09:30", "99", ""],
            ["P0001", "核酸", "阴性", "2020-06-21 09:30", "", ""],
        ]
    )
    parsed = parsing.parse_file(data, "results.csv", now=NOW)
    found = {(e.row, e.column, e.code) for e in parsed.errors}
    assert found == {
        (3, "barcode", "barcode_missing"),
        (4, "test", "test_invalid"),
        (5, "result", "result_invalid"),
        (5, "tested_at", "time_format"),
        (6, "tested_at", "time_future"),
        (6, "ct_orf1ab", "ct_invalid"),
        (7, "barcode", "row_twice"),
    }
    assert [r.row for r in parsed.rows] == [2]


def test_it_refuses_a_file_without_the_required_columns():
    parsed = parsing.parse_file(csv_bytes([["x"]], header=["barcode", "result"]), "r.csv", now=NOW)
    assert {(e.row, e.column, e.code) for e in parsed.errors} == {
        (1, "test", "column_missing"),
        (1, "tested_at", "column_missing"),
    }
    with pytest.raises(tables.TableError):
        parsing.parse_file(b"", "r.csv", now=NOW)
    with pytest.raises(tables.TableError):
        parsing.parse_file(b"PK\x03\x04 not really a workbook", "r.xlsx", now=NOW)
    with pytest.raises(tables.TableError):
        parsing.parse_file(b"data", "r.pdf", now=NOW)


def test_it_reads_an_excel_workbook_with_real_datetimes():
    book = Workbook()
    sheet = book.active
    sheet.append(["条码", "检测项目", "结果", "检测时间", "接收时间", "ct_n"])
    sheet.append(["P0009", "核酸", "阴性", datetime(2020, 6, 21, 9, 30), datetime(2020, 6, 21, 8, 0), 35.2])
    buffer = io.BytesIO()
    book.save(buffer)
    parsed = parsing.parse_file(buffer.getvalue(), "results.xlsx", now=NOW)
    assert parsed.errors == []
    row = parsed.rows[0]
    assert row.tested_at == datetime(2020, 6, 21, 9, 30, tzinfo=parsing.CHINA_TZ)
    assert row.received_at == datetime(2020, 6, 21, 8, 0, tzinfo=parsing.CHINA_TZ)
    assert row.ct_values == {"n": 35.2}
    assert parsing.ResultRow.from_dict(row.as_dict()) == row


@given(moment=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 1, 1)))
def test_it_reads_back_any_time_it_writes(moment):
    moment = moment.replace(microsecond=0)
    for text in (
        moment.strftime("%Y-%m-%d %H:%M:%S"),
        moment.isoformat(),
        moment.strftime("%Y/%m/%d %H:%M:%S"),
    ):
        assert parsing.parse_time(text) == moment.replace(tzinfo=parsing.CHINA_TZ)


@given(cell=st.one_of(st.text(max_size=30), st.integers(), st.floats(allow_nan=True), st.none()))
def test_it_never_fails_on_a_cell_but_with_value_error(cell):
    for parse in (parsing.parse_time, parsing.parse_ct):
        try:
            value = parse(cell)
        except (ValueError, TypeError, OverflowError):
            continue
        if parse is parsing.parse_ct:
            assert 0 <= value <= 50


@given(
    rows=st.lists(
        st.lists(st.one_of(st.text(max_size=12), st.integers(-5, 60), st.none()), min_size=0, max_size=8),
        max_size=15,
    )
)
def test_it_accounts_for_every_row_as_good_or_with_an_error(rows):
    parsed = parsing.parse_rows([HEADER, *rows], now=NOW)
    good = {r.row for r in parsed.rows}
    bad = {e.row for e in parsed.errors}
    nonblank = {i for i, r in enumerate(rows, start=2) if any(str(c).strip() for c in r if c is not None)}
    assert good | bad == nonblank and not good & bad
    for error in parsed.errors:
        assert error.message and error.column


def test_it_finds_the_nearest_points_in_distance_order():
    class P:
        def __init__(self, name, lat, lon):
            self.name, self.latitude, self.longitude = name, lat, lon

    points = [
        P("far", 31.5, 121.2),
        P("near", 31.386, 120.981),
        P("none", None, None),
        P("mid", 31.40, 121.0),
    ]
    found = nearest(31.385, 120.98, points, limit=2)
    assert [p.name for _, p in found] == ["near", "mid"]
    assert found[0][0] < 0.2
    assert abs(distance_km(31.0, 121.0, 32.0, 121.0) - 111.2) < 0.5
    assert parse_coordinates("31.38，120.98") == (31.38, 120.98)
    assert parse_coordinates("131.38, 120.98") is None
    assert parse_coordinates("here") is None


def test_the_clock_slack_is_ten_minutes():
    data = csv_bytes(
        [["P0001", "核酸", "阴性", (NOW + timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M"), "", ""]]
    )
    assert parsing.parse_file(data, "r.csv", now=NOW).errors == []


# --- one vocabulary with the pages (issue 10.14) -----------------------------------------------


def test_it_takes_every_test_and_result_as_the_pages_name_them():
    """The labels the result pages show (Analyte, Outcome) and the sampling desk's words, in
    Chinese and English, in full-width letters or with spaces: each is the test it names."""
    from django.utils import translation

    from epigrid.testing.models import Analyte, Outcome, TestKind

    for language in ("zh-hans", "en"):
        with translation.override(language):
            for code in ("nucleic_acid", "serology_igm", "serology_igg"):
                assert parsing.parse_test(str(Analyte(code).label)) == code, (language, code)
            assert parsing.parse_test(str(TestKind.NUCLEIC_ACID.label)) == "nucleic_acid"
            for code in ("negative", "positive"):
                assert parsing.parse_result(str(Outcome(code).label)) == code
    for written, code in [
        ("IgM 抗体", "serology_igm"),
        ("ＩｇＧ　抗体", "serology_igg"),
        ("血清学检测 IgM", "serology_igm"),
        ("血清学检测（IgG）", "serology_igg"),
        ("IgG antibody", "serology_igg"),
        ("Nucleic-acid test", "nucleic_acid"),
        ("核酸检测", "nucleic_acid"),
    ]:
        assert parsing.parse_test(written) == code, written
    assert parsing.parse_test("血型") is None and parsing.parse_result("弱阳") is None


def test_a_serology_order_is_answered_in_two_rows_and_the_error_says_so():
    from django.utils import translation

    from epigrid.testing.models import TestKind

    with translation.override("zh-hans"):
        order = str(TestKind.SEROLOGY.label)  # 血清学检测（IgM/IgG）, as the sampling desk shows it
        data = csv_bytes([["S0001", order, "阴性", "2020-06-21 09:30", "", ""]])
        (error,) = parsing.parse_file(data, "r.csv", now=NOW).errors
    assert (error.row, error.column, error.code) == (2, "test", "test_invalid")
    assert "IgM" in error.message and "IgG" in error.message and "两行" in error.message


def test_the_errors_of_a_file_are_in_the_language_of_the_page():
    from django.utils import translation

    data = csv_bytes([["", "流感", "弱阳", "later", "99", ""]])
    with translation.override("zh-hans"):
        errors = parsing.parse_file(data, "r.csv", now=NOW).errors
        missing = parsing.parse_file(csv_bytes([["x"]], header=["条码"]), "r.csv", now=NOW).errors
        with pytest.raises(tables.TableError) as broken:
            parsing.parse_file(b"PK\x03\x04 not a workbook", "r.xlsx", now=NOW)
    for error in [*errors, *missing]:
        assert any("\u4e00" <= ch <= "\u9fff" for ch in error.message), error
    assert {e.code for e in errors} == {
        "barcode_missing",
        "test_invalid",
        "result_invalid",
        "time_format",
        "ct_invalid",
    }
    assert any("检测项目" in e.message for e in missing)  # the missing column named as the template names it
    assert "工作簿" in broken.value.message


def test_the_template_rows_read_back_clean():
    from django.utils import translation

    with translation.override("zh-hans"):
        rows = parsing.template_rows()
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    parsed = parsing.parse_file(buffer.getvalue().encode(), "template.csv", now=NOW)
    assert parsed.errors == [] and {r.analyte for r in parsed.rows} == {
        "nucleic_acid",
        "serology_igm",
        "serology_igg",
    }
    assert rows[0][:4] == ["条码", "检测项目", "结果", "检测时间"]
