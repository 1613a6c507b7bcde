"""On PostgreSQL two workers commit one pushed list together: each batch takes its rows with
FOR UPDATE SKIP LOCKED, so no row is committed twice and the list ends committed once."""

import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from epigrid.accounts.audit import Actor
from epigrid.declarations.models import ListStatus, PushedList, PushedRow, RowState, VerificationTask
from epigrid.declarations.services import pushed_commit, pushed_upload
from epigrid.tasks.models import Task

from .conftest import GRID
from .lists import xlsx

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_workers_share_a_list_without_taking_a_row_twice(world, persona, id_numbers, clock):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time: a list is committed by one worker")
    team = Actor(user=persona("data_team"), via="test")
    arrived = timezone.localtime(clock.now).strftime("%Y-%m-%d %H:%M")
    rows = [[id_numbers(), f"旅客{i}", "", "上海", arrived, "", GRID, "火车", "G1"] for i in range(60)]
    listed = pushed_upload.upload(
        actor=team, name="并行", source="transport", file_name="l.xlsx", data=xlsx(rows)
    )
    pushed_commit.request_commit(actor=team, pushed=listed, batch_size=7, enqueue=False)
    errors = []

    def worker():
        try:
            pushed_commit.run_commit(list_id=listed.pk, actor=team)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    done = PushedList.objects.get(pk=listed.pk)
    assert done.status == ListStatus.COMMITTED and done.committed_rows == 60
    assert sorted(PushedRow.objects.values_list("batch", flat=True).distinct()) == list(range(1, 10))
    assert PushedRow.objects.filter(state=RowState.COMMITTED).count() == 60
    assert (
        VerificationTask.objects.count()
        == 60
        == VerificationTask.objects.values("pushed_row").distinct().count()
    )
    assert Task.objects.filter(source_type="verification").count() == 60
