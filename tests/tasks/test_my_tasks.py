"""My tasks and the command's view of open work (R10.1, KS10-13): each worker sees the tasks of
their own cells or units, most urgent first, and completes them with an outcome; completion is
audited; nobody reaches a task outside their scope."""

from datetime import timedelta

import pytest

from epigrid.accounts.models import AuditEvent
from epigrid.tasks.models import Task
from epigrid.tasks.services import TaskSpec, open_task

TAICANG_CELL = "320585100001001"


@pytest.fixture
def open_for(system, clock):
    def make(
        division: str, title: str, due_in_hours: float | None, assignee="grid_worker", source="", **extra
    ):
        now = clock.now
        due = now + timedelta(hours=due_in_hours) if due_in_hours is not None else None
        # no task is overdue when it is opened: an overdue one was opened a day before its due time
        opened = due - timedelta(days=1) if due is not None and due <= now else now
        return open_task(
            actor=system,
            spec=TaskSpec(
                kind="follow_up",
                title_zh=f"任务：{title}",
                title_en=f"Task: {title}",
                detail_en=f"Details of {title}",
                detail_zh=f"{title}的说明",
                division_code=division,
                assignee=assignee,
                due_at=due,
                source_type=source,
                source_id=title if source else "",
                **extra,
            ),
            at=opened,
        )

    return make


