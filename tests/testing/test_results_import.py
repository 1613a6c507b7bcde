"""Results from labs (R6.3): a file is checked in full first (row-named errors, nothing
changed), then committed in batches; the same file twice changes nothing the second time; the
API takes the same rows in bulk with a lab's token."""

import csv
import io
from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone

from epigrid.accounts.audit import Actor
from epigrid.accounts.models import AuditEvent
from epigrid.lib import jobs
from epigrid.lib.errors import Conflict
from epigrid.rules.models import DecisionRecord, MeasureRecord, PersonRuleState
from epigrid.rules.services import Population, reassess_many, sweep
from epigrid.tasks.models import Task
from epigrid.testing import jobs as import_jobs
from epigrid.testing import results_import
from epigrid.testing.models import ImportStatus, Pool, ResultImport, Specimen, TestOrder, TestResult
from epigrid.testing.parsing import ResultRow
from epigrid.testing.services import reassessment
from epigrid.testing.services.collection import open_pool, take_specimen
from epigrid.testing.services.imports import submit_results
from epigrid.testing.services.labs import attach_lab_member
from tests.killing import kill_inside, later_clock, run_worker_once
from tests.testing.conftest import GRID, OTHER_GRID

pytestmark = pytest.mark.django_db


def state():
    """Everything a results file may change, as comparable values."""
    return {
        "results": sorted(TestResult.objects.values_list("person_id", "analyte", "result", "specimen_id")),
        "orders": sorted(TestOrder.objects.values_list("id", "status", "result", "resulted_at")),
        "specimens": sorted(Specimen.objects.values_list("id", "status", "result")),
        "pools": sorted(Pool.objects.values_list("id", "status", "result")),
        "tasks": Task.objects.count(),
        "decisions": DecisionRecord.objects.count(),
        "measures": sorted(MeasureRecord.objects.values_list("id", "status")),
        "colours": sorted(PersonRuleState.objects.values_list("person_id", "colour")),
    }


def csv_file(rows, header=("barcode", "test", "result", "tested_at", "ct_orf1ab")):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()


@pytest.fixture
def sampled(system, point, make_person, clock):
    """Ten people sampled an hour ago: a pool of five and five single tubes."""
    now = clock.now - timedelta(hours=1)
    people = [make_person(GRID if i % 2 else OTHER_GRID, name=f"测试{i}") for i in range(10)]
    pool = open_pool(actor=system, point=point, barcode="POOL-0001", size=5, at=now)
    for i, person in enumerate(people):
        take_specimen(
            actor=system,
            person=person,
            point=point,
            barcode=f"TUBE-{i:04d}",
            pool=pool if i < 5 else None,
            walk_in_group="willing",
            at=now,
        )
    return people


def when_tested(now):
    return (timezone.localtime(now) - timedelta(minutes=20)).strftime("%Y-%m-%d %H:%M")


def good_rows(now):
    t = when_tested(now)
    return [["POOL-0001", "核酸", "阴性", t, ""]] + [
        [f"TUBE-{i:04d}", "nucleic_acid", "negative" if i != 7 else "positive", t, "29.1" if i == 7 else ""]
        for i in range(5, 10)
    ]


