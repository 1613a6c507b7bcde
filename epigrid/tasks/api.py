"""Tasks over the API: the caller's own tasks, and completing one (R10.1)."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from django.utils import timezone
from ninja import Query, Router, Schema
from pydantic import Field

from epigrid.accounts.apiauth import requires
from epigrid.accounts.audit import Actor
from epigrid.accounts.roles import Perm
from epigrid.accounts.scoping import get_visible_or_404
from epigrid.tasks import services
from epigrid.tasks.models import Task

router = Router(tags=["tasks"])


class TaskOut(Schema):
    id: UUID
    kind: str
    title: str
    detail: str
    division_code: str
    person_id: UUID | None
    unit_id: UUID | None
    assignee: str
    due_at: datetime | None
    overdue: bool
    status: str
    outcome: str
    notes: str
    source_type: str
    completable: bool
    created_at: datetime
    closed_at: datetime | None


class TaskPage(Schema):
    items: list[TaskOut]
    more: bool


class TaskCompleteIn(Schema):
    outcome: Literal[tuple(services.OUTCOMES)]  # type: ignore[valid-type]
    notes: str = Field("", max_length=2000)


def _out(task: Task, language: str, now: datetime) -> dict:
    return {
        "id": task.pk,
        "kind": task.kind,
        "title": task.title(language),
        "detail": task.detail(language),
        "division_code": task.division_code,
        "person_id": task.person_id,
        "unit_id": task.unit_id,
        "assignee": task.assignee,
        "due_at": task.due_at,
        "overdue": task.is_overdue(now),
        "status": task.status,
        "outcome": task.outcome,
        "notes": task.notes,
        "source_type": task.source_type,
        "completable": services.completable_here(task),
        "created_at": task.created_at,
        "closed_at": task.closed_at,
    }


@router.get("", response=TaskPage, summary="My tasks: open ones by due time, or the completed ones")
@requires(Perm.TASKS_DO)
def list_my_tasks(
    request,
    status: Literal["open", "closed"] = "open",
    limit: int = Query(100, ge=1, le=500),
):
    now = timezone.now()
    rows = list(services.my_tasks(request.auth, open_only=status == "open")[: limit + 1])
    language = request.LANGUAGE_CODE
    return {"items": [_out(t, language, now) for t in rows[:limit]], "more": len(rows) > limit}


@router.get("/{uuid:task_id}", response=TaskOut, summary="One task in your scope")
@requires(Perm.TASKS_VIEW)
def get_task(request, task_id: UUID):
    task = get_visible_or_404(request.auth, Task.objects.all(), pk=task_id)
    return _out(task, request.LANGUAGE_CODE, timezone.now())


@router.post("/{uuid:task_id}/complete", response=TaskOut, summary="Complete a task with its outcome")
@requires(Perm.TASKS_DO)
def complete_task(request, task_id: UUID, payload: TaskCompleteIn):
    task = get_visible_or_404(request.auth, Task.objects.all(), pk=task_id)
    task = services.complete_task(
        actor=Actor.from_api(request), task=task, outcome=payload.outcome, notes=payload.notes
    )
    return _out(task, request.LANGUAGE_CODE, timezone.now())
