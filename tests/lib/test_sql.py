"""`any_of` filters by a long list of values on both databases, for key and plain columns."""

import json
import uuid

import pytest
from django.db import connection, transaction

from epigrid.lib.sql import any_of, asynchronous_commit
from epigrid.tasks.models import Assignee, Task
from epigrid.tasks.services import TaskSpec, open_tasks_bulk


@pytest.fixture
def tasks(db, system):
    specs = [
        TaskSpec(
            kind="verification",
            division_code="320583001001001",
            assignee=Assignee.GRID_WORKER,
            title_zh=f"核查 {i}",
            title_en=f"check {i}",
            source_type="verification",
            source_id=f"source-{i}",
        )
        for i in range(5)
    ]
    open_tasks_bulk(actor=system, specs=specs)
    return list(Task.objects.order_by("source_id"))


def test_it_filters_by_the_primary_key_a_plain_column_and_nothing(tasks):
    assert set(any_of(Task.objects, "id", [t.pk for t in tasks[:2]])) == set(tasks[:2])
    found = any_of(Task.objects, "source_id", ["source-3", "source-4", "elsewhere"])
    assert sorted(found.values_list("source_id", flat=True)) == ["source-3", "source-4"]
    assert list(any_of(Task.objects, "id", [])) == []


def test_it_takes_ids_as_text_and_more_of_them_than_sqlite_has_placeholders(tasks):
    wanted = [str(tasks[0].pk), tasks[1].pk.hex]
    assert set(any_of(Task.objects, "id", wanted)) == set(tasks[:2])
    # 40,000 values: beyond the 32,766 placeholders one SQLite statement may hold
    many = [f"source-{i}" for i in range(40_000)]
    assert any_of(Task.objects, "source_id", many).count() == 5
    assert list(any_of(Task.objects, "source_id", [None])) == []


def test_it_combines_with_other_filters_and_updates(tasks):
    qs = any_of(Task.objects, "source_id", ["source-1", "source-2"]).filter(status="open")
    assert qs.update(outcome="checked") == 2
    assert Task.objects.filter(outcome="checked").count() == 2


def test_a_long_list_is_one_parameter_on_either_database(tasks):
    """The reason any_of exists: 10,000 ids compile to one array (PostgreSQL) or one JSON text
    (SQLite), never to 10,000 placeholders, and still combine with Django's own filters."""
    ids = [t.pk for t in tasks] + [uuid.uuid4() for _ in range(10_000)]
    qs = any_of(Task.objects.filter(status="open"), "id", ids)
    sql, params = qs.query.sql_with_params()
    assert len(params) == 2  # status, and the whole list
    if connection.vendor == "postgresql":
        assert '"tasks_task"."id" = ANY(%s)' in sql and len(params[1]) == len(ids)
    else:
        assert '"tasks_task"."id" IN (SELECT value FROM json_each(%s))' in sql
        assert json.loads(params[1])[0] == tasks[0].pk.hex  # as SQLite stores a UUID
    assert set(qs) == set(tasks)
    by_person = any_of(Task.objects, "person_id", [None])  # a foreign key by its column
    assert '"tasks_task"."person_id"' in str(by_person.query) and list(by_person) == []


def test_it_refuses_a_name_that_is_not_a_column(tasks):
    with pytest.raises(ValueError):
        any_of(Task.objects, "source", ["x"])


@pytest.mark.django_db(transaction=True)
def test_an_asynchronous_commit_holds_for_its_own_transaction_only():
    def setting():
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            return cursor.fetchone()[0]

    if connection.vendor != "postgresql":
        with transaction.atomic():
            asynchronous_commit()  # nothing to set: SQLite's durability is the database's
        return
    with transaction.atomic():
        asynchronous_commit()
        assert setting() == "off"
    assert setting() == "on"