def test_it_refuses_a_malformed_file_naming_each_row_and_changes_nothing(
    system, sampled, lab_user, client_for, clock
):
    t = when_tested(clock.now)
    rows = good_rows(clock.now) + [
        ["TUBE-9999", "核酸", "阴性", t, ""],  # unknown barcode
        ["TUBE-0006", "核酸", "阴性", t, ""],  # same barcode and test twice
        ["TUBE-0008", "血型", "阴性", t, ""],  # unknown test
        ["TUBE-0003", "核酸", "弱阳", "later", "60"],  # bad result, time and Ct
    ]
    before = state()
    response = client_for(lab_user).post(
        "/testing/lab/", {"file": _upload("bad.csv", csv_file(rows))}, follow=True
    )
    assert response.status_code == 200
    imp = ResultImport.objects.get()
    assert imp.status == ImportStatus.INVALID
    found = {(e["row"], e["column"], e["code"]) for e in imp.errors}
    assert found == {
        (8, "barcode", "barcode_unknown"),
        (9, "barcode", "row_twice"),
        (10, "test", "test_invalid"),
        (11, "result", "result_invalid"),
        (11, "tested_at", "time_format"),
        (11, "ct_orf1ab", "ct_invalid"),
    }
    body = response.content.decode()
    assert 'id="import-errors"' in body and "commit-import" not in body
    # committing an invalid file is refused, and nothing changed
    refused = client_for(lab_user).post(f"/testing/lab/imports/{imp.pk}/", follow=True)
    assert refused.status_code == 200
    assert state() == before
    imp.refresh_from_db()
    assert imp.status == ImportStatus.INVALID


def test_it_commits_a_checked_file_and_the_same_file_again_changes_nothing(
    system, sampled, lab_user, client_for, clock
):
    client = client_for(lab_user)
    data = csv_file(good_rows(clock.now))
    client.post("/testing/lab/", {"file": _upload("r.csv", data)})
    imp = ResultImport.objects.get()
    assert imp.status == ImportStatus.VALID and imp.errors == [] and len(imp.rows) == 6
    assert TestResult.objects.count() == 0  # checking writes nothing but the import
    client.post(f"/testing/lab/imports/{imp.pk}/")
    imp.refresh_from_db()
    assert imp.status == ImportStatus.COMMITTED
    assert imp.counts["new_results"] == 10 and imp.counts["unchanged"] == 0
    assert imp.counts["persons_reassessed"] == 10 and imp.counts["positive_persons"] == 1
    assert len(imp.batches) == 1 and imp.batches[0]["rows"] == 6
    assert TestResult.objects.filter(result="positive").get().person == sampled[7]
    assert {t.assignee for t in Task.objects.filter(person=sampled[7])} == {"cdc", "grid_worker"}
    after_first = state()

    client.post("/testing/lab/", {"file": _upload("r-again.csv", data)})
    again = ResultImport.objects.exclude(pk=imp.pk).get()
    assert again.status == ImportStatus.VALID
    client.post(f"/testing/lab/imports/{again.pk}/")
    again.refresh_from_db()
    assert again.counts["new_results"] == 0 and again.counts["unchanged"] == 6
    assert state() == after_first
    # and a checked file committed twice is refused the second time
    response = client.post(f"/testing/lab/imports/{again.pk}/", follow=True)
    assert "Only a checked file" in response.content.decode() or "只有" in response.content.decode()


def test_it_refuses_a_result_that_contradicts_a_known_one(system, sampled, lab_user, clock):
    t = clock.now - timedelta(minutes=10)
    rows = [ResultRow(row=2, barcode="TUBE-0005", analyte="nucleic_acid", result="negative", tested_at=t)]
    assert submit_results(actor=system, user=lab_user, rows=rows)["accepted"]
    rows[0].result = "positive"
    out = submit_results(actor=system, user=lab_user, rows=rows)
    assert not out["accepted"]
    assert [(e["row"], e["code"]) for e in out["errors"]] == [(2, "result_conflict")]
    assert TestResult.objects.get(specimen__barcode="TUBE-0005").result == "negative"


