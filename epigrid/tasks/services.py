"""The only writers of tasks, and the scoped readers the pages and the API share (R10.1)."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, F, Q
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from epigrid.accounts.audit import Actor, record, record_many
from epigrid.accounts.scoping import prefix_q, scope_of, visible_to
from epigrid.lib.bulk import insert_rows
from epigrid.lib.errors import Conflict, DomainError
from epigrid.lib.sql import any_of
from epigrid.tasks.due import due_time
from epigrid.tasks.models import Assignee, Task, TaskRow, TaskStatus

# How a task ended, as the person who did it reports it.
OUTCOMES = {
    "done": gettext_lazy("Done"),
    "unreachable": gettext_lazy("Person not reachable"),
    "refused": gettext_lazy("Refused"),
    "not_needed": gettext_lazy("No longer needed"),
    "referred": gettext_lazy("Handed on (CDC, hospital, another area)"),
}
# Whose tasks a role does: a grid worker's are the grid workers' tasks in their cells.
ROLE_ASSIGNEES = {
    "grid_worker": (Assignee.GRID_WORKER,),
    "unit_manager": (Assignee.UNIT_MANAGER,),
    "cdc": (Assignee.CDC,),
    "lab": (Assignee.LAB,),
    "sampling": (Assignee.SAMPLING,),
    "province_command": (Assignee.COMMAND,),
    "city_command": (Assignee.COMMAND,),
    "county_command": (Assignee.COMMAND,),
}


@dataclass
class TaskSpec:
    kind: str
    title_zh: str
    title_en: str
    division_code: str
    assignee: str
    # When the work is due, computed from stored events; with `within`, how long the work takes
    # once it reaches its person. The task is never due at or before its creation (`due.py`).
    due_at: datetime | None = None
    person_id: object = None
    unit_id: object = None
    detail_zh: str = ""
    detail_en: str = ""
    source_type: str = ""
    source_id: str = ""
    within: timedelta | None = None

    def row(self, created: datetime) -> TaskRow:
        """The task this spec opens at `created`, as one row: what `open_task` creates and
        `open_tasks_bulk` inserts are the same values."""
        return TaskRow(
            id=uuid.uuid4(),
            kind=self.kind,
            title_zh=self.title_zh[:200],
            title_en=self.title_en[:200],
            detail_zh=self.detail_zh,
            detail_en=self.detail_en,
            person=self.person_id,
            division_code=self.division_code,
            unit_id=self.unit_id,
            assignee=self.assignee,
            due_at=due_time(self.due_at, created, self.within),
            source_type=self.source_type,
            source_id=str(self.source_id),
            created_at=created,
        )


def open_task(*, actor: Actor, spec: TaskSpec, at: datetime | None = None) -> Task:
    """Open a task, or return the open one for the same source (idempotent for retries)."""
    with transaction.atomic():
        if spec.source_type and spec.source_id:
            existing = Task.objects.filter(
                source_type=spec.source_type, source_id=spec.source_id, kind=spec.kind, status=TaskStatus.OPEN
            ).first()
            if existing is not None:
                return existing
        created = at or timezone.now()
        row = spec.row(created)._asdict()
        row["person_id"] = row.pop("person")
        task = Task.objects.create(**row)
        record(
            actor,
            "create",
            object_type="task",
            object_id=task.pk,
            division_code=task.division_code,
            fields=["kind", "assignee", "due_at"],
            note=spec.kind,
        )
    return task


def open_tasks_bulk(*, actor: Actor, specs: list[TaskSpec], at: datetime | None = None) -> int:
    """Many tasks in one statement (imports); callers dedupe by source beforehand."""
    now = at or timezone.now()
    rows = [spec.row(now) for spec in specs]
    with transaction.atomic():
        count = insert_rows(Task, rows)
        record(actor, "import", object_type="task", note=f"{count} tasks")
    return count


def close_task(
    *,
    actor: Actor,
    task: Task,
    outcome: str = "",
    notes: str = "",
    at: datetime | None = None,
) -> Task:
    """Close a task with an outcome code (the app that opened it chooses its codes) and notes;
    the audit row says who and when. People completing their own tasks go through
    `complete_task`."""
    notes = (notes or "").strip()
    if len(notes) > 2000:
        raise DomainError("notes_length", _("Notes are limited to 2,000 characters."), "notes")
    with transaction.atomic():
        task = Task.objects.select_for_update().get(pk=task.pk)
        if task.status != TaskStatus.OPEN:
            raise Conflict("task_closed", _("This task is already closed."))
        task.status = TaskStatus.DONE
        task.outcome = outcome[:40]
        task.notes = notes
        task.closed_at = at or timezone.now()
        task.closed_by = actor.user
        task.save(update_fields=["status", "outcome", "notes", "closed_at", "closed_by"])
        record(
            actor,
            "update",
            object_type="task",
            object_id=task.pk,
            division_code=task.division_code,
            fields=["status", "outcome", "notes"],
        )
    return task


def cancel_for_source(*, actor: Actor, source_type: str, source_id: str, at: datetime | None = None) -> int:
    """Cancel the open tasks of a source that no longer applies (a measure closed)."""
    with transaction.atomic():
        qs = Task.objects.filter(source_type=source_type, source_id=str(source_id), status=TaskStatus.OPEN)
        ids = list(qs.values_list("pk", "division_code"))
        if not ids:
            return 0
        qs.update(status=TaskStatus.CANCELLED, closed_at=at or timezone.now(), closed_by=actor.user)
        for pk, division in ids:
            record(
                actor,
                "update",
                object_type="task",
                object_id=pk,
                division_code=division,
                fields=["status"],
                note="source no longer applies",
            )
    return len(ids)


def cancel_for_sources(
    *, actor: Actor, source_type: str, source_ids: list[str], at: datetime, outcome: str, note: str
) -> int:
    """Cancel the open tasks of many sources that no longer apply (a reassessment closing
    measures by the thousand): one UPDATE, one audit statement."""
    tasks = any_of(Task.objects, "source_id", [str(s) for s in source_ids]).filter(
        source_type=source_type, status=TaskStatus.OPEN
    )
    rows = [(str(pk), division) for pk, division in tasks.values_list("pk", "division_code")]
    if rows:
        with transaction.atomic():
            tasks.update(status=TaskStatus.CANCELLED, closed_at=at, outcome=outcome[:40])
            record_many(actor, "update", object_type="task", rows=rows, fields=["status"], note=note)
    return len(rows)


def completable_here(task: Task) -> bool:
    """Whether the person doing a task completes it in "My tasks": tasks opened by hand and
    tasks whose source says so; others (a verification, a correction request) are done on the
    page of what they are about, so that their own records follow."""
    from epigrid.tasks.registry import source_of

    return task.source_type == "" or source_of(task.source_type).complete_here


def complete_task(
    *, actor: Actor, task: Task, outcome: str, notes: str = "", at: datetime | None = None
) -> Task:
    """A grid worker, unit manager or CDC member completes their task with how it ended; any
    outcome but "done" needs a note of what happened."""
    notes = (notes or "").strip()
    if outcome not in OUTCOMES:
        raise DomainError("outcome_unknown", _("Choose how the task ended."), "outcome")
    if outcome != "done" and not notes:
        raise DomainError("notes_required", _("Say in the notes what happened."), "notes")
    if not completable_here(task):
        raise Conflict("task_elsewhere", _("This task is completed on the page of what it is about."))
    return close_task(actor=actor, task=task, outcome=outcome, notes=notes, at=at)


# --- reading ------------------------------------------------------------------------------


def my_tasks(user, *, open_only: bool = True):
    """The tasks this user does: in their scope (cells, units), for their role; open ones by
    due time (most urgent first, undated last), closed ones newest first."""
    qs = visible_to(user, Task.objects.all()).filter(assignee__in=ROLE_ASSIGNEES.get(user.role, ()))
    if open_only:
        return qs.filter(status=TaskStatus.OPEN).order_by(
            F("due_at").asc(nulls_last=True), "created_at", "id"
        )
    return qs.exclude(status=TaskStatus.OPEN).order_by("-closed_at", "-id")


CHILD_LENGTH = {0: 2, 2: 4, 4: 6, 6: 9, 9: 12, 12: 15}


def child_length(prefix: str) -> int | None:
    """Code length of the divisions one level below `prefix` (`3205` → counties, 6 digits)."""
    return CHILD_LENGTH.get(len(prefix))


def counts_by_division(user, prefix: str, at: datetime | None = None) -> list[dict]:
    """Open and overdue tasks per division one level below `prefix`, within the user's scope
    (the command's chart): one GROUP BY over the open tasks."""
    at = at or timezone.now()
    qs = visible_to(user, Task.objects.filter(status=TaskStatus.OPEN))
    if prefix:
        qs = qs.filter(prefix_q("division_code", prefix))
    length = child_length(prefix)
    overdue = Count("id", filter=Q(due_at__lt=at))
    if length is None:
        row = qs.aggregate(open=Count("id"), overdue=overdue)
        return [{"code": prefix, "open": row["open"], "overdue": row["overdue"]}] if row["open"] else []
    grouped = (
        qs.annotate(area=Substr("division_code", 1, length))
        .values("area")
        .annotate(open=Count("id"), overdue=overdue)
        .order_by("area")
    )
    return [{"code": row["area"], "open": row["open"], "overdue": row["overdue"]} for row in grouped]


def default_prefix(user) -> str:
    """Where the command view opens: the user's area when they have one."""
    prefixes = scope_of(user).prefixes
    return prefixes[0] if len(prefixes) == 1 else ""
