"""The same hostile files sent to every route that takes a file, pages and API (issue 10.6):
each answers with a clear error, a 400 `{code, message, field}` from the API and the message
on the page, never a 500, and nothing is stored. The table uploads (pushed lists, lab
results, risk areas) all say what `lib.tables` says; the routes that take other files (a rule
pack, a DCC, signer certificates) refuse them in their own words. GB18030 and BOM files are no
hostile files: every table upload reads them.

The routes are found, not listed by hand: a route added later that takes a file and is
missing here fails `test_every_route_that_takes_a_file_is_covered`."""

import codecs
import csv
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from django.utils.html import escape

from epigrid.accounts.roles import ROLE_PERMISSIONS, Perm
from epigrid.declarations.models import PushedList
from epigrid.lib import tables
from epigrid.regions.models import RiskArea
from epigrid.testing import services as testing_services
from epigrid.testing.models import ImportStatus, ResultImport, TrustedSigner
from epigrid.units.models import Unit, UnitKind
from tests.lib.hostile import hostile_files

pytestmark = pytest.mark.django_db
KUNSHAN = "320583"


def _role_with(perm: str) -> str:
    """A role holding the permission (the role table decides who may do what; the test follows)."""
    preferred = ["county_command", "cdc", "data_team", "lab", "province_command", "admin"]
    roles = [r for r, perms in ROLE_PERMISSIONS.items() if perm in perms]
    return sorted(roles, key=lambda r: preferred.index(r) if r in preferred else 99)[0]


@pytest.fixture
def lab_user(persona, world, system):
    lab = Unit.objects.create(kind=UnitKind.LAB, name="昆山市疾控中心实验室", division_code=KUNSHAN)
    user = persona("lab", prefixes=[KUNSHAN])
    testing_services.attach_lab_member(actor=system, user=user, lab=lab)
    return user


@pytest.fixture
def clients(persona, client_for, lab_user):
    return {
        "pushed": client_for(persona(_role_with(Perm.PUSHED_LISTS))),
        "lab": client_for(lab_user),
        # the province's list: areas outside the province (Wuhan) are listed there (issue 10.4)
        "risk": client_for(persona(_role_with(Perm.RISK_EDIT), prefixes=["32"])),
        "rules": client_for(persona(_role_with(Perm.RULES_PUBLISH))),
        "testing": client_for(persona(_role_with(Perm.TESTING_MANAGE))),
    }


def _file(name, data):
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


# route → (who posts, URL, the other fields it needs, whether it is the API)
ROUTES = {
    "pushed_list_page": ("pushed", "/declarations/lists/", {"name": "推送名单", "source": "telecom"}, False),
    "pushed_list_api": (
        "pushed",
        "/api/v1/declarations/pushed-lists",
        {"name": "推送名单", "source": "telecom"},
        True,
    ),
    "lab_results_page": ("lab", "/testing/lab/", {}, False),
    "risk_import_page": ("risk", "/regions/risk-areas/import/", {}, False),
    "risk_import_api": ("risk", "/api/v1/rules/risk-areas/import", {}, True),
    "rule_pack_preview_page": ("rules", "/rules/reassess/preview", {"division": KUNSHAN}, False),
    "dcc_page": ("testing", "/testing/dcc/", {}, False),
    "dcc_trust_page": ("testing", "/testing/dcc/trust/", {}, False),
}
FILE_FIELD = {"rule_pack_preview_page": "pack"}
TABLE_ROUTES = {
    "pushed_list_page",
    "pushed_list_api",
    "lab_results_page",
    "risk_import_page",
    "risk_import_api",
}
# what each table upload may take (lib.tables limits, narrowed by the caller)
NARROWED = {
    "pushed_list_page": {"max_rows": 300_000, "max_bytes": 64 * 1024 * 1024},
    "pushed_list_api": {"max_rows": 300_000, "max_bytes": 64 * 1024 * 1024},
    "lab_results_page": {"max_rows": 200_000, "max_bytes": 20 * 1024 * 1024},
    "risk_import_page": {"max_rows": 5001, "max_bytes": 5 * 1024 * 1024},
    "risk_import_api": {"max_rows": 5001, "max_bytes": 5 * 1024 * 1024},
}


def _post(clients, route, name, data):
    who, url, fields, _api = ROUTES[route]
    payload = {**fields, FILE_FIELD.get(route, "file"): _file(name, data)}
    return clients[who].post(url, payload, follow=not ROUTES[route][3])


def _expected(route, name, data) -> tables.TableError:
    with translation.override("zh-hans"), pytest.raises(tables.TableError) as raised:
        tables.open_table(data, name, **NARROWED[route])
    return raised.value


def _stored() -> tuple:
    return (
        PushedList.objects.count(),
        ResultImport.objects.exclude(status=ImportStatus.INVALID).count(),
        RiskArea.objects.count(),
        TrustedSigner.objects.count(),
    )


def _page_text(response) -> str:
    return response.content.decode()


