"""Who sees what: personas per role, and an object outside someone's scope is a 404 everywhere,
on pages and in the API, indistinguishable from one that does not exist."""

from datetime import timedelta

import pytest
from django.utils import timezone

from epigrid.accounts.audit import Actor
from epigrid.declarations import services
from epigrid.declarations.models import Declaration, PushedList, Tip, VerificationTask
from epigrid.declarations.services import pushed_commit, pushed_upload

from .conftest import GRID, GRID_B, TAICANG, arrival, identity
from .lists import xlsx


@pytest.fixture
def kunshan(world, persona, make_person, id_numbers, clock):
    """A declaration, a tip, a committed pushed list and its check, all in GRID."""
    public = Actor(user=None, via="public")
    declaration = services.declare_public(
        actor=public, person_data=identity(id_numbers()), data=arrival()
    ).declaration
    tip = services.submit_tip(
        actor=public,
        data=services.TipInput(division_code=GRID, address="亭林路1号", reporter_phone="13500004444"),
    )
    team = Actor(user=persona("data_team"), via="test")
    arrived = timezone.localtime(clock.now - timedelta(hours=5)).strftime("%Y-%m-%d %H:%M")
    listed = pushed_upload.upload(
        actor=team,
        name="名单",
        source="telecom",
        file_name="x.xlsx",
        data=xlsx([[id_numbers(), "邓超", "", "武汉", arrived, "", GRID, "", ""]]),
    )
    pushed_commit.request_commit(actor=team, pushed=listed, enqueue=False)
    pushed_commit.run_commit(list_id=listed.pk, actor=team)
    return {
        "declaration": declaration,
        "tip": tip,
        "list": listed,
        "check": VerificationTask.objects.get(pushed_row__pushed_list=listed),
        "tip_check": VerificationTask.objects.get(tip=tip),
    }


def _pages(objects) -> list[str]:
    return [
        f"/declarations/{objects['declaration'].pk}/",
        f"/declarations/verify/{objects['check'].pk}/",
        f"/declarations/verify/{objects['tip_check'].pk}/",
        f"/declarations/tips/{objects['tip'].pk}/",
    ]


def _api(objects) -> list[str]:
    return [
        f"/api/v1/declarations/{objects['declaration'].pk}",
        f"/api/v1/declarations/pushed-lists/{objects['list'].pk}",
        f"/api/v1/declarations/pushed-lists/{objects['list'].pk}/errors",
        f"/api/v1/declarations/pushed-lists/{objects['list'].pk}/feedback",
    ]


def test_the_county_command_of_another_county_gets_404_everywhere(kunshan, persona, client_for):
    taicang = client_for(persona("county_command", prefixes=[TAICANG]))
    for url in _pages(kunshan) + [f"/declarations/lists/{kunshan['list'].pk}/"]:
        assert taicang.get(url).status_code == 404, url
    for url in _api(kunshan):
        response = taicang.get(url)
        assert response.status_code == 404 and response.json()["code"] == "not_found", url
    # their lists are empty, not refused
    for url in (
        "/api/v1/declarations",
        "/api/v1/declarations/tips",
        "/api/v1/declarations/verification-tasks",
    ):
        assert taicang.get(url).json()["items"] == [], url
    assert "邓超" not in taicang.get("/declarations/verify/").content.decode()
    response = taicang.post(
        f"/api/v1/declarations/{kunshan['declaration'].pk}/withdraw",
        {"reason": "x"},
        content_type="application/json",
    )
    assert response.status_code == 404


def test_the_kunshan_command_sees_everything_of_its_county(kunshan, persona, client_for):
    county = client_for(persona("county_command"))
    for url in _pages(kunshan) + [f"/declarations/lists/{kunshan['list'].pk}/"]:
        assert county.get(url).status_code == 200, url
    assert len(county.get("/api/v1/declarations").json()["items"]) == 1
    assert len(county.get("/api/v1/declarations/verification-tasks").json()["items"]) == 2


def test_a_grid_worker_sees_their_grid_only(kunshan, persona, client_for):
    mine = client_for(persona("grid_worker", prefixes=[GRID]))
    for url in _pages(kunshan):
        assert mine.get(url).status_code == 200, url
    neighbour = client_for(persona("grid_worker", prefixes=[GRID_B]))
    for url in _pages(kunshan):
        assert neighbour.get(url).status_code == 404, url
    assert neighbour.get("/api/v1/declarations").json()["items"] == []
    response = neighbour.post(
        f"/api/v1/declarations/verification-tasks/{kunshan['check'].pk}/complete",
        {"outcome": "found"},
        content_type="application/json",
    )
    assert response.status_code == 404


def test_a_data_team_of_another_area_cannot_reach_the_list(kunshan, persona, client_for):
    other = client_for(persona("data_team", prefixes=[TAICANG]))
    assert other.get(f"/declarations/lists/{kunshan['list'].pk}/").status_code == 404
    assert other.get(f"/api/v1/declarations/pushed-lists/{kunshan['list'].pk}").status_code == 404
    assert other.get("/api/v1/declarations/pushed-lists").json()["items"] == []
    # the data team may push lists but never read the verification details of people
    own = client_for(persona("data_team"))
    assert own.get(f"/declarations/verify/{kunshan['check'].pk}/").status_code == 403
    assert own.get("/api/v1/declarations/tips").status_code == 403


def test_a_unit_manager_sees_their_people_and_their_visitors_only(
    kunshan, persona, client_for, make_person, id_numbers, clock
):
    from epigrid.units.models import RosterEntry, Unit

    unit = Unit.objects.create(kind="school", name="亭林中学", division_code=GRID_B, uscc="")
    manager_user = persona("unit_manager", prefixes=[], units=[unit])
    student = make_person(GRID_B, name="学生甲", number=id_numbers(division="320583"))
    RosterEntry.objects.create(
        unit=unit, person=student, role="student", division_code=GRID_B, started_on=clock.today
    )
    declaration = services.declare(
        actor=Actor(user=manager_user, via="test"), person=student, data=arrival(division=GRID_B)
    )
    manager = client_for(manager_user)
    assert manager.get(f"/declarations/{declaration.pk}/").status_code == 200
    assert manager.get(f"/declarations/{kunshan['declaration'].pk}/").status_code == 404
    ids = {item["id"] for item in manager.get("/api/v1/declarations").json()["items"]}
    assert ids == {str(declaration.pk)}


def test_cdc_reads_tips_and_declarations_of_its_county(kunshan, persona, client_for):
    cdc = client_for(persona("cdc"))
    assert cdc.get(f"/declarations/tips/{kunshan['tip'].pk}/").status_code == 200
    assert [t["id"] for t in cdc.get("/api/v1/declarations/tips").json()["items"]] == [str(kunshan["tip"].pk)]
    assert "reporter" not in str(cdc.get("/api/v1/declarations/tips").json())
    assert cdc.get(f"/declarations/{kunshan['declaration'].pk}/").status_code == 200
    assert cdc.get("/declarations/lists/").status_code == 403  # pushing lists is the data team's


def test_nothing_exists_for_an_unknown_id(kunshan, persona, client_for):
    county = client_for(persona("county_command"))
    missing = "00000000-0000-4000-8000-000000000000"
    for url in (
        f"/declarations/{missing}/",
        f"/declarations/verify/{missing}/",
        f"/declarations/tips/{missing}/",
    ):
        assert county.get(url).status_code == 404
    assert county.get(f"/api/v1/declarations/{missing}").json()["code"] == "not_found"
    assert Declaration.objects.count() == 1 and Tip.objects.count() == 1 and PushedList.objects.count() == 1
