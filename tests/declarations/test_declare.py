"""Declaring arrivals and departures (R2.1–R2.3): on the public page, by community and unit
staff, with travel history, overseas entry, declarations in advance, business trips and their
return, and the rules run at once (JS79-13, JX57-2.1, JX57-2.2, JX57-3.12, XC-2.1)."""

from datetime import timedelta

import pytest

from epigrid.accounts.audit import Actor
from epigrid.accounts.models import AuditEvent
from epigrid.declarations import services
from epigrid.declarations.models import (
    Channel,
    Declaration,
    DeclarationStatus,
    TravelStop,
    VerificationKind,
    VerificationTask,
)
from epigrid.declarations.validation import DeclarationError
from epigrid.lib.errors import Forbidden
from epigrid.people.models import Person, PrivateLink
from epigrid.rules.models import MeasureRecord, MeasureStatus
from epigrid.tasks.models import Task, TaskStatus

from .conftest import GRID, GRID_B, OTHER_GRID, WUCHANG, WUHAN, YICHANG, arrival, identity, local, stop

PUBLIC = Actor(user=None, via="public", ip="203.0.113.9")


def _rules_of(person) -> set[str]:
    return set(
        MeasureRecord.objects.filter(person=person, status=MeasureStatus.OPEN).values_list(
            "rule_id", flat=True
        )
    )


# --- the public page's path -------------------------------------------------------------------


def test_it_registers_a_new_person_and_gives_a_private_link(world, id_numbers):
    number = id_numbers()
    result = services.declare_public(actor=PUBLIC, person_data=identity(number), data=arrival())
    person = result.declaration.person
    assert person.source == "self_declaration" and person.division_code == GRID
    assert person.phone_masked == "139****1111"
    assert result.confirmed and result.token
    link = PrivateLink.objects.get(person=person)
    assert link.token_hash != result.token  # only the hash is stored
    assert result.declaration.channel == Channel.PUBLIC
    assert result.declaration.status == DeclarationStatus.DECLARED
    # JS79-13: a Wuhan arrival takes a nucleic-acid and a serology test
    wuhan = MeasureRecord.objects.get(person=person, rule_id="JS79-13/wuhan")
    assert wuhan.params["tests"] == ["nucleic_acid", "serology"]
    assert "JS79-13" in wuhan.requirements
    assert AuditEvent.objects.filter(object_type="declaration", object_id=str(result.declaration.pk)).exists()


def test_it_matches_a_registered_person_by_document_number(world, make_person, id_numbers):
    number = id_numbers(division="320583")
    person = make_person(GRID_B, name="刘洋", phone="13911112222", number=number)
    result = services.declare_public(
        actor=PUBLIC, person_data=identity(number, name="刘洋", phone="139 1111 2222"), data=arrival()
    )
    assert result.declaration.person_id == person.pk and result.confirmed
    assert Person.objects.filter(name="刘洋").count() == 1
    person.refresh_from_db()
    assert person.division_code == GRID_B  # public input never moves a registered record
    assert "JS79-13/wuhan" in _rules_of(person)


@pytest.mark.parametrize("name, phone", [("刘阳", "13911112222"), ("刘洋", "13900009999")])
def test_details_that_differ_from_the_registry_wait_for_a_check_on_the_ground(
    world, make_person, id_numbers, name, phone
):
    """Someone typing another person's number must not change that person's measures or
    obtain their status link."""
    number = id_numbers(division="320583")
    person = make_person(GRID_B, name="刘洋", phone="13911112222", number=number)
    result = services.declare_public(
        actor=PUBLIC, person_data=identity(number, name=name, phone=phone), data=arrival()
    )
    assert not result.confirmed and result.token is None
    assert result.declaration.status == DeclarationStatus.UNCONFIRMED
    assert not PrivateLink.objects.filter(person=person).exists()
    assert _rules_of(person) == set()  # the declaration counts for nothing yet
    check = VerificationTask.objects.get(declaration=result.declaration)
    assert check.kind == VerificationKind.DECLARATION and check.division_code == GRID
    assert check.due_at == result.declaration.declared_at + timedelta(hours=24)
    assert Task.objects.get(source_type="verification", source_id=str(check.pk)).assignee == "grid_worker"


