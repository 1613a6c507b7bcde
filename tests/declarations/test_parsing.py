"""The pure readers of pushed lists and places (R2.4): header mapping in Chinese and English,
row checks that never crash on whatever a spreadsheet holds, place names and codes. Hypothesis
feeds them arbitrary input; the examples pin the behaviour people rely on."""

import io
import math
from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from epigrid.declarations import tabular
from epigrid.declarations.places import LocalIndex, Place, PlaceError, PlaceIndex, normalise_code
from epigrid.lib import tables
from epigrid.lib.chinatime import CHINA_TZ

NOW = datetime(2020, 4, 20, 12, tzinfo=CHINA_TZ)

PLACES = PlaceIndex.build(
    [
        Place("420000", 1, "湖北省", None),
        Place("420100", 2, "武汉市", "420000"),
        Place("420106", 3, "武昌区", "420100"),
        Place("420102", 3, "江岸区", "420100"),
        Place("420500", 2, "宜昌市", "420000"),
        Place("110000", 1, "北京市", None),
        Place("110100", 2, "市辖区", "110000"),
        Place("110105", 3, "朝阳区", "110100"),
        Place("220000", 1, "吉林省", None),
        Place("220100", 2, "长春市", "220000"),
        Place("220104", 3, "朝阳区", "220100"),
        Place("220200", 2, "吉林市", "220000"),
        Place("320000", 1, "江苏省", None),
        Place("320500", 2, "苏州市", "320000"),
        Place("320583", 3, "昆山市", "320500"),
        Place("420101", 3, "旧区", "420100", current=False),
        Place("810000", 1, "香港特别行政区", None),
    ]
)
LOCAL = LocalIndex.build(
    "320583",
    [
        ("320583001", 4, "亭林街道"),
        ("320583001001", 5, "朝阳社区"),
        ("320583001001001", 6, "朝阳第1网格"),
        ("320583001002", 5, "新华社区"),
        ("320583101", 4, "巴城镇"),
        ("320583101001", 5, "新华村"),
        ("320583101002", 5, "石湖村"),
    ],
)
CTX = tabular.RowContext(places=PLACES, local=LOCAL, area="320583", now=NOW)
VALID_ID = "11010519491231002X"


# --- places ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, code",
    [
        ("湖北省武汉市武昌区", "420106"),
        ("湖北武汉", "420100"),
        ("武汉", "420100"),
        ("武汉市", "420100"),
        ("武昌区", "420106"),
        ("中国湖北省宜昌市", "420500"),
        ("湖北省", "420000"),
        ("北京市朝阳区", "110105"),
        ("吉林省长春市朝阳区", "220104"),
        ("吉林市", "220200"),
        ("吉林", "220000"),
        ("420106", "420106"),
        ("42", "420000"),
        ("3205830010", None),
        ("320583001001", "320583001001"),
        ("US", "US"),
        ("usa", "US"),
        ("美国", "US"),
        ("United Kingdom of Great Britain and Northern Ireland", "GB"),
        ("香港", "HK"),
        ("810000", "HK"),
        ("Wuhan", "420100"),
        ("Wuchang, Wuhan", "420106"),
        ("Hubei Yichang", "420500"),
        (" 湖北 / 武汉 ", "420100"),
    ],
)
def test_it_reads_places_as_people_write_them(text, code):
    if code is None:
        with pytest.raises(PlaceError):
            PLACES.resolve(text)
    else:
        assert PLACES.resolve(text) == code


@pytest.mark.parametrize(
    "text, error",
    [
        ("朝阳区", "place_ambiguous"),
        ("亚特兰蒂斯", "place_unknown"),
        ("中国", "place_too_wide"),
        ("", "place_missing"),
        ("999999", "place_unknown"),
        ("12345", "place_code"),
        ("旧区", "place_unknown"),  # retired divisions are not offered by name
        ("Yichang Wuhan", "place_unknown"),
    ],
)
def test_it_says_why_a_place_is_not_understood(text, error):
    with pytest.raises(PlaceError) as raised:
        PLACES.resolve(text)
    assert raised.value.code == error


@given(
    st.one_of(
        st.text(max_size=80), st.integers(), st.floats(allow_nan=True), st.none(), st.binary(max_size=20)
    )
)
def test_reading_a_place_never_fails_but_with_a_reason(value):
    try:
        code = PLACES.resolve(value)
    except PlaceError as exc:
        assert exc.code.startswith("place_") and exc.message
    else:
        assert code == normalise_code(code) and (code.isdigit() or len(code) == 2)


