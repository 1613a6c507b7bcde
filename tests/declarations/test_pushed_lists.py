"""Pushed lists from the data team (R2.4, JS79-2, JS79-4): checked and previewed first, with
every problem named by row and column; committed in batches that land whole or not at all;
rerunnable after a crash without duplicates; fed back as XLSX with each row's result."""

import io
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from epigrid.accounts.audit import Actor
from epigrid.declarations.models import (
    ListStatus,
    MatchKind,
    PushedList,
    PushedRow,
    RoutedBy,
    RowState,
    VerificationTask,
)
from epigrid.declarations.services import (
    pushed_checks,
    pushed_commit,
    pushed_feedback,
    pushed_upload,
    queries,
)
from epigrid.declarations.validation import DeclarationError
from epigrid.lib.errors import Conflict
from epigrid.lib.tables import TableError
from epigrid.rules.models import MeasureRecord
from epigrid.tasks.models import Task, TaskStatus

from .conftest import GRID, GRID_B, OTHER_COMMUNITY
from .lists import EN, csv_bytes, read_xlsx, xlsx


@pytest.fixture
def data_team(persona):
    return persona("data_team")


@pytest.fixture
def team(data_team):
    return Actor(user=data_team, via="test")


def _when(now, hours_ago=30):
    return timezone.localtime(now - timedelta(hours=hours_ago)).strftime("%Y-%m-%d %H:%M")


def _row(
    now, number, name="王芳", phone="", origin="湖北省武汉市", address="", division="", transport="火车"
):
    return [number, name, phone, origin, _when(now), address, division, transport, "G1234"]


def _upload(team, data, name="test.xlsx", **kwargs):
    return pushed_upload.upload(
        actor=team, name="铁路推送", source="transport", file_name=name, data=data, **kwargs
    )


def _commit(team, pushed_list, **kwargs):
    pushed_commit.request_commit(actor=team, pushed=pushed_list, enqueue=False, **kwargs)
    return pushed_commit.run_commit(list_id=pushed_list.pk, actor=team)


# --- checking -----------------------------------------------------------------------------------


def test_it_names_the_row_and_column_of_every_error_and_commits_nothing(team, id_numbers, clock):
    good = id_numbers()
    bad_check_digit = good[:17] + ("0" if good[17] != "0" else "1")
    data = xlsx(
        [
            _row(clock.now, id_numbers()),  # row 2: fine
            _row(clock.now, bad_check_digit),  # row 3
            _row(clock.now, id_numbers(), phone="12345"),  # row 4
            _row(clock.now, id_numbers(), origin="亚特兰蒂斯"),  # row 5
            _row(clock.now, id_numbers(), transport="飞毯"),  # row 6
            [id_numbers(), "", "", "武汉", "2020-13-45", "", "999", "", ""],  # row 7: three problems
        ]
    )
    result = _upload(team, data)
    assert result.status == ListStatus.VALIDATED
    assert (result.total_rows, result.valid_rows, result.error_rows) == (6, 1, 5)
    texts = [issue.text for issue in queries.row_errors(result)]
    assert "row 3, column 证件号码: The check digit does not match; a digit was probably mistyped." in texts
    assert any(t.startswith("row 4, column 手机号码:") for t in texts)
    assert any(t.startswith("row 5, column 来源地:") for t in texts)
    assert any(t.startswith("row 6, column 交通方式:") for t in texts)
    assert {t.split(":")[0] for t in texts if t.startswith("row 7")} == {
        "row 7, column 姓名",
        "row 7, column 到达时间",
        "row 7, column 区划代码",
    }
    # nothing reached anyone: no checks, no tasks, and the list refuses to commit as it is
    assert not VerificationTask.objects.exists()
    assert not Task.objects.filter(source_type="verification").exists()
    with pytest.raises(DeclarationError) as refused:
        pushed_commit.request_commit(actor=team, pushed=result, enqueue=False)
    assert refused.value.code == "list_has_errors"
    assert not VerificationTask.objects.exists()


