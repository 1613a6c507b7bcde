"""Committing a pushed list (phase 2): `request_commit` queues it; `run_commit` (the background
task) commits the valid rows in batches. Each batch, in one transaction, opens the rows'
verification tasks, marks the rows `committed` and reassesses the matched persons. A crash
loses at most the batch in flight; running the commit again continues with the rows still
`valid`, so nothing is created twice."""

import math
import uuid
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor
from epigrid.declarations import places
from epigrid.declarations.models import (
    ListStatus,
    PushedList,
    PushedRow,
    RowState,
    VerificationKind,
    VerificationTask,
)
from epigrid.declarations.rows import VerificationTaskRow
from epigrid.declarations.services.common import record_list, require_pushed_lists
from epigrid.declarations.services.verification import TASK_SOURCE, assignee_for, task_texts
from epigrid.declarations.validation import DeclarationError
from epigrid.lib import jobs, queue
from epigrid.lib.bulk import insert_rows
from epigrid.lib.collector import bulk_collection
from epigrid.lib.errors import Conflict
from epigrid.lib.sql import any_of, asynchronous_commit
from epigrid.rules.services import reassess_many
from epigrid.tasks.due import due_time
from epigrid.tasks.services import TaskSpec, open_tasks_bulk

# Commit tasks queued per list. On PostgreSQL as many `epigrid worker` processes share one list
# (each batch takes rows nobody holds); a task that finds the list done does nothing.
COMMIT_TASKS = 2


def request_commit(
    *,
    actor: Actor,
    pushed: PushedList,
    skip_invalid: bool = False,
    due_hours: int | None = None,
    batch_size: int | None = None,
    enqueue: bool = True,
    at: datetime | None = None,
) -> PushedList:
    """Queue the commit of a validated list. A list with invalid rows is committed only when the
    data team says to leave those rows out (they stay in the feedback file with their errors)."""
    require_pushed_lists(actor)
    now = at or timezone.now()
    with transaction.atomic():
        pushed = PushedList.objects.select_for_update().get(pk=pushed.pk)
        _check_committable(pushed, skip_invalid)
        if due_hours is not None:
            if not 1 <= int(due_hours) <= 168:
                raise DeclarationError(
                    "due_hours_range", _("Checks are due within 1 to 168 hours."), "due_hours"
                )
            pushed.due_hours = int(due_hours)
        if batch_size is not None:
            if not 1 <= int(batch_size) <= 20_000:
                raise DeclarationError("batch_size_range", _("A batch holds 1 to 20,000 rows."), "batch_size")
            pushed.batch_size = int(batch_size)
        remaining = PushedRow.objects.filter(pushed_list=pushed, state=RowState.VALID).count()
        pushed.skip_invalid = skip_invalid
        pushed.batches_total = pushed.batches_done + math.ceil(remaining / pushed.batch_size)
        pushed.status = ListStatus.QUEUED
        pushed.queued_at, pushed.queued_by = now, actor.user
        pushed.error = ""
        pushed.save()
        record_list(
            actor,
            pushed,
            f"commit queued: {remaining} rows in {pushed.batches_total - pushed.batches_done} batches",
        )
        if enqueue:
            from epigrid.declarations.tasks import commit_pushed_list

            # queued and its task in one transaction: a crash right after the commit cannot leave
            # a list queued for a task that was never written
            list_id, user_id = str(pushed.pk), getattr(actor.user, "pk", None)
            queue.enqueue(commit_pushed_list, send=lambda: enqueue_commit(list_id, user_id))
    return pushed


def _check_committable(pushed: PushedList, skip_invalid: bool) -> None:
    if pushed.status not in (ListStatus.VALIDATED, ListStatus.FAILED):
        raise Conflict(
            "list_not_committable",
            _("Only a validated list, or one whose commit was interrupted, can be committed."),
        )
    if pushed.valid_rows == 0:
        raise DeclarationError("list_empty", _("The list has no valid rows to commit."), None)
    if pushed.error_rows and not skip_invalid:
        raise DeclarationError(
            "list_has_errors",
            _("Rows have errors: correct the file and upload it again, or commit the valid rows only."),
            "skip_invalid",
        )


