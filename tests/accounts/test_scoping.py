"""A county user cannot reach another county's person by list, page, search or API; a unit
manager sees only the people on its rosters; a user with no grant sees nothing."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from epigrid.accounts.scoping import next_prefix, normalise_prefixes, prefix_q, visible_to
from epigrid.people.models import Person
from epigrid.units.models import Unit

KUNSHAN_GRID = "320583001001001"
TAICANG = "320585"


@given(st.text(alphabet="0123456789", min_size=1, max_size=15), st.text(alphabet="0123456789", max_size=15))
def test_a_prefix_range_holds_exactly_the_codes_that_start_with_it(prefix, code):
    upper = next_prefix(prefix)
    in_range = code >= prefix and (upper is None or code < upper)
    assert in_range == code.startswith(prefix)


def test_it_drops_prefixes_covered_by_shorter_ones():
    assert normalise_prefixes(["320583", "3205", "32058300", "3206"]) == ["3205", "3206"]


@pytest.fixture
def two_counties(world, make_person, system):
    from epigrid.regions.models import Division

    kunshan_person = make_person(KUNSHAN_GRID, name="昆山人")
    taicang = Division.objects.get(code=TAICANG)
    taicang_person = make_person(taicang.code, name="太仓人")
    return kunshan_person, taicang_person


def test_a_county_user_sees_only_their_county(two_counties, persona):
    kunshan_person, taicang_person = two_counties
    user = persona("county_command", prefixes=[TAICANG])
    assert list(visible_to(user, Person.objects.all())) == [taicang_person]


def test_a_county_user_gets_404_for_another_county_everywhere(two_counties, persona, client_for):
    kunshan_person, _ = two_counties
    client = client_for(persona("county_command", prefixes=[TAICANG]))
    assert client.get(f"/people/{kunshan_person.pk}/").status_code == 404
    assert client.get(f"/people/{kunshan_person.pk}/edit/").status_code == 404
    assert client.post(f"/people/{kunshan_person.pk}/reveal/id_number").status_code == 404
    assert client.get(f"/api/v1/persons/{kunshan_person.pk}").status_code == 404
    assert (
        client.post(
            f"/api/v1/persons/{kunshan_person.pk}/reveal",
            {"field": "id_number"},
            content_type="application/json",
        ).status_code
        == 404
    )
    assert (
        client.patch(
            f"/api/v1/persons/{kunshan_person.pk}", {"name": "x"}, content_type="application/json"
        ).status_code
        == 404
    )
    listing = client.get("/people/").content.decode()
    assert "昆山人" not in listing and "太仓人" in listing
    api_list = client.get("/api/v1/persons").json()
    assert [p["name"] for p in api_list["items"]] == ["太仓人"]
    search = client.get("/people/", {"q": "昆山人"}).content.decode()
    assert str(kunshan_person.pk) not in search
    assert client.get("/api/v1/persons", {"q": "昆山人"}).json()["items"] == []


def test_a_user_without_grants_sees_nothing(two_counties, persona):
    user = persona("county_command", prefixes=[])
    assert visible_to(user, Person.objects.all()).count() == 0


def test_a_unit_manager_sees_only_the_people_on_its_rosters(
    two_counties, persona, make_person, system, client_for
):
    from epigrid.units import services

    kunshan_person, taicang_person = two_counties
    unit = services.create_unit(
        actor=system,
        data=services.UnitInput(kind="school", name="昆山市第一中学", division_code=KUNSHAN_GRID),
    )
    other = services.create_unit(
        actor=system,
        data=services.UnitInput(kind="school", name="昆山市第二中学", division_code=KUNSHAN_GRID),
    )
    services.add_to_roster(actor=system, unit=unit, person=kunshan_person, role="student")
    stranger = make_person(KUNSHAN_GRID, name="别校学生")
    services.add_to_roster(actor=system, unit=other, person=stranger, role="student")
    manager = persona("unit_manager", prefixes=[], units=[unit])
    assert list(visible_to(manager, Person.objects.all())) == [kunshan_person]
    assert list(visible_to(manager, Unit.objects.all())) == [unit]
    client = client_for(manager)
    assert client.get(f"/units/{unit.pk}/").status_code == 200
    assert client.get(f"/units/{other.pk}/").status_code == 404
    assert client.get(f"/people/{stranger.pk}/").status_code == 404
    assert client.get(f"/people/{kunshan_person.pk}/").status_code == 200
    assert client.get(f"/api/v1/units/{other.pk}/roster").status_code == 404


def test_an_ended_roster_entry_ends_the_managers_view(two_counties, persona, system):
    from epigrid.units import services

    kunshan_person, _ = two_counties
    unit = services.create_unit(
        actor=system, data=services.UnitInput(kind="welfare_home", name="福利院", division_code=KUNSHAN_GRID)
    )
    entry = services.add_to_roster(actor=system, unit=unit, person=kunshan_person, role="resident")
    manager = persona("unit_manager", prefixes=[], units=[unit])
    services.end_roster_entry(actor=system, entry=entry)
    assert visible_to(manager, Person.objects.all()).count() == 0


def test_a_grid_worker_sees_their_grid_only(world, make_person, persona):
    mine = make_person(KUNSHAN_GRID, name="本网格")
    make_person("320583001001002", name="邻网格")
    worker = persona("grid_worker", prefixes=[KUNSHAN_GRID])
    assert list(visible_to(worker, Person.objects.all())) == [mine]


def test_prefix_q_is_a_plain_range():
    q = prefix_q("division_code", "3205")
    assert dict(q.children) == {"division_code__gte": "3205", "division_code__lt": "3206"}
