"""A shard of a bulk run whose worker died is queued again (issue 10.7, R3.1-R3.3).

A shard sweeps its slice of the person ids in id order. With every batch, inside the batch's
transaction, `Checkpoint` moves the shard's cursor to the batch's last person id, adds its
counts and writes the heartbeat, on the condition that this worker still holds the shard; so a
batch's decisions and its progress land together or not at all. A shard `running` whose
heartbeat is older than `lib.jobs.stale_after()` lost its worker: `epigrid worker` queues it
again by itself, and the run's page (or `POST /api/v1/rules/runs/{id}/resume`) offers
"resume". The next worker continues after the cursor, with the counts of the batches that
landed. A scheduled review that stopped is closed instead: the next review takes the people
still due.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor, record
from epigrid.accounts.roles import Perm
from epigrid.accounts.scoping import scope_of
from epigrid.lib import jobs, queue
from epigrid.lib.errors import Conflict, Forbidden
from epigrid.rules.models import BulkRun, BulkRunShard


class LostClaim(Conflict):
    """Another worker took the shard over (this one was silent too long): undo the batch."""

    def __init__(self, shard_id):
        super().__init__("shard_taken_over", _("Another worker took this part of the run over."))
        self.shard_id = shard_id


def worker_token(worker: str = "") -> str:
    """Who holds a shard: unique per claim, so a worker that was taken over is told apart from
    the one that took over, even in the same process."""
    base = worker or f"{os.uname().nodename}:{os.getpid()}"
    return f"{base[:55]}:{uuid.uuid4().hex[:8]}"


class Checkpoint:
    """The sweep's `checkpoint`: the shard's progress, continued from where an earlier worker
    stopped (its cursor, done, changed and counts)."""

    def __init__(self, shard: BulkRunShard, worker: str):
        from epigrid.rules.services.counts import ChangeCounter

        self.merge = ChangeCounter.merge
        self.pk, self.worker = shard.pk, worker
        self.cursor = shard.cursor
        self.before = (shard.done, shard.changed, shard.counts or {})
        self.done, self.changed, self.counts = self.before

    def __call__(self, last, done: int, changed: int, counts: dict) -> None:
        cursor = str(last) if last is not None else self.cursor
        totals = (self.before[0] + done, self.before[1] + changed, self.merge(self.before[2], counts))
        taken = BulkRunShard.objects.filter(
            pk=self.pk, worker=self.worker, status=BulkRun.Status.RUNNING
        ).update(
            cursor=cursor, done=totals[0], changed=totals[1], counts=totals[2], heartbeat_at=timezone.now()
        )
        if not taken:
            raise LostClaim(self.pk)
        self.cursor = cursor
        self.done, self.changed, self.counts = totals

    def after_cursor(self, low: uuid.UUID | None) -> uuid.UUID | None:
        """The lower bound of the ids still to sweep: past the cursor, else the shard's own."""
        if not self.cursor:
            return low
        return uuid.UUID(int=uuid.UUID(self.cursor).int + 1)


def _stalled(limit: datetime):
    return BulkRunShard.objects.filter(status=BulkRun.Status.RUNNING).filter(
        Q(heartbeat_at__lt=limit) | Q(heartbeat_at__isnull=True, started_at__lt=limit)
    )


def stale(limit: datetime):
    return _stalled(limit).values_list("pk", flat=True)


def requeue(shard_id, *, actor: Actor, cutoff: datetime) -> bool:
    """Queue a shard whose heartbeat stopped before `cutoff` again (a review's is closed); False
    when it is not (or no longer) such a shard."""
    from epigrid.rules import bulk
    from epigrid.rules.tasks import run_bulk_shard

    with transaction.atomic():
        shard = _stalled(cutoff).filter(pk=shard_id).select_related("run").first()
        if shard is None:
            return False
        run = shard.run
        review = run.kind == BulkRun.Kind.REVIEW
        changes = (
            {"status": BulkRun.Status.FAILED, "finished_at": timezone.now(), "error": "stopped: no heartbeat"}
            if review
            else {"status": BulkRun.Status.QUEUED}
        )
        # conditional: of two callers (two workers, a worker and a person), one moves the shard
        taken = _stalled(cutoff).filter(pk=shard_id, worker=shard.worker).update(worker="", **changes)
        if not taken:
            return False
        jobs.abandon_tasks(run_bulk_shard, [str(run.pk), shard.index])
        last = shard.heartbeat_at or shard.started_at
        record(
            actor,
            "update",
            object_type="bulk_run",
            object_id=run.pk,
            division_code=run.division_prefix,
            fields=["status"],
            note=(
                f"shard {shard.index} {'closed' if review else 'resumed'}: stopped after {shard.done} of "
                f"{shard.total} people, last heartbeat {jobs.last_seen(last)}"
            ),
        )
        if review:
            bulk._finish(run.pk)
        else:
            queue.enqueue(run_bulk_shard, str(run.pk), shard.index)
    return True