def enqueue_commit(list_id: str, user_id) -> None:
    """The commit tasks of a queued list (called once its queuing is committed)."""
    from epigrid.declarations.tasks import commit_pushed_list

    results = [
        commit_pushed_list.enqueue(list_id, user_id) for _ in range(COMMIT_TASKS if parallel_commits() else 1)
    ]
    PushedList.objects.filter(pk=list_id).update(task_result_id=str(results[0].id)[:64])


def parallel_commits() -> bool:
    """Whether several workers may commit one list at once: on PostgreSQL each batch takes its
    rows with FOR UPDATE SKIP LOCKED, so workers share a list without ever taking the same row;
    SQLite has one writer at a time, so a second worker would only wait."""
    return connection.vendor == "postgresql"


def run_commit(*, list_id, actor: Actor, at: datetime | None = None) -> PushedList:
    """Commit the list's remaining valid rows, batch by batch. Safe to run again at any time, and
    on PostgreSQL by several workers at once: each batch takes only rows not yet committed (and
    not taken by another worker). On SQLite a live commit is left alone; one whose heartbeat
    stopped (a crash) is taken over (`declarations.jobs` queues such a list again by itself)."""
    now = at or timezone.now()
    if not _claim(list_id):
        return PushedList.objects.get(pk=list_id)
    pushed = PushedList.objects.get(pk=list_id)
    try:
        with bulk_collection():
            while _commit_batch(pushed, actor, now):
                pass
    except Exception as exc:
        PushedList.objects.filter(pk=list_id).update(
            status=ListStatus.FAILED,
            error=f"{type(exc).__name__} in batch {PushedList.objects.get(pk=list_id).batches_done + 1}",
        )
        raise
    _finish(pushed, actor)
    pushed.refresh_from_db()
    return pushed


def _claim(list_id) -> bool:
    """Mark the list `committing` for this worker; False when it is not this worker's to commit."""
    claimable = Q(status__in=[ListStatus.QUEUED, ListStatus.FAILED]) | Q(
        status=ListStatus.COMMITTING, heartbeat_at__lt=jobs.cutoff()
    )
    if parallel_commits():
        claimable |= Q(status=ListStatus.COMMITTING)
    claimed = (
        PushedList.objects.filter(pk=list_id)
        .filter(claimable)
        .update(status=ListStatus.COMMITTING, heartbeat_at=timezone.now())
    )
    if claimed:
        PushedList.objects.filter(pk=list_id, commit_started_at__isnull=True).update(
            commit_started_at=timezone.now()
        )
    return bool(claimed)


def _finish(pushed: PushedList, actor: Actor) -> None:
    """The last worker to finish marks the list; rows another worker still holds are valid."""
    with transaction.atomic():
        if PushedRow.objects.filter(pushed_list_id=pushed.pk, state=RowState.VALID).exists():
            return
        marked = PushedList.objects.filter(pk=pushed.pk, status=ListStatus.COMMITTING).update(
            status=ListStatus.COMMITTED, committed_at=timezone.now()
        )
        if marked:
            record_list(actor, pushed, "committed")


