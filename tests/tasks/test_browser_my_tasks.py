"""A grid worker on a phone completes a task from "My tasks" with htmx: the card turns into the
completed task in place, and the completion is audited."""

from datetime import timedelta

import pytest

from epigrid.accounts.models import AuditEvent
from epigrid.tasks.models import Task
from epigrid.tasks.services import TaskSpec, open_task
from tests.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GRID = "320583001001001"


def test_it_completes_a_task_on_a_phone(live_server, page, world, persona, system, clock):
    persona("grid_worker", prefixes=[GRID], username="gw-tasks", password="a long enough secret")
    now = clock.now
    overdue = open_task(
        actor=system,
        spec=TaskSpec(
            kind="measure_test",
            title_zh="王芳：核酸检测，已逾期",
            title_en="Wang Fang: nucleic-acid test",
            division_code=GRID,
            assignee="grid_worker",
            due_at=now - timedelta(hours=3),
        ),
        at=now - timedelta(hours=15),  # opened yesterday evening, due 12 hours later
    )
    later = open_task(
        actor=system,
        spec=TaskSpec(
            kind="measure_health_monitoring",
            title_zh="李强：每日健康监测",
            title_en="Li Qiang: daily health monitoring",
            division_code=GRID,
            assignee="grid_worker",
            due_at=now + timedelta(hours=20),
        ),
    )

    page.goto(f"{live_server.url}/accounts/login/?next=/tasks/")
    page.fill("#id_username", "gw-tasks")
    page.fill("#id_password", "a long enough secret")
    page.click("button[type=submit]")
    page.wait_for_url("**/tasks/")
    cards = page.locator("article.task")
    assert cards.count() == 2
    assert cards.nth(0).get_attribute("id") == f"task-{overdue.pk}"  # the overdue one first
    screenshot(page, "my-tasks-phone")

    card = page.locator(f"#task-{overdue.pk}")
    card.locator("select[name=outcome]").select_option("done")
    card.locator("textarea[name=notes]").fill("已上门，采样完成")
    card.locator("button[type=submit]").click()
    page.locator(f"#task-{overdue.pk} form").wait_for(state="detached")
    assert "已上门，采样完成" in page.locator(f"#task-{overdue.pk}").inner_text()
    assert page.url.endswith("/tasks/")  # replaced in place, no page load
    screenshot(page, "my-tasks-completed")

    done = Task.objects.get(pk=overdue.pk)
    assert done.status == "done" and done.notes == "已上门，采样完成"
    assert AuditEvent.objects.filter(
        object_type="task", object_id=str(done.pk), actor_username="gw-tasks"
    ).exists()
    assert Task.objects.get(pk=later.pk).status == "open"
