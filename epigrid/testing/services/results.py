"""A batch of checked result rows applied, set-based, in the caller's transaction: results,
specimens, pools, the orders they answer, retest orders for positive pools, tasks for positive
results, turnaround counts (R6.3, JS79-14, NA182-2.5.1)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from django.db.models import F

from epigrid.accounts.audit import Actor
from epigrid.lib.bulk import insert_rows
from epigrid.lib.sql import any_of
from epigrid.testing import pooling
from epigrid.testing.models import (
    ANALYTES_OF,
    PENDING_ORDER_STATES,
    Analyte,
    OrderSource,
    OrderStatus,
    Outcome,
    Pool,
    PoolStatus,
    Specimen,
    SpecimenStatus,
    TestKind,
    TestOrder,
    TestResult,
)
from epigrid.testing.rows import TestOrderRow, TestResultRow
from epigrid.testing.services.checking import Bound
from epigrid.testing.services.common import chunks
from epigrid.testing.services.followups import PoolMember, Positive, pool_tasks, positive_tasks
from epigrid.testing.services.turnaround import TurnaroundCounter
from epigrid.units.models import Unit

RETEST_REASON_ZH = "混检结果阳性，需单采单检复核；复核结果出来前请居家等候，不要外出。"
RETEST_REASON_EN = (
    "The pooled sample you were part of tested positive: a single-tube retest is needed. "
    "Stay at home until its result is known."
)


@dataclass
class Applied:
    new_results: int = 0
    unchanged: int = 0
    positive_persons: int = 0
    positive_pools: int = 0
    retest_orders: int = 0
    tasks: int = 0
    persons: set = field(default_factory=set)

    COUNTS = ("new_results", "unchanged", "positive_persons", "positive_pools", "retest_orders", "tasks")

    def add(self, other: Applied) -> None:
        for key in self.COUNTS:
            setattr(self, key, getattr(self, key) + getattr(other, key))
        self.persons |= other.persons

    def as_dict(self) -> dict:
        return {**{key: getattr(self, key) for key in self.COUNTS}, "persons": len(self.persons)}


class PoolReport(NamedTuple):
    row: object  # parsing.ResultRow
    reported: datetime


class _Tube(NamedTuple):
    id: object
    person_id: object
    division_code: str
    taken_at: datetime


class _Report(NamedTuple):
    """One analyte's result of a single tube in this batch."""

    analyte: str
    result: str
    reported: datetime
    received: datetime


@dataclass
class _Batch:
    """What the steps of one `apply_results` share."""

    actor: Actor
    lab: Unit
    at: datetime
    done: Applied
    pools: dict[object, PoolReport]  # pool id -> its row and report time
    members: dict[object, list[PoolMember]] = field(default_factory=dict)
    turnaround: TurnaroundCounter = field(default_factory=TurnaroundCounter)

    def result_row(self, *, person, division, analyte, result, taken, row, reported, specimen, pool=None):
        return TestResultRow(
            id=uuid.uuid4(),
            person=person,
            division_code=division,
            analyte=analyte,
            result=result,
            sampled_at=taken,
            tested_at=row.tested_at,
            reported_at=reported,
            ct_values=row.ct_values,
            issuer=self.lab.name[:128],
            lab=self.lab.pk,
            specimen=specimen,
            pool=pool,
            recorded_at=self.at,
            recorded_by=self.actor.user.pk if self.actor.user is not None else None,
        )