def may_resume(user, run: BulkRun) -> bool:
    """Whoever could have started the run: its author, or someone whose scope covers it."""
    if user is None:
        return True
    if not user.has_epigrid_perm(Perm.RULES_PUBLISH):
        return False
    return run.created_by_id == user.pk or scope_of(user).covers_division(run.division_prefix)


def resume_run(*, actor: Actor, run: BulkRun, at: datetime | None = None) -> BulkRun:
    """A person's "resume" of the shards of a run whose workers stopped. Refused while they run."""
    if not may_resume(actor.user, run):
        raise Forbidden(
            "permission_denied", _("Only the author of the run or a command over its area may resume it.")
        )
    limit = jobs.cutoff(at)
    shards = list(run.shards.filter(status=BulkRun.Status.RUNNING))
    if not shards:
        raise Conflict("run_not_resumable", _("Only a run whose worker stopped can be resumed."))
    stalled = list(_stalled(limit).filter(run=run).values_list("pk", flat=True))
    if not sum(1 for pk in stalled if requeue(pk, actor=actor, cutoff=limit)):
        seen = [s.heartbeat_at or s.started_at for s in shards]
        raise jobs.still_alive("run_running", max((t for t in seen if t), default=None))
    run.refresh_from_db()
    return run


def stalled_shards(run: BulkRun) -> list[BulkRunShard]:
    if run.finished:
        return []
    return [s for s in run.shards.filter(status=BulkRun.Status.RUNNING) if s.stalled]


BULK_RUN_SHARD = jobs.register(jobs.Resumable("bulk_run_shard", stale=stale, requeue=requeue))


# --- the review schedule --------------------------------------------------------------------
# `review_due` queues its next run when it finishes (`tasks.schedule_review`): a worker killed
# during a review ends the schedule. Its sign of life is the review's lock (`rules.review`,
# held while it reviews): a review task running for longer than the stale time with nobody
# holding the lock lost its worker, and the schedule is queued again.


def stale_reviews(limit: datetime):
    """On the database queue only. On RQ a review killed mid-sweep ends its schedule; asking for
    the schedule again (`epigrid rules review --schedule N`, from cron) restarts it and never
    doubles it (`tasks.schedule_review`)."""
    from django_tasks_db.models import DBTaskResult

    from epigrid.rules.models import JobLock
    from epigrid.rules.tasks import review_due

    if not queue.on_database(review_due):
        return []
    if JobLock.objects.filter(name="rules.review", until__gte=jobs.now()).exists():
        return []
    return DBTaskResult.objects.filter(
        status="RUNNING", task_path=review_due.module_path, started_at__lt=limit
    ).values_list("pk", flat=True)


def requeue_review(task_id, *, actor: Actor, cutoff: datetime) -> bool:
    from django_tasks_db.models import DBTaskResult

    from epigrid.rules.tasks import review_due, schedule_review

    with transaction.atomic():
        task = DBTaskResult.objects.filter(
            pk=task_id, status="RUNNING", task_path=review_due.module_path, started_at__lt=cutoff
        ).first()
        # conditional: of two workers, one marks the dead task and queues the schedule again
        if task is None or not jobs.fail_tasks([task.pk]):
            return False
        args = task.args_kwargs.get("args") or []
        every = task.args_kwargs.get("kwargs", {}).get("every") or (args[1] if len(args) > 1 else None)
        record(
            actor,
            "update",
            object_type="review_schedule",
            object_id=task.pk,
            fields=["status"],
            note=f"review stopped, started {jobs.last_seen(task.started_at)}; every {every or '-'} s again",
        )
        if every:
            schedule_review(int(every))
    return True


REVIEW_SCHEDULE = jobs.register(
    jobs.Resumable("review_schedule", stale=stale_reviews, requeue=requeue_review)
)
