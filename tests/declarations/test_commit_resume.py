"""A pushed-list commit whose worker is killed resumes (issue 10.7, R2.4): `kill -9` of
`epigrid worker` in the middle of a batch leaves the list `committing` with the batches before
it whole; once the heartbeat has expired, the next `epigrid worker` takes the list back by
itself and finishes it with every row committed once. The page and the API show that the
commit stopped, when and how far it got, and offer "resume"; a live commit is never resumed."""

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from epigrid.accounts.audit import Actor
from epigrid.accounts.models import AuditEvent
from epigrid.declarations import jobs as list_jobs
from epigrid.declarations.models import ListStatus, PushedList, PushedRow, RowState, VerificationTask
from epigrid.declarations.services import pushed_commit, pushed_upload
from epigrid.lib import jobs
from epigrid.lib.errors import Forbidden
from epigrid.rules.models import MeasureRecord
from epigrid.tasks.models import Task
from tests.killing import kill_inside, later_clock, run_worker_once

from .conftest import GRID, TAICANG
from .lists import xlsx
from .test_pushed_lists import _number_of, _row

ROWS = 12
BATCH = 5


@pytest.fixture
def team(persona):
    return Actor(user=persona("data_team"), via="test")


def _list(now, team, make_person, id_numbers, n=ROWS):
    rows = []
    for i in range(n):
        person = make_person(GRID, name=f"张{i}", number=id_numbers(division="320583"))
        rows.append(_row(now, _number_of(person), name=person.name, division=GRID))
    return pushed_upload.upload(
        actor=team, name="铁路推送", source="transport", file_name="l.xlsx", data=xlsx(rows)
    )


def _stopped_list(now, team, make_person, id_numbers, *, batches_done=1):
    """A list whose commit stopped (set up directly: the tests of who may resume it)."""
    listed = _list(now, team, make_person, id_numbers, n=2)
    pushed_commit.request_commit(actor=team, pushed=listed, enqueue=False)
    PushedList.objects.filter(pk=listed.pk).update(
        status=ListStatus.COMMITTING, heartbeat_at=now, batches_done=batches_done
    )
    return PushedList.objects.get(pk=listed.pk)


def _page(client, listed, language="zh-hans") -> str:
    return client.get(f"/declarations/lists/{listed.pk}/", HTTP_ACCEPT_LANGUAGE=language).content.decode()


@pytest.mark.django_db(transaction=True)
def test_it_resumes_a_commit_killed_mid_batch_with_no_row_lost_or_doubled(
    team, make_person, id_numbers, client_for, monkeypatch, clock
):
    listed = _list(clock.now, team, make_person, id_numbers)
    # one task for the list: on PostgreSQL a second one, queued for a second worker to share the
    # list, would finish it without any resuming (tested in test_parallel_commit)
    monkeypatch.setattr(pushed_commit, "COMMIT_TASKS", 1)
    # queued for the worker as the page queues it
    pushed_commit.request_commit(actor=team, pushed=listed, batch_size=BATCH)
    # `epigrid worker` takes the task and is killed inside batch 2, its transaction open
    kill_inside(
        run_worker_once,
        module=pushed_commit,
        name="open_tasks_bulk",
        call=2,
        landed=lambda: PushedList.objects.get(pk=listed.pk).batches_done == 1,
    )
    stopped = PushedList.objects.get(pk=listed.pk)
    assert stopped.status == ListStatus.COMMITTING
    assert (stopped.batches_done, stopped.committed_rows) == (1, BATCH)
    # batch 1 whole, nothing of batch 2
    assert PushedRow.objects.filter(state=RowState.COMMITTED).count() == BATCH
    assert VerificationTask.objects.count() == BATCH
    assert DBTaskResult.objects.get(pk=stopped.task_result_id).status == "RUNNING"

    client = client_for(team.user)
    # the heartbeat is fresh: the commit may be alive, so nobody takes it, and no "resume"
    run_worker_once()
    assert PushedList.objects.get(pk=listed.pk).status == ListStatus.COMMITTING
    assert 'id="resume-job"' not in _page(client, listed)
    refused = client.post(f"/api/v1/declarations/pushed-lists/{listed.pk}/resume")
    assert refused.status_code == 409 and refused.json()["code"] == "commit_running"
    assert client.get(f"/api/v1/declarations/pushed-lists/{listed.pk}").json()["list"]["stalled"] is False

    later_clock(monkeypatch)
    # now it is a commit that stopped: the page says when and how far it got, and offers resume
    page = _page(client, listed)
    assert 'id="resume-job"' in page and f"/declarations/lists/{listed.pk}/resume/" in page
    assert timezone.localtime(stopped.heartbeat_at).strftime("%Y-%m-%d %H:%M:%S") in page
    assert f"停止前已写入 1 / {stopped.batches_total} 批（{BATCH} 行）" in page
    assert f"1 of {stopped.batches_total} batches ({BATCH} rows)" in _page(client, listed, "en")
    status = client.get(f"/api/v1/declarations/pushed-lists/{listed.pk}").json()["list"]
    assert status["stalled"] is True and status["batches_done"] == 1

    # the next worker takes it back by itself and finishes it
    run_worker_once()
    done = PushedList.objects.get(pk=listed.pk)
    assert done.status == ListStatus.COMMITTED
    assert (done.batches_done, done.committed_rows) == (3, ROWS)
    assert PushedRow.objects.filter(state=RowState.COMMITTED).count() == ROWS
    assert VerificationTask.objects.count() == ROWS
    assert VerificationTask.objects.values("pushed_row").distinct().count() == ROWS
    assert Task.objects.filter(source_type="verification").count() == ROWS
    # every matched arrival from Wuhan asked for its tests once (JS79-13), none twice
    wuhan = MeasureRecord.objects.filter(rule_id="JS79-13/wuhan")
    assert wuhan.count() == wuhan.values("person").distinct().count() == ROWS
    assert done.reassessed == ROWS
    assert sorted(PushedRow.objects.values_list("batch", flat=True).distinct()) == [1, 2, 3]
    # the dead worker's task is no longer shown running
    assert DBTaskResult.objects.get(pk=stopped.task_result_id).status == "FAILED"
    assert AuditEvent.objects.filter(object_id=str(listed.pk), note__startswith="commit resumed").count() == 1
    assert 'id="resume-job"' not in _page(client, listed)


