"""Registering, finding and editing people (R1.1): the one-person-one-record registry."""

from datetime import date

import pytest

from epigrid.accounts.audit import Actor
from epigrid.accounts.models import AuditEvent
from epigrid.lib.errors import Conflict, DomainError
from epigrid.people import services
from epigrid.people.models import Person

GRID = "320583001001001"


def test_it_registers_a_person_from_a_resident_id(make_person):
    person = make_person(GRID, name="李娜", phone="138 1234 5678", birth=date(1988, 2, 29), sex="F")
    assert person.birth_date == date(1988, 2, 29)
    assert person.sex == "F"
    assert person.id_number_masked.startswith("3205") and "*" in person.id_number_masked
    assert person.phone_masked == "138****5678"
    assert person.name_pinyin == "lina"


def test_it_refuses_a_second_record_for_the_same_number(make_person):
    person = make_person(GRID)
    with pytest.raises(Conflict):
        make_person(GRID, number=_number_of(person))


def _number_of(person):
    from epigrid.lib.crypto import cipher

    return cipher().decrypt(services.ID_FIELD, person.id_number_enc, row=person.pk)


@pytest.mark.parametrize(
    "field, value, code",
    [
        ("division_code", "320583999999999", "division_unknown"),
        ("name", "   ", "name_missing"),
        ("phone", "12345", "phone_format"),
        ("id_number", "320583199001011234", "id_checksum"),
    ],
)
def test_it_names_the_field_that_is_wrong(world, system, field, value, code):
    data = services.PersonInput(
        doc_type="resident_id", id_number="11010519491231002X", name="王芳", division_code=GRID
    )
    setattr(data, field, value)
    with pytest.raises(DomainError) as err:
        services.register_person(actor=system, data=data)
    assert err.value.code == code
    assert err.value.field == field


def test_it_keeps_the_birth_date_of_the_id_number(world, system):
    data = services.PersonInput(
        doc_type="resident_id",
        id_number="11010519491231002X",
        name="王芳",
        division_code=GRID,
        birth_date=date(1950, 1, 1),
    )
    with pytest.raises(DomainError) as err:
        services.register_person(actor=system, data=data)
    assert err.value.field == "birth_date"


def test_it_registers_a_passport_holder_with_a_birth_date(world, system):
    person = services.register_person(
        actor=system,
        data=services.PersonInput(
            doc_type="passport",
            id_number="e1234 5678",
            name="SMITH JOHN",
            division_code=GRID,
            birth_date=date(1980, 3, 3),
            sex="M",
            nationality="usa",
        ),
    )
    assert person.nationality == "USA"
    assert person.id_number_masked == "E123*5678"


def test_it_finds_a_person_by_id_number_phone_and_name(make_person, persona):
    person = make_person(GRID, name="赵敏", phone="13912345678")
    make_person(GRID, name="赵本山")
    user = persona("grid_worker", prefixes=[GRID])
    assert list(services.search(user, _number_of(person))) == [person]
    assert list(services.search(user, _number_of(person).lower())) == [person]
    assert list(services.search(user, "139-1234-5678")) == [person]
    assert list(services.search(user, "赵敏")) == [person]
    assert set(services.search(user, "赵")) == {person, Person.objects.get(name="赵本山")}
    assert list(services.search(user, "zhaomin")) == [person]


def test_it_records_which_fields_changed(make_person, persona):
    person = make_person(GRID, name="周杰")
    worker = persona("grid_worker", prefixes=[GRID])
    services.update_person(
        actor=Actor(user=worker),
        person=person,
        changes=services.PersonChanges(address="昆山市前进路1号", phone="13700000000"),
    )
    event = AuditEvent.objects.filter(object_id=str(person.pk), action="update").get()
    assert sorted(event.fields) == ["address", "phone"]
    assert event.actor == worker


def test_a_grid_worker_cannot_move_a_person_out_of_their_area(make_person, persona):
    person = make_person(GRID)
    worker = persona("grid_worker", prefixes=[GRID])
    with pytest.raises(DomainError) as err:
        services.update_person(
            actor=Actor(user=worker),
            person=person,
            changes=services.PersonChanges(division_code="320583001001002"),
        )
    assert err.value.code == "division_unknown"