def test_it_lists_a_grid_workers_open_tasks_by_due_time_with_the_overdue_marked(
    persona, client_for, grid_cells, open_for
):
    mine, other = grid_cells[0].code, grid_cells[1].code
    worker = persona("grid_worker", prefixes=[mine])
    late = open_for(mine, "late", -2)
    soon = open_for(mine, "soon", 3)
    undated = open_for(mine, "undated", None)
    open_for(other, "someone else's", 1)
    open_for(mine, "for the CDC", 1, assignee="cdc")

    response = client_for(worker).get("/tasks/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    body = response.content.decode()
    order = [body.index(f"task-{t.pk}") for t in (late, soon, undated)]
    assert order == sorted(order)
    assert "someone else" not in body and "for the CDC" not in body
    late_card = body[body.index(f'id="task-{late.pk}"') :][:400]
    assert "var(--danger)" in late_card
    assert "1 overdue" in body


def test_completing_a_task_with_htmx_closes_it_and_is_audited(persona, client_for, grid_cells, open_for):
    cell = grid_cells[0].code
    worker = persona("grid_worker", prefixes=[cell])
    task = open_for(cell, "visit", 2)
    client = client_for(worker)

    response = client.post(
        f"/tasks/{task.pk}/complete",
        {"outcome": "done", "notes": "上门核实，已居家隔离"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    assert f'id="task-{task.pk}"' in response.content.decode()
    task.refresh_from_db()
    assert task.status == "done" and task.outcome == "done" and task.notes == "上门核实，已居家隔离"
    assert task.closed_by == worker and task.closed_at is not None
    event = AuditEvent.objects.get(object_type="task", object_id=str(task.pk), action="update")
    assert event.actor == worker and event.actor_role == "grid_worker"
    assert set(event.fields) == {"status", "outcome", "notes"} and event.division_code == cell
    again = client.post(f"/tasks/{task.pk}/complete", {"outcome": "done"}, HTTP_HX_REQUEST="true")
    assert again.status_code == 409


def test_an_outcome_other_than_done_needs_a_note(persona, client_for, grid_cells, open_for):
    cell = grid_cells[0].code
    worker = persona("grid_worker", prefixes=[cell])
    task = open_for(cell, "visit", 2)
    response = client_for(worker).post(
        f"/tasks/{task.pk}/complete", {"outcome": "unreachable", "notes": ""}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    task.refresh_from_db()
    assert task.status == "open"
    assert not AuditEvent.objects.filter(object_type="task", object_id=str(task.pk), action="update").exists()


def test_a_county_user_cannot_reach_another_countys_tasks(persona, client_for, grid_cells, open_for):
    kunshan_task = open_for(grid_cells[0].code, "kunshan", 1, assignee="command")
    taicang_task = open_for(TAICANG_CELL, "taicang", 1, assignee="command")
    county = persona("county_command")  # scope: Kunshan
    client = client_for(county)

    assert client.get(f"/tasks/{kunshan_task.pk}/").status_code == 200
    assert client.get(f"/tasks/{taicang_task.pk}/").status_code == 404
    assert client.get(f"/api/v1/tasks/{taicang_task.pk}").status_code == 404
    assert client.get("/tasks/command/?division=320585").status_code == 404
    # and a grid worker of another cell can neither see nor complete it
    worker = persona("grid_worker", prefixes=[grid_cells[1].code])
    elsewhere = open_for(grid_cells[0].code, "not yours", 1)
    response = client_for(worker).post(f"/tasks/{elsewhere.pk}/complete", {"outcome": "done"})
    assert response.status_code == 404
    elsewhere.refresh_from_db()
    assert elsewhere.status == "open"


def test_a_unit_manager_sees_the_tasks_of_their_units(persona, client_for, grid_cells, open_for):
    from epigrid.accounts.audit import Actor
    from epigrid.demo.services import simulate
    from epigrid.units.models import Unit

    simulate(actor=Actor.system("test"), persons=50, seed=5, duplicates=False)
    unit, other_unit = list(Unit.objects.order_by("id")[:2])
    manager = persona("unit_manager", prefixes=[], units=[unit])
    ours = open_for(unit.division_code, "roster check", 5, assignee="unit_manager", unit_id=unit.pk)
    theirs = open_for(
        other_unit.division_code, "other unit", 5, assignee="unit_manager", unit_id=other_unit.pk
    )
    body = client_for(manager).get("/tasks/").content.decode()
    assert f"task-{ours.pk}" in body and f"task-{theirs.pk}" not in body


def test_tasks_opened_elsewhere_are_completed_where_they_come_from(persona, client_for, grid_cells, open_for):
    cell = grid_cells[0].code
    worker = persona("grid_worker", prefixes=[cell])
    task = open_for(cell, "verify arrival", 2, source="some_other_app")
    response = client_for(worker).post(
        f"/tasks/{task.pk}/complete", {"outcome": "done"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 409
    task.refresh_from_db()
    assert task.status == "open"


def test_the_command_sees_open_and_overdue_counts_per_division(persona, client_for, grid_cells, open_for):
    towns = {}
    for cell in grid_cells:
        towns.setdefault(cell.code[:9], []).append(cell.code)
    (town_a, cells_a), (town_b, cells_b) = list(towns.items())[:2]
    for i in range(3):
        open_for(cells_a[0], f"a{i}", -1 if i == 0 else 4)
    open_for(cells_b[0], "b0", -5)
    county = persona("county_command")

    response = client_for(county).get("/tasks/command/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    rows = {r["code"]: r for r in response.context["rows"]}
    assert rows[town_a]["open"] == 3 and rows[town_a]["overdue"] == 1
    assert rows[town_b]["open"] == 1 and rows[town_b]["overdue"] == 1
    assert response.context["totals"] == {"open": 4, "overdue": 2}
    assert rows[town_a]["name"] and rows[town_a]["name"] != town_a
    deeper = client_for(county).get(f"/tasks/command/?division={town_a}")
    assert {r["code"] for r in deeper.context["rows"]} == {cells_a[0][:12]}


def test_the_api_lists_my_tasks_and_completes_one(persona, client_for, grid_cells, open_for):
    cell = grid_cells[0].code
    worker = persona("grid_worker", prefixes=[cell])
    first = open_for(cell, "first", 1)
    open_for(cell, "second", 8)
    client = client_for(worker)

    listed = client.get("/api/v1/tasks", HTTP_ACCEPT_LANGUAGE="en").json()
    assert [t["title"] for t in listed["items"]] == ["Task: first", "Task: second"]
    assert listed["items"][0]["completable"] is True

    done = client.post(
        f"/api/v1/tasks/{first.pk}/complete",
        {"outcome": "refused", "notes": "拒绝开门"},
        content_type="application/json",
    )
    assert done.status_code == 200 and done.json()["status"] == "done"
    bad = client.post(
        f"/api/v1/tasks/{first.pk}/complete", {"outcome": "maybe"}, content_type="application/json"
    )
    assert bad.status_code == 422 and bad.json()["field"] == "outcome"
    assert Task.objects.get(pk=first.pk).outcome == "refused"
    remaining = client.get("/api/v1/tasks").json()["items"]
    assert [t["id"] for t in remaining] != [str(first.pk)] and len(remaining) == 1


def test_a_command_role_cannot_complete_tasks_but_can_view_them(persona, client_for, grid_cells, open_for):
    task = open_for(grid_cells[0].code, "x", 1)
    county = persona("county_command")
    client = client_for(county)
    assert client.get("/tasks/").status_code == 403
    assert client.post(f"/tasks/{task.pk}/complete", {"outcome": "done"}).status_code == 403
    assert client.get(f"/tasks/{task.pk}/").status_code == 200
