"""Bulk reassessment and its what-if (issue item 6, R3.1-R3.3): a risk-area change is previewed
without writing, per town and community; publishing it reassesses people in the background;
the counts of the preview equal the changes made; the narrowed population gives the same
result as a sweep of everyone."""

from datetime import date, timedelta

import pytest
from django.db import transaction

from epigrid.accounts.audit import Actor
from epigrid.lib.errors import Conflict
from epigrid.regions.models import RiskArea
from epigrid.regions.services import risk
from epigrid.rules import bulk
from epigrid.rules.models import BulkRun, DecisionRecord, MeasureRecord, PersonRuleState
from epigrid.rules.services.evaluation import Evaluator
from epigrid.rules.services.population import Population
from epigrid.rules.services.queries import candidates_for_areas
from epigrid.rules.services.risk import area_prefix
from epigrid.rules.services.sweeping import reassess, sweep
from epigrid.rules.services.writing import ReassessResult, write_batch

from .conftest import AT, run_worker, t


class Rollback(Exception):
    pass


@pytest.fixture
def town(book, listing, make_person, grid_cells, system):
    """A small population: residents with nothing on record, arrivals from places about to be
    listed, from listed places, from elsewhere; one never assessed; one due for review."""
    listing("420000", "key", date(2020, 1, 23), notice="key-area list")
    xicheng = listing("110102", "medium", date(2020, 6, 13), notice="Beijing list")
    cells = grid_cells[:4] + grid_cells[-4:]
    people = {"bare": [], "fengtai": [], "fengtai_old": [], "wuhan": [], "xicheng": [], "shanghai": []}
    for i in range(12):
        people["bare"].append(make_person(cells[i % len(cells)].code, name=f"居民{i}"))
    for i in range(4):
        p = make_person(cells[i].code, name=f"丰台{i}")
        people["fengtai"].append(book.arrival(p, at=t(6, 15 + i % 3), origin="110106"))
    for i in range(2):
        p = make_person(cells[-1 - i].code, name=f"旧{i}")
        people["fengtai_old"].append(
            book.arrival(p, at=t(5, 1), origin="110106", stay=(date(2020, 4, 20), date(2020, 4, 30)))
        )
        # tested negative after arriving: a listing that traces back to their stay finds the
        # colour's release conditions met long ago
        book.test(p, sampled=t(5, 3), reported=t(5, 3, 20))
    for i in range(3):
        p = make_person(cells[i + 2].code, name=f"武汉{i}")
        people["wuhan"].append(book.arrival(p, at=t(6, 12 + i), origin="420102"))
    for i in range(2):
        p = make_person(cells[i + 4].code, name=f"西城{i}")
        people["xicheng"].append(book.arrival(p, at=t(6, 17), origin="110102"))
    for i in range(2):
        p = make_person(cells[i].code, name=f"上海{i}")
        people["shanghai"].append(book.arrival(p, at=t(6, 16), origin="310115"))
    sweep(Population(), at=AT - timedelta(hours=2), write=True, actor=system, cause="initial")
    # one due for a scheduled review: a Wuhan test due at 08:00 on 20 June, assessed before
    due = book.arrival(make_person(cells[3].code, name="待复核"), at=t(6, 19, 20), origin="420100")
    reassess(due, actor=system, at=t(6, 19, 21))
    people["due"] = [due]
    # one registered after the last sweep: never assessed
    people["new"] = [make_person(cells[5].code, name="新登记")]
    return {"people": people, "xicheng": xicheng}


def draft_high_fengtai(system):
    return risk.create_draft(
        actor=system,
        data=risk.RiskAreaInput(
            area="110106",
            level="high",
            starts_on=date(2020, 6, 13),
            ends_on=None,
            notice="北京市风险等级公告",
        ),
        at=AT,
        jurisdiction="32",  # an area elsewhere in the country: on the province's list
    )


def _outcome():
    states = {s.person_id: (s.fingerprint, s.colour) for s in PersonRuleState.objects.all()}
    measures = sorted(MeasureRecord.objects.filter(status="open").values_list("person_id", "key", "state"))
    return states, measures