def test_it_reads_english_headers_and_csv_in_gbk(team, id_numbers, clock):
    rows = [
        _row(clock.now, id_numbers(), name="Zhang Wei", origin="Wuhan"),
        _row(clock.now, id_numbers(), origin="US"),
    ]
    result = _upload(team, csv_bytes(rows, headers=EN, encoding="gb18030"), name="list.csv")
    assert result.status == ListStatus.VALIDATED
    assert result.valid_rows == 2, queries.row_errors(result)
    assert result.header_map["id_number"] == "id_number"
    origins = set(PushedRow.objects.filter(pushed_list=result).values_list("origin", flat=True))
    assert origins == {"420100", "US"}


def test_it_rejects_a_file_it_cannot_use_and_stores_no_row(team, id_numbers):
    missing_columns = xlsx([["王芳", "湖北"]], headers=["姓名", "来源地"])
    result = _upload(team, missing_columns)
    assert result.status == ListStatus.REJECTED
    assert result.file_errors[0]["code"] == "column_missing"
    assert "document number column or a phone column" in result.file_errors[0]["message"]

    # a file that is no table at all is refused before any list exists (lib.tables)
    for data, name, code in [
        (b"PK\x03\x04 this is not a workbook", "broken.xlsx", "file_unreadable"),
        (b"\xd0\xcf\x11\xe0old excel", "old.xls", "xls_unsupported"),
        (b"", "empty.csv", "file_empty"),
        (b"\x00\x01\x02\x03", "list.csv", "file_binary"),
        (b"\xff\xfe\x00\xd8", "list.csv", "file_encoding"),
    ]:
        with pytest.raises(TableError) as raised:
            _upload(team, data, name=name)
        assert raised.value.code == code, (name, raised.value.message)
    assert PushedList.objects.filter(status=ListStatus.REJECTED).count() == 1
    duplicate = xlsx(
        [[id_numbers(), "王芳", "13911112222", "13911113333"]], headers=["证件号码", "姓名", "手机", "电话"]
    )
    result = _upload(team, duplicate)
    assert result.status == ListStatus.REJECTED
    assert result.file_errors[0]["code"] == "duplicate_column"
    assert result.file_errors[0]["column"] == "电话"
    assert not PushedRow.objects.exists()


def test_it_warns_about_numbers_excel_has_rounded(team, id_numbers):
    number = id_numbers()
    result = _upload(team, xlsx([[float(number[:17] + "0") if number[17] == "X" else float(number), "王芳"]]))
    texts = [i.text for i in queries.row_errors(result)]
    assert texts == [
        "row 2, column 证件号码: The number was stored as a number and lost its last digits; "
        "format the column as text."
    ]


def test_it_flags_the_same_person_twice_in_one_list(team, id_numbers, clock):
    number = id_numbers()
    result = _upload(
        team, xlsx([_row(clock.now, number), _row(clock.now, id_numbers()), _row(clock.now, number)])
    )
    assert [i.text for i in queries.row_errors(result)] == [
        "row 4, column 证件号码: The same document number is on row 2."
    ]


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_a_long_list_checked_by_worker_processes_gets_the_same_rows_as_one_checked_here(
    team, make_person, id_numbers, monkeypatch, kind, clock
):
    """Checker processes take the chunks of a long list; the result, errors, duplicates across
    chunks, matches and routing included, is the one a single process gives."""
    person = make_person(GRID, name="周杰", number=id_numbers(division="320583"))
    number = id_numbers()
    rows = [
        _row(clock.now, _number_of(person), name="周杰"),
        _row(clock.now, number),
        _row(clock.now, number[:17] + ("0" if number[17] != "0" else "1")),  # a mistyped check digit
        _row(clock.now, id_numbers(), division=GRID_B),
        _row(clock.now, ""),  # neither document nor phone
        _row(clock.now, id_numbers(), name="李雷", address="亭林街道双塔社区"),
        _row(clock.now, number),  # the same person again, two chunks later
        _row(clock.now, id_numbers(), phone="13912345678"),
    ]
    data, name = (xlsx(rows), "l.xlsx") if kind == "xlsx" else (csv_bytes(rows), "l.csv")
    monkeypatch.setattr(pushed_checks, "CHUNK", 3)

    def stored(listed):
        return list(
            PushedRow.objects.filter(pushed_list=listed)
            .order_by("row_number")
            .values_list(
                "row_number",
                "state",
                "errors",
                "match",
                "person",
                "division_code",
                "routed_by",
                "id_number_bidx",
            )
        )

    monkeypatch.setattr(pushed_checks, "PARALLEL_ROWS", 10**9)
    here = _upload(team, data, name=name)
    monkeypatch.setattr(pushed_checks, "PARALLEL_ROWS", 1)
    monkeypatch.setattr(pushed_checks.os, "cpu_count", lambda: 2)
    forked = _upload(team, data, name=name)
    assert stored(forked) == stored(here)
    assert len(stored(here)) == 8
    assert [i.text for i in queries.row_errors(forked)] == [i.text for i in queries.row_errors(here)]
    assert (forked.valid_rows, forked.error_rows, forked.matched_by_id) == (5, 3, 1)


