"""A bulk reassessment queued on Redis runs through real RQ worker processes, with the same task
code as the database queue (settings EPIGRID_TASKS=rq, DESIGN.md "Running it").

The test process itself keeps the database queue; the command that queues the run and the two
workers are separate `epigrid` processes started with EPIGRID_TASKS=rq, against this test's
database and a Redis database of their own.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from epigrid.accounts.audit import Actor
from epigrid.rules import bulk
from epigrid.rules.models import BulkRun, BulkRunShard, PersonRuleState

pytestmark = pytest.mark.django_db(transaction=True)

REDIS = os.environ.get("EPIGRID_TEST_REDIS", "redis://127.0.0.1:6379")


@pytest.fixture
def redis_url():
    """A Redis database of this test alone: several test runs on one machine never share a queue."""
    import redis

    control = redis.Redis.from_url(f"{REDIS}/0")
    try:
        control.ping()
    except redis.exceptions.ConnectionError:
        message = f"no Redis at {REDIS} (.ci/run starts one when none is running)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    for number in range(1, 16):
        key = f"epigrid:test-rq-db:{number}"
        if control.set(key, os.getpid(), nx=True, ex=900):
            url = f"{REDIS}/{number}"
            redis.Redis.from_url(url).flushdb()
            try:
                yield url
            finally:
                redis.Redis.from_url(url).flushdb()
                control.delete(key)
            return
    pytest.fail("every Redis database 1-15 is taken by another test run")


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _epigrid(redis_url: str, *args: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "EPIGRID_TASKS": "rq",
        "EPIGRID_REDIS_URL": redis_url,
        "EPIGRID_DATABASE_URL": _database_url(),
        "EPIGRID_VAR_DIR": str(settings.VAR_DIR),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "epigrid", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process: subprocess.Popen) -> str:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err[-3000:]
    return out


def test_it_reassesses_through_rq_workers(redis_url, make_person, grid_cells):
    people = [make_person(cell.code[:12], name=f"测试{i}") for i, cell in enumerate(grid_cells[:24])]
    connection.close()  # the workers write to this database; SQLite allows one writer

    _finish(_epigrid(redis_url, "rules", "reassess", "--division", "320583", "--shards", "4", "--queue"))
    run = BulkRun.objects.get()
    assert run.status == BulkRun.Status.QUEUED

    workers = [_epigrid(redis_url, "worker", "--burst", "--name", f"epigrid-test-{i}") for i in range(2)]
    for worker in workers:
        _finish(worker)

    run.refresh_from_db()
    assert run.status == BulkRun.Status.DONE, run.error
    assert run.done == len(people)
    assert set(BulkRunShard.objects.filter(run=run).values_list("status", flat=True)) == {"done"}
    # run in the worker processes, not here
    ran_in = {w.rsplit(":", 1)[-1] for w in BulkRunShard.objects.values_list("worker", flat=True)}
    assert ran_in and str(os.getpid()) not in ran_in
    assert PersonRuleState.objects.filter(person__in=people).count() == len(people)

    # what the workers wrote is what a sweep here computes: nothing is left to change
    check = bulk.start_reassessment(
        actor=Actor.system("test"), division="320583", write=False, cause="reassess", shards=1, queue=False
    )
    check = bulk.run_inline(check)
    assert check.status == BulkRun.Status.DONE
    assert check.changed == 0


def test_it_schedules_one_review_on_redis_however_often_asked(redis_url):
    import json

    import redis
    from rq import Queue
    from rq.registry import ScheduledJobRegistry

    first = json.loads(_finish(_epigrid(redis_url, "rules", "review", "--schedule", "600")))
    second = json.loads(_finish(_epigrid(redis_url, "rules", "review", "--schedule", "600")))
    assert (first["scheduled"], second["scheduled"]) == (True, False)
    scheduled = ScheduledJobRegistry(queue=Queue("default", connection=redis.Redis.from_url(redis_url)))
    assert len(scheduled.get_job_ids()) == 1