def test_it_keeps_the_travel_history_and_adds_the_origin(world, id_numbers, now):
    day = local(now)
    data = arrival(
        origin=YICHANG,
        stops=[
            stop(WUCHANG, day - timedelta(days=10), day - timedelta(days=6)),
            stop(YICHANG, day - timedelta(days=5)),
        ],
    )
    result = services.declare_public(actor=PUBLIC, person_data=identity(id_numbers()), data=data)
    stops = list(TravelStop.objects.filter(declaration=result.declaration).order_by("ordinal"))
    assert [(s.area, s.from_origin) for s in stops] == [(WUCHANG, False), (YICHANG, False)]
    assert stops[1].end == local(result.declaration.arrived_at)  # an open stay ends on arrival
    # Wuchang lies in Wuhan: the Wuhan rule applies even though the journey began in Yichang
    assert "JS79-13/wuhan" in _rules_of(result.declaration.person)

    other = services.declare_public(
        actor=PUBLIC, person_data=identity(id_numbers()), data=arrival(origin=YICHANG, stops=[])
    )
    origin_stop = TravelStop.objects.get(declaration=other.declaration)
    assert (origin_stop.area, origin_stop.from_origin) == (YICHANG, True)
    assert _rules_of(other.declaration.person) == {"JS79-13/hubei"}


@pytest.mark.parametrize(
    "field, data, code",
    [
        ("arrived_at", {"arrived_at": None}, "arrived_at_missing"),
        ("origin", {"origin": "ZZ"}, "place_unknown"),
        ("origin", {"origin": "12345"}, "place_invalid"),
        ("origin", {"origin": "999999"}, "place_unknown"),
        ("division_code", {"division_code": "320583999999999"}, "division_unknown"),
        ("transport_number", {"transport": "car", "transport_number": ""}, "plate_missing"),
        ("temperature", {"temperature": "41.9x"}, "temperature_invalid"),
        ("temperature", {"temperature": 45}, "temperature_range"),
        ("temperature", {"temperature": float("nan")}, "temperature_range"),
        ("symptoms", {"symptoms": ["sneezing"]}, "symptom_invalid"),
        ("entered_country_at", {"origin": "US", "entered_country_at": "later"}, "time_invalid"),
    ],
)
def test_it_names_the_field_in_error(world, id_numbers, field, data, code):
    declaration = arrival()
    for key, value in data.items():
        setattr(declaration, key, value)
    with pytest.raises(DeclarationError) as error:
        services.declare_public(actor=PUBLIC, person_data=identity(id_numbers()), data=declaration)
    assert (error.value.field, error.value.code) == (field, code)
    assert not Declaration.objects.exists()


def test_a_stop_after_the_arrival_is_refused(world, id_numbers, now):
    day = local(now)
    with pytest.raises(DeclarationError) as error:
        services.declare_public(
            actor=PUBLIC,
            person_data=identity(id_numbers()),
            data=arrival(stops=[stop(WUHAN, day - timedelta(days=3), day + timedelta(days=2))]),
        )
    assert error.value.field == "stops.0.end"


def test_the_public_page_never_sets_point_to_point_hosting(world, id_numbers):
    data = arrival(
        purpose="business_visit", declared_stay_days=2, point_to_point_hosting=True, host_name="某公司"
    )
    result = services.declare_public(actor=PUBLIC, person_data=identity(id_numbers()), data=data)
    assert result.declaration.point_to_point_hosting is False
    assert "JS79-13/wuhan" in _rules_of(result.declaration.person)


# --- overseas arrivals, in advance -------------------------------------------------------------