# --- matching and routing -----------------------------------------------------------------------


def test_it_matches_by_document_and_by_phone_and_name_and_routes_each_row(
    team, make_person, id_numbers, clock
):
    by_id = make_person(GRID_B, name="赵敏", number=id_numbers(division="320583"))
    by_phone = make_person(GRID, name="钱伟", phone="13812345678", number=id_numbers(division="320583"))
    make_person(GRID, name="别人", phone="13700000000", number=id_numbers(division="320583"))
    id_of_by_id = _number_of(by_id)
    rows = [
        _row(clock.now, id_of_by_id, name="赵敏", division=GRID),  # matched by document; routed by code
        _row(
            clock.now, "", name="钱伟", phone="13812345678", address="江苏省昆山市亭林街道某某路1号"
        ),  # phone+name
        _row(clock.now, "", name="孙丽", phone="13700000000"),  # same phone, other name: no match
        _row(clock.now, id_numbers(), name="周杰"),  # unknown: routed to the area's command
    ]
    community_name = _division_name(OTHER_COMMUNITY)
    rows.append(
        _row(clock.now, id_numbers(), name="吴昊", address=f"江苏省昆山市亭林街道{community_name}XX路9号")
    )
    elsewhere = make_person(GRID, name="冯巩", number=id_numbers(division="320583"))
    rows.append(
        _row(clock.now, _number_of(elsewhere), name="冯巩", address="昆山市巴城镇湖滨路3号")
    )  # staying in another town
    result = _upload(team, xlsx(rows))
    assert result.valid_rows == 6, [i.text for i in queries.row_errors(result)]
    assert (result.matched_by_id, result.matched_by_phone) == (2, 1)
    got = {r.row_number: r for r in PushedRow.objects.filter(pushed_list=result).order_by("row_number")}
    assert (got[2].person_id, got[2].match, got[2].division_code, got[2].routed_by) == (
        by_id.pk,
        MatchKind.ID,
        GRID,
        RoutedBy.DIVISION_CODE,
    )
    assert (got[3].person_id, got[3].match) == (by_phone.pk, MatchKind.PHONE_NAME)
    # the address names only the town around the person's grid cell: the grid cell is more precise
    assert (got[3].division_code, got[3].routed_by) == (GRID, RoutedBy.PERSON)
    assert got[4].person_id is None and got[4].match == MatchKind.NONE
    assert (got[5].division_code, got[5].routed_by) == ("320583", RoutedBy.LIST_AREA)
    assert (got[6].division_code, got[6].routed_by) == (OTHER_COMMUNITY, RoutedBy.ADDRESS)
    assert (got[7].division_code, got[7].routed_by) == ("320583101", RoutedBy.ADDRESS)
    assert result.routing == {"division_code": 1, "address": 2, "person": 1, "list_area": 2}


