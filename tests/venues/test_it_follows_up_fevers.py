"""A fever or a red code at a venue door: the entry rules refuse entry and tell the home
community (a task routed to the person's division), and the reading goes through reassess
like any health check (R4.3, JS79-5)."""

from datetime import timedelta

import pytest

from epigrid.accounts.audit import Actor
from epigrid.healthcode.models import HealthCode
from epigrid.healthcode.services import ensure_code
from epigrid.rules import facts as rf
from epigrid.tasks.models import Task
from epigrid.venues.facts import venue_facts
from epigrid.venues.services import EntryInput, ingest_entries

pytestmark = pytest.mark.django_db


def test_it_refuses_a_fever_tells_the_home_community_and_reassesses(
    clock, make_venue, door_staff, make_person, grid_cells
):
    venue = make_venue(staff=[door_staff])
    person = make_person(grid_cells[5].code, name="赵磊")
    code = ensure_code(person)
    assert code.colour == "green"
    result = ingest_entries(
        actor=Actor(user=door_staff),
        items=[
            EntryInput(
                venue_id=venue.pk,
                method="staff_scan",
                code_id=code.code_id.hex,
                entered_at=clock.now - timedelta(minutes=2),
                temperature="38.4",
            )
        ],
    )
    answer = result.entries[0]
    assert not answer.admitted
    assert {"refuse_entry", "fever_clinic", "notify_community"} <= set(answer.actions)
    assert any("JS79-5" in step["requirements"] for step in answer.steps)
    task = Task.objects.get(person=person, source_type="venue_entry")
    assert task.division_code == grid_cells[5].code and task.assignee == "grid_worker"
    assert venue.name in task.title_zh and "38.4" in task.detail_zh
    assert task.due_at > task.created_at
    # the fever is now the person's latest health check, and their code no longer green
    assert HealthCode.objects.get(person=person).colour != "green"


def test_it_admits_a_green_code_at_a_normal_temperature_without_work(
    clock, make_venue, door_staff, make_person, grid_cells
):
    venue = make_venue(staff=[door_staff])
    person = make_person(grid_cells[5].code)
    code = ensure_code(person)
    result = ingest_entries(
        actor=Actor(user=door_staff),
        items=[
            EntryInput(
                venue_id=venue.pk,
                method="staff_scan",
                code_id=code.code_id.hex,
                entered_at=clock.now,
                temperature="36.4",
            )
        ],
    )
    assert result.entries[0].admitted and result.entries[0].actions == ()
    assert not Task.objects.filter(person=person).exists()


def test_the_latest_reading_of_any_producer_is_the_health_check(
    clock, make_venue, door_staff, make_person, grid_cells
):
    venue = make_venue(staff=[door_staff])
    person = make_person(grid_cells[5].code)
    code = ensure_code(person)
    ingest_entries(
        actor=Actor(user=door_staff),
        items=[
            EntryInput(
                venue_id=venue.pk,
                method="staff_scan",
                code_id=code.code_id.hex,
                entered_at=clock.now - timedelta(hours=1),
                temperature="36.5",
            ),
        ],
    )
    check = venue_facts([person], clock.now)[str(person.pk)]["health_check"]
    assert check.temperature == 36.5
    older = rf.HealthCheck(checked_at=clock.now - timedelta(days=1), temperature=38.0)
    merged = rf.merge([("declarations", {"health_check": older}), ("venues", {"health_check": check})])
    assert merged["health_check"] is check
    merged = rf.merge([("venues", {"health_check": check}), ("declarations", {"health_check": older})])
    assert merged["health_check"] is check