def apply_results(*, actor: Actor, lab: Unit, bound: Sequence[Bound], at: datetime) -> Applied:
    """Write a batch of checked rows, set-based, in the caller's transaction. Returns the persons
    whose facts changed (to reassess) and the counts.

    Pools are updated per distinct result (one statement for all the negative pools of a file),
    their members through the pool ids: a batch of 5,000 pools is a handful of statements."""
    done = Applied()
    fresh = [b for b in bound if not b.unchanged]
    done.unchanged = len(bound) - len(fresh)
    if not fresh:
        return done
    tubes = [b for b in fresh if b.target == "specimen"]
    batch = _Batch(
        actor=actor,
        lab=lab,
        at=at,
        done=done,
        pools={b.target_id: PoolReport(b.row, b.row.reported_at or at) for b in fresh if b.target == "pool"},
    )
    batch.members = _pool_members(batch.pools, tubes)
    negative, positive = _split_pools(batch)
    tube_info = _tubes(tubes)
    results = _member_results(batch, negative) + _tube_results(batch, tubes, tube_info)
    insert_rows(TestResult, results)
    done.new_results = len(results)
    _update_pools(batch)
    _result_negative_members(batch, negative)
    if positive:
        _flag_positive_pools(batch, positive)
    reports = _tube_reports(batch, tubes)
    positives = [p for sid, rows in reports.items() if (p := _result_tube(batch, tube_info[sid], rows))]
    if positives:
        done.positive_persons = len({p.person_id for p in positives})
        done.tasks += positive_tasks(actor, positives, lab.name, at)
    if reports:
        _resolve_pools()
    batch.turnaround.save()
    return done


def _pool_members(pools: dict, tubes: list[Bound]) -> dict[object, list[PoolMember]]:
    """The members of each pool (one query per 2,000 pools). A member whose own tube already has
    a result, or gets a nucleic-acid result in this same batch, is answered by it: an individual
    result wins over the pool's."""
    resulted_here = {b.target_id for b in tubes if b.row.analyte == Analyte.NUCLEIC_ACID}
    members: dict = defaultdict(list)
    for chunk in chunks(list(pools), 2000):
        for pool_id, sid, pid, division, taken, result in any_of(
            Specimen.objects.all(), "pool_id", chunk
        ).values_list("pool_id", "id", "person_id", "division_code", "taken_at", "result"):
            members[pool_id].append(
                PoolMember(
                    specimen_id=sid,
                    person_id=pid,
                    division_code=division,
                    taken_at=taken,
                    answered=bool(result) or sid in resulted_here,
                )
            )
    return members


def _split_pools(batch: _Batch) -> tuple[dict, list]:
    """Negative pools grouped by (reported, received) times, and the positive pools' ids; every
    member of either is a person whose facts change."""
    negative: dict = defaultdict(list)
    positive: list = []
    for pool_id, (r, reported) in batch.pools.items():
        members = batch.members.get(pool_id, ())
        if r.result == Outcome.NEGATIVE:
            negative[(reported, r.received_at or r.tested_at)].append(pool_id)
            batch.done.persons.update(m.person_id for m in members if not m.answered)
        else:
            positive.append(pool_id)
            batch.done.persons.update(m.person_id for m in members)
    return negative, positive


def _member_results(batch: _Batch, negative: dict) -> list[TestResultRow]:
    """A negative pool's result for each of its members not answered by their own tube."""
    return [
        batch.result_row(
            person=m.person_id,
            division=m.division_code,
            analyte=Analyte.NUCLEIC_ACID,
            result=Outcome.NEGATIVE,
            taken=m.taken_at,
            row=batch.pools[pool_id].row,
            reported=batch.pools[pool_id].reported,
            specimen=m.specimen_id,
            pool=pool_id,
        )
        for ids in negative.values()
        for pool_id in ids
        for m in batch.members.get(pool_id, ())
        if not m.answered
    ]


def _tubes(tubes: list[Bound]) -> dict[object, _Tube]:
    info = {}
    for chunk in chunks([b.target_id for b in tubes], 2000):
        for row in any_of(Specimen.objects.all(), "id", chunk).values_list(
            "id", "person_id", "division_code", "taken_at"
        ):
            info[row[0]] = _Tube(*row)
    return info


def _tube_results(batch: _Batch, tubes: list[Bound], info: dict) -> list[TestResultRow]:
    rows = []
    for b in tubes:
        tube = info[b.target_id]
        rows.append(
            batch.result_row(
                person=tube.person_id,
                division=tube.division_code,
                analyte=b.row.analyte,
                result=b.row.result,
                taken=tube.taken_at,
                row=b.row,
                reported=b.row.reported_at or batch.at,
                specimen=tube.id,
            )
        )
        batch.done.persons.add(tube.person_id)
    return rows


