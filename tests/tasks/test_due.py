"""A task is never overdue the moment it is created (issue 10.2), whoever opens it: the rule is
kept once, in `tasks.services` (`tasks/due.py`), and the openers that count from stored events
say how long their work takes, so work that reaches its person late still gets its time."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from epigrid.accounts.audit import Actor
from epigrid.declarations.models import VerificationTask
from epigrid.declarations.services import pushed_commit, pushed_upload, route_verification
from epigrid.tasks.due import DEFAULT_WITHIN, due_time
from epigrid.tasks.models import Task, TaskStatus
from epigrid.tasks.services import TaskSpec, open_task, open_tasks_bulk
from tests.declarations.lists import xlsx

moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC))
windows = st.one_of(st.none(), st.integers(1, 24 * 30).map(lambda m: timedelta(minutes=m * 7)))


@given(st.one_of(st.none(), moments), moments, windows)
def test_a_due_time_is_never_at_or_before_the_creation(due, created, within):
    result = due_time(due, created, within)
    if due is None and within is None:
        assert result is None  # no due time: never overdue
        return
    assert result > created
    if within is not None:
        # the whole window from when the work reaches its person, and never earlier than asked
        assert result >= created + within and (due is None or result >= due)
        assert result == max(due or created, created + within)
    elif due > created:
        assert result == due  # a due time in the future is the caller's
    else:
        assert result == created + DEFAULT_WITHIN


def test_a_window_must_be_positive():
    with pytest.raises(ValueError):
        due_time(None, datetime(2020, 1, 1, tzinfo=UTC), timedelta(0))


def _spec(division, due, within=None, title="visit"):
    return TaskSpec(
        kind="follow_up",
        title_zh=f"任务：{title}",
        title_en=f"Task: {title}",
        division_code=division,
        assignee="grid_worker",
        due_at=due,
        within=within,
    )


@pytest.mark.django_db
def test_it_opens_a_task_given_a_past_due_time_due_after_its_creation(
    system, grid_cells, persona, client_for, clock
):
    cell = grid_cells[0].code
    now = clock.now
    late = open_task(actor=system, spec=_spec(cell, now - timedelta(hours=5)), at=now)
    assert late.due_at == now + DEFAULT_WITHIN
    open_tasks_bulk(
        actor=system, specs=[_spec(cell, now - timedelta(hours=5), timedelta(hours=2), "bulk")], at=now
    )
    bulk = Task.objects.get(title_en="Task: bulk")
    assert bulk.due_at == now + timedelta(hours=2)

    worker = client_for(persona("grid_worker", prefixes=[cell]))
    page = worker.get("/tasks/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "overdue" not in page
    assert not any(item["overdue"] for item in worker.get("/api/v1/tasks").json()["items"])


@pytest.mark.django_db
def test_a_pushed_list_committed_after_its_hours_gives_each_check_its_hours_from_the_commit(
    persona, world, clock
):
    team = Actor(user=persona("data_team"), via="test")
    arrived = timezone.localtime(clock.now - timedelta(days=3)).strftime("%Y-%m-%d %H:%M")
    rows = [["", "王芳", "13800138000", "武汉市", arrived, "", "320583001001001", "", ""]]
    # received two days ago, committed now (a commit resumed after its worker was killed)
    received = clock.now - timedelta(days=2)
    listed = pushed_upload.upload(
        actor=team, name="推送", source="telecom", file_name="l.xlsx", data=xlsx(rows), at=received
    )
    assert listed.received_at == received
    pushed_commit.request_commit(actor=team, pushed=listed, enqueue=False, due_hours=12)
    before = clock.now
    pushed_commit.run_commit(list_id=listed.pk, actor=team)

    (check,) = VerificationTask.objects.filter(pushed_row__pushed_list=listed)
    mirror = Task.objects.get(source_type="verification", source_id=str(check.pk))
    assert check.due_at == mirror.due_at
    assert mirror.due_at > mirror.created_at and check.due_at >= before + timedelta(hours=12)


@pytest.mark.django_db
def test_a_check_routed_after_its_due_time_gives_the_community_its_day(persona, world, clock):
    team = Actor(user=persona("data_team"), via="test")
    arrived = timezone.localtime(clock.now - timedelta(days=3)).strftime("%Y-%m-%d %H:%M")
    rows = [["", "林", "13900139000", "武汉", arrived, "", "320583001001", "", ""]]
    listed = pushed_upload.upload(
        actor=team, name="推送", source="telecom", file_name="l.xlsx", data=xlsx(rows)
    )
    pushed_commit.request_commit(actor=team, pushed=listed, enqueue=False)
    pushed_commit.run_commit(list_id=listed.pk, actor=team)
    (check,) = VerificationTask.objects.filter(pushed_row__pushed_list=listed)
    # the community's command let it run past its due time
    past = clock.now - timedelta(hours=1)
    VerificationTask.objects.filter(pk=check.pk).update(due_at=past)
    Task.objects.filter(source_id=str(check.pk)).update(due_at=past)
    check.refresh_from_db()

    now = clock.now
    route_verification(
        actor=Actor(user=persona("county_command"), via="test"),
        task=check,
        division_code="320583001001001",
        at=now,
    )

    check.refresh_from_db()
    mirror = Task.objects.get(source_id=str(check.pk), status=TaskStatus.OPEN)
    assert mirror.division_code == "320583001001001"
    assert mirror.due_at == check.due_at == now + timedelta(hours=24)
