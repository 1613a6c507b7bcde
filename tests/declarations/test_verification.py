"""Checks on the ground (落地核查, R2.4, R2.5): the grid worker records what they found; a person
found confirms the arrival and the rules run; "left" and "wrong information" withdraw a pushed
arrival's facts; "not found" is recorded; the data team's feedback shows it all."""

from datetime import timedelta

import pytest
from django.utils import timezone

from epigrid.accounts.audit import Actor
from epigrid.declarations import services
from epigrid.declarations.models import (
    Channel,
    Declaration,
    DeclarationStatus,
    Outcome,
    PushedRow,
    VerificationStatus,
    VerificationTask,
)
from epigrid.declarations.services import pushed_commit, pushed_upload, queries
from epigrid.declarations.validation import DeclarationError
from epigrid.lib.errors import Conflict, Forbidden, NotFound
from epigrid.people.models import Person
from epigrid.rules.models import MeasureRecord, MeasureStatus
from epigrid.tasks.models import Task, TaskStatus

from .conftest import COMMUNITY, GRID, GRID_B, arrival, identity
from .lists import xlsx


@pytest.fixture
def worker(persona):
    return Actor(user=persona("grid_worker", prefixes=[GRID]), via="test")


@pytest.fixture
def commit(persona):
    team = Actor(user=persona("data_team"), via="test")

    def run(rows):
        listed = pushed_upload.upload(
            actor=team, name="推送", source="telecom", file_name="l.xlsx", data=xlsx(rows)
        )
        assert listed.error_rows == 0, [i.text for i in queries.row_errors(listed)]
        pushed_commit.request_commit(actor=team, pushed=listed, enqueue=False)
        pushed_commit.run_commit(list_id=listed.pk, actor=team)
        return list(
            VerificationTask.objects.filter(pushed_row__pushed_list=listed).order_by("pushed_row__row_number")
        )

    return run


