"""Pooled sampling end to end (R6.3, JS79-14): a negative pool makes every member negative; a
positive pool flags every member at once and orders single-tube retests, tracked until each
member has an individual result; a lost retest stays flagged and overdue."""

from datetime import timedelta

import pytest

from epigrid.tasks.models import Task
from epigrid.testing.facts import test_facts
from epigrid.testing.models import (
    OrderSource,
    OrderStatus,
    PoolStatus,
    Specimen,
    SpecimenStatus,
    TestOrder,
    TestResult,
)
from epigrid.testing.parsing import ResultRow
from epigrid.testing.services.collection import open_pool, seal_pool, take_specimen
from epigrid.testing.services.common import TestingError
from epigrid.testing.services.imports import submit_results
from epigrid.testing.services.queries import overdue_orders
from tests.testing.conftest import AT, GRID, OTHER_GRID

pytestmark = pytest.mark.django_db


def fill_pool(system, point, people, barcode="P1000", size=5):
    pool = open_pool(actor=system, point=point, barcode=barcode, size=size, at=AT)
    for i, person in enumerate(people):
        take_specimen(
            actor=system,
            person=person,
            point=point,
            barcode=f"{barcode}-{i + 1:02d}",
            pool=pool,
            walk_in_group="willing",
            at=AT + timedelta(minutes=i),
        )
    seal_pool(actor=system, pool=pool, at=AT + timedelta(minutes=30))
    return pool


def result(barcode, outcome, hours=4, row=2):
    return ResultRow(
        row=row,
        barcode=barcode,
        analyte="nucleic_acid",
        result=outcome,
        tested_at=AT + timedelta(hours=hours),
    )


def post(system, lab_user, rows, hours=5):
    out = submit_results(actor=system, user=lab_user, rows=rows, at=AT + timedelta(hours=hours))
    assert out["accepted"], out["errors"]
    return out


@pytest.fixture
def five(make_person):
    return [make_person(GRID if i % 2 else OTHER_GRID, name=name) for i, name in enumerate("赵钱孙李周")]


def test_it_makes_every_member_of_a_negative_pool_negative(system, point, lab_user, five):
    pool = fill_pool(system, point, five)
    out = post(system, lab_user, [result(pool.barcode, "negative")])
    assert out["counts"]["new_results"] == 5 and out["counts"]["persons_reassessed"] == 5
    pool.refresh_from_db()
    assert pool.status == PoolStatus.NEGATIVE and pool.result == "negative"
    for person in five:
        row = TestResult.objects.get(person=person)
        assert (row.result, row.pool_id, row.source) == ("negative", pool.pk, "local")
        assert row.sampled_at == Specimen.objects.get(person=person).taken_at
        order = TestOrder.objects.get(person=person)
        assert (order.status, order.result) == (OrderStatus.RESULTED, "negative")
        assert order.sampled_at and order.received_at and order.resulted_at == AT + timedelta(hours=5)
    assert not Task.objects.filter(kind__in=["positive_pool", "pool_retest", "positive_result"]).exists()