def test_an_overseas_arrival_declared_in_advance_is_reassessed_when_it_happens(
    world, id_numbers, django_capture_on_commit_callbacks, clock
):
    from django_tasks_db.models import DBTaskResult

    now = clock.now
    data = arrival(origin="US", days_ago=-3, transport="flight", transport_number="MU588")
    data.entry_port = "310000"
    with django_capture_on_commit_callbacks(execute=True):
        result = services.declare_public(actor=PUBLIC, person_data=identity(id_numbers()), data=data)
    declaration = result.declaration
    assert declaration.in_advance and declaration.from_abroad
    # before the arrival the rules have nothing to act on
    assert _rules_of(declaration.person) == set()
    job = DBTaskResult.objects.get(task_path="epigrid.declarations.tasks.reassess_person")
    assert job.run_after == declaration.arrived_at
    assert job.args_kwargs["args"] == [str(declaration.person_id), "declared_arrival"]
    expected = Task.objects.get(source_type="declaration_expected", source_id=str(declaration.pk))
    assert expected.due_at == declaration.arrived_at and expected.division_code == GRID

    # at the arrival time the task runs: inbound travellers are tested (NA182-2.5.1)
    from epigrid.rules.services import reassess_many

    reassess_many([declaration.person_id], actor=Actor.system("test"), at=now + timedelta(days=3, hours=1))
    assert "NA182-2.5.1/inbound-test" in _rules_of(declaration.person)


def test_an_overseas_arrival_records_entry_and_isolation_at_the_first_entry_point(world, id_numbers, now):
    data = arrival(origin="IT", days_ago=1, transport="car", transport_number="苏E12345")
    data.entered_country_at = now - timedelta(days=16)
    data.entry_port = "310115"
    data.isolated_at_first_entry = True
    result = services.declare_public(actor=PUBLIC, person_data=identity(id_numbers()), data=data)
    d = result.declaration
    assert (d.from_abroad, d.entry_port, d.isolated_at_first_entry) == (True, "310115", True)
    stops = {s.area: (s.start, s.end) for s in TravelStop.objects.filter(declaration=d)}
    entered = local(data.entered_country_at)
    assert stops["IT"] == (entered, entered)  # abroad until the entry, not until the arrival
    assert stops["310115"] == (entered, local(d.arrived_at))


# --- staff ------------------------------------------------------------------------------------


def test_a_grid_worker_declares_for_a_person_of_their_grid(world, persona, make_person, id_numbers):
    worker = persona("grid_worker", prefixes=[GRID])
    person = make_person(GRID, name="黄磊", number=id_numbers(division="320583"))
    declaration = services.declare(actor=Actor(user=worker, via="test"), person=person, data=arrival())
    assert declaration.channel == Channel.STAFF and declaration.declared_by == worker
    assert "JS79-13/wuhan" in _rules_of(person)
    with pytest.raises(DeclarationError) as error:
        services.declare(
            actor=Actor(user=worker, via="test"), person=person, data=arrival(division=OTHER_GRID)
        )
    assert error.value.field == "division_code"


def test_a_grid_worker_registers_someone_new_in_their_grid(world, persona, id_numbers):
    worker = persona("grid_worker", prefixes=[GRID])
    declaration = services.declare_for_new_person(
        actor=Actor(user=worker, via="test"), person_data=identity(id_numbers(), phone=""), data=arrival()
    )
    assert declaration.person.division_code == GRID and declaration.person.source == "staff_declaration"


def test_roles_without_the_power_cannot_declare(world, persona, make_person):
    person = make_person(GRID)
    for role in ("data_team", "lab", "auditor"):
        with pytest.raises(Forbidden):
            services.declare(actor=Actor(user=persona(role), via="test"), person=person, data=arrival())


def test_a_unit_declares_a_hosted_business_visit_that_is_exempt(world, persona, id_numbers):
    """JS79-13: an official or business visit of at most 3 days, hosted point to point by the
    receiving unit, needs no test."""
    from epigrid.units.models import Unit

    unit = Unit.objects.create(kind="enterprise", name="昆山精密电子有限公司", division_code=GRID, uscc="")
    manager = persona("unit_manager", prefixes=[], units=[unit])
    data = arrival(
        purpose="business_visit", declared_stay_days=2, host_unit_id=unit.pk, point_to_point_hosting=True
    )
    declaration = services.declare_for_new_person(
        actor=Actor(user=manager, via="test"), person_data=identity(id_numbers(), name="客商甲"), data=data
    )
    assert declaration.host_name == unit.name and declaration.point_to_point_hosting
    assert _rules_of(declaration.person) == {"JS79-13/short-business-visit"}
    exempt = MeasureRecord.objects.get(person=declaration.person)
    assert exempt.kind == "exempt" and exempt.requirements == ["JS79-13"]
    # the audit row of the new record names the unit manager who asked for it
    assert AuditEvent.objects.filter(
        object_type="person", object_id=str(declaration.person_id), actor=manager
    ).exists()
    # a stay of four days is no longer the exemption
    longer = arrival(
        purpose="business_visit", declared_stay_days=4, host_unit_id=unit.pk, point_to_point_hosting=True
    )
    second = services.declare_for_new_person(
        actor=Actor(user=manager, via="test"), person_data=identity(id_numbers(), name="客商乙"), data=longer
    )
    assert _rules_of(second.person) == {"JS79-13/wuhan"}