def _commit_batch(pushed: PushedList, actor: Actor, now: datetime) -> bool:
    """One batch, whole or not at all. Returns False when no valid row is left for this worker."""
    with transaction.atomic():
        asynchronous_commit()
        rows = _take_batch(pushed)
        if not rows:
            return False
        checks = _open_checks(pushed, rows, actor, now)
        batch = _batch_number(pushed, rows[0]["row_number"])
        ids = [r["id"] for r in rows]
        # the rows were locked when read, so nobody changed them since: a mismatch is a bug
        committed = (
            any_of(PushedRow.objects, "id", ids)
            .filter(state=RowState.VALID)
            .update(state=RowState.COMMITTED, committed_at=now, batch=batch)
        )
        if committed != len(rows):
            raise RuntimeError("rows of the batch changed while it was committed")
        person_ids = list(dict.fromkeys(r["person_id"] for r in rows if r["person_id"]))
        evaluated = 0
        if person_ids:  # the rows count as facts from here: the rules see their arrivals
            # one reassessment batch for the list's batch: a query per facts source, not three
            evaluated = reassess_many(
                person_ids, actor=actor, at=now, cause="pushed_list", batch_size=len(person_ids)
            ).evaluated
        # numbered last: the list's row is locked from here to the commit only, so workers
        # sharing the list overlap in everything above
        PushedList.objects.filter(pk=pushed.pk).update(
            batches_done=F("batches_done") + 1,
            committed_rows=F("committed_rows") + committed,
            reassessed=F("reassessed") + evaluated,
            heartbeat_at=timezone.now(),
        )
        record_list(
            actor,
            pushed,
            f"batch {batch}: {committed} rows, {checks} checks",
            action="import",
            fields=["rows", "verification_tasks"],
        )
    return True


def _take_batch(pushed: PushedList) -> list[dict]:
    """The next valid rows in row order that no other worker holds, locked until the commit."""
    return list(
        PushedRow.objects.filter(pushed_list_id=pushed.pk, state=RowState.VALID)
        .order_by("row_number")
        .select_for_update(skip_locked=True)
        .values(
            "id",
            "row_number",
            "name",
            "origin",
            "arrived_at",
            "address",
            "division_code",
            "unit_id",
            "person_id",
        )[: pushed.batch_size]
    )


def _batch_number(pushed: PushedList, first_row: int) -> int:
    """The batch's slice of the list: workers take the rows in row order, so the rows before
    this batch are committed or held by batches in flight, whole slices (numbered here, not from
    the list's counter, whose row stays unlocked until the end)."""
    before = PushedRow.objects.filter(
        pushed_list_id=pushed.pk,
        state__in=[RowState.VALID, RowState.COMMITTED],
        row_number__lt=first_row,
    ).count()
    return before // pushed.batch_size + 1


def _open_checks(pushed: PushedList, rows: list[dict], actor: Actor, now: datetime) -> int:
    """A verification task for each row of the batch and the work item mirroring it."""
    # the list's hours count from its receipt, or from this commit when it comes later
    # (a resumed commit): no row's check is overdue when it reaches its community
    window = timedelta(hours=pushed.due_hours)
    due = due_time(pushed.received_at + window, now, window)
    origins = {r["origin"] for r in rows if r["origin"]}
    labels = (places.place_labels(origins, "zh-hans"), places.place_labels(origins, "en"))
    task_rows, specs = [], []
    for r in rows:
        task = VerificationTaskRow(
            id=uuid.uuid4(),
            pushed_row=r["id"],
            division_code=r["division_code"],
            assignee=assignee_for(r["division_code"]),
            due_at=due,
            created_at=now,
            person=r["person_id"],
            unit_id=r["unit_id"],
        )
        task_rows.append(task)
        texts = task_texts(
            VerificationKind.PUSHED_ROW,
            name=r["name"],
            origin=r["origin"],
            arrived=r["arrived_at"],
            address=r["address"],
            labels=labels,
        )
        specs.append(
            TaskSpec(
                kind="verification",
                division_code=task.division_code,
                assignee=task.assignee,
                due_at=due,
                within=window,
                person_id=task.person,
                unit_id=task.unit_id,
                source_type=TASK_SOURCE,
                source_id=str(task.id),
                **texts,
            )
        )
    insert_rows(VerificationTask, task_rows)
    open_tasks_bulk(actor=actor, specs=specs, at=now)
    return len(task_rows)