def test_it_finds_the_community_in_an_address():
    assert LOCAL.match_address("江苏省昆山市亭林街道朝阳社区前进路1号") == "320583001001"
    assert LOCAL.match_address("昆山市巴城镇新华村9组") == "320583101001"  # the town disambiguates 新华
    assert LOCAL.match_address("石湖村12号") == "320583101002"  # a unique name needs no town
    assert LOCAL.match_address("昆山市巴城镇湖滨路") == "320583101"  # only the town is known
    assert LOCAL.match_address("新华路1号新华") is None  # 新华社区 and 新华村: ambiguous
    assert LOCAL.match_address("上海市浦东新区") is None


@given(st.text(max_size=200))
def test_address_matching_never_fails(text):
    found = LOCAL.match_address(text)
    assert found is None or LOCAL.exists(found)


# --- headers ----------------------------------------------------------------------------------


def test_it_maps_chinese_and_english_headers():
    zh = tabular.map_headers(
        ["证件号码", "姓名", "手机号码", "来源地", "到达时间", "地址", "区划代码", "交通方式", "班次车牌"]
    )
    en = tabular.map_headers(
        [
            "ID_Number",
            " Name ",
            "PHONE",
            "origin",
            "arrival_at",
            "address",
            "division_code",
            "transport",
            "transport_number",
        ]
    )
    assert zh.columns == en.columns == {f: i for i, f in enumerate(tabular.TEMPLATE_FIELDS)}
    assert zh.issues == en.issues == []
    assert zh.label("id_number") == "证件号码" and en.label("name") == "Name"
    variants = tabular.map_headers(["身份证号", "姓名（必填）", "手机：", "车次", "备注"])
    assert set(variants.columns) == {"id_number", "name", "phone", "transport_number"}
    assert variants.ignored == ["备注"]


def test_it_names_missing_and_duplicate_columns():
    result = tabular.map_headers(["来源地", "手机", "电话"], header_row=3)
    assert [(i.row, i.column, i.code) for i in result.issues] == [
        (3, "电话", "duplicate_column"),
        (3, "姓名 / name", "column_missing"),
    ]
    assert tabular.map_headers(["姓名"]).issues[0].code == "column_missing"


cells = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.datetimes(timezones=st.one_of(st.none(), st.just(UTC))),
    st.dates(),
    st.times(),
    st.decimals(allow_nan=True),
    st.sampled_from(
        ["证件号码", "姓名", "手机号码", "id_number", "NAME", "Phone", VALID_ID, "湖北省武汉市", "火车"]
    ),
)


@given(st.lists(cells, max_size=15))
def test_header_mapping_never_fails(headers):
    result = tabular.map_headers(headers)
    assert len(set(result.columns.values())) == len(result.columns)
    assert all(0 <= i < len(headers) for i in result.columns.values())
    assert all(isinstance(i.text, str) for i in result.issues)


# --- rows --------------------------------------------------------------------------------------

HMAP = tabular.map_headers(tabular.TEMPLATE_HEADERS)


def _row(**values):
    row = [None] * len(tabular.TEMPLATE_HEADERS)
    for field, value in values.items():
        row[tabular.TEMPLATE_FIELDS.index(field)] = value
    return row


def test_a_good_row_is_normalised():
    values, issues = tabular.validate_row(
        _row(
            id_number=VALID_ID.lower(),
            name="  张 三 ",
            phone="+86 139-1234-5678",
            origin="湖北武汉",
            arrival_at="2020/4/18 8:30",
            address="昆山市亭林街道朝阳社区1号",
            division_code="320583001001001",
            transport="G1234次高铁",
            transport_number=" g 1234 ",
        ),
        HMAP,
        CTX,
        2,
    )
    assert issues == []
    assert (values.doc_type, values.id_number, values.name, values.phone) == (
        "resident_id",
        VALID_ID,
        "张 三",
        "13912345678",
    )
    assert values.origin == "420100" and values.arrived_at == datetime(2020, 4, 18, 8, 30, tzinfo=CHINA_TZ)
    assert (values.transport, values.transport_number, values.division_code) == (
        "train",
        "G1234",
        "320583001001001",
    )


@pytest.mark.parametrize(
    "field, value, code",
    [
        ("id_number", VALID_ID[:-1] + "1", "id_checksum"),
        ("id_number", 3.2058319900101e17, "id_as_number"),
        ("id_number", "320583900101123", "id_first_generation"),
        ("phone", "12345", "phone_format"),
        ("arrival_at", "2020-02-30", "time_invalid"),
        ("arrival_at", "2021-01-01 10:00", "time_future"),
        ("arrival_at", 43935.5, "time_as_number"),
        ("arrival_at", "2019-01-01", "time_too_early"),
        ("origin", "朝阳区", "place_ambiguous"),
        ("transport", "飞毯", "transport_unknown"),
        ("division_code", "320585001", "division_outside"),
        ("division_code", "32058300100", "division_format"),
        ("address", "路" * 300, "address_length"),
        ("name", "12345", "name_invalid"),
    ],
)
def test_a_bad_cell_is_named_by_row_and_column(field, value, code):
    row = _row(**{"id_number": VALID_ID, "name": "张三", field: value})
    _, issues = tabular.validate_row(row, HMAP, CTX, 17)
    assert [(i.row, i.column, i.code) for i in issues] == [(17, HMAP.label(field), code)]
    assert issues[0].text.startswith(f"row 17, column {HMAP.label(field)}: ")


