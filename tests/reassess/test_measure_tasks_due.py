"""The tasks a reassessment opens for measures are due when their person's time to act runs out,
never at the measure's start (issue 10.2): a Kunshan key-area returnee's grid worker sees 14 days
of isolation and monitoring as work due in hours, not as "已逾期" on day one."""

from datetime import date, timedelta

import pytest

from epigrid.rules.services.sweeping import reassess, reassess_many
from epigrid.tasks.models import Task
from epigrid.tasks.services import counts_by_division


@pytest.mark.parametrize(
    "late",
    [
        pytest.param(timedelta(minutes=10), id="assessed on arrival"),
        pytest.param(timedelta(days=2), id="declared two days late"),
    ],
)
def test_it_opens_a_key_area_returnees_tasks_due_in_their_time_to_act_not_overdue(
    book, listing, make_person, cell, system, persona, client_for, late, clock
):
    listing("420000", "key", date(2020, 1, 23), notice="key-area list")
    now = clock.now
    person = book.arrival(make_person(cell.code, name="李雷"), at=now - late, origin="420102")

    reassess(person, actor=system, at=now, cause="declaration")

    tasks = {t.kind: t for t in Task.objects.filter(person=person, status="open")}
    assert {"measure_quarantine", "measure_health_monitoring", "measure_test"} <= set(tasks)
    # counted from when the task reaches the grid worker (after the arrival): the isolation
    # arranged within hours, the first daily check within the day, the Wuhan tests (JS79-13) in
    # their own 12 hours
    assert tasks["measure_quarantine"].due_at == now + timedelta(hours=4)
    assert tasks["measure_health_monitoring"].due_at == now + timedelta(hours=24)
    assert tasks["measure_test"].due_at == now + timedelta(hours=12)
    assert all(t.due_at > t.created_at == now for t in tasks.values())

    worker = client_for(persona("grid_worker", prefixes=[cell.code]))
    page = worker.get("/tasks/").content.decode()
    assert "李雷" in page and "已逾期" not in page
    items = worker.get("/api/v1/tasks").json()["items"]
    assert {i["kind"] for i in items} >= set(tasks) and not any(i["overdue"] for i in items)
    county = persona("county_command")
    assert sum(row["overdue"] for row in counts_by_division(county, "320583")) == 0
    command = client_for(county).get("/tasks/command/?division=320583").content.decode()
    assert '<div class="stat" style="color: var(--danger)">0</div>' in command


def test_the_migration_redates_open_tasks_opened_due_at_their_measures_start(
    book, listing, make_person, cell, system, clock
):
    import importlib

    from django.apps import apps

    from epigrid.accounts.models import AuditEvent
    from epigrid.rules.models import MeasureRecord

    migration = importlib.import_module(
        "epigrid.rules.migrations.0004_measure_tasks_due_in_their_time_to_act"
    )
    listing("420000", "key", date(2020, 1, 23))
    now = clock.now
    person = book.arrival(make_person(cell.code), at=now - timedelta(days=2), origin="420102")
    reassess(person, actor=system, at=now)
    quarantine = Task.objects.get(person=person, kind="measure_quarantine")
    monitoring = Task.objects.get(person=person, kind="measure_health_monitoring")
    # as the old handler opened it: due at the measure's start, overdue from the first day
    start = MeasureRecord.objects.get(pk=quarantine.source_id).starts_at
    Task.objects.filter(pk=quarantine.pk).update(due_at=start)

    migration.redate(apps, None)

    quarantine.refresh_from_db()
    assert quarantine.due_at == now + timedelta(hours=4)
    audited = AuditEvent.objects.filter(object_type="task", via="migration")
    assert list(audited.values_list("object_id", "fields")) == [(str(quarantine.pk), ["due_at"])]
    assert Task.objects.get(pk=monitoring.pk).due_at == monitoring.due_at  # already right: untouched


def test_it_says_when_a_tests_own_time_limit_passed_before_its_task_existed(
    book, listing, make_person, cell, system, clock
):
    """Declared two days late: the Wuhan tests (JS79-13) were due 12 hours after arrival. The task
    still gives the grid worker their time to act, and its title says the test's limit is past,
    so the page shows no due time in the past beside a deadline ahead without saying why."""
    listing("420000", "key", date(2020, 1, 23), notice="key-area list")
    now = clock.now
    late = book.arrival(make_person(cell.code, name="韩梅梅"), at=now - timedelta(days=2), origin="420102")
    on_time = book.arrival(make_person(cell.code, name="李雷"), at=now - timedelta(hours=1), origin="420102")

    reassess_many([late.pk, on_time.pk], actor=system, at=now, cause="declaration")

    late_task = Task.objects.get(person=late, kind="measure_test")
    assert late_task.due_at > now
    assert "已过检测时限" in late_task.title_zh and "past the test's time limit" in late_task.title_en
    on_time_task = Task.objects.get(person=on_time, kind="measure_test")
    assert "检测时限" not in on_time_task.title_zh and "time limit" not in on_time_task.title_en