def test_it_keeps_tubes_of_another_lab_and_outside_the_scope_unknown(
    system, sampled, lab_user, other_lab, persona, make_person, point, clock
):
    from epigrid.lib.errors import Forbidden

    stranger = persona("lab", prefixes=["320585"])
    attach_lab_member(actor=system, user=stranger, lab=other_lab)
    t = clock.now - timedelta(minutes=10)
    rows = [ResultRow(row=2, barcode="TUBE-0005", analyte="nucleic_acid", result="negative", tested_at=t)]
    out = submit_results(actor=system, user=stranger, rows=rows)
    assert out["errors"][0]["code"] == "barcode_unknown"  # out of scope reads as unknown
    neighbour = persona("lab", prefixes=["320583"])
    attach_lab_member(actor=system, user=neighbour, lab=other_lab)
    out = submit_results(actor=system, user=neighbour, rows=rows)
    assert out["errors"][0]["code"] == "other_lab"
    unattached = persona("lab")
    with pytest.raises(Forbidden):
        submit_results(actor=system, user=unattached, rows=rows)
    assert TestResult.objects.count() == 0


def test_a_lab_token_posts_results_in_bulk(system, sampled, lab_user, client, clock):
    from epigrid.accounts.services import create_token

    _, secret = create_token(actor=system, user=lab_user, name="LIS")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    t = (clock.now - timedelta(minutes=15)).isoformat()
    rows = [
        {
            "barcode": "POOL-0001",
            "test": "nucleic_acid",
            "result": "positive",
            "tested_at": t,
            "ct_values": {"orf1ab": 30.5},
        }
    ]
    rows += [{"barcode": f"TUBE-{i:04d}", "result": "negative", "tested_at": t} for i in range(5, 10)]
    dry = client.post(
        "/api/v1/testing/results", {"rows": rows, "dry_run": True}, content_type="application/json", **headers
    )
    assert dry.status_code == 200 and dry.json()["counts"]["new"] == 6
    assert TestResult.objects.count() == 0
    response = client.post(
        "/api/v1/testing/results", {"rows": rows}, content_type="application/json", **headers
    )
    assert response.status_code == 200, response.content
    counts = response.json()["counts"]
    assert counts["new_results"] == 5 and counts["positive_pools"] == 1 and counts["retest_orders"] == 5
    assert counts["persons_reassessed"] == 10
    assert Pool.objects.get().ct_values == {"orf1ab": 30.5}
    # a bad row: 422 with the row named, nothing written
    before = state()
    bad = rows + [{"barcode": "NOPE-0001", "result": "negative", "tested_at": t}]
    refused = client.post(
        "/api/v1/testing/results", {"rows": bad}, content_type="application/json", **headers
    )
    assert refused.status_code == 422
    body = refused.json()
    # the shape of every 422: the first problem's field, then each problem (issue 10.10c)
    assert body["code"] == "rows_invalid" and body["field"] == "rows.6.barcode"
    assert [(e["row"], e["code"]) for e in body["errors"]] == [(7, "barcode_unknown")]
    assert state() == before
    assert AuditEvent.objects.filter(object_type="test_result", via="api").exists()


def test_it_reads_an_excel_upload(system, sampled, lab_user, client_for, clock):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["条码", "检测项目", "结果", "检测时间"])
    moment = timezone.localtime(clock.now) - timedelta(minutes=20)
    sheet.append(["TUBE-0006", "核酸", "阴性", moment.replace(tzinfo=None)])
    buffer = io.BytesIO()
    book.save(buffer)
    client = client_for(lab_user)
    client.post("/testing/lab/", {"file": _upload("r.xlsx", buffer.getvalue())})
    imp = ResultImport.objects.get()
    assert imp.errors == []
    client.post(f"/testing/lab/imports/{imp.pk}/")
    assert TestResult.objects.get().specimen.barcode == "TUBE-0006"


def test_the_lab_scans_tubes_in_and_orders_show_when(system, sampled, lab_user, client_for):
    response = client_for(lab_user).post("/testing/lab/", {"barcodes": "POOL-0001\nTUBE-0005\nWHAT-0000"})
    assert response.status_code == 200
    assert "WHAT-0000" in response.content.decode()
    received = TestOrder.objects.exclude(received_at=None)
    assert received.count() == 6 and set(received.values_list("status", flat=True)) == {"received"}
    assert Pool.objects.get().status == "received"