def test_it_previews_then_publishes_and_the_counts_equal_the_changes_made(town, persona, system):
    command = persona("province_command")
    actor = Actor(user=command)
    draft = draft_high_fengtai(system)
    before_decisions = DecisionRecord.objects.count()
    before_measures = MeasureRecord.objects.count()

    preview = bulk.preview_risk_change(actor=actor, publish=[draft.pk], withdraw=[town["xicheng"].pk], at=AT)
    run_worker()
    preview.refresh_from_db()

    assert preview.status == "done" and preview.kind == "preview"
    # nothing was written by the preview
    assert DecisionRecord.objects.count() == before_decisions
    assert MeasureRecord.objects.count() == before_measures
    assert RiskArea.objects.get(pk=draft.pk).status == "draft"
    total = preview.counts[""]
    # 4 Fengtai arrivals turn red, 2 Xicheng arrivals turn green, the one due for review
    # changes by time, the one never assessed gets a first decision
    assert total["people"] == 4 + 2 + 1 + 1
    assert total["to_red"] == 4 and total["to_green"] == 2 and total["first"] == 1
    towns = [k for k in preview.counts if len(k) == 9]
    communities = [k for k in preview.counts if len(k) == 12]
    assert towns and communities
    assert sum(preview.counts[k]["people"] for k in towns) == total["people"]
    assert sum(preview.counts[k]["people"] for k in communities) == total["people"]

    published = bulk.publish_risk_change(actor=actor, preview=preview, at=AT)
    assert RiskArea.objects.get(pk=draft.pk).status == "published"
    assert RiskArea.objects.get(pk=town["xicheng"].pk).status == "withdrawn"
    run_worker()
    published.refresh_from_db()

    assert published.status == "done" and published.kind == "publish"
    assert published.counts == preview.counts
    assert published.changed == preview.changed == total["people"]
    # and the counts are what was written
    written = DecisionRecord.objects.filter(cause="risk_change", evaluated_at=AT)
    assert written.count() == total["people"]
    assert MeasureRecord.objects.filter(opened_at=AT).count() == total.get("opened", 0)
    assert MeasureRecord.objects.filter(closed_at=AT).count() == total.get("closed", 0)
    colours = dict(
        PersonRuleState.objects.filter(person__in=town["people"]["fengtai"]).values_list("person", "colour")
    )
    assert set(colours.values()) == {"red"}
    assert not PersonRuleState.objects.filter(person__in=town["people"]["xicheng"], colour="yellow").exists()
    for p in town["people"]["fengtai_old"] + town["people"]["shanghai"]:
        assert PersonRuleState.objects.get(person=p).colour == "green"
    # a second look at the same moment finds nothing left to change
    again = sweep(Population(), at=AT, write=False)
    assert again.changed == 0


def test_narrowing_to_the_people_concerned_gives_the_result_of_a_full_sweep(town, system):
    draft = draft_high_fengtai(system)
    applied = risk.apply_change(actor=system, publish=[draft.pk], withdraw=[town["xicheng"].pk], at=AT)
    areas = sorted(area_prefix(a) for a in applied.areas)
    candidates = candidates_for_areas(areas, AT)
    everyone = PersonRuleState.objects.count() + 1  # + the one never assessed
    assert candidates is not None and len(candidates) < everyone

    outcomes = {}
    for name, population in (
        ("full", Population()),
        ("narrowed", Population(candidates=candidates)),
    ):
        try:
            with transaction.atomic():
                result = sweep(population, at=AT, write=True, actor=system, cause="risk_change")
                outcomes[name] = (result.counts, *_outcome())
                raise Rollback
        except Rollback:
            pass
    assert outcomes["full"][0] == outcomes["narrowed"][0]
    assert outcomes["full"][1] == outcomes["narrowed"][1]
    assert outcomes["full"][2] == outcomes["narrowed"][2]
    assert outcomes["full"][0][""]["people"] == 8


def test_a_source_that_cannot_name_its_people_makes_the_change_sweep_everyone(town):
    from epigrid.rules.registry import register_facts_source, unregister_facts_source

    register_facts_source("opaque", lambda persons, at: {})
    try:
        assert candidates_for_areas(["1101"], AT) is None
    finally:
        unregister_facts_source("opaque")


def test_a_run_split_in_shards_adds_up_to_the_unsplit_run(town, system):
    draft = draft_high_fengtai(system)
    one = bulk.preview_risk_change(actor=system, publish=[draft.pk], at=AT, shards=1, queue=False)
    three = bulk.preview_risk_change(actor=system, publish=[draft.pk], at=AT, shards=3, queue=False)
    bulk.run_inline(one)
    bulk.run_inline(three)
    assert three.status == "done" and three.shards.filter(status="done").count() == 3
    assert three.counts == one.counts and three.changed == one.changed
    assert three.total == one.total == sum(s.total for s in three.shards.all())