def _shows_an_error(page: str) -> bool:
    return bool(re.search(r'class="(?:field-error|errorlist[^"]*|msg-error)"|id="import-errors"', page))


CASES = sorted(hostile_files())


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("route", sorted(ROUTES))
def test_it_answers_a_hostile_upload_with_a_clear_error_on_every_route(clients, route, case):
    name, data = hostile_files()[case]
    before = _stored()
    response = _post(clients, route, name, data)
    assert response.status_code < 500, (route, case, response.status_code)
    api = ROUTES[route][3]
    if api:
        assert response.status_code == 400, (route, case, response.content[:300])
        body = response.json()
        assert set(body) - {"errors"} == {"code", "message", "field"} and body["message"]
        assert body["field"] == "file"
    else:
        assert response.status_code == 200, (route, case)
        assert _shows_an_error(_page_text(response)), (route, case)
    if route in TABLE_ROUTES:
        if case == "empty" and not api:
            # Django's own file field refuses an empty upload before the reader sees it
            with translation.override("zh-hans"):
                from django import forms

                expected = str(forms.FileField().error_messages["empty"])
            assert escape(expected) in _page_text(response) or "文件为空" in _page_text(response)
        else:
            error = _expected(route, name, data)
            if api:
                assert body["code"] == error.code, (route, case, body)
            elif route == "lab_results_page":
                imp = ResultImport.objects.get()
                assert imp.status == ImportStatus.INVALID and imp.errors[0]["code"] == error.code
                assert escape(error.detail) in _page_text(response), (route, case)
            else:
                assert escape(error.message) in _page_text(response), (route, case)
    assert _stored() == before, (route, case)


# --- what is no hostile file: every table upload reads GB18030 and BOM text --------------------

GOOD = {
    "pushed": (["证件号码", "姓名", "手机号码", "来源地"], ["", "王芳", "13912345678", "湖北省武汉市"]),
    "lab": (["条码", "检测项目", "结果", "检测时间"], ["TUBE-0001", "IgM 抗体", "阴性", "2020-06-21 09:30"]),
    "risk": (
        ["地区代码", "风险等级", "起始日期", "通知"],
        ["420106", "高风险", "2020-06-13", "鄂防控〔2020〕1号"],
    ),
}


def _csv(rows, encoding):
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    text = out.getvalue()
    return (codecs.BOM_UTF8 + text.encode()) if encoding == "utf-8-sig" else text.encode(encoding)


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig", "utf-8"])
@pytest.mark.parametrize("route", sorted(TABLE_ROUTES))
def test_every_table_upload_reads_gb18030_and_bom_text(clients, route, encoding):
    who = ROUTES[route][0]
    header, row = GOOD[who]
    response = _post(clients, route, "名单.csv", _csv([header, row], encoding))
    assert response.status_code in (200, 201), (route, encoding, response.content[:300])
    if route.startswith("pushed"):
        listed = PushedList.objects.get()
        assert listed.status == "validated" and listed.valid_rows == 1, listed.file_errors
        assert listed.header_map["name"] == "姓名"
    elif route.startswith("lab"):
        imp = ResultImport.objects.get()
        # the header and values were read: the only problem is the tube nobody took
        assert [e["code"] for e in imp.errors] == ["barcode_unknown"], imp.errors
    else:
        parsed = response.json() if route.endswith("api") else None
        if parsed is not None:
            assert parsed["issues"] == [] and parsed["rows"][0]["area"] == "420106", parsed
        else:
            page = _page_text(response)
            assert "420106" in page and 'role="alert"' not in page, page[:2000]


# --- coverage: every route that takes a file is here -----------------------------------------


def test_every_route_that_takes_a_file_is_covered():
    """Views reading request.FILES or a form with a FileField, and API operations taking an
    UploadedFile, found in the source: each must be one of ROUTES."""
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2] / "epigrid"
    takers = set()
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if "request.FILES" in text or "UploadedFile" in text:
            takers.add(path.relative_to(root).as_posix())
    assert takers == {
        "declarations/views.py",  # pushed_list_page
        "declarations/api.py",  # pushed_list_api
        "testing/views.py",  # lab_results_page, dcc_page, dcc_trust_page
        "regions/risk_views.py",  # risk_import_page
        "regions/risk_api.py",  # risk_import_api
        "rules/views.py",  # rule_pack_preview_page
        "web/middleware.py",  # reads the fields of every request, takes no file itself
    }, takers
    forms_with_files = {
        p.relative_to(root).as_posix()
        for p in root.rglob("forms.py")
        if "FileField" in p.read_text(encoding="utf-8")
    }
    assert forms_with_files == {"declarations/forms.py", "testing/forms.py"}


def test_the_api_error_of_a_table_names_its_row_and_column(clients):
    data = ("地区代码,风险等级,起始日期,通知\n" + "420106,高,2020-06-13,x," + "," * 300 + "\n").encode()
    response = _post(clients, "risk_import_api", "r.csv", data)
    body = response.json()
    assert response.status_code == 400 and body["code"] == "too_many_columns"
    assert "2" in body["message"] and body["field"] == "file"
