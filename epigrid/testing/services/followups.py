"""The tasks a positive result opens: for the CDC (network report within 2 hours, R8.2,
XC-3.3) and for the person's grid worker (reach them, keep them at home, bring them to a
retest: R10.1, NA182-2.5.1, JS79-14)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import NamedTuple

from epigrid.lib.sql import any_of
from epigrid.people.models import Person
from epigrid.testing import pooling
from epigrid.testing.models import Pool
from epigrid.testing.services.common import chunks

# R8.2 / XC-3.3: a positive result is reported through the network within 2 hours
REPORT_HOURS = 2


class PoolMember(NamedTuple):
    """A specimen in a pool; `answered` when its own tube has (or gets in the same batch) an
    individual result, which wins over the pool's."""

    specimen_id: object
    person_id: object
    division_code: str
    taken_at: datetime
    answered: bool


class Positive(NamedTuple):
    """A positive individual result: the person, where they live, and what it was found on."""

    person_id: object
    division_code: str
    source_id: object  # the specimen, or the external result
    reported_at: datetime
    sampled_at: datetime


def _names(person_ids: Iterable) -> dict:
    names = {}
    for chunk in chunks(list(person_ids), 10_000):
        names.update(dict(any_of(Person.objects.all(), "id", chunk).values_list("pk", "name")))
    return names


def pool_tasks(actor, pool_ids: list, reported: dict, members: dict[object, list[PoolMember]], at) -> int:
    """A positive pool: the CDC is told at once, and each member's grid worker brings the person
    to a single-tube retest and keeps them at home meanwhile."""
    from epigrid.tasks.models import Assignee
    from epigrid.tasks.services import TaskSpec, open_tasks_bulk

    pools = {p.pk: p for p in Pool.objects.filter(pk__in=pool_ids).select_related("sampling_point")}
    names = _names(m.person_id for pool_id in pool_ids for m in members.get(pool_id, []))
    specs = []
    for pool_id in pool_ids:
        pool, at_report, in_pool = pools[pool_id], reported[pool_id], members.get(pool_id, [])
        where = pool.sampling_point.name
        specs.append(
            TaskSpec(
                kind="positive_pool",
                title_zh=f"混检阳性：{pool.barcode}（{len(in_pool)}人），{where}",
                title_en=f"Positive pool {pool.barcode} ({len(in_pool)} people), {where}",
                detail_zh="混检结果阳性，已对每名成员下达单采单检复核，复核前居家等候。（NA182-2.5.1）",
                detail_en="Pooled result positive; a single-tube retest is ordered for every member, "
                "who stays at home meanwhile. (NA182-2.5.1)",
                division_code=pool.division_code[:6],
                assignee=Assignee.CDC,
                due_at=at_report + timedelta(hours=REPORT_HOURS),
                within=timedelta(hours=REPORT_HOURS),
                source_type="pool",
                source_id=str(pool_id),
            )
        )
        specs += [
            TaskSpec(
                kind="pool_retest",
                title_zh=f"{names.get(m.person_id, '')}：混检阳性，立即安排单采单检复核",
                title_en=f"{names.get(m.person_id, '')}: pooled test positive, arrange a single-tube "
                "retest now",
                detail_zh="混检阳性的成员须在复核结果出来前居家等候。（NA182-2.5.1、JS79-14）",
                detail_en="A member of a positive pool stays at home until the retest result is known. "
                "(NA182-2.5.1, JS79-14)",
                division_code=m.division_code,
                assignee=Assignee.GRID_WORKER,
                due_at=pooling.retest_due(at_report),
                within=timedelta(hours=pooling.DEFAULT_DUE_HOURS),
                person_id=m.person_id,
                source_type="pool",
                source_id=str(pool_id),
            )
            for m in in_pool
            if not m.answered
        ]
    return open_tasks_bulk(actor=actor, specs=specs, at=at) if specs else 0


def positive_tasks(actor, positives: list[Positive], lab_name: str, at: datetime) -> int:
    """A positive or abnormal individual result: the CDC reports and investigates (network report
    within 2 hours, R8.2), the grid worker reaches the person at once (R10.1). `lab_name` is our
    lab's, or the issuer of a result from elsewhere."""
    from epigrid.tasks.models import Assignee
    from epigrid.tasks.services import TaskSpec, open_tasks_bulk

    names = _names(p.person_id for p in positives)
    specs = []
    for p in positives:
        name = names.get(p.person_id, "")
        # both tasks are due with the network report, and name the result they follow up
        common = {
            "division_code": p.division_code,
            "due_at": p.reported_at + timedelta(hours=REPORT_HOURS),
            "within": timedelta(hours=REPORT_HOURS),
            "person_id": p.person_id,
            "source_type": "specimen_result",
            "source_id": str(p.source_id),
        }
        specs.append(
            TaskSpec(
                kind="positive_result",
                title_zh=f"{name}：检测结果阳性（{lab_name}），2小时内网络直报并开展流调",
                title_en=f"{name}: positive result ({lab_name}); network report within 2 hours, investigate",
                detail_zh="阳性或异常结果须立即处置。（JS79-12、XC-3.3、NA182-2.5）",
                detail_en="A positive or abnormal result is handled at once. (JS79-12, XC-3.3, NA182-2.5)",
                assignee=Assignee.CDC,
                **common,
            )
        )
        specs.append(
            TaskSpec(
                kind="positive_result_contact",
                title_zh=f"{name}：检测结果阳性，立即联系本人并落实管控",
                title_en=f"{name}: positive result, reach the person now and keep them in place",
                detail_zh="阳性或异常结果须立即处置，等待疾控和转运安排。（JS79-12）",
                detail_en="A positive or abnormal result is handled at once; wait for the CDC and "
                "transfer. (JS79-12)",
                assignee=Assignee.GRID_WORKER,
                **common,
            )
        )
    return open_tasks_bulk(actor=actor, specs=specs, at=at)
