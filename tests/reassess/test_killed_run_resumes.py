"""A bulk run whose worker is killed resumes (issue 10.7, R3.1-R3.3): `kill -9` of `epigrid
worker` in the middle of a batch of a risk-area publication leaves the shard `running` with
its cursor after the last batch that landed; once the heartbeat has expired the next worker
takes it back by itself and the run ends with the counts of its preview and each person's
decision written once. The page and the API show that the run stopped and offer "resume"; a
live run is never resumed."""

from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from epigrid.accounts.audit import Actor
from epigrid.accounts.models import AuditEvent
from epigrid.lib import jobs
from epigrid.rules import bulk
from epigrid.rules import jobs as run_jobs
from epigrid.rules.models import BulkRun, BulkRunShard, DecisionRecord
from epigrid.rules.services import sweeping as sweep_module
from epigrid.rules.services.population import Population
from epigrid.rules.services.sweeping import sweep
from tests.killing import kill_inside, later_clock, run_worker_once

from .conftest import AT
from .test_in_bulk import draft_high_fengtai, town  # noqa: F401 (the population, a fixture)

BATCH = 2


def _page(client, run, language="zh-hans") -> str:
    return client.get(f"/rules/runs/{run.pk}/", HTTP_ACCEPT_LANGUAGE=language).content.decode()


@pytest.mark.django_db(transaction=True)
def test_it_resumes_a_publication_killed_mid_batch_with_each_decision_written_once(
    town,  # noqa: F811
    persona,
    system,
    client_for,
    monkeypatch,
):
    command = persona("province_command")
    actor = Actor(user=command)
    preview = bulk.preview_risk_change(
        actor=actor,
        publish=[draft_high_fengtai(system).pk],
        withdraw=[town["xicheng"].pk],
        at=AT,
        queue=False,
    )
    preview = bulk.run_inline(preview)
    expected = preview.counts[""]["people"]
    monkeypatch.setattr(bulk, "SWEEP_BATCH", BATCH)
    published = bulk.publish_risk_change(actor=actor, preview=preview, at=AT)
    shard = BulkRunShard.objects.get(run=published)
    # `epigrid worker` takes the shard and is killed inside its second batch, before it commits
    kill_inside(
        run_worker_once,
        module=sweep_module,
        name="write_batch",
        call=2,
        landed=lambda: BulkRunShard.objects.get(pk=shard.pk).done == BATCH,
    )
    stopped = BulkRunShard.objects.get(pk=shard.pk)
    assert stopped.status == BulkRun.Status.RUNNING and stopped.cursor
    assert stopped.done == BATCH and stopped.total > 2 * BATCH
    written_before = DecisionRecord.objects.filter(cause="risk_change", evaluated_at=AT).count()
    assert written_before == stopped.changed <= BATCH

    client = client_for(command)
    run_worker_once()  # the heartbeat is fresh: nobody takes a run that may be alive
    assert BulkRunShard.objects.get(pk=shard.pk).status == BulkRun.Status.RUNNING
    assert 'id="resume-job"' not in _page(client, published)
    refused = client.post(f"/api/v1/rules/runs/{published.pk}/resume")
    assert refused.status_code == 409 and refused.json()["code"] == "run_running"
    assert client.get(f"/api/v1/rules/runs/{published.pk}").json()["stalled"] is False

    later_clock(monkeypatch)
    page = _page(client, published)
    assert 'id="resume-job"' in page and f"/rules/runs/{published.pk}/resume" in page
    assert timezone.localtime(stopped.heartbeat_at).strftime("%Y-%m-%d %H:%M:%S") in page
    assert f"停止前已研判 {BATCH} / {stopped.total} 人" in page
    assert f"had evaluated {BATCH} of {stopped.total} people" in _page(client, published, "en")
    assert client.get(f"/api/v1/rules/runs/{published.pk}").json()["stalled"] is True

    run_worker_once()  # takes the shard back by itself and continues after the cursor
    published.refresh_from_db()
    assert published.status == BulkRun.Status.DONE
    assert published.done == stopped.total
    # the counts of the batches before the kill and after it add up to the preview's
    assert published.counts == preview.counts and published.changed == preview.changed == expected
    written = DecisionRecord.objects.filter(cause="risk_change", evaluated_at=AT)
    assert written.count() == expected
    assert not written.values("person").annotate(n=Count("id")).filter(n__gt=1).exists()
    # nothing is left to change at that moment
    assert sweep(Population(), at=AT, write=False).changed == 0
    assert (
        AuditEvent.objects.filter(object_id=str(published.pk), note__startswith="shard 0 resumed").count()
        == 1
    )
    assert set(
        DBTaskResult.objects.filter(task_path="epigrid.rules.tasks.run_bulk_shard").values_list(
            "status", flat=True
        )
    ) == {"FAILED", "SUCCESSFUL"}
    assert 'id="resume-job"' not in _page(client, published)


def _stopped_run(system, now, *, author=None) -> BulkRun:
    run = bulk.start_reassessment(
        actor=Actor(user=author) if author else system, division="320583", write=True, at=AT, queue=False
    )
    BulkRunShard.objects.filter(run=run).update(
        status=BulkRun.Status.RUNNING,
        worker="dead:1:0",
        started_at=now,
        heartbeat_at=now,
    )
    BulkRun.objects.filter(pk=run.pk).update(status=BulkRun.Status.RUNNING)
    return run