def _upload(name, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="text/csv")


def test_a_large_file_is_committed_by_the_worker(
    system, sampled, lab_user, client_for, monkeypatch, django_capture_on_commit_callbacks, clock
):
    from django_tasks_db.models import DBTaskResult

    from epigrid.testing import views
    from epigrid.testing.tasks import commit_result_import

    monkeypatch.setattr(views, "INLINE_COMMIT_ROWS", 3)
    client = client_for(lab_user)
    client.post("/testing/lab/", {"file": _upload("big.csv", csv_file(good_rows(clock.now)))})
    imp = ResultImport.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/testing/lab/imports/{imp.pk}/", follow=True)
    assert response.status_code == 200 and TestResult.objects.count() == 0
    queued = DBTaskResult.objects.get(task_path="epigrid.testing.tasks.commit_result_import")
    assert queued.args_kwargs["args"] == [str(imp.pk), lab_user.pk]
    outcome = commit_result_import.call(*queued.args_kwargs["args"])
    assert outcome["status"] == "committed" and outcome["new_results"] == 10
    # run twice: the second finds it committed and changes nothing
    assert commit_result_import.call(*queued.args_kwargs["args"])["new_results"] == 10
    assert TestResult.objects.count() == 10


# --- a commit whose worker is killed resumes (issue 10.7) ----------------------------------


@pytest.fixture
def travellers(sampled, arrivals, system, clock):
    """The sampled people arrived from Wuhan: the rules wait for their tests (JS79-13), so each
    result changes their decision once they are reassessed with it."""
    for person in sampled:
        arrivals.add(person, arrived_at=clock.now - timedelta(hours=3))
    reassess_many([p.pk for p in sampled], actor=system, cause="declaration")
    assert _pending(sampled, clock.now) == 0
    return sampled


def _queued_import(client, lab_user, now):
    client.post("/testing/lab/", {"file": _upload("big.csv", csv_file(good_rows(now)))})
    imp = ResultImport.objects.get()
    actor = Actor(user=lab_user, via="test")
    return results_import.queue_commit(actor=actor, user=lab_user, result_import=imp)


def _pending(persons, at) -> int:
    """How many of these people a reassessment at `at` would change (a what-if: nothing written)."""
    return sweep(Population(candidates=[p.pk for p in persons]), at=at, write=False).changed


def _all_recorded_once(sampled, imp, at):
    """Every result of the file once, its tasks once, every person reassessed after it."""
    assert imp.status == ImportStatus.COMMITTED and imp.rows_done == imp.reassessed_rows == 6
    assert TestResult.objects.count() == 10
    assert TestResult.objects.values("specimen", "analyte").distinct().count() == 10
    assert TestResult.objects.filter(result="positive").get().person == sampled[7]
    positive = Task.objects.filter(source_type="specimen_result").values_list("person", "kind")
    assert sorted(positive) == [
        (sampled[7].pk, "positive_result"),
        (sampled[7].pk, "positive_result_contact"),
    ]
    doubled = Task.objects.values("person", "kind", "source_type", "source_id").annotate(n=Count("id"))
    assert not doubled.filter(n__gt=1).exists()
    assert imp.counts["new_results"] == 10 and imp.counts["positive_persons"] == 1
    assert sum(b["rows"] for b in imp.batches) == 6
    # nothing was left for a reassessment to do: each person's decision saw their result
    assert _pending(sampled, at) == 0


