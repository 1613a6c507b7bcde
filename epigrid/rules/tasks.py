"""Background work of the rules app, as django-tasks tasks (run by `epigrid worker`).

- `run_bulk_shard(run_id, index)`: one shard of a what-if preview or a bulk reassessment;
  queued by `rules.bulk` when a run starts, one task per shard.
- `review_due(at=None, every=None)`: reassess everyone whose decision changes by time alone
  (colours clear when their release conditions are met). With `every` (seconds) it queues its
  next run before finishing, so once started (`epigrid rules review --schedule 300`) the
  workers keep reviewing every five minutes by themselves (docs/reassess.md).
"""

from datetime import datetime, timedelta

from django.utils import timezone
from django_tasks import task


@task()
def run_bulk_shard(run_id: str, index: int) -> dict:
    from epigrid.rules import bulk

    return bulk.execute_shard(run_id, index)


@task()
def review_due(at: str | None = None, every: int | None = None) -> dict:
    from epigrid.rules import bulk

    try:
        result = bulk.review(at=datetime.fromisoformat(at) if at else None)
    finally:
        if every:
            schedule_review(every)
    return result


def schedule_review(every: int) -> bool:
    """Queue the next periodic review in `every` seconds, unless one is queued already (so
    starting the schedule twice, or two workers finishing reviews, never doubles it)."""
    if every < 10:
        raise ValueError("review at most every 10 seconds")
    from epigrid.lib import queue

    if queue.is_queued(review_due):
        return False
    queue.enqueue(review_due, None, every, run_after=timezone.now() + timedelta(seconds=every))
    return True