def test_it_routes_a_matched_person_without_code_or_address_to_their_grid_cell(
    team, make_person, id_numbers, clock
):
    person = make_person(GRID_B, name="郑爽", number=id_numbers(division="320583"))
    result = _upload(team, xlsx([_row(clock.now, _number_of(person), name="郑爽")]))
    row = PushedRow.objects.get(pushed_list=result)
    assert (row.division_code, row.routed_by) == (GRID_B, RoutedBy.PERSON)


def test_it_refuses_a_division_code_outside_the_teams_area(team, id_numbers, clock):
    result = _upload(team, xlsx([_row(clock.now, id_numbers(), division="320585001001001")]))
    assert [i.text for i in queries.row_errors(result)] == [
        "row 2, column 区划代码: This division is not one of your area's."
    ]


def test_it_stores_identifiers_only_encrypted_with_blind_index_and_masked(team, id_numbers, clock):
    number, phone = id_numbers(), "13655556666"
    result = _upload(team, xlsx([_row(clock.now, number, phone=phone)]))
    row = PushedRow.objects.get(pushed_list=result)
    assert row.id_number_masked == number[:4] + "*" * 10 + number[-4:]
    assert row.phone_masked == "136****6666"
    from epigrid.people.services import document_index, phone_index

    assert row.id_number_bidx == document_index(number) and row.phone_bidx == phone_index(phone)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM declarations_pushedrow WHERE id_number_bidx = %s", [row.id_number_bidx])
        raw = b"".join(
            bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode() for v in cursor.fetchone() if v
        )
    for secret in (number, phone, number[6:14], phone[3:]):
        assert secret.encode() not in raw


# --- committing ------------------------------------------------------------------------------------


def _list_of(now, team, make_person, id_numbers, n, *, matched_every=2):
    rows = []
    for i in range(n):
        if i % matched_every == 0:
            person = make_person(GRID, name=f"张{i}", number=id_numbers(division="320583"))
            rows.append(_row(now, _number_of(person), name=person.name, division=GRID))
        else:
            rows.append(_row(now, id_numbers(), name=f"李{i}", division=GRID))
    return _upload(team, xlsx(rows))


def test_it_commits_in_batches_opening_a_check_per_row_and_reassessing_the_matched(
    team, make_person, id_numbers, clock
):
    pushed_list = _list_of(clock.now, team, make_person, id_numbers, 12)
    started = clock.now
    done = _commit(team, pushed_list, batch_size=5, due_hours=12)
    assert done.status == ListStatus.COMMITTED
    assert (done.batches_total, done.batches_done, done.committed_rows) == (3, 3, 12)
    assert VerificationTask.objects.count() == 12
    assert set(PushedRow.objects.values_list("state", flat=True)) == {RowState.COMMITTED}
    assert (
        list(PushedRow.objects.order_by("row_number").values_list("batch", flat=True))
        == [1] * 5 + [2] * 5 + [3] * 2
    )
    # due 12 hours from when the checks reach the communities, the commit (tasks/due.py)
    (due,) = {t.due_at for t in VerificationTask.objects.all()}
    assert started + timedelta(hours=12) <= due <= clock.now + timedelta(hours=12)
    mirrors = Task.objects.filter(source_type="verification", status=TaskStatus.OPEN)
    assert mirrors.count() == 12
    assert set(mirrors.values_list("assignee", flat=True)) == {"grid_worker"}
    # the six matched persons arrived from Wuhan: JS79-13 asks each for nucleic-acid and serology
    wuhan = MeasureRecord.objects.filter(rule_id="JS79-13/wuhan", status="open")
    assert wuhan.count() == 6
    assert done.reassessed == 6


