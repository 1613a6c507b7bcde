"""Every stored code shows as its label in the page's language (issue 10.13): clauses in words
for the public (the document and its article, never a rule or clause ID), both for staff; the
audit log's object types, fields, causes and channels; transport, check outcomes, nationality
and the health-code issuer; no requirement IDs (R6.3) on staff pages."""

import random
import re
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest
from django.core.cache import cache
from django.utils import timezone

from epigrid.accounts.audit import Actor
from epigrid.declarations import services as declarations
from epigrid.demo.population import IdNumbers

GRID = "320583001001001"
JS79_13_ZH = "苏肺炎防控办〔2020〕79号 第十三条"
JS79_13_EN = "Jiangsu epidemic prevention office notice [2020] No. 79, item 13"


class _Text(HTMLParser):
    """The text a person sees: no markup, no script, no style."""

    def __init__(self):
        super().__init__()
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "head"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "head"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def wuhan_arrival(world, clock):
    """A person who declared a Wuhan arrival on the public page: measures of JS79-13."""
    number = IdNumbers().make(random.Random(3), "420106", date(1991, 4, 2), "F")
    now = clock.now
    result = declarations.declare_public(
        actor=Actor(user=None, via="public"),
        person_data=declarations.IdentityInput(
            doc_type="resident_id", id_number=number, name="陈静", phone="13912345678"
        ),
        data=declarations.DeclarationInput(
            kind="arrival",
            division_code=GRID,
            address="亭林路8号3幢201室",
            arrived_at=now - timedelta(hours=3),
            origin="420106",
            transport="train",
            transport_number="G7012",
            purpose="return_home",
            stops=[declarations.StopInput("420106", clock.today - timedelta(days=8), None)],
        ),
        at=now,
    )
    assert result.token
    return result


# clause IDs, requirement IDs, pack ids (jiangsu-2020-79) and rule ids (JS79-13/wuhan)
RAW = re.compile(
    r"\b(?:JS79|KS10|JS125|NA182|JX57|XC)-\d[\d.]*|\bR\d+\.\d+\b|[a-z0-9]+-20\d\d-\d+|\bcolour/[a-z][a-z-]*"
)