def test_it_flags_a_positive_pool_and_keeps_only_the_true_positive_positive(
    system, point, lab_user, five, persona
):
    pool = fill_pool(system, point, five)
    post(system, lab_user, [result(pool.barcode, "positive")])
    pool.refresh_from_db()
    assert pool.status == PoolStatus.RETESTING
    # every member flagged at once, a retest ordered for each, due 12 h after the pool result
    assert set(Specimen.objects.filter(pool=pool).values_list("status", flat=True)) == {
        SpecimenStatus.POOL_POSITIVE
    }
    retests = TestOrder.objects.filter(source=OrderSource.RETEST, pool=pool)
    assert retests.count() == 5
    assert {r.due_at for r in retests} == {AT + timedelta(hours=17)}
    assert not TestResult.objects.exists()
    facts = test_facts(five, AT + timedelta(hours=6))
    for person in five:
        entry = facts[str(person.pk)]
        assert entry["extra"] == {"pool_positive": True}
        assert [t.result for t in entry["tests"]] == ["pending"]
    # the CDC is told at once, each member's grid worker brings them to a retest
    assert Task.objects.filter(kind="positive_pool", assignee="cdc").count() == 1
    member_tasks = Task.objects.filter(kind="pool_retest", assignee="grid_worker")
    assert {t.person_id for t in member_tasks} == {p.pk for p in five}
    assert all(t.due_at == AT + timedelta(hours=17) for t in member_tasks)

    # single tubes: the third member is the true positive
    for i, person in enumerate(five):
        take_specimen(
            actor=system, person=person, point=point, barcode=f"R-{i:03d}", at=AT + timedelta(hours=7)
        )
    rows = [result(f"R-{i:03d}", "positive" if i == 2 else "negative", hours=9, row=i + 2) for i in range(5)]
    post(system, lab_user, rows, hours=10)
    pool.refresh_from_db()
    assert pool.status == PoolStatus.RESOLVED
    positive = {r.person_id for r in TestResult.objects.filter(result="positive")}
    assert positive == {five[2].pk}
    assert TestResult.objects.filter(result="negative").count() == 4
    assert set(retests.values_list("status", flat=True)) == {OrderStatus.RESULTED}
    assert dict(retests.values_list("person_id", "result"))[five[2].pk] == "positive"
    # the person's own order of the morning is answered by the individual result too
    originals = TestOrder.objects.filter(source=OrderSource.WALK_IN)
    assert {(o.person_id, o.result) for o in originals} == {
        (p.pk, "positive" if p == five[2] else "negative") for p in five
    }
    assert not Specimen.objects.filter(status=SpecimenStatus.POOL_POSITIVE).exists()
    for person in five:
        assert "extra" not in test_facts([person], AT + timedelta(hours=11)).get(str(person.pk), {})
    tasks = Task.objects.filter(kind__startswith="positive_result", person=five[2])
    assert {t.assignee for t in tasks} == {"cdc", "grid_worker"}
    assert all(t.due_at == AT + timedelta(hours=12) for t in tasks)  # 2 h network report, R8.2


def test_it_keeps_a_member_whose_retest_was_lost_flagged_and_overdue(system, point, lab_user, five, persona):
    pool = fill_pool(system, point, five)
    post(system, lab_user, [result(pool.barcode, "positive")])
    # four retests come back; the fifth tube was lost
    for i, person in enumerate(five[:4]):
        take_specimen(
            actor=system, person=person, point=point, barcode=f"R-{i:03d}", at=AT + timedelta(hours=7)
        )
    post(system, lab_user, [result(f"R-{i:03d}", "negative", hours=9, row=i + 2) for i in range(4)], hours=10)
    pool.refresh_from_db()
    assert pool.status == PoolStatus.RETESTING
    lost = five[4]
    assert Specimen.objects.get(person=lost, pool=pool).status == SpecimenStatus.POOL_POSITIVE
    assert test_facts([lost], AT + timedelta(hours=20))[str(lost.pk)]["extra"] == {"pool_positive": True}
    cdc = persona("cdc")
    late = AT + timedelta(hours=18)
    overdue = list(overdue_orders(cdc, at=late).filter(source=OrderSource.RETEST))
    assert [o.person_id for o in overdue] == [lost.pk]
    assert not overdue_orders(cdc, at=AT + timedelta(hours=16)).filter(source=OrderSource.RETEST).exists()


def test_it_answers_a_retest_from_the_original_tube_too(system, point, lab_user, five):
    pool = fill_pool(system, point, five)
    post(system, lab_user, [result(pool.barcode, "positive")])
    # the lab retests the members' own tubes singly instead of new swabs
    rows = [result(f"{pool.barcode}-{i + 1:02d}", "negative", hours=6, row=i + 2) for i in range(5)]
    post(system, lab_user, rows, hours=7)
    pool.refresh_from_db()
    assert pool.status == PoolStatus.RESOLVED
    assert set(TestOrder.objects.filter(pool=pool).values_list("status", "result")) == {
        ("resulted", "negative")
    }