def test_a_crash_in_batch_3_of_5_leaves_whole_batches_and_a_rerun_completes_without_duplicates(
    team, make_person, id_numbers, monkeypatch, clock
):
    pushed_list = _list_of(clock.now, team, make_person, id_numbers, 25, matched_every=1)
    pushed_commit.request_commit(actor=team, pushed=pushed_list, batch_size=5, enqueue=False)
    real = pushed_commit.reassess_many
    calls = {"n": 0}

    def crash_in_third_batch(*args, **kwargs):
        calls["n"] += 1
        result = real(*args, **kwargs)  # the batch's writes, measures and tasks are all made…
        if calls["n"] == 3:
            raise RuntimeError("the worker died")  # …and then the process fails mid-batch
        return result

    monkeypatch.setattr(pushed_commit, "reassess_many", crash_in_third_batch)
    with pytest.raises(RuntimeError):
        pushed_commit.run_commit(list_id=pushed_list.pk, actor=team)
    failed = PushedList.objects.get(pk=pushed_list.pk)
    assert failed.status == ListStatus.FAILED
    assert failed.batches_done == 2 and failed.committed_rows == 10
    assert "batch 3" in failed.error
    # whole batches only: rows, checks, work items and measures of batches 1 and 2, nothing of 3
    assert PushedRow.objects.filter(state=RowState.COMMITTED).count() == 10
    assert set(PushedRow.objects.filter(state=RowState.COMMITTED).values_list("batch", flat=True)) == {1, 2}
    assert VerificationTask.objects.count() == 10
    assert Task.objects.filter(source_type="verification").count() == 10
    assert MeasureRecord.objects.filter(rule_id="JS79-13/wuhan").count() == 10

    monkeypatch.setattr(pushed_commit, "reassess_many", real)
    again = pushed_commit.run_commit(list_id=pushed_list.pk, actor=team)
    assert again.status == ListStatus.COMMITTED
    assert (again.batches_done, again.committed_rows) == (5, 25)
    assert VerificationTask.objects.count() == 25
    assert VerificationTask.objects.values("pushed_row").distinct().count() == 25
    assert Task.objects.filter(source_type="verification").count() == 25
    assert MeasureRecord.objects.filter(rule_id="JS79-13/wuhan").count() == 25
    # and a third run finds nothing left to do
    pushed_commit.run_commit(list_id=pushed_list.pk, actor=team)
    assert VerificationTask.objects.count() == 25


def test_a_second_worker_never_commits_a_row_twice(team, make_person, id_numbers, clock):
    pushed_list = _list_of(clock.now, team, make_person, id_numbers, 4)
    pushed_commit.request_commit(actor=team, pushed=pushed_list, enqueue=False)
    PushedList.objects.filter(pk=pushed_list.pk).update(status=ListStatus.COMMITTING, heartbeat_at=clock.now)
    second = pushed_commit.run_commit(list_id=pushed_list.pk, actor=team)
    if pushed_commit.parallel_commits():
        # PostgreSQL: the second worker shares the list, taking only rows nobody holds
        assert second.status == ListStatus.COMMITTED
    else:
        # SQLite: a live commit is left alone…
        assert second.status == ListStatus.COMMITTING and not VerificationTask.objects.exists()
        # …and one whose heartbeat stopped long ago was a crash: the next run takes it over
        PushedList.objects.filter(pk=pushed_list.pk).update(heartbeat_at=clock.now - timedelta(hours=1))
        assert pushed_commit.run_commit(list_id=pushed_list.pk, actor=team).status == ListStatus.COMMITTED
    assert VerificationTask.objects.count() == 4
    assert VerificationTask.objects.values("pushed_row").distinct().count() == 4


def test_the_valid_rows_of_a_list_with_errors_commit_only_when_asked(team, id_numbers, clock):
    result = _upload(
        team, xlsx([_row(clock.now, id_numbers()), _row(clock.now, "123"), _row(clock.now, id_numbers())])
    )
    assert result.error_rows == 1
    done = _commit(team, result, skip_invalid=True)
    assert done.committed_rows == 2
    assert PushedRow.objects.filter(state=RowState.INVALID).count() == 1
    assert VerificationTask.objects.count() == 2
    with pytest.raises(Conflict):
        pushed_commit.request_commit(actor=team, pushed=done, enqueue=False)


