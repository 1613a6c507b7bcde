"""The `epigrid` console command: Django's management commands under one name.

`epigrid demo`, `epigrid simulate`, `epigrid token`, `epigrid runserver`, `epigrid worker`
and every other management command run through here.
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "epigrid.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "worker":
        args = [*worker_command(), *args[1:]]
    execute_from_command_line(["epigrid", *args])


def worker_command() -> list[str]:
    """The worker of the queue in use (settings.EPIGRID_TASKS), under the name the docs use: the
    database queue's db_worker, or an RQ worker that also moves scheduled jobs (a review queued
    for later) onto the queue when they fall due."""
    from django.conf import settings

    if settings.TASK_QUEUE == "rq":
        return ["rqworker", "--job-class", "django_tasks_rq.Job", "--with-scheduler", *settings.RQ_QUEUES]
    return ["db_worker"]


if __name__ == "__main__":
    main()