def _update_pools(batch: _Batch) -> None:
    """The pools themselves: one statement per distinct result."""
    by_outcome: dict = defaultdict(list)
    for pool_id, (r, reported) in batch.pools.items():
        key = (
            r.result,
            r.tested_at,
            reported,
            r.received_at or r.tested_at,
            tuple(sorted(r.ct_values.items())),
        )
        by_outcome[key].append(pool_id)
    for (outcome, tested, reported, received, ct), ids in by_outcome.items():
        for chunk in chunks(ids, 10_000):
            any_of(Pool.objects.all(), "id", chunk).update(
                result=outcome,
                ct_values=dict(ct),
                tested_at=tested,
                resulted_at=reported,
                lab=batch.lab,
                status=PoolStatus.RETESTING if outcome == Outcome.POSITIVE else PoolStatus.NEGATIVE,
                received_at=_coalesce("received_at", received),
            )


def _result_negative_members(batch: _Batch, negative: dict) -> None:
    """A negative pool's members' specimens and the orders they answer are resulted."""
    for (reported, received), ids in negative.items():
        for chunk in chunks(ids, 10_000):
            sids = [
                m.specimen_id for pool_id in chunk for m in batch.members.get(pool_id, ()) if not m.answered
            ]
            orders = any_of(
                TestOrder.objects.filter(status__in=PENDING_ORDER_STATES, test=TestKind.NUCLEIC_ACID),
                "specimen_id",
                sids,
            )
            batch.turnaround.add(orders, reported)
            orders.update(
                status=OrderStatus.RESULTED,
                result=Outcome.NEGATIVE,
                resulted_at=reported,
                received_at=_coalesce("received_at", received),
                lab=batch.lab,
            )
            any_of(Specimen.objects.filter(result=""), "pool_id", chunk).update(
                status=SpecimenStatus.RESULTED,
                result=Outcome.NEGATIVE,
                resulted_at=reported,
                lab=batch.lab,
                received_at=_coalesce("received_at", received),
            )


def _flag_positive_pools(batch: _Batch, positive: list) -> None:
    """A positive pool: every member flagged at once, a single-tube retest ordered for each
    member not answered by their own tube, and the tasks that go with it."""
    batch.done.positive_pools = len(positive)
    any_of(Specimen.objects.filter(result=""), "pool_id", positive).update(
        status=SpecimenStatus.POOL_POSITIVE, lab=batch.lab
    )
    retests = []
    for pool_id in positive:
        reported = batch.pools[pool_id].reported
        due = pooling.retest_due(reported)
        retests += [
            TestOrderRow(
                id=uuid.uuid4(),
                person=m.person_id,
                division_code=m.division_code,
                test=TestKind.NUCLEIC_ACID,
                source=OrderSource.RETEST,
                reason_zh=RETEST_REASON_ZH,
                reason_en=RETEST_REASON_EN,
                requirements=["NA182-2.5.1", "JS79-14"],
                free=True,
                ordered_at=reported,
                due_at=due,
                pool=pool_id,
            )
            for m in batch.members.get(pool_id, ())
            if not m.answered
        ]
    insert_rows(TestOrder, retests)
    batch.done.retest_orders = len(retests)
    reported = {pool_id: batch.pools[pool_id].reported for pool_id in positive}
    batch.done.tasks += pool_tasks(batch.actor, positive, reported, batch.members, batch.at)


def _tube_reports(batch: _Batch, tubes: list[Bound]) -> dict[object, list[_Report]]:
    reports: dict = defaultdict(list)
    for b in tubes:
        r = b.row
        reports[b.target_id].append(
            _Report(r.analyte, r.result, r.reported_at or batch.at, r.received_at or r.tested_at)
        )
    return reports