def test_a_row_without_document_or_phone_cannot_find_anyone():
    _, issues = tabular.validate_row(_row(name="张三"), HMAP, CTX, 5)
    assert [(i.column, i.code) for i in issues] == [("证件号码", "identity_missing")]


def test_an_excel_date_cell_is_a_time():
    values, issues = tabular.validate_row(
        _row(name="张三", phone="13912345678", arrival_at=date(2020, 4, 18)), HMAP, CTX, 2
    )
    assert issues == [] and values.arrived_at == datetime(2020, 4, 18, tzinfo=CHINA_TZ)


@given(st.lists(cells, min_size=0, max_size=12))
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_checking_a_row_never_fails_whatever_the_cells_hold(row):
    values, issues = tabular.validate_row(row, HMAP, CTX, 9)
    labels = {HMAP.label(f) for f in tabular.FIELDS}
    for issue in issues:
        assert issue.row == 9 and issue.column in labels and issue.message
    if not issues:
        assert values.name and (values.id_number or values.phone)
        assert values.arrived_at is None or values.arrived_at.tzinfo is not None


@given(st.text(max_size=40))
def test_cell_readers_fail_only_with_a_reason(text):
    for parse in (
        tabular.parse_name,
        tabular.parse_phone,
        tabular.parse_transport,
        tabular.parse_transport_number,
        tabular.parse_address,
        tabular.parse_doc_type,
        lambda v: tabular.parse_datetime(v, now=NOW),
        lambda v: tabular.parse_id_number(v),
    ):
        try:
            parse(text)
        except tabular.CellError as exc:
            assert exc.code and exc.message


def test_cell_text_never_shows_a_float_tail():
    assert tabular.cell_text(13912345678.0) == "13912345678"
    assert tabular.cell_text(float("nan")) == ""
    assert tabular.cell_text(Decimal("1.5")) == "1.5"
    assert tabular.cell_text(time(8, 30)) == "08:30:00"
    assert not math.isnan(float(tabular.cell_text(1.25)))


# --- files (read by lib.tables; its own tests are in tests/lib/test_tables.py) -------------------


def test_it_reads_a_workbook_as_excel_writes_it():
    """Shared strings with rich-text runs and a phonetic guide, a date style, cells without
    references, and the sheet found through the workbook's relationships."""
    import zipfile

    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    header = '<c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="D1" t="s"><v>3</v></c>'
    row = f'<c t="str"><v>{VALID_ID}</v></c><c t="s"><v>2</v></c><c/><c s="1"><v>43939.5</v></c>'
    parts = {
        "[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>',
        "xl/workbook.xml": f'<workbook xmlns="{main}" xmlns:r="{rel}">'
        '<sheets><sheet name="名单" sheetId="1" r:id="rId7"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{pkg}">'
        f'<Relationship Id="rId7" Type="{rel}/worksheet" Target="worksheets/list.xml"/></Relationships>',
        "_rels/.rels": f'<Relationships xmlns="{pkg}">'
        f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/sharedStrings.xml": f'<sst xmlns="{main}"><si><t>证件号码</t></si><si><t>姓名</t></si>'
        "<si><r><t>张</t></r><r><t>三</t></r><rPh><t>zhang san</t></rPh></si><si><t>到达时间</t></si></sst>",
        "xl/styles.xml": f'<styleSheet xmlns="{main}"><cellXfs count="2">'
        '<xf numFmtId="0"/><xf numFmtId="14"/></cellXfs></styleSheet>',
        "xl/worksheets/list.xml": f'<worksheet xmlns="{main}"><sheetData>'
        f'<row r="1">{header}</row><row r="2">{row}</row></sheetData></worksheet>',
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in parts.items():
            archive.writestr(name, text.encode())
    table = tables.open_table(out.getvalue(), "excel.xlsx")
    assert table.headers == ["证件号码", "姓名", "", "到达时间"]
    rows = list(table.rows)
    assert rows == [(2, (VALID_ID, "张三", None, datetime(2020, 4, 18, 12, 0)))]
    hmap = tabular.map_headers(table.headers)
    values, issues = tabular.validate_row(rows[0][1], hmap, CTX, 2)
    assert issues == [] and values.name == "张三" and values.arrived_at.hour == 12
