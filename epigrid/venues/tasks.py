"""Background work of the venues app, as django-tasks tasks (run by `epigrid worker`).

- `retention_due(every=None)`: delete entries and checkpoint passes older than the retention,
  drop old day partitions and make those ahead (`services.retention`). With `every` (seconds)
  it queues its next run before finishing, so once started (`epigrid venues retention
  --schedule 3600`) the workers keep it going by themselves, as `rules.tasks.review_due` does.
"""

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

MIN_EVERY = 60


@task()
def retention_due(every: int | None = None) -> dict:
    from epigrid.accounts.audit import Actor
    from epigrid.venues.services.retention import run_retention

    try:
        run = run_retention(actor=Actor.system("worker"))
    finally:
        if every:
            schedule_retention(every)
    return {
        "entries_deleted": run.entries_deleted,
        "passes_deleted": run.passes_deleted,
        "partitions_dropped": len(run.partitions_dropped),
        "partitions_created": len(run.partitions_created),
    }


def schedule_retention(every: int) -> bool:
    """Queue the next retention run in `every` seconds unless one is waiting already (starting
    the schedule twice never doubles it)."""
    if every < MIN_EVERY:
        raise ValueError(f"run the retention job at most every {MIN_EVERY} seconds")
    from epigrid.lib import queue

    if queue.is_queued(retention_due):
        return False
    queue.enqueue(retention_due, every, run_after=timezone.now() + timedelta(seconds=every))
    return True
