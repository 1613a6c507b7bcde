"""The scheduled review (R4.1, R7.1): a colour clears by itself once its release conditions are
met, because each decision stores when time alone changes it and the review reassesses those
people then. Time is controlled in these tests, never slept."""

import json
from datetime import date, datetime, timedelta
from io import StringIO

from django.core.management import call_command

from epigrid.accounts.audit import Actor
from epigrid.lib.chinatime import CHINA_TZ
from epigrid.rules import bulk
from epigrid.rules.models import BulkRun, DecisionRecord, JobLock, PersonRuleState
from epigrid.rules.services.sweeping import reassess, reassess_many

from .conftest import run_worker, t


def _colour(person) -> str:
    return PersonRuleState.objects.get(person=person).colour


def test_a_yellow_code_clears_at_the_review_after_14_days(book, listing, make_person, cell, system):
    listing("110102", "medium", date(2020, 6, 13), notice="Beijing list")
    person = book.arrival(make_person(cell.code), at=t(6, 17), origin="110102")
    reassess(person, actor=system, at=t(6, 17, 12))
    state = PersonRuleState.objects.get(person=person)
    assert state.colour == "yellow" and state.next_review_at == t(7, 1)

    early = bulk.review(at=t(6, 30, 9), actor=system)
    assert early["due"] == 0 and _colour(person) == "yellow"

    out = StringIO()
    call_command("rules", "review", "--at", "2020-07-01T10:05", stdout=out)
    result = json.loads(out.getvalue().strip().splitlines()[-1])

    assert result["due"] == 1 and result["changed"] == 1
    assert _colour(person) == "green"
    latest = DecisionRecord.objects.filter(person=person).order_by("-created_at").first()
    assert latest.cause == "review" and latest.evaluated_at == datetime(2020, 7, 1, 10, 5, tzinfo=CHINA_TZ)
    run = BulkRun.objects.get(kind="review")
    assert run.status == "done" and run.changed == 1 and run.counts[""]["to_green"] == 1
    assert PersonRuleState.objects.get(person=person).next_review_at is None


def test_a_red_code_clears_only_with_its_negative_test(book, listing, make_person, grid_cells, system):
    listing("110106", "high", date(2020, 6, 13), notice="Beijing list")
    tested = book.arrival(make_person(grid_cells[0].code), at=t(6, 16), origin="110106")
    book.test(tested, sampled=t(6, 18), reported=t(6, 18, 20))
    untested = book.arrival(make_person(grid_cells[1].code), at=t(6, 16), origin="110106")
    reassess_many([tested.pk, untested.pk], actor=system, at=t(6, 19))
    assert _colour(tested) == _colour(untested) == "red"

    bulk.review(at=t(6, 30, 11), actor=system)

    assert _colour(tested) == "green"
    # no negative test on record: still red, and no review is pending — a result reported later
    # reassesses the person through its producer
    assert _colour(untested) == "red"
    assert PersonRuleState.objects.get(person=untested).next_review_at is None


def test_the_review_runs_as_a_background_task(book, listing, make_person, cell, system):
    from epigrid.rules.tasks import review_due

    listing("110102", "medium", date(2020, 6, 13))
    person = book.arrival(make_person(cell.code), at=t(6, 17), origin="110102")
    reassess(person, actor=system, at=t(6, 17, 12))
    review_due.enqueue(t(7, 2).isoformat())
    run_worker()
    assert _colour(person) == "green"


def test_two_reviews_never_run_at_once(book, listing, make_person, cell, system):
    listing("110102", "medium", date(2020, 6, 13))
    person = book.arrival(make_person(cell.code), at=t(6, 17), origin="110102")
    reassess(person, actor=system, at=t(6, 17, 12))
    assert bulk.claim_lock("rules.review", "another-worker", timedelta(minutes=30))

    skipped = bulk.review(at=t(7, 2), actor=system)

    assert skipped["skipped"] is True and _colour(person) == "yellow"
    JobLock.objects.filter(name="rules.review").update(until=None)
    done = bulk.review(at=t(7, 2), actor=Actor.system("scheduler"))
    assert done["changed"] == 1 and _colour(person) == "green"
    lock = JobLock.objects.get(name="rules.review")
    assert lock.until is None and lock.last_result["changed"] == 1


def test_the_reassess_command_counts_and_writes(book, listing, make_person, grid_cells, system):
    listing("110102", "medium", date(2020, 6, 13))
    for i in range(3):
        book.arrival(make_person(grid_cells[i].code), at=t(6, 17), origin="110102")
    make_person(grid_cells[0].code)

    out = StringIO()
    call_command(
        "rules", "reassess", "--what-if", "--division", "320583", "--at", "2020-06-20T10:00", stdout=out
    )
    what_if = json.loads(out.getvalue().strip())
    assert what_if["kind"] == "preview" and what_if["changed"] == 4 and what_if["total"]["to_yellow"] == 3
    assert not PersonRuleState.objects.exists()

    out = StringIO()
    call_command(
        "rules", "reassess", "--division", "320583", "--at", "2020-06-20T10:00", "--shards", "2", stdout=out
    )
    written = json.loads(out.getvalue().strip())
    assert written["changed"] == 4 and written["total"] == what_if["total"]
    assert PersonRuleState.objects.filter(colour="yellow").count() == 3


def test_a_listing_from_a_later_day_takes_effect_at_that_days_review(
    book, listing, make_person, cell, system
):
    """Published on 20 June for 22 June: the people it concerns are reviewed on 22 June."""
    listing("110102", "medium", date(2020, 6, 22), notice="from the 22nd")
    person = book.arrival(make_person(cell.code), at=t(6, 19), origin="110102")
    reassess(person, actor=system, at=t(6, 20))
    state = PersonRuleState.objects.get(person=person)
    assert state.colour == "green" and state.next_review_at == datetime(2020, 6, 22, tzinfo=CHINA_TZ)

    bulk.review(at=t(6, 22, 0), actor=system)

    assert _colour(person) == "yellow"


def test_the_workers_keep_the_review_going_once_it_is_scheduled(
    book, listing, make_person, cell, system, clock
):
    from django_tasks_db.models import DBTaskResult

    from epigrid.rules.tasks import review_due

    listing("110102", "medium", date(2020, 6, 13))
    person = book.arrival(make_person(cell.code), at=t(6, 17), origin="110102")
    reassess(person, actor=system, at=t(6, 17, 12))

    out = StringIO()
    call_command("rules", "review", "--schedule", "300", stdout=out)
    call_command("rules", "review", "--schedule", "300", stdout=out)
    queued = DBTaskResult.objects.filter(task_path=review_due.module_path, status="READY")
    assert queued.count() == 1 and queued.get().run_after > clock.now

    # what a worker does when the time comes: review, then queue the next one
    queued.delete()
    result = review_due.call(t(7, 2).isoformat(), 300)
    assert result["changed"] == 1 and _colour(person) == "green"
    assert DBTaskResult.objects.filter(task_path=review_due.module_path, status="READY").count() == 1