def test_it_refuses_a_sixth_swab_in_a_pool_of_five_and_a_sealed_pool(system, point, five, make_person):
    from epigrid.lib.errors import Conflict

    pool = open_pool(actor=system, point=point, barcode="P2000", size=5, at=AT)
    for i, person in enumerate(five):
        take_specimen(
            actor=system,
            person=person,
            point=point,
            barcode=f"T-{i}000",
            pool=pool,
            walk_in_group="willing",
            at=AT,
        )
    extra = make_person(GRID, name="吴六")
    with pytest.raises(Conflict) as exc:
        take_specimen(
            actor=system,
            person=extra,
            point=point,
            barcode="T-9000",
            pool=pool,
            walk_in_group="willing",
            at=AT,
        )
    assert exc.value.code == "pool_full"
    assert not Specimen.objects.filter(barcode="T-9000").exists()
    with pytest.raises(TestingError):
        open_pool(actor=system, point=point, barcode="P2001", size=7, at=AT)


# The rule docs/testing.md proposes for the colour pack: members of a positive pool are yellow
# until their own result is known. It lives here until the rules' owner adopts it.
PROPOSED_PACK = {
    "id": "colour-positive-pool",
    "version": 1,
    "title": {"zh-hans": "混检阳性待复核", "en": "Positive pool awaiting retest"},
    "source": {"document": "test", "date": "2020-06"},
    "jurisdiction": "",
    "valid_from": "2020-02-01",
    "rules": [
        {
            "id": "colour/positive-pool",
            "requirements": ["NA182-2.5.1", "JS79-12"],
            "priority": 50,
            "when": {"field": "extra.pool_positive", "eq": True},
            "colour": {
                "value": "yellow",
                "release": {
                    "text": {"zh-hans": "单采单检复核结果阴性", "en": "a negative single-tube retest"}
                },
            },
            "reason": {
                "zh-hans": "所在混检样本结果阳性，等待单采单检复核。",
                "en": "Part of a positive pooled sample, waiting for a single-tube retest.",
            },
        }
    ],
}


def test_a_positive_pool_reaches_the_rules_as_a_pending_test_and_a_flag(system, point, lab_user, five):
    from epigrid.rules import engine
    from epigrid.rules import facts as rf
    from epigrid.rules.packs import parse_pack

    pool = fill_pool(system, point, five)
    post(system, lab_user, [result(pool.barcode, "positive")])
    pack = parse_pack(PROPOSED_PACK)
    at = AT + timedelta(hours=6)
    contributed = test_facts(five, at)[str(five[0].pk)]
    facts = rf.Facts(person_id=str(five[0].pk), division_code="320583001001", **contributed)
    decision = engine.evaluate(facts, pack, at)
    assert decision.colour.value == "yellow"
    assert decision.colour.rules == ("colour/positive-pool",)
    # once the person's own result is in, the flag is gone and so is the colour
    take_specimen(actor=system, person=five[0], point=point, barcode="R-0001", at=AT + timedelta(hours=7))
    post(system, lab_user, [result("R-0001", "negative", hours=8)], hours=9)
    later = AT + timedelta(hours=10)
    contributed = test_facts([five[0]], later)[str(five[0].pk)]
    facts = rf.Facts(person_id=str(five[0].pk), division_code="320583001001", **contributed)
    assert engine.evaluate(facts, pack, later).colour is None
    assert [t.result for t in facts.tests if t.kind == "nucleic_acid"] == ["negative"]


def test_a_members_own_tube_in_the_same_file_wins_over_the_pool(system, point, lab_user, five):
    pool = fill_pool(system, point, five)
    rows = [result(pool.barcode, "negative"), result(f"{pool.barcode}-03", "positive", row=3)]
    out = post(system, lab_user, rows)
    assert out["counts"]["new_results"] == 5 and out["counts"]["positive_persons"] == 1
    outcome = dict(TestResult.objects.values_list("person_id", "result"))
    assert outcome == {p.pk: "positive" if p == five[2] else "negative" for p in five}
    assert TestOrder.objects.get(person=five[2]).result == "positive"
    assert not TestOrder.objects.filter(source=OrderSource.RETEST).exists()
