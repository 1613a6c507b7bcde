"""Long jobs that resume after their worker died (issue 10.7).

A pushed-list commit, a results import and a shard of a bulk reassessment each write a
heartbeat with every batch they land. django-tasks' database worker marks a task `RUNNING`
when it takes it and never looks at it again, so a worker killed with `kill -9` leaves its
job half done and its task running for ever. Here each kind of job says how to find its jobs
whose heartbeat stopped, and how to queue one of them again: with a conditional update of the
job's row (the stale heartbeat read is part of the condition), so of two workers or a worker
and a person pressing "resume", one takes the job and the other finds nothing. The job then
runs as a fresh task and continues from the last batch that landed; a batch lands whole or
not at all, so nothing is lost or done twice.

Each app declares its kinds in a `jobs` module (`register`); `epigrid worker` calls
`resume_stale` when it starts and every `resume_every()` seconds while it runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

log = logging.getLogger(__name__)


class WorkerLost(Exception):
    """What the queue records for a task whose worker died (see `abandon_task`)."""


def now() -> datetime:
    """The clock every staleness test reads (tests move it instead of waiting)."""
    return timezone.now()


def stale_after() -> timedelta:
    """How long a job may go without a heartbeat before it counts as stopped. Longer than the
    slowest batch, or a live job would be taken over (harmless, the batches are fenced, but
    wasted work)."""
    return timedelta(seconds=max(1, int(getattr(settings, "EPIGRID_JOB_STALE_SECONDS", 600))))


def resume_every() -> float:
    return max(1.0, stale_after().total_seconds() / 4)


def cutoff(at: datetime | None = None) -> datetime:
    """A heartbeat older than this is a job that stopped."""
    return (at or now()) - stale_after()


def is_stale(heartbeat_at: datetime | None, at: datetime | None = None) -> bool:
    return heartbeat_at is not None and heartbeat_at < cutoff(at)


@dataclass(frozen=True)
class Resumable:
    """One kind of long job: `stale(cutoff)` names the jobs whose heartbeat is older than the
    cutoff; `requeue(job_id, actor=, cutoff=)` takes one of them (conditional update, audited)
    and queues it again, returning False when someone else took it first."""

    name: str
    stale: Callable[[datetime], Iterable]
    requeue: Callable[..., bool]


_kinds: dict[str, Resumable] = {}
_discovered = False


def register(kind: Resumable) -> Resumable:
    _kinds[kind.name] = kind
    return kind


def kinds() -> list[Resumable]:
    global _discovered
    if not _discovered:
        autodiscover_modules("jobs")
        _discovered = True
    return [_kinds[name] for name in sorted(_kinds)]


def resume_stale(*, actor=None) -> dict[str, int]:
    """Queue again every job whose heartbeat stopped; returns how many of each kind this call
    took. A kind that fails is logged and the others still run (the worker must keep going)."""
    from epigrid.accounts.audit import Actor

    actor = actor or Actor.system("worker")
    limit = cutoff()
    taken: dict[str, int] = {}
    for kind in kinds():
        try:
            n = sum(
                1 for job_id in list(kind.stale(limit)) if kind.requeue(job_id, actor=actor, cutoff=limit)
            )
        except Exception:
            log.exception("resuming stopped %s jobs failed", kind.name)
            continue
        if n:
            log.warning("resumed %d stopped %s job(s)", n, kind.name)
            taken[kind.name] = n
    return taken


def take(model, pk, *, running: str, cutoff: datetime, **changes):
    """Take a stopped job, in the caller's transaction: the conditional update (status still
    `running`, heartbeat still older than `cutoff`) that only one of two callers wins. Returns
    the job as it was (for the audit row), or None when it is not, or no longer, such a job."""
    stopped = model.objects.filter(pk=pk, status=running, heartbeat_at__lt=cutoff)
    job = stopped.first()
    if job is None or not stopped.update(**changes):
        return None
    return job


def last_seen(heartbeat_at: datetime | None) -> str:
    """A heartbeat for an audit note, in Beijing time."""
    return f"{timezone.localtime(heartbeat_at):%Y-%m-%d %H:%M:%S}" if heartbeat_at else "never"


def still_alive(code: str, heartbeat_at: datetime | None):
    """The refusal to resume a job that is alive."""
    from django.utils.translation import gettext as _

    from epigrid.lib.errors import Conflict

    return Conflict(
        code,
        _("It is still working: its last sign of life was at %(time)s. Resume it only once it stopped.")
        % {"time": timezone.localtime(heartbeat_at).strftime("%H:%M:%S") if heartbeat_at else "-"},
    )


def abandon_tasks(task, args: list) -> int:
    """Mark the queue's records of a dead worker's task (`task` called with arguments that begin
    with `args`) as failed, so the queue does not show it running for ever: its job was queued
    again as a new task. Few tasks run at once: they are compared here, not by a JSON lookup.
    RQ keeps its own records: it moves a job whose worker stopped sending heartbeats to its
    failed registry by itself."""
    from django_tasks_db.models import DBTaskResult

    from epigrid.lib import queue

    if not queue.on_database(task):
        return 0

    running = DBTaskResult.objects.filter(status="RUNNING", task_path=task.module_path)
    ids = [
        r.pk
        for r in running.only("pk", "args_kwargs")
        if ((r.args_kwargs or {}).get("args") or [])[: len(args)] == args
    ]
    return fail_tasks(ids)


def fail_tasks(ids: list) -> int:
    """Mark these task records, if still running, as failed: their worker is gone."""
    from django_tasks_db.models import DBTaskResult

    if not ids:
        return 0
    return DBTaskResult.objects.filter(pk__in=ids, status="RUNNING").update(
        status="FAILED",
        finished_at=timezone.now(),
        exception_class_path=f"{__name__}.WorkerLost",
        traceback="The worker running this task stopped sending heartbeats; its job was queued again.",
    )