def _result_tube(batch: _Batch, tube: _Tube, reports: list[_Report]) -> Positive | None:
    """A single tube's results: the specimen, the orders it answers once every analyte they ask
    for is known, and the retests it answers (few per file). The tube when it is positive."""
    outcome = Outcome.POSITIVE if any(r.result == Outcome.POSITIVE for r in reports) else Outcome.NEGATIVE
    reported = max(r.reported for r in reports)
    received = min(r.received for r in reports)
    Specimen.objects.filter(pk=tube.id).update(
        status=SpecimenStatus.RESULTED,
        result=outcome,
        resulted_at=reported,
        lab=batch.lab,
        received_at=_coalesce("received_at", received),
    )
    analytes_in = dict(TestResult.objects.filter(specimen_id=tube.id).values_list("analyte", "result"))
    for order in TestOrder.objects.filter(specimen_id=tube.id, status__in=PENDING_ORDER_STATES):
        wanted = set(ANALYTES_OF[order.test])
        if not wanted <= set(analytes_in):
            continue
        one = TestOrder.objects.filter(pk=order.pk)
        batch.turnaround.add(one, reported)
        one.update(
            status=OrderStatus.RESULTED,
            result=Outcome.POSITIVE
            if any(analytes_in[a] == Outcome.POSITIVE for a in wanted)
            else Outcome.NEGATIVE,
            resulted_at=reported,
            received_at=order.received_at or received,
            lab=batch.lab,
        )
    if any(r.analyte == Analyte.NUCLEIC_ACID for r in reports):
        _answer_retests(
            tube.person_id, tube.taken_at, outcome, reported, tube.id, batch.lab, batch.turnaround
        )
    if outcome != Outcome.POSITIVE:
        return None
    return Positive(tube.person_id, tube.division_code, tube.id, reported, tube.taken_at)


def _coalesce(field_name: str, value):
    from django.db.models import Value
    from django.db.models.functions import Coalesce

    return Coalesce(F(field_name), Value(value))


def _answer_retests(
    person_id, taken_at: datetime, outcome: str, reported: datetime, specimen_id, lab, counter
):
    """An individual nucleic-acid result of a flagged person answers their pending retest orders
    and the original orders of their pooled tube (the person's own result is now known)."""
    flagged = list(
        Specimen.objects.filter(
            person_id=person_id, status=SpecimenStatus.POOL_POSITIVE, taken_at__lte=taken_at
        )
        .exclude(pk=specimen_id)
        .values_list("pk", flat=True)
    )
    retests = TestOrder.objects.filter(
        person_id=person_id,
        source=OrderSource.RETEST,
        status__in=PENDING_ORDER_STATES,
        ordered_at__lte=reported,
    )
    if not flagged and not retests.exists():
        return
    retests.filter(specimen__isnull=True).update(specimen_id=specimen_id, sampled_at=taken_at)
    counter.add(retests, reported)
    retests.update(status=OrderStatus.RESULTED, result=outcome, resulted_at=reported, lab=lab)
    if flagged:
        originals = TestOrder.objects.filter(specimen_id__in=flagged, status__in=PENDING_ORDER_STATES)
        counter.add(originals, reported)
        originals.update(status=OrderStatus.RESULTED, result=outcome, resulted_at=reported)
        Specimen.objects.filter(pk__in=flagged).update(
            status=SpecimenStatus.RESULTED, result=outcome, resulted_at=reported
        )


def _resolve_pools() -> None:
    """A positive pool is resolved once every member has an individual result."""
    pending = TestOrder.objects.filter(pool__isnull=False, status__in=PENDING_ORDER_STATES)
    retesting = Pool.objects.filter(status=PoolStatus.RETESTING)
    still = set(pending.filter(pool__in=retesting).values_list("pool_id", flat=True).distinct())
    flagged = set(
        Specimen.objects.filter(pool__in=retesting, status=SpecimenStatus.POOL_POSITIVE)
        .values_list("pool_id", flat=True)
        .distinct()
    )
    retesting.exclude(pk__in=still | flagged).update(status=PoolStatus.RESOLVED)
