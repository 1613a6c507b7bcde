"""Opening and routing verification tasks (落地核查): who a check goes to, the texts of its
mirrored work item, a check for an unconfirmed declaration or a tip, a command passing a check
on. What a check found is recorded in `findings`."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor, record
from epigrid.accounts.roles import Perm
from epigrid.accounts.scoping import division_in_scope
from epigrid.declarations import places
from epigrid.declarations.models import (
    Declaration,
    Tip,
    VerificationKind,
    VerificationStatus,
    VerificationTask,
)
from epigrid.declarations.services.common import require
from epigrid.declarations.validation import DeclarationError
from epigrid.lib.errors import Conflict
from epigrid.people.models import Person
from epigrid.rules import facts as rf
from epigrid.tasks.due import due_time
from epigrid.tasks.models import Assignee, Task, TaskStatus
from epigrid.tasks.services import TaskSpec, cancel_for_source, close_task, open_task

VERIFY_HOURS = 24  # a tip or an unconfirmed declaration is checked within a day
VERIFY_WINDOW = timedelta(hours=VERIFY_HOURS)
TASK_SOURCE = "verification"


def assignee_for(division_code: str) -> str:
    """Grid cells are worked by their grid workers; anything broader goes to the command of that
    division, which routes it on to a grid cell."""
    return Assignee.GRID_WORKER if len(division_code) == 15 else Assignee.COMMAND


def task_texts(
    kind: str,
    *,
    name: str = "",
    origin: str = "",
    arrived: datetime | None = None,
    address: str = "",
    labels: tuple[dict, dict] | None = None,
) -> dict:
    """Title and detail of the mirrored work item: facts only, never a label for a place or its
    people (JS79-16). `labels` (zh, en) saves a query per task in bulk."""
    if labels is None:
        labels = (
            (places.place_labels([origin], "zh-hans"), places.place_labels([origin], "en"))
            if origin
            else ({}, {})
        )
    when_zh = f"{rf.local_date(arrived):%Y-%m-%d}到达" if arrived else "到达时间不详"
    when_en = f"arrived {rf.local_date(arrived):%Y-%m-%d}" if arrived else "arrival date unknown"
    origin_zh = f"，来自{labels[0].get(origin, origin)}" if origin else ""
    origin_en = f" from {labels[1].get(origin, origin)}" if origin else ""
    subject_zh = name or "待核实人员"
    subject_en = name or "person to identify"
    kind_zh, kind_en = {
        VerificationKind.PUSHED_ROW: ("推送名单核查", "Pushed list check"),
        VerificationKind.TIP: ("线索核查", "Tip check"),
        VerificationKind.DECLARATION: ("报备信息核实", "Declaration check"),
    }[kind]
    clauses = "JS79-16" if kind == VerificationKind.TIP else "JS79-2、JS79-4"
    return {
        "title_zh": f"{kind_zh}：{subject_zh}",
        "title_en": f"{kind_en}: {subject_en}",
        "detail_zh": f"{when_zh}{origin_zh}。地址：{address or '不详'}（{clauses}）",
        "detail_en": f"{when_en}{origin_en}. Address: {address or 'unknown'} ({clauses.replace('、', ', ')})",
    }


def _mirror_spec(task: VerificationTask, texts: dict) -> TaskSpec:
    return TaskSpec(
        kind="verification",
        division_code=task.division_code,
        assignee=task.assignee,
        due_at=task.due_at,
        within=VERIFY_WINDOW,
        person_id=task.person_id,
        unit_id=task.unit_id,
        source_type=TASK_SOURCE,
        source_id=str(task.pk),
        **texts,
    )


def open_verification(
    *,
    actor: Actor,
    kind: str,
    division_code: str,
    due_at: datetime,
    at: datetime,
    person: Person | None = None,
    declaration: Declaration | None = None,
    tip: Tip | None = None,
) -> VerificationTask:
    task = VerificationTask.objects.create(
        kind=kind,
        division_code=division_code,
        assignee=assignee_for(division_code),
        due_at=due_at,
        created_at=at,
        person=person,
        declaration=declaration,
        tip=tip,
    )
    if declaration is not None:
        texts = task_texts(
            kind,
            # the name that was declared: the record's may belong to someone the checker must
            # not learn about, and the check is whether the declarer is that person
            name=declaration.declared_name or (person.name if person else ""),
            origin=declaration.origin or declaration.travel_to,
            arrived=declaration.arrived_at,
            address=declaration.address,
        )
    else:
        texts = task_texts(
            kind,
            name=tip.subject_name if tip else "",
            origin=tip.origin if tip else "",
            arrived=rf.start_of_day(tip.arrived_on) if tip and tip.arrived_on else None,
            address=tip.address if tip else "",
        )
    open_task(actor=actor, spec=_mirror_spec(task, texts), at=at)
    record(
        actor,
        "create",
        object_type="verification_task",
        object_id=task.pk,
        division_code=division_code,
        fields=["kind", "division_code", "due_at"],
        note=kind,
    )
    return task


def check_declaration(actor: Actor, declaration: Declaration, division_code: str, now: datetime) -> None:
    """An unconfirmed declaration gets its check on the ground, due within a day."""
    open_verification(
        actor=actor,
        kind=VerificationKind.DECLARATION,
        division_code=division_code,
        due_at=now + timedelta(hours=VERIFY_HOURS),
        person=declaration.person,
        declaration=declaration,
        at=now,
    )


def close_mirror(actor: Actor, task: VerificationTask, outcome: str, at: datetime) -> None:
    for mirror in Task.objects.filter(
        source_type=TASK_SOURCE, source_id=str(task.pk), status=TaskStatus.OPEN
    ):
        close_task(actor=actor, task=mirror, outcome=outcome, at=at)


def route_verification(
    *, actor: Actor, task: VerificationTask, division_code: str, at: datetime | None = None
) -> VerificationTask:
    """A command passes a check on to a community or grid cell inside its area."""
    require(actor, Perm.DECLARATIONS_EDIT)
    now = at or timezone.now()
    division_code = (division_code or "").strip()
    if (
        not division_code.startswith(task.division_code)
        or division_code == task.division_code
        or not division_in_scope(actor.user, division_code)
        or not places.is_local_division(division_code)
    ):
        raise DeclarationError(
            "division_unknown", _("Choose a community or grid cell inside this one."), "division_code"
        )
    with transaction.atomic():
        task = VerificationTask.objects.select_for_update().get(pk=task.pk)
        if task.status != VerificationStatus.OPEN:
            raise Conflict("task_closed", _("This check was already recorded."))
        old = task.division_code
        task.division_code = division_code
        task.assignee = assignee_for(division_code)
        # the community it reaches gets its day for the check, as its task does (tasks/due.py)
        task.due_at = due_time(task.due_at, now, VERIFY_WINDOW)
        task.save(update_fields=["division_code", "assignee", "due_at"])
        mirror = (
            Task.objects.filter(source_type=TASK_SOURCE, source_id=str(task.pk))
            .order_by("-created_at")
            .first()
        )
        cancel_for_source(actor=actor, source_type=TASK_SOURCE, source_id=str(task.pk), at=now)
        texts = (
            {k: getattr(mirror, k) for k in ("title_zh", "title_en", "detail_zh", "detail_en")}
            if mirror
            else task_texts(task.kind)
        )
        open_task(actor=actor, spec=_mirror_spec(task, texts), at=now)
        record(
            actor,
            "update",
            object_type="verification_task",
            object_id=task.pk,
            division_code=division_code,
            fields=["division_code", "due_at"],
            note=f"routed from {old}",
        )
    return task
