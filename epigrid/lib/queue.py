"""Queueing background tasks the same way whichever django-tasks backend runs them.

Task code never changes with the backend (settings.EPIGRID_TASKS): the database queue of one
machine (`django_tasks_db`, `epigrid worker` = db_worker) or RQ on Redis for several
(`django_tasks_rq`, `epigrid worker` = rqworker). The two differ in one way callers must respect:

- the database queue writes its task rows in the caller's transaction, so a job and the rows it
  works on exist together or not at all;
- a broker is outside the transaction: a job sent before COMMIT may start before its rows are
  visible (or after they were rolled back), so it is sent once the transaction commits.

`enqueue` does the right thing for each, and `is_queued` answers "is one already waiting?" for
both, so a periodic job is never queued twice.
"""

from __future__ import annotations

from django.db import transaction


def on_database(task) -> bool:
    from django_tasks_db import DatabaseBackend

    return isinstance(task.get_backend(), DatabaseBackend)


def enqueue(task, *args, run_after=None, send=None):
    """Queue `task(*args)`, or what `send()` queues of `task`, as part of the current transaction
    (see the module docstring). Returns the task result on the database queue, None on a broker
    (it is sent after COMMIT)."""
    prepared = task.using(run_after=run_after) if run_after is not None else task
    send = send or (lambda: prepared.enqueue(*args))
    if on_database(task):
        return send()
    transaction.on_commit(send)
    return None


def is_queued(task) -> bool:
    """Whether a run of `task` is waiting (queued now or scheduled for later)."""
    if on_database(task):
        from django_tasks_db.models import DBTaskResult

        return DBTaskResult.objects.filter(task_path=task.module_path, status="READY").exists()
    import django_rq
    from rq.registry import ScheduledJobRegistry

    queue = django_rq.get_queue(task.queue_name)
    waiting = list(queue.get_job_ids()) + list(ScheduledJobRegistry(queue=queue).get_job_ids())
    return any(
        job is not None and job.func_name == task.module_path
        for job in queue.job_class.fetch_many(waiting, connection=queue.connection)
    )
