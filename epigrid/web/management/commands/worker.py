"""`epigrid worker`: the worker of the task queue in use (settings.EPIGRID_TASKS), which also
takes back the jobs of workers that died.

- `database` (default): django-tasks-db's `db_worker`, with all its options (`--batch`, ...);
- `rq`: django-rq's `rqworker` with django-tasks-rq's job class and RQ's scheduler (a review
  queued for later moves onto the queue when it falls due), with all its options (`--burst`, ...).

Neither queue looks at a task again once a worker took it, so a worker killed in the middle of
a pushed-list commit, a results import or a bulk-run shard leaves that job stopped. Before it
takes its first task, and then every quarter of `EPIGRID_JOB_STALE_SECONDS` while it runs, this
worker queues again every job whose heartbeat stopped (`lib.jobs.resume_stale`); the worker that
runs the new task continues from the last batch that landed. With `--batch` / `--burst` it
looks once, then runs everything queued, its own resumptions included, and exits.
"""

import logging
import threading
import time

from django.conf import settings
from django.db import connections

from epigrid.lib import jobs

if settings.TASK_QUEUE == "rq":
    from django_rq.management.commands.rqworker import Command as QueueWorker
else:
    from django_tasks_db.management.commands.db_worker import Command as QueueWorker

log = logging.getLogger("epigrid.worker")


def _resume_once() -> dict:
    try:
        return jobs.resume_stale()
    except Exception:  # a broken pass must not stop the worker's own tasks
        log.exception("looking for stopped jobs failed")
        return {}


def _keep_resuming() -> None:
    while True:
        time.sleep(jobs.resume_every())
        _resume_once()
        connections.close_all()  # this thread's own connections (Django keeps them per thread)


class Command(QueueWorker):
    help = "Run the background worker; jobs of workers that died are taken back and resumed"

    def handle(self, *args, **options):
        once = options.get("batch") or options.get("burst")
        if settings.TASK_QUEUE == "rq":
            options["job_class"] = options.get("job_class") or "django_tasks_rq.Job"
            options["with_scheduler"] = True
            args = args or tuple(settings.RQ_QUEUES)
        _resume_once()
        if not once:
            threading.Thread(target=_keep_resuming, name="epigrid-resume", daemon=True).start()
        return super().handle(*args, **options)