def test_resume_is_for_the_author_or_a_command_over_the_area_and_is_audited(
    system, persona, client_for, monkeypatch, world, clock
):
    author = persona("cdc", prefixes=["320583"])
    run = _stopped_run(system, clock.now, author=author)
    later_clock(monkeypatch)
    url = f"/rules/runs/{run.pk}/resume"
    api = f"/api/v1/rules/runs/{run.pk}/resume"
    other_county = client_for(persona("county_command", prefixes=["320585"]))
    assert other_county.post(url).status_code == 404
    assert other_county.post(api).status_code == 404
    grid_worker = client_for(persona("grid_worker"))
    assert grid_worker.post(url).status_code == 403
    assert grid_worker.post(api).status_code == 403
    assert BulkRunShard.objects.get(run=run).status == BulkRun.Status.RUNNING

    response = client_for(persona("city_command", prefixes=["3205"])).post(api)
    assert response.status_code == 202 and response.json()["status"] == BulkRun.Status.RUNNING
    assert BulkRunShard.objects.get(run=run).status == BulkRun.Status.QUEUED
    event = AuditEvent.objects.get(object_id=str(run.pk), note__startswith="shard 0 resumed")
    assert event.actor.role == "city_command"
    # and a worker looking now finds it taken
    assert run_jobs.requeue(BulkRunShard.objects.get(run=run).pk, actor=system, cutoff=jobs.cutoff()) is False
    # nor is there anything left for its author to resume
    again = client_for(author).post(api)
    assert again.status_code == 409 and again.json()["code"] == "run_not_resumable"


def test_two_workers_looking_for_stopped_shards_take_each_once(system, monkeypatch, world, clock):
    run = _stopped_run(system, clock.now)
    later_clock(monkeypatch)
    shard = BulkRunShard.objects.get(run=run)
    assert list(run_jobs.stale(jobs.cutoff())) == [shard.pk]
    tasks_before = DBTaskResult.objects.count()
    taken = [run_jobs.requeue(shard.pk, actor=system, cutoff=jobs.cutoff()) for _ in range(2)]
    assert taken == [True, False]
    assert DBTaskResult.objects.count() == tasks_before + 1


def test_a_review_whose_worker_died_is_closed_for_the_next_review(system, monkeypatch, world, clock):
    run = bulk._create_run(
        actor=system,
        kind=BulkRun.Kind.REVIEW,
        cause=bulk.REVIEW,
        at=AT,
        division="",
        parameters={},
        shards=1,
        queue=False,
    )
    BulkRunShard.objects.filter(run=run).update(
        status=BulkRun.Status.RUNNING, worker="dead:1:0", started_at=clock.now - timedelta(minutes=1)
    )
    BulkRun.objects.filter(pk=run.pk).update(status=BulkRun.Status.RUNNING)
    assert jobs.resume_stale() == {}
    later_clock(monkeypatch)
    assert jobs.resume_stale() == {"bulk_run_shard": 1}
    run.refresh_from_db()
    assert run.status == BulkRun.Status.FAILED and "stopped" in run.error


@pytest.mark.django_db(transaction=True)
def test_a_scheduled_review_killed_mid_sweep_is_closed_and_the_schedule_queued_again(
    town,  # noqa: F811
    monkeypatch,
):
    from datetime import timedelta as td

    from epigrid.rules.models import JobLock
    from epigrid.rules.tasks import review_due

    review_due.enqueue(None, 300)  # the schedule: every five minutes
    kill_inside(
        run_worker_once,
        module=sweep_module,
        name="write_batch",
        call=1,
        landed=lambda: JobLock.objects.filter(name="rules.review", until__isnull=False).exists(),
    )
    dead = DBTaskResult.objects.get(task_path=review_due.module_path)
    assert dead.status == "RUNNING"
    assert not DBTaskResult.objects.filter(task_path=review_due.module_path, status="READY").exists()
    review = BulkRun.objects.get(kind=BulkRun.Kind.REVIEW)
    assert review.status == BulkRun.Status.RUNNING

    # past the heartbeat of its sweep: the review's run is closed (the next review takes the
    # people still due), but its lock is still held, so the schedule is left alone
    later_clock(monkeypatch)
    assert jobs.resume_stale() == {"bulk_run_shard": 1}
    review.refresh_from_db()
    assert review.status == BulkRun.Status.FAILED and "stopped" in review.error
    assert not DBTaskResult.objects.filter(task_path=review_due.module_path, status="READY").exists()
    # once the lock expired too, the schedule is queued again, once
    later_clock(monkeypatch, after=td(minutes=31))
    assert jobs.resume_stale() == {"review_schedule": 1}
    dead.refresh_from_db()
    assert dead.status == "FAILED"
    queued = DBTaskResult.objects.get(task_path=review_due.module_path, status="READY")
    assert queued.args_kwargs["args"] == [None, 300]
    assert jobs.resume_stale() == {}
