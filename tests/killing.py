"""`kill -9` of a worker in the middle of a job, for the tests of jobs that resume (issue 10.7).

`kill_inside` runs a job in a forked child process (its own process group, with its own
database connections) and stops it inside the n-th call of a function of the job, in the
middle of a batch with its transaction open, or before a step; it tells this process where it
is through a pipe and waits there. This process checks in the database that the earlier
batches landed, then SIGKILLs the child's whole group (a reassessment process it forked dies
with it, as under `kill -9` of a systemd unit) and waits until the database has let go of the
dead connections (PostgreSQL aborts their transactions; SQLite's lock dies with the process).
Nothing here sleeps in the hope that something happened: every wait is for a condition.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import time
import traceback
from collections.abc import Callable
from datetime import timedelta

from asgiref.local import Local
from django.db import connection, connections

from epigrid.lib import jobs

TIMEOUT = 120  # seconds: only a broken test waits this long


def wait_for(condition: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _child(job, module, name: str, call: int, after: bool, pipe) -> None:
    os.setsid()  # its own group: the kill takes whatever it forks too
    # Connections of our own. The parent closed its connection, but a connection opened in
    # another context of its thread (after a browser test, Playwright's) can still be open, and
    # a query here on that shared socket would break the parent's session. The inherited
    # objects are dropped, never closed (closing would end the parent's session too).
    connections._connections = Local(connections.thread_critical)
    real = getattr(module, name)
    calls = {"n": 0}

    def stop_here(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] != call:
            return real(*args, **kwargs)
        result = real(*args, **kwargs) if after else None
        pipe.send(("inside", os.getpid()))
        time.sleep(TIMEOUT * 10)  # the parent kills us here
        return result

    setattr(module, name, stop_here)
    try:
        job()
    except BaseException:
        pipe.send(("error", traceback.format_exc()))
    else:
        pipe.send(("finished", None))


def kill_inside(
    job: Callable[[], object],
    *,
    module,
    name: str,
    call: int,
    after: bool = True,
    landed: Callable[[], bool],
) -> None:
    """Run `job` in a child; SIGKILL it inside the `call`-th call of `module.name` (after that
    call did its work when `after`, else before it), once `landed()` holds in the database."""
    connections.close_all()  # the child must open its own connections, not share ours
    context = multiprocessing.get_context("fork")
    parent_end, child_end = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(job, module, name, call, after, child_end))
    process.start()
    try:
        if not parent_end.poll(TIMEOUT):
            raise AssertionError(f"the job never reached call {call} of {name}")
        what, detail = parent_end.recv()
        if what != "inside":
            from django_tasks_db.models import DBTaskResult

            failed = "\n".join(
                DBTaskResult.objects.filter(status="FAILED").values_list("traceback", flat=True)
            )
            raise AssertionError(f"the job did not stop where it should ({what}):\n{detail or ''}{failed}")
        wait_for(landed, "the batches before the kill to land")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.join(TIMEOUT)
    assert process.exitcode == -signal.SIGKILL
    if connection.vendor == "postgresql":
        # the server notices the dead clients and aborts their transactions, releasing locks
        def no_transaction_left() -> bool:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
                )
                return cursor.fetchone()[0] == 0

        wait_for(no_transaction_left, "PostgreSQL to abort the killed worker's transactions")


def later_clock(monkeypatch, after: timedelta | None = None) -> None:
    """Move the clock the staleness checks read past every heartbeat written so far."""
    moved = jobs.now() + (after or jobs.stale_after() + timedelta(minutes=1))
    monkeypatch.setattr(jobs, "now", lambda: moved)


def run_worker_once() -> None:
    """`epigrid worker --batch`: one look for stopped jobs, then every queued task, then exit."""
    from django.core.management import call_command

    call_command("worker", batch=True, interval=0, startup_delay=False, reload=False, verbosity=0)
