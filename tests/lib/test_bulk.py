"""The set-based writers store what the ORM would: rows written by `insert_rows` and changed by
`update_rows` read back through the ORM equal to the values given (times in any zone, JSON with
text in any script), on both databases."""

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import NamedTuple
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from epigrid.accounts.models import AuditEvent, AuditRow
from epigrid.lib.bulk import insert_rows, update_rows
from epigrid.tasks.models import Task

SHANGHAI = ZoneInfo("Asia/Shanghai")


class _TaskTimes(NamedTuple):
    id: object
    due_at: datetime | None
    closed_at: datetime | None


# Any text but NUL and lone surrogates, which no writer is given: PostgreSQL stores no NUL in
# text or jsonb and web.middleware refuses a request that carries one; UTF-8 has no lone
# surrogate, forms decode with replacement and the API's schemas answer a JSON escape of one
# with a 422.
texts = st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=8)
nul_too = st.characters(exclude_categories=["Cs"])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)
aware_times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2099, 1, 1), timezones=st.sampled_from([UTC, SHANGHAI])
)


@pytest.mark.django_db(transaction=True)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# top-level None is SQL NULL, as with the ORM (and this column is NOT NULL)
@given(at=aware_times, value=json_values.filter(lambda v: v is not None))
def test_it_reads_back_the_times_and_json_it_was_given(at, value):
    with transaction.atomic():
        insert_rows(
            AuditEvent,
            [
                AuditRow(
                    at=at,
                    action="import",
                    object_type="bench",
                    object_id="x",
                    division_code="3205",
                    fields=value,
                    note="n",
                )
            ],
        )
        stored = AuditEvent.objects.get(object_type="bench")
        assert stored.at == at
        assert stored.fields == value
        transaction.set_rollback(True)


def test_it_stores_times_as_the_orm_does_so_filters_and_order_agree(db):
    base = datetime(2026, 11, 23, 8, 30, tzinfo=SHANGHAI)
    # the same instant in two zones, and the repeated values a batch shares
    times = [base, base.astimezone(UTC), base + timedelta(microseconds=1), base - timedelta(hours=9), base]
    insert_rows(
        AuditEvent,
        [
            AuditRow(at=t, action="import", object_type="bulk", object_id=str(i), fields=[])
            for i, t in enumerate(times)
        ],
    )
    for i, t in enumerate(times):
        AuditEvent.objects.create(at=t, action="import", object_type="orm", object_id=str(i))
    for kind in ("bulk", "orm"):
        rows = AuditEvent.objects.filter(object_type=kind)
        assert sorted(rows.filter(at=base).values_list("object_id", flat=True)) == ["0", "1", "4"]
        assert rows.filter(at__gt=base).get().object_id == "2"
        assert list(rows.order_by("at", "object_id").values_list("object_id", flat=True)) == [
            "3",
            "0",
            "1",
            "4",
            "2",
        ]


def test_it_keeps_chinese_text_and_none_in_json_as_the_orm_does(db):
    value = ["姓名", {"地址": None, "note": "苏州"}]
    insert_rows(
        AuditEvent,
        [AuditRow(at=datetime.now(UTC), action="import", object_type="zh", object_id="bulk", fields=value)],
    )
    AuditEvent.objects.create(
        at=datetime.now(UTC), action="import", object_type="zh", object_id="orm", fields=value
    )
    rows = AuditEvent.objects.filter(object_type="zh")
    assert [r.fields for r in rows] == [value, value]
    # the database's own JSON functions find the same rows in both
    for lookup in ({"fields__0": "姓名"}, {"fields__1__note": "苏州"}, {"fields__1__has_key": "地址"}):
        assert sorted(rows.filter(**lookup).values_list("object_id", flat=True)) == ["bulk", "orm"], lookup


def test_it_updates_times_and_nulls_by_key(db, system):
    from epigrid.tasks.services import TaskSpec, open_tasks_bulk

    open_tasks_bulk(
        actor=system,
        specs=[
            TaskSpec(kind="k", title_zh="t", title_en="t", division_code="3205", assignee="grid_worker")
            for _ in range(3)
        ],
    )
    first, second, third = Task.objects.order_by("id")
    due = datetime(2026, 11, 30, 9, 0, tzinfo=timezone(timedelta(hours=8)))
    update_rows(
        Task,
        [
            _TaskTimes(id=first.pk, due_at=due, closed_at=None),
            _TaskTimes(id=second.pk, due_at=None, closed_at=due),
        ],
        key="id",
    )
    first.refresh_from_db()
    second.refresh_from_db()
    third.refresh_from_db()
    assert (first.due_at, first.closed_at) == (due, None)
    assert (second.due_at, second.closed_at) == (None, due)
    assert third.due_at is None and third.closed_at is None
    assert Task.objects.filter(due_at=due).get() == first