def test_only_the_host_unit_may_claim_point_to_point_hosting(world, persona, make_person):
    from epigrid.units.models import Unit

    unit = Unit.objects.create(kind="enterprise", name="某公司", division_code=GRID, uscc="")
    other = Unit.objects.create(kind="enterprise", name="别的公司", division_code="320585001001001", uscc="")
    manager = persona("unit_manager", prefixes=[], units=[unit])
    person = make_person(GRID)
    data = arrival(
        purpose="business_visit", declared_stay_days=1, host_unit_id=other.pk, point_to_point_hosting=True
    )
    with pytest.raises(DeclarationError) as error:
        services.declare(actor=Actor(user=manager, via="test"), person=person, data=data)
    assert error.value.field == "host_unit_id"


def test_withdrawing_a_declaration_closes_its_measures(world, persona, make_person, id_numbers):
    worker = Actor(user=persona("grid_worker", prefixes=[GRID]), via="test")
    person = make_person(GRID, number=id_numbers(division="320583"))
    declaration = services.declare(actor=worker, person=person, data=arrival())
    assert "JS79-13/wuhan" in _rules_of(person)
    with pytest.raises(DeclarationError):
        services.withdraw(actor=worker, declaration=declaration, reason=" ")
    services.withdraw(actor=worker, declaration=declaration, reason="重复报备")
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.WITHDRAWN and declaration.withdrawn_reason == "重复报备"
    assert _rules_of(person) == set()
    assert Declaration.objects.filter(pk=declaration.pk).exists()  # kept, never deleted


# --- departures (JX57-3.12) ----------------------------------------------------------------------


def test_a_business_trip_is_watched_until_the_return_is_declared(
    world, persona, make_person, id_numbers, clock
):
    worker = Actor(user=persona("grid_worker", prefixes=[GRID]), via="test")
    person = make_person(GRID, number=id_numbers(division="320583"))
    now = clock.now
    departure = services.declare(
        actor=worker,
        person=person,
        data=services.DeclarationInput(
            kind="departure",
            departs_at=now - timedelta(days=5),
            travel_to=WUHAN,
            expected_return_on=local(now),
            purpose="work",
            transport="train",
        ),
    )
    assert departure.division_code == GRID  # a departure is scoped by the residence
    watch = Task.objects.get(source_type="declaration", source_id=str(departure.pk))
    assert watch.status == TaskStatus.OPEN and watch.kind == "departure_return"
    assert _rules_of(person) == set()  # leaving decides nothing

    day = local(now)
    back = services.declare(
        actor=worker,
        person=person,
        data=arrival(origin=WUHAN, days_ago=0, stops=[stop(WUHAN, day - timedelta(days=5), day)]),
    )
    assert back.return_of_id == departure.pk
    watch.refresh_from_db()
    assert watch.status == TaskStatus.DONE and watch.outcome == "returned"
    assert "JS79-13/wuhan" in _rules_of(person)  # health management on return


def test_a_departure_needs_its_time_and_destination(world, persona, make_person, clock):
    worker = Actor(user=persona("grid_worker", prefixes=[GRID]), via="test")
    person = make_person(GRID)
    with pytest.raises(DeclarationError) as error:
        services.declare(
            actor=worker, person=person, data=services.DeclarationInput(kind="departure", travel_to=WUHAN)
        )
    assert error.value.field == "departs_at"
    with pytest.raises(DeclarationError) as error:
        services.declare(
            actor=worker,
            person=person,
            data=services.DeclarationInput(kind="departure", departs_at=clock.now),
        )
    assert error.value.field == "travel_to"