def _arrived(now, hours=20):
    return timezone.localtime(now - timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M")


def _open_rules(person_id) -> set[str]:
    return set(
        MeasureRecord.objects.filter(person_id=person_id, status=MeasureStatus.OPEN).values_list(
            "rule_id", flat=True
        )
    )


def _number(person):
    from epigrid.lib.crypto import cipher
    from epigrid.people.services import ID_FIELD

    return cipher().decrypt(ID_FIELD, person.id_number_enc, row=person.pk)


def test_found_confirms_the_arrival_of_a_matched_person(worker, commit, make_person, id_numbers, clock):
    person = make_person(GRID, name="韩梅", number=id_numbers(division="320583"))
    (task,) = commit([[_number(person), "韩梅", "", "武汉市", _arrived(clock.now), "", GRID, "火车", "G2"]])
    assert _open_rules(person.pk) == {"JS79-13/wuhan"}  # the pushed arrival already counts
    services.complete_verification(actor=worker, task=task, outcome=Outcome.FOUND, notes="已到家")
    task.refresh_from_db()
    assert (task.status, task.outcome, task.notes) == (VerificationStatus.DONE, "found", "已到家")
    declaration = task.result_declaration
    assert declaration.channel == Channel.VERIFICATION and declaration.status == DeclarationStatus.CONFIRMED
    assert declaration.person_id == person.pk and declaration.origin == "420100"
    assert declaration.verified_by == worker.user
    row = PushedRow.objects.get(pk=task.pushed_row_id)
    assert row.excluded_from_facts  # the confirmed declaration carries the arrival now
    assert _open_rules(person.pk) == {"JS79-13/wuhan"}
    assert Task.objects.get(source_type="verification", source_id=str(task.pk)).status == TaskStatus.DONE
    with pytest.raises(Conflict):
        services.complete_verification(actor=worker, task=task, outcome=Outcome.LEFT)


def test_found_registers_a_person_the_list_did_not_match(worker, commit, id_numbers, clock):
    number = id_numbers()
    (task,) = commit(
        [[number, "马丽", "13655554444", "湖北省宜昌市", _arrived(clock.now), "", GRID, "自驾", "鄂E1"]]
    )
    assert task.person_id is None
    services.complete_verification(actor=worker, task=task, outcome=Outcome.FOUND)
    task.refresh_from_db()
    person = Person.objects.get(pk=task.person_id)
    assert person.name == "马丽" and person.division_code == GRID and person.phone_masked == "136****4444"
    assert person.source == "verification"
    assert _open_rules(person.pk) == {"JS79-13/hubei"}


def test_found_without_a_document_asks_the_worker_for_it(worker, commit, clock):
    (task,) = commit([["", "牛犇", "13655553333", "湖北省宜昌市", _arrived(clock.now), "", GRID, "", ""]])
    with pytest.raises(DeclarationError) as error:
        services.complete_verification(actor=worker, task=task, outcome=Outcome.FOUND)
    assert error.value.field == "id_number"
    task.refresh_from_db()
    assert task.status == VerificationStatus.OPEN  # nothing half-recorded


@pytest.mark.parametrize("outcome, counts", [("left", False), ("wrong_info", False), ("not_found", True)])
def test_other_outcomes_decide_whether_the_pushed_arrival_still_counts(
    worker, commit, make_person, id_numbers, outcome, counts, clock
):
    person = make_person(GRID, name="杨帆", number=id_numbers(division="320583"))
    (task,) = commit([[_number(person), "杨帆", "", "武汉", _arrived(clock.now), "", GRID, "", ""]])
    services.complete_verification(actor=worker, task=task, outcome=outcome, notes="记录")
    assert PushedRow.objects.get(pk=task.pushed_row_id).excluded_from_facts is not counts
    assert (_open_rules(person.pk) == {"JS79-13/wuhan"}) is counts
    assert not Declaration.objects.filter(person=person).exists()


def test_a_worker_cannot_record_a_check_outside_their_grid(commit, persona, id_numbers, clock):
    (task,) = commit([[id_numbers(), "林", "", "武汉", _arrived(clock.now), "", GRID, "", ""]])
    neighbour = Actor(user=persona("grid_worker", prefixes=[GRID_B]), via="test")
    with pytest.raises(NotFound):
        services.complete_verification(actor=neighbour, task=task, outcome=Outcome.FOUND)
    command = Actor(user=persona("county_command"), via="test")
    with pytest.raises(Forbidden):  # commands route checks; grid workers and units do them
        services.complete_verification(actor=command, task=task, outcome=Outcome.FOUND)


def test_a_command_routes_a_community_check_to_a_grid_cell(commit, persona, id_numbers, worker, clock):
    (task,) = commit([[id_numbers(), "林", "", "武汉", _arrived(clock.now), "", COMMUNITY, "", ""]])
    assert task.assignee == "command"
    command = Actor(user=persona("county_command"), via="test")
    with pytest.raises(DeclarationError):
        services.route_verification(actor=command, task=task, division_code="320583002001001")  # not inside
    services.route_verification(actor=command, task=task, division_code=GRID)
    task.refresh_from_db()
    assert (task.division_code, task.assignee) == (GRID, "grid_worker")
    mirrors = Task.objects.filter(source_type="verification", source_id=str(task.pk))
    assert sorted(mirrors.values_list("status", "division_code")) == [
        ("cancelled", COMMUNITY),
        ("open", GRID),
    ]
    services.complete_verification(actor=worker, task=task, outcome=Outcome.NOT_FOUND)


def test_a_unit_manager_checks_an_employee_on_their_roster(persona, commit, make_person, id_numbers, clock):
    from epigrid.units.models import RosterEntry, Unit

    unit = Unit.objects.create(kind="enterprise", name="昆山某厂", division_code=GRID_B, uscc="")
    person = make_person(GRID, name="秦川", number=id_numbers(division="320583"))
    RosterEntry.objects.create(
        unit=unit, person=person, role="employee", division_code=GRID_B, started_on=clock.today
    )
    (task,) = commit([[_number(person), "秦川", "", "武汉", _arrived(clock.now), "", "", "", ""]])
    assert task.unit_id == unit.pk and task.division_code == GRID  # the grid cell and the unit both see it
    manager = Actor(user=persona("unit_manager", prefixes=[], units=[unit]), via="test")
    services.complete_verification(actor=manager, task=task, outcome=Outcome.FOUND, notes="已返岗")
    assert VerificationTask.objects.get(pk=task.pk).outcome == "found"


def test_an_unconfirmed_public_declaration_counts_once_found(world, worker, make_person, id_numbers):
    number = id_numbers(division="320583")
    person = make_person(GRID, name="许晴", phone="13900001111", number=number)
    result = services.declare_public(
        actor=Actor(user=None, via="public"), person_data=identity(number, name="许睛"), data=arrival()
    )
    assert _open_rules(person.pk) == set()
    task = VerificationTask.objects.get(declaration=result.declaration)
    services.complete_verification(actor=worker, task=task, outcome=Outcome.FOUND, notes="本人确认，姓名错字")
    declaration = Declaration.objects.get(pk=result.declaration.pk)
    assert declaration.status == DeclarationStatus.CONFIRMED and declaration.verified_by == worker.user
    assert _open_rules(person.pk) == {"JS79-13/wuhan"}


def test_a_false_public_declaration_is_withdrawn_on_wrong_information(world, worker, make_person, id_numbers):
    number = id_numbers(division="320583")
    person = make_person(GRID, name="许晴", phone="13900001111", number=number)
    result = services.declare_public(
        actor=Actor(user=None, via="public"), person_data=identity(number, name="冒名者"), data=arrival()
    )
    task = VerificationTask.objects.get(declaration=result.declaration)
    services.complete_verification(actor=worker, task=task, outcome=Outcome.WRONG_INFO)
    assert Declaration.objects.get(pk=result.declaration.pk).status == DeclarationStatus.WITHDRAWN
    assert _open_rules(person.pk) == set()
