"""Units and their rosters (R1.3): enterprises with credit codes, schools with classes."""

import pytest
from stdnum.cn import uscc

from epigrid.lib.errors import Conflict, DomainError
from epigrid.units import services
from epigrid.units.models import RosterEntry

GRID = "320583001001001"


def valid_uscc(body: str = "91320583MA1M00000") -> str:
    return body + uscc.calc_check_digit(body)


def test_it_registers_an_enterprise_with_its_credit_code(world, system):
    unit = services.create_unit(
        actor=system,
        data=services.UnitInput(
            kind="enterprise",
            name="昆山精密电子有限公司",
            division_code=GRID,
            uscc=valid_uscc().lower(),
            contact_name="王经理",
            contact_phone="13900001111",
            staff_count=520,
        ),
    )
    assert unit.uscc == valid_uscc()
    assert unit.contact_phone_masked == "139****1111"
    assert bytes(unit.contact_phone_enc) and b"13900001111" not in bytes(unit.contact_phone_enc)


@pytest.mark.parametrize(
    "kind, code_value, error",
    [
        ("enterprise", "", "uscc_missing"),
        ("construction_site", "", "uscc_missing"),
        ("enterprise", "91320583MA1M000001", "uscc_checksum"),
        ("hotel", "123", "uscc_format"),
    ],
)
def test_it_checks_the_credit_code(world, system, kind, code_value, error):
    with pytest.raises(DomainError) as err:
        services.create_unit(
            actor=system,
            data=services.UnitInput(kind=kind, name="某单位", division_code=GRID, uscc=code_value),
        )
    assert err.value.code == error and err.value.field == "uscc"


def test_a_school_needs_no_credit_code_and_has_classes(world, system, make_person):
    school = services.create_unit(
        actor=system, data=services.UnitInput(kind="school", name="昆山市实验小学", division_code=GRID)
    )
    class_3_2 = services.add_group(actor=system, unit=school, kind="class", name="3年级2班", grade=3)
    pupil = make_person(GRID, name="小明")
    teacher = make_person(GRID, name="李老师")
    services.add_to_roster(actor=system, unit=school, person=pupil, role="student", group=class_3_2)
    services.add_to_roster(actor=system, unit=school, person=teacher, role="teacher", group=class_3_2)
    assert set(class_3_2.members.values_list("person__name", flat=True)) == {"小明", "李老师"}
    with pytest.raises(Conflict):
        services.add_to_roster(actor=system, unit=school, person=pupil, role="student")
    with pytest.raises(Conflict):
        services.add_group(actor=system, unit=school, kind="class", name="3年级2班")


def test_an_ended_entry_stays_as_history_and_the_person_can_return(world, system, make_person):
    site = services.create_unit(
        actor=system,
        data=services.UnitInput(kind="construction_site", name="工地", division_code=GRID, uscc=valid_uscc()),
    )
    worker = make_person(GRID)
    entry = services.add_to_roster(actor=system, unit=site, person=worker, role="employee")
    services.end_roster_entry(actor=system, entry=entry)
    services.add_to_roster(actor=system, unit=site, person=worker, role="employee")
    assert RosterEntry.objects.filter(unit=site, person=worker).count() == 2


def test_a_unit_manager_adds_a_person_from_the_unit_page(world, system, make_person, persona, client_for):
    school = services.create_unit(
        actor=system, data=services.UnitInput(kind="school", name="一中", division_code=GRID)
    )
    manager = persona("unit_manager", prefixes=[], units=[school])
    pupil = make_person(GRID, name="新生")
    services.add_to_roster(actor=system, unit=school, person=pupil, role="student")
    from epigrid.lib.crypto import cipher
    from epigrid.people.services import ID_FIELD

    newcomer = make_person(GRID, name="插班生")
    client = client_for(manager)
    number = cipher().decrypt(ID_FIELD, newcomer.id_number_enc, row=newcomer.pk)
    client.post(f"/units/{school.pk}/roster/add", {"id_number": number, "role": "student"})
    # the newcomer was not visible to the manager before: the page refuses to look up strangers
    assert not RosterEntry.objects.filter(unit=school, person=newcomer).exists()
    page = client.get(f"/units/{school.pk}/").content.decode()
    assert "新生" in page


def test_the_unit_pages_render_for_command_staff(world, system, persona, client_for):
    unit = services.create_unit(
        actor=system, data=services.UnitInput(kind="elderly_care", name="敬老院", division_code=GRID)
    )
    client = client_for(persona("county_command"))
    assert "敬老院" in client.get("/units/").content.decode()
    assert client.get(f"/units/{unit.pk}/").status_code == 200
    response = client.post(
        "/units/new/",
        {"kind": "hotel", "name": "新酒店", "division_code": GRID, "uscc": valid_uscc("91320583MA1M00001")},
    )
    assert response.status_code == 302


def test_units_api_lists_and_creates(world, persona, client_for):
    client = client_for(persona("county_command"))
    created = client.post(
        "/api/v1/units",
        {"kind": "school", "name": "API学校", "division_code": GRID},
        content_type="application/json",
    )
    assert created.status_code == 201
    unit_id = created.json()["id"]
    group = client.post(
        f"/api/v1/units/{unit_id}/groups",
        {"kind": "class", "name": "1年级1班", "grade": 1},
        content_type="application/json",
    )
    assert group.status_code == 201
    assert [u["name"] for u in client.get("/api/v1/units", {"kind": "school"}).json()["items"]] == ["API学校"]


def test_a_merge_ends_a_doubled_place_on_the_merge_s_china_day(make_person, system):
    from datetime import UTC, date, datetime

    unit = services.create_unit(
        actor=system, data=services.UnitInput(kind="school", name="二中", division_code=GRID)
    )
    survivor, merged = make_person(GRID), make_person(GRID)
    kept = services.add_to_roster(
        actor=system, unit=unit, person=survivor, role="teacher", started_on=date(2026, 1, 5)
    )
    doubled = services.add_to_roster(
        actor=system, unit=unit, person=merged, role="teacher", started_on=date(2026, 1, 5)
    )
    other = services.add_to_roster(
        actor=system, unit=unit, person=merged, role="staff", started_on=date(2026, 1, 5)
    )
    # 17:30 UTC is already the next day in China
    assert (
        services.merge_roster(survivor=survivor, merged=merged, at=datetime(2026, 3, 1, 17, 30, tzinfo=UTC))
        == 2
    )
    rows = {r.pk: r for r in RosterEntry.objects.filter(person=survivor)}
    assert set(rows) == {kept.pk, doubled.pk, other.pk}
    assert rows[doubled.pk].ended_on == date(2026, 3, 2)
    assert rows[kept.pk].ended_on is None and rows[other.pk].ended_on is None