def test_a_full_reassessment_preview_equals_its_publication(town, system):
    # time moves on: a day later quarantines and windows have moved for some people
    later = AT + timedelta(days=1)
    preview = bulk.start_reassessment(actor=system, write=False, at=later, queue=False)
    bulk.run_inline(preview)
    published = bulk.publish_reassessment(actor=system, preview=preview, at=later, queue=False)
    bulk.run_inline(published)
    assert preview.status == published.status == "done"
    assert preview.counts == published.counts and published.changed > 0
    assert published.total == PersonRuleState.objects.count()


def test_publishing_is_refused_when_the_drafts_changed_after_the_preview(town, system):
    draft = draft_high_fengtai(system)
    preview = bulk.preview_risk_change(actor=system, publish=[draft.pk], at=AT, queue=False)
    bulk.run_inline(preview)
    risk.update_draft(
        actor=system,
        draft=draft,
        data=risk.RiskAreaInput(
            area="110106",
            level="high",
            starts_on=date(2020, 6, 10),
            ends_on=None,
            notice="北京市风险等级公告",
        ),
    )
    with pytest.raises(Conflict) as refused:
        bulk.publish_risk_change(actor=system, preview=preview, at=AT)
    assert refused.value.code == "risk_change_stale"
    assert RiskArea.objects.get(pk=draft.pk).status == "draft"
    assert not BulkRun.objects.filter(kind="publish").exists()


def test_publishing_needs_a_finished_recent_preview_and_happens_once(town, system):
    draft = draft_high_fengtai(system)
    preview = bulk.preview_risk_change(actor=system, publish=[draft.pk], at=AT, queue=False)
    with pytest.raises(Conflict):
        bulk.publish_risk_change(actor=system, preview=preview, at=AT)
    bulk.run_inline(preview)
    with pytest.raises(Conflict):
        bulk.publish_risk_change(actor=system, preview=preview, at=AT + timedelta(hours=3))
    bulk.publish_risk_change(actor=system, preview=preview, at=AT, queue=False)
    with pytest.raises(Conflict):
        bulk.publish_risk_change(actor=system, preview=preview, at=AT)


def test_a_shard_is_never_run_twice(town, system):
    run = bulk.start_reassessment(actor=system, write=False, at=AT, queue=False)
    first = bulk.execute_shard(run.pk, 0)
    second = bulk.execute_shard(run.pk, 0)
    assert first["evaluated"] > 0 and second == {"run": str(run.pk), "shard": 0, "skipped": True}


def test_a_failing_run_is_marked_failed_with_its_error(town, system, monkeypatch):
    run = bulk.start_reassessment(actor=system, write=False, at=AT, queue=False)

    def broken(*args, **kwargs):
        raise RuntimeError("facts source down")

    monkeypatch.setattr(bulk, "sweep", broken)
    with pytest.raises(RuntimeError):
        bulk.execute_shard(run.pk, 0)
    run.refresh_from_db()
    assert run.status == "failed" and "facts source down" in run.error


def test_a_batch_never_sets_back_a_person_reassessed_since_it_was_read(book, make_person, cell, system):
    """A producer reassesses someone with a fresh declaration while a bulk run holds an older
    evaluation of them: the bulk run leaves the newer decision alone."""
    person = make_person(cell.code)
    reassess(person, actor=system, at=AT)
    evaluator = Evaluator(AT)
    stale = evaluator.evaluate([person])  # a bulk run read the person here
    book.arrival(person, at=t(6, 19), origin="420102")
    reassess(person, actor=system, at=AT, cause="declaration")
    newer = PersonRuleState.objects.get(person=person).fingerprint

    stale[0].decision = Evaluator(AT + timedelta(hours=1)).evaluate([person])[0].decision
    stale[0].fingerprint = "something else entirely"
    result = ReassessResult(keep_records=False)
    write_batch(stale, evaluator=evaluator, actor=system, at=AT, cause="bulk", result=result)

    assert result.skipped == 1 and result.changed == 0
    assert PersonRuleState.objects.get(person=person).fingerprint == newer
    assert not DecisionRecord.objects.filter(person=person, cause="bulk").exists()


def test_a_publication_without_a_given_time_evaluates_when_the_worker_runs_it(town, system):
    from unittest import mock

    draft = draft_high_fengtai(system)
    preview = bulk.preview_risk_change(actor=system, publish=[draft.pk], at=AT, queue=False)
    bulk.run_inline(preview)
    with mock.patch("django.utils.timezone.now", return_value=AT):
        run = bulk.publish_risk_change(actor=system, preview=preview, queue=False)
    assert run.parameters["pinned"] is False and bulk.evaluation_time(run) > AT
    pinned = bulk.start_reassessment(actor=system, write=True, at=AT, queue=False)
    assert bulk.evaluation_time(pinned) == AT