def test_it_shows_the_public_status_page_clauses_in_words_not_ids(client, wuhan_arrival):
    token = wuhan_arrival.token
    for path in (f"/me/{token}/", f"/healthcode/me/{token}/"):
        zh = visible(client.get(path).content.decode())
        assert RAW.findall(zh) == [], path
        en = visible(client.get(path, HTTP_ACCEPT_LANGUAGE="en").content.decode())
        assert RAW.findall(en) == [], path
    status = visible(client.get(f"/me/{token}/").content.decode())
    assert JS79_13_ZH in status and "火车 G7012" in status
    english = visible(client.get(f"/me/{token}/", HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert JS79_13_EN in english and "train G7012" in english


def test_it_shows_staff_the_clause_in_words_and_its_id(client_for, persona, wuhan_arrival):
    client = client_for(persona("grid_worker", prefixes=[GRID]))
    page = visible(client.get(f"/people/{wuhan_arrival.declaration.person_id}/").content.decode())
    assert JS79_13_ZH in page and "JS79-13" in page
    assert "国籍 中国" in page and "CHN" not in page


def test_it_names_a_foreign_nationality_in_the_pages_language(client_for, persona, world):
    from epigrid.people.services import PersonInput, register_person

    person = register_person(
        actor=Actor.system("test"),
        data=PersonInput(
            doc_type="passport",
            id_number="M12345678",
            name="KIM MINJUN",
            division_code=GRID,
            nationality="KOR",
            sex="M",
            birth_date=date(1990, 1, 1),
        ),
    )
    client = client_for(persona("grid_worker", prefixes=[GRID]))
    assert "国籍 韩国" in visible(client.get(f"/people/{person.pk}/").content.decode())
    english = visible(client.get(f"/people/{person.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert "Korea" in english and "KOR" not in english


def test_it_shows_the_audit_log_in_words(client_for, persona, wuhan_arrival):
    page = client_for(persona("auditor")).get("/accounts/audit/").content.decode()
    table = visible(page[page.index("<tbody>") :])
    for code in ("person_rules", "private_link", "decision, measures, colour", "public ", "declaration,"):
        assert code not in table, code
    assert "防控措施与健康码" in table and "研判结果、措施、健康码颜色" in table
    assert "公开页面" in table and "报备" in table
    english = client_for(persona("auditor")).get("/accounts/audit/", HTTP_ACCEPT_LANGUAGE="en")
    table = visible(english.content.decode().split("<tbody>")[1])
    assert "measures and health code" in table and "decision, measures, health-code colour" in table
    assert "person_rules" not in table


def test_it_shows_a_reassessment_cause_and_a_channel_as_words(client_for, persona, wuhan_arrival):
    from django.db import transaction

    from epigrid.accounts.audit import record

    # the row rules.services writes for a person a risk-area change reassessed
    with transaction.atomic():
        record(
            Actor.system("healthcode"),
            "update",
            object_type="person_rules",
            object_id=str(wuhan_arrival.declaration.person_id),
            fields=["decision", "measures", "colour"],
            note="risk_change",
        )
    client = client_for(persona("auditor"))
    table = visible(client.get("/accounts/audit/").content.decode().split("<tbody>")[1])
    assert "risk_change" not in table and "healthcode" not in table
    assert "风险地区变更" in table and "健康码服务" in table


def test_it_shows_the_transport_and_the_check_outcomes_of_a_pushed_list_in_words(
    client_for, persona, world, clock
):
    from epigrid.declarations.models import VerificationTask
    from epigrid.declarations.services import pushed_commit, pushed_upload
    from tests.declarations.lists import xlsx

    numbers = IdNumbers()
    rng = random.Random(5)
    arrived = timezone.localtime(clock.now - timedelta(hours=5)).strftime("%Y-%m-%d %H:%M")
    rows = [
        [numbers.make(rng, "420106", date(1990, 1, 1 + i), "M"), f"乘客{i}", "", "武汉", arrived, "", GRID]
        + ["火车", f"G70{i:02d}"]
        for i in range(3)
    ]
    team = Actor(user=None, via="test")
    listed = pushed_upload.upload(
        actor=team, name="铁路名单", source="transport", file_name="l.xlsx", data=xlsx(rows), area="320583"
    )
    pushed_commit.request_commit(actor=team, pushed=listed, skip_invalid=True, due_hours=24, enqueue=False)
    listed = pushed_commit.run_commit(list_id=listed.pk, actor=team)
    worker = persona("grid_worker", prefixes=[GRID])
    tasks = list(VerificationTask.objects.order_by("pushed_row__row_number"))
    for task, outcome in zip(tasks, ("found", "left", "not_found"), strict=True):
        declarations.complete_verification(
            actor=Actor(user=worker, via="test"), task=task, outcome=outcome, notes="核实"
        )
    client = client_for(worker)
    check = visible(client.get(f"/declarations/verify/{tasks[0].pk}/").content.decode())
    assert "交通方式 火车 G7000" in check and "train" not in check
    command = client_for(persona("county_command"))
    progress = visible(command.get(f"/declarations/lists/{listed.pk}/").content.decode())
    assert "在地址处找到: 1" in progress and "未找到: 1" in progress
    assert "not_found" not in progress and "found:" not in progress and "left:" not in progress


def test_it_names_the_health_code_issuer_as_its_province(client_for, persona, world):
    client = client_for(persona("admin"))
    page = visible(client.get("/healthcode/keys/").content.decode())
    assert "签发机构: 江苏省" in page
    english = visible(client.get("/healthcode/keys/", HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert "Issuer: Jiangsu Province" in english


@pytest.mark.parametrize("path", ["/testing/", "/testing/sequencing/", "/testing/groups/"])
def test_it_cites_no_requirement_ids_on_staff_pages(client_for, persona, world, path):
    client = client_for(persona("cdc"))
    page = visible(client.get(path).content.decode())
    assert re.findall(r"\bR\d+\.\d+\b", page) == []
    english = visible(client.get(path, HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert re.findall(r"\bR\d+\.\d+\b", english) == []


def test_it_names_the_packs_in_force_and_their_jurisdiction(client_for, persona, world):
    client = client_for(persona("county_command"))
    page = visible(client.get("/rules/").content.decode())
    assert "关于做好离鄂离汉来苏人员健康管理和服务的意见 jiangsu-2020-79" in page
    assert "v1 " in page and " 江苏省 " in page and "现行规则包 昆山市" in page
    english = visible(client.get("/rules/", HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert "Health-code colour classes (as published for the Jiangsu health code)" in english
    assert "Jiangsu Province" in english and "everywhere" in english


def test_it_names_the_division_of_each_person_and_unit_in_a_list(client_for, persona, make_person):
    from epigrid.units.services import UnitInput, create_unit

    make_person(GRID, name="王列表")
    create_unit(
        actor=Actor.system("test"), data=UnitInput(kind="school", name="亭林小学", division_code=GRID)
    )
    client = client_for(persona("county_command"))
    people = client.get("/people/").content.decode()
    row = visible(people[people.index("王列表") :].split("</tr>")[0])
    assert "德馨第1网格" in row and GRID not in row
    units = client.get("/units/").content.decode()
    row = visible(units[units.index("亭林小学") :].split("</tr>")[0])
    assert "德馨第1网格" in row and GRID not in row
    english = client.get("/people/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Dexin Grid 1" in visible(english[english.index("王列表") :].split("</tr>")[0])
