"""`epigrid worker`: django-tasks' database worker (django-tasks-db's `db_worker`, with all its
options), which also takes back the jobs of workers that died.

The queue itself never looks at a task again once a worker took it, so a worker killed in the
middle of a pushed-list commit, a results import or a bulk-run shard leaves that job stopped.
Before it takes its first task, and then every quarter of `EPIGRID_JOB_STALE_SECONDS` while it
runs, this worker queues again every job whose heartbeat stopped (`lib.jobs.resume_stale`);
the worker that runs the new task continues from the last batch that landed. With `--batch`
it looks once, then runs everything queued, its own resumptions included, and exits.
"""

import logging
import threading
import time

from django.db import connections
from django_tasks_db.management.commands import db_worker

from epigrid.lib import jobs

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


class Command(db_worker.Command):
    help = "Run the background worker; jobs of workers that died are taken back and resumed"

    def handle(self, *args, batch: bool = False, **options):
        _resume_once()
        if not batch:
            threading.Thread(target=_keep_resuming, name="epigrid-resume", daemon=True).start()
        return super().handle(*args, batch=batch, **options)