def test_a_queued_list_and_its_task_are_written_in_one_transaction(team, make_person, id_numbers, clock):
    """A worker (or the web process) dying between the commit and an after-commit hook would
    leave a list queued for a task that does not exist, which no worker ever finds."""
    listed = _list(clock.now, team, make_person, id_numbers, n=2)
    with transaction.atomic():
        queued = pushed_commit.request_commit(actor=team, pushed=listed)
        # before the transaction commits, the task is already there beside the queued list
        queued.refresh_from_db()
        assert queued.status == ListStatus.QUEUED and queued.task_result_id
        assert DBTaskResult.objects.get(pk=queued.task_result_id).status == "READY"


def test_two_workers_looking_for_stopped_commits_take_each_once(
    team, make_person, id_numbers, monkeypatch, clock
):
    stopped = _stopped_list(clock.now, team, make_person, id_numbers)
    later_clock(monkeypatch)
    tasks_before = DBTaskResult.objects.count()
    assert list(list_jobs.stale(jobs.cutoff())) == [stopped.pk]
    first = list_jobs.requeue(stopped.pk, actor=Actor.system("worker"), cutoff=jobs.cutoff())
    second = list_jobs.requeue(stopped.pk, actor=Actor.system("worker"), cutoff=jobs.cutoff())
    assert (first, second) == (True, False)
    assert PushedList.objects.get(pk=stopped.pk).status == ListStatus.QUEUED
    assert DBTaskResult.objects.count() == tasks_before + (2 if pushed_commit.parallel_commits() else 1)
    assert jobs.resume_stale() == {}


def test_resume_is_for_the_data_team_of_the_lists_area_and_is_audited(
    team, persona, make_person, id_numbers, client_for, monkeypatch, clock
):
    stopped = _stopped_list(clock.now, team, make_person, id_numbers)
    later_clock(monkeypatch)
    url = f"/declarations/lists/{stopped.pk}/resume/"
    api = f"/api/v1/declarations/pushed-lists/{stopped.pk}/resume"
    other_county = client_for(persona("data_team", prefixes=[TAICANG]))
    assert other_county.post(url).status_code == 404
    assert other_county.post(api).status_code == 404
    grid_worker = client_for(persona("grid_worker", prefixes=[GRID]))
    assert grid_worker.post(url).status_code == 403
    assert grid_worker.post(api).status_code == 403
    with pytest.raises(Forbidden):
        list_jobs.resume_commit(actor=Actor(user=persona("grid_worker", prefixes=[GRID])), pushed=stopped)
    assert PushedList.objects.get(pk=stopped.pk).status == ListStatus.COMMITTING

    response = client_for(team.user).post(api)
    assert response.status_code == 202 and response.json()["status"] == ListStatus.QUEUED
    event = AuditEvent.objects.get(object_id=str(stopped.pk), note__startswith="commit resumed")
    assert event.actor == team.user and "stopped after batch 1" in event.note
    # a list that is not committing is not resumed
    again = client_for(team.user).post(api)
    assert again.status_code == 409 and again.json()["code"] == "list_not_resumable"