def test_the_commit_runs_as_a_background_task_of_the_queue(
    team, id_numbers, django_capture_on_commit_callbacks, monkeypatch, clock
):
    from django.core.management import call_command
    from django_tasks_db.management.commands import db_worker
    from django_tasks_db.models import DBTaskResult

    # the worker closes connections between tasks; the test's transaction must outlive it
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)

    result = _upload(team, xlsx([_row(clock.now, id_numbers()) for _ in range(3)]))
    with django_capture_on_commit_callbacks(execute=True):
        pushed_commit.request_commit(actor=team, pushed=result)
    queued = PushedList.objects.get(pk=result.pk)
    assert queued.status == ListStatus.QUEUED and queued.task_result_id
    job = DBTaskResult.objects.get(pk=queued.task_result_id)
    assert job.task_path == "epigrid.declarations.tasks.commit_pushed_list"
    call_command("worker", "--batch", verbosity=0)
    finished = PushedList.objects.get(pk=result.pk)
    assert finished.status == ListStatus.COMMITTED and finished.committed_rows == 3
    job.refresh_from_db()
    assert job.status == "SUCCESSFUL"


# --- feedback ------------------------------------------------------------------------------------


def test_the_feedback_file_shows_each_rows_result(team, persona, make_person, id_numbers, clock):
    from epigrid.declarations import services

    person = make_person(GRID, name="冯刚", number=id_numbers(division="320583"))
    result = _upload(
        team,
        xlsx(
            [
                _row(clock.now, _number_of(person), name="冯刚", division=GRID),
                _row(clock.now, "123", name="坏行"),
                _row(clock.now, id_numbers(), name="陈红", division=GRID),
            ]
        ),
    )
    _commit(team, result, skip_invalid=True)
    worker = Actor(user=persona("grid_worker", prefixes=[GRID]), via="test")
    first, second = VerificationTask.objects.order_by("pushed_row__row_number")
    services.complete_verification(actor=worker, task=first, outcome="found", notes="在家，已告知检测")
    services.complete_verification(actor=worker, task=second, outcome="not_found", notes="查无此人")
    handle = io.BytesIO()
    n = pushed_feedback.write_feedback(actor=team, pushed=result, fileobj=handle, language="zh-hans")
    assert n == 3
    rows = read_xlsx(handle.getvalue())
    header, body = rows[0], rows[1:]
    assert header[0] == "Row" or header[0] == "行号"
    assert [r[0] for r in body] == ["2", "3", "4"]  # every cell is text (lib.exports)
    assert body[0][1] == "冯刚" and "*" in body[0][2]
    assert body[0][9] and body[0][11] == "在家，已告知检测"
    assert "证件号码" in body[1][4]  # the error, named by its column
    assert body[2][11] == "查无此人"
    from epigrid.accounts.models import AuditEvent

    assert AuditEvent.objects.filter(action="export", object_id=str(result.pk)).exists()


def test_progress_counts_checks_by_outcome(team, persona, id_numbers, clock):
    from epigrid.declarations import services

    result = _upload(team, xlsx([_row(clock.now, id_numbers(), division=GRID) for _ in range(4)]))
    _commit(team, result)
    worker = Actor(user=persona("grid_worker", prefixes=[GRID]), via="test")
    tasks = list(VerificationTask.objects.order_by("pushed_row__row_number"))
    services.complete_verification(actor=worker, task=tasks[0], outcome="left")
    services.complete_verification(actor=worker, task=tasks[1], outcome="wrong_info")
    progress = queries.progress(result)
    assert progress["open"] == 2 and progress["done"] == 2
    assert progress["outcomes"] == {"found": 0, "left": 1, "not_found": 0, "wrong_info": 1}


def _number_of(person) -> str:
    from epigrid.lib.crypto import cipher
    from epigrid.people.services import ID_FIELD

    return cipher().decrypt(ID_FIELD, person.id_number_enc, row=person.pk)


def _division_name(code: str) -> str:
    from epigrid.regions.models import Division

    return Division.objects.get(code=code).name_zh