@pytest.mark.django_db(transaction=True)
def test_it_resumes_an_import_killed_mid_batch_with_no_result_lost_or_doubled(
    system, travellers, lab_user, client_for, monkeypatch, clock
):
    sampled = travellers
    monkeypatch.setattr(results_import, "RESULT_BATCH", 2)
    client = client_for(lab_user)
    imp = _queued_import(client, lab_user, clock.now)
    assert imp.status == ImportStatus.QUEUED
    # `epigrid worker` takes the task and is killed inside batch 2, its transaction open
    kill_inside(
        run_worker_once,
        module=results_import,
        name="apply_results",
        call=2,
        landed=lambda: ResultImport.objects.get(pk=imp.pk).rows_done == 2,
    )
    stopped = ResultImport.objects.get(pk=imp.pk)
    assert stopped.status == ImportStatus.COMMITTING and stopped.rows_done == 2
    # batch 1 (the pool of five and one tube) whole, nothing of batch 2
    assert TestResult.objects.count() == 6

    page = f"/testing/lab/imports/{imp.pk}/"
    run_worker_once()  # the heartbeat is fresh: nobody takes a commit that may be alive
    assert ResultImport.objects.get(pk=imp.pk).status == ImportStatus.COMMITTING
    assert 'id="resume-job"' not in client.get(page).content.decode()
    client.post(f"{page}resume/")
    assert ResultImport.objects.get(pk=imp.pk).status == ImportStatus.COMMITTING

    later_clock(monkeypatch)
    body = client.get(page).content.decode()
    assert 'id="resume-job"' in body and f"{page}resume/" in body
    assert timezone.localtime(stopped.heartbeat_at).strftime("%Y-%m-%d %H:%M:%S") in body
    assert "停止前已写入 2 / 6 行" in body
    assert "had written 2 of 6 rows" in client.get(page, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    run_worker_once()  # takes it back by itself and continues after row 2
    done = ResultImport.objects.get(pk=imp.pk)
    _all_recorded_once(sampled, done, clock.now)
    assert AuditEvent.objects.filter(object_id=str(imp.pk), note__startswith="commit resumed").count() == 1
    assert 'id="resume-job"' not in client.get(page).content.decode()


@pytest.mark.django_db(transaction=True)
def test_it_reassesses_the_people_of_a_batch_whose_worker_died_before_reassessing_them(
    system, travellers, lab_user, client_for, monkeypatch, clock
):
    sampled = travellers
    monkeypatch.setattr(results_import, "RESULT_BATCH", 2)
    imp = _queued_import(client_for(lab_user), lab_user, clock.now)
    # killed when batch 2 (with the positive tube) landed and its people's reassessment begins:
    # in the reassessing process on PostgreSQL, while batch 3 may be written meanwhile
    kill_inside(
        run_worker_once,
        module=reassessment,
        name="reassess",
        call=2,
        after=False,
        landed=lambda: ResultImport.objects.get(pk=imp.pk).rows_done >= 4,
    )
    stopped = ResultImport.objects.get(pk=imp.pk)
    assert stopped.status == ImportStatus.COMMITTING
    assert stopped.reassessed_rows == 2 and stopped.rows_done >= 4
    # the results of batch 2 are recorded; the decision of the positive person does not know
    # it yet (the rules still wait for the serology of the negative one: unchanged)
    assert TestResult.objects.filter(person__in=sampled[6:8]).count() == 2
    assert _pending([sampled[7]], clock.now) == 1

    later_clock(monkeypatch)
    run_worker_once()
    _all_recorded_once(sampled, ResultImport.objects.get(pk=imp.pk), clock.now)


def test_resume_is_for_the_lab_of_the_import_and_refused_while_it_runs(
    system, sampled, lab_user, other_lab, persona, client_for, monkeypatch, clock
):
    client = client_for(lab_user)
    imp = _queued_import(client, lab_user, clock.now)
    ResultImport.objects.filter(pk=imp.pk).update(
        status=ImportStatus.COMMITTING, heartbeat_at=clock.now, rows_done=2, worker="dead:1"
    )
    url = f"/testing/lab/imports/{imp.pk}/resume/"
    # alive: refused
    with pytest.raises(Conflict):
        import_jobs.resume_import(actor=Actor(user=lab_user), user=lab_user, result_import=imp)
    later_clock(monkeypatch)
    other = persona("lab", prefixes=["320585"])
    attach_lab_member(actor=system, user=other, lab=other_lab)
    assert client_for(other).post(url).status_code == 404
    assert client_for(persona("grid_worker")).post(url).status_code == 403
    assert ResultImport.objects.get(pk=imp.pk).status == ImportStatus.COMMITTING

    client.post(url)
    assert ResultImport.objects.get(pk=imp.pk).status == ImportStatus.QUEUED
    event = AuditEvent.objects.get(object_id=str(imp.pk), note__startswith="commit resumed")
    assert event.actor == lab_user and "after row 2 of 6" in event.note
    # a worker looking for stopped commits now finds it taken
    assert import_jobs.requeue(imp.pk, actor=Actor.system("worker"), cutoff=jobs.cutoff()) is False


# --- the lab desk tells what to upload (issue 10.14) ---------------------------------------------


def test_it_shows_the_template_and_the_allowed_values_on_the_lab_desk(lab_user, client_for):
    client = client_for(lab_user)
    page = client.get("/testing/lab/").content.decode()
    assert 'href="/testing/lab/template.xlsx"' in page and 'href="/testing/lab/template.csv"' in page
    values = page[page.index('id="upload-values"') :]
    for shown in ("核酸", "IgM 抗体", "IgG 抗体", "阴性", "阳性", "serology_igm", "neg"):
        assert shown in values, shown
    # the sampling desk's serology order, by the name it has there, and how it is answered
    assert "血清学检测（IgM/IgG）" in page and "IgM 一行，IgG 一行" in page
    columns = page[page.index('id="upload-columns"') :]
    for header in ("条码", "检测项目", "结果", "检测时间", "接收时间", "ORF1ab"):
        assert header in columns, header
    english = client.get("/testing/lab/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "IgM antibody" in english and "Serology test (IgM/IgG)" in english


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_the_template_uploads_back_with_nothing_wrong_but_its_example_barcodes(lab_user, client_for, kind):
    client = client_for(lab_user)
    template = client.get(f"/testing/lab/template.{kind}")
    assert template.status_code == 200
    client.post("/testing/lab/", {"file": _upload(f"template.{kind}", template.content)})
    imp = ResultImport.objects.get()
    assert imp.errors and {e["code"] for e in imp.errors} == {"barcode_unknown"}, imp.errors


def test_the_import_page_names_columns_and_problems_in_chinese(system, sampled, lab_user, client_for, clock):
    t = when_tested(clock.now)
    rows = [
        ["TUBE-9999", "核酸", "阴性", t, ""],
        ["TUBE-0008", "血清学检测（IgM/IgG）", "阴性", t, ""],
        ["TUBE-0003", "核酸", "弱阳", "later", "60"],
    ]
    response = client_for(lab_user).post(
        "/testing/lab/", {"file": _upload("bad.csv", csv_file(rows))}, follow=True
    )
    table = response.content.decode()
    table = table[table.index('id="import-errors"') :]
    for text in ("条码", "检测项目", "结果", "检测时间", "Ct 值 ORF1ab"):
        assert f">{text}<" in table, text  # the column, as the template names it
    for text in ("没有标本或混检管使用该条码", "分两行报告", "结果应为", "时间请写成", "Ct 值应为"):
        assert text in table, text
    assert ">barcode<" not in table and ">tested_at<" not in table


def test_the_checked_rows_show_tests_and_results_by_their_names(system, sampled, lab_user, client_for, clock):
    response = client_for(lab_user).post(
        "/testing/lab/", {"file": _upload("r.csv", csv_file(good_rows(clock.now)))}, follow=True
    )
    page = response.content.decode()
    preview = page[page.index('id="import-preview"') : page.index('id="commit-import"')]
    assert "核酸" in preview and "阴性" in preview and "阳性" in preview
    assert "nucleic_acid" not in preview and ">negative<" not in preview