# the encoder itself takes NUL too
@given(
    value=json_values
    | st.dictionaries(st.text(nul_too, max_size=5), st.text(nul_too, max_size=5), max_size=4)
)
def test_it_writes_json_for_sqlite_as_ascii_text_that_reads_back_equal(value):
    from epigrid.lib.bulk import _ascii_json

    text = _ascii_json(value)
    assert text.isascii()
    assert json.loads(text) == value


@pytest.mark.parametrize("key", ["地址", "café", "😀", "a\\xb"])
def test_it_finds_json_keys_beyond_ascii_in_rows_it_wrote(db, key):
    insert_rows(
        AuditEvent,
        [
            AuditRow(
                at=datetime.now(UTC), action="import", object_type="k", object_id="bulk", fields=[{key: 1}]
            )
        ],
    )
    assert AuditEvent.objects.filter(object_type="k", **{"fields__0__has_key": key}).exists()


# --- typed rows -------------------------------------------------------------------------------


class _TaskDue(NamedTuple):
    due_at: datetime | None
    id: object  # the key need not come first


def test_it_inserts_typed_rows_by_their_field_names(db):
    at = datetime(2020, 4, 10, 9, 0, tzinfo=SHANGHAI)
    with transaction.atomic():
        count = insert_rows(
            AuditEvent,
            [
                AuditRow(at=at, action="import", object_type="bench", object_id=str(i), note="n")
                for i in range(3)
            ],
        )
    assert count == 3
    stored = AuditEvent.objects.filter(object_type="bench").order_by("object_id")
    assert [(e.object_id, e.at, e.fields, e.division_code, e.actor_id) for e in stored] == [
        (str(i), at, [], "", None) for i in range(3)
    ]


def test_it_refuses_a_row_type_naming_a_field_the_model_lacks(db):
    class Wrong(NamedTuple):
        at: datetime
        colour: str

    with pytest.raises(TypeError, match="colour"):
        insert_rows(AuditEvent, [Wrong(datetime.now(UTC), "red")])
    with pytest.raises(TypeError, match="not a row type"):
        insert_rows(AuditEvent, [("x", "y")])
    assert insert_rows(AuditEvent, []) == 0


def test_it_updates_typed_rows_by_a_key_named_anywhere(db, system):
    from epigrid.tasks.services import TaskSpec, open_task

    tasks = [
        open_task(
            actor=system,
            spec=TaskSpec(kind="k", title_zh="t", title_en="t", division_code="3205", assignee="cdc"),
        )
        for _ in range(2)
    ]
    due = datetime(2030, 1, 1, 8, 0, tzinfo=UTC)
    with transaction.atomic():
        update_rows(
            Task, [_TaskDue(due_at=due, id=tasks[0].pk), _TaskDue(due_at=None, id=tasks[1].pk)], key="id"
        )
    assert [Task.objects.get(pk=t.pk).due_at for t in tasks] == [due, None]


def test_it_skips_rows_already_stored_and_counts_only_the_new(db):
    from epigrid.tasks.models import TaskRow

    at = datetime(2020, 4, 10, 9, 0, tzinfo=SHANGHAI)
    rows = [
        TaskRow(
            id=__import__("uuid").uuid4(),
            kind="k",
            title_zh=f"任务{i}",
            title_en=f"task {i}",
            division_code="320583",
            assignee="grid_worker",
            created_at=at,
        )
        for i in range(4)
    ]
    from epigrid.lib.bulk import insert_new_rows

    with transaction.atomic():
        assert insert_new_rows(Task, rows[:2]) == 2
    with transaction.atomic():
        assert insert_new_rows(Task, rows) == 2
        assert insert_new_rows(Task, rows) == 0
    stored = Task.objects.filter(kind="k").order_by("title_en")
    assert [t.title_zh for t in stored] == [f"任务{i}" for i in range(4)]
