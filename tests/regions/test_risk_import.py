"""Importing risk-area lists (R3.1): two phases — every row and cell checked with errors by row
and column, nothing written; then the drafts created in one transaction."""

import io
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from epigrid.accounts.models import AuditEvent
from epigrid.regions.models import RiskArea
from epigrid.regions.services import risk, risk_import


def csv_file(text: str, name="list.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def xlsx_bytes(rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


BAD = """area,level,starts_on,ends_on,notice
420100,high,2020-06-13,,notice A
999999,high,2020-06-13,,notice B
110106,severe,2020-06-13,,notice C
110102,medium,13/06/2020,,notice D
110105,medium,2020-06-20,2020-06-10,notice E
110108,medium,2020-06-13,,
420100,high,2020-06-14,,notice G
320583102555,medium,2020-06-13,,notice H
ZZ,high,2020-06-13,,notice I
"""


def test_it_reports_every_problem_by_row_and_column_and_writes_nothing(world):
    parsed = risk_import.parse_import("list.csv", BAD.encode())
    issues = {(i.row, i.column) for i in parsed.issues}
    assert issues == {
        (3, "area"),  # not in GB/T 2260
        (4, "level"),  # unknown list
        (5, "starts_on"),  # not a date
        (6, "ends_on"),  # ends before it starts
        (7, "notice"),  # missing
        (8, "area"),  # same area and list as row 2
        (9, "area"),  # a community not on record, without a name
        (10, "area"),  # not a country code
    }
    assert not parsed.ok and not RiskArea.objects.exists()
    row5 = next(i for i in parsed.issues if i.row == 5)
    assert "13/06/2020" in row5.message


def test_missing_and_unknown_columns_are_reported_on_the_header_row(world):
    parsed = risk_import.parse_import("list.csv", b"area,level,from_when,notice\n420100,high,2020-06-13,x\n")
    assert {(i.row, i.column) for i in parsed.issues} == {(1, "from_when"), (1, "starts_on")}


def test_chinese_headers_and_levels_from_a_workbook_are_understood(world, system):
    content = xlsx_bytes(
        [
            ["地区代码", "地区名称", "风险等级", "起始日期", "截止日期", "通知"],
            [420100, "", "高风险", date(2020, 6, 13), None, "湖北省通告"],
            ["110106", "", "中风险", "2020年6月13日", "", "北京市通告"],
            ["US", "美国", "高风险", "2020-03-01", "", "入境通告"],
            ["320583102099", "示范社区", "中风险", "2020-06-13", "", "昆山市通告"],
        ]
    )
    parsed = risk_import.parse_import("名单.xlsx", content)
    assert parsed.ok, parsed.issues
    assert [(r.area, r.level) for r in parsed.rows] == [
        ("420100", "high"),
        ("110106", "medium"),
        ("US", "high"),
        ("320583102099", "medium"),
    ]
    assert parsed.counts() == {"new": 4, "change": 0, "unchanged": 0}

    created = risk_import.commit_import(actor=system, rows=parsed.payload())

    assert len(created) == 4 and {r.status for r in created} == {"draft"}
    assert RiskArea.objects.get(area="110106").starts_on == date(2020, 6, 13)
    assert AuditEvent.objects.filter(object_type="risk_area", action="import").count() == 1
    assert AuditEvent.objects.filter(object_type="risk_area", action="create").count() == 4


def test_a_second_import_says_which_rows_change_published_listings(world, system):
    first = risk_import.parse_import(
        "a.csv", b"area,level,starts_on,notice\n420100,high,2020-06-13,n1\n110106,medium,2020-06-13,n1\n"
    )
    drafts = risk_import.commit_import(actor=system, rows=first.payload())
    risk.apply_change(actor=system, publish=[d.pk for d in drafts], withdraw=[])

    second = risk_import.parse_import(
        "b.csv",
        b"area,level,starts_on,ends_on,notice\n420100,high,2020-06-13,,n1\n110106,medium,2020-06-13,2020-06-30,n2\n"
        b"110105,medium,2020-06-20,,n2\n",
    )
    assert second.ok
    assert {r.area: r.action for r in second.rows} == {
        "420100": "unchanged",
        "110106": "change",
        "110105": "new",
    }
    created = risk_import.commit_import(actor=system, rows=second.payload())
    change = next(r for r in created if r.area == "110106")
    assert change.supersedes.area == "110106" and change.supersedes.status == "published"
    assert len(created) == 2


def test_the_import_page_shows_problems_then_creates_drafts_on_confirmation(world, persona, client_for):
    cdc = persona("cdc", prefixes=["32"])  # areas elsewhere in the country: the province's list
    client = client_for(cdc)
    response = client.post("/regions/risk-areas/import/", {"file": csv_file(BAD)}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="import-issues"' in body and "Create the drafts" not in body
    assert len(response.context["parsed"].issues) == 8

    good = (
        "area,level,starts_on,notice\n420100,high,2020-06-13,湖北省通告\n"
        "110106,medium,2020-06-13,北京市通告\n"
    )
    checked = client.post("/regions/risk-areas/import/", {"file": csv_file(good)})
    payload = checked.context["payload"]
    assert payload and not RiskArea.objects.exists()

    tampered = client.post("/regions/risk-areas/import/", {"confirm": "1", "payload": payload + "x"})
    assert tampered.status_code == 302 and not RiskArea.objects.exists()
    done = client.post("/regions/risk-areas/import/", {"confirm": "1", "payload": payload})
    assert done.status_code == 302 and done["Location"] == "/regions/risk-areas/manage/"
    assert RiskArea.objects.filter(status="draft").count() == 2
    assert set(RiskArea.objects.values_list("created_by", flat=True)) == {cdc.pk}


def test_the_import_api_checks_and_commits(world, persona, client_for):
    client = client_for(persona("province_command"))
    bad = client.post("/api/v1/rules/risk-areas/import", {"file": csv_file(BAD)})
    assert bad.status_code == 200 and bad.json()["ok"] is False
    assert {"row": 4, "column": "level"} in [
        {"row": i["row"], "column": i["column"]} for i in bad.json()["issues"]
    ]
    good = "area,level,starts_on,notice\n420100,high,2020-06-13,n\n"
    committed = client.post("/api/v1/rules/risk-areas/import?commit=true", {"file": csv_file(good)}).json()
    assert committed["committed"] is True and len(committed["created"]) == 1


@pytest.mark.parametrize("name", ["list.pdf", "list.xlsx"])
def test_a_file_that_is_not_a_sheet_is_refused(world, persona, client_for, name):
    client = client_for(persona("cdc"))
    response = client.post(
        "/regions/risk-areas/import/", {"file": SimpleUploadedFile(name, b"%PDF-1.4 junk")}
    )
    assert response.status_code == 200 and response.context["error"]
    assert not RiskArea.objects.exists()
