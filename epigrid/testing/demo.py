"""Testing in the demo city: a sampling point at every town's health centre and a few mobile
ones, the county lab, must-test groups, and the day's pooled sampling: the first round with its
results (one positive pool, its retests within the hour, one true positive, one retest still
missing), so the CDC's tasks are due ahead, not overdue; then the next round's pools, received
by the lab, whose results file is checked and waits for the lab to import it (the lab login's
work, issue 10.12).

`epigrid demo` calls `seed_demo(actor=..., seed=..., at=...)` after the city, its people and
the demo logins exist. It runs once: a second call finds the lab and leaves everything alone.
"""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from epigrid.accounts.audit import Actor
from epigrid.people.models import Person, Status
from epigrid.regions.models import Division, Level
from epigrid.testing.models import WILLING, GroupName, PointKind, SamplingPoint, TestKind
from epigrid.testing.parsing import ResultRow
from epigrid.testing.services.collection import open_pool, receive, seal_pool, take_specimen
from epigrid.testing.services.imports import start_import, submit_results
from epigrid.testing.services.labs import attach_lab_member
from epigrid.testing.services.orders import walk_in_order
from epigrid.testing.services.points import PointInput, save_point
from epigrid.testing.services.screening import configure_group
from epigrid.units.models import Unit, UnitKind

CITY = "320583"
LAB_NAME = "昆山市疾病预防控制中心检测实验室"


def seed_demo(*, actor: Actor, seed: int = 1, at: datetime | None = None) -> dict:
    at = at or timezone.now()
    if Unit.objects.filter(kind=UnitKind.LAB, name=LAB_NAME).exists():
        return {"created": False}
    rng = random.Random(f"testing-{seed}")
    from epigrid.units.services import UnitInput, create_unit

    lab = create_unit(
        actor=actor,
        data=UnitInput(
            kind=UnitKind.LAB, name=LAB_NAME, division_code=CITY, address="昆山市前进西路1号", staff_count=40
        ),
    )
    from epigrid.accounts.models import User

    for user in User.objects.filter(role="lab", username="lab"):
        attach_lab_member(actor=actor, user=user, lab=lab)

    points = _points(actor, rng, lab, at)
    for group, interval in (
        (GroupName.MEDICAL_STAFF, 7),
        (GroupName.CARE_HOME_STAFF, 7),
        (GroupName.PRISON_STAFF, 7),
        (GroupName.CLOSE_CONTACT, 0),
        (GroupName.INBOUND_TRAVELLER, 0),
        (GroupName.FEVER_CLINIC, 0),
    ):
        configure_group(actor=actor, division_code=CITY, group=group, interval_days=interval)
    counts = _morning(actor, rng, lab, points, at)
    return {"created": True, "lab": str(lab.pk), "points": len(points), **counts}


def _address_in(town: str, address: str) -> str:
    """The point's address in its own town: the demo city gives units a street in any town, and
    a health centre's sampling point must lie in the town it is named after."""
    if town in address:
        return address
    street = re.sub(r"^昆山市[^\d路街道镇]*?(?:街道|镇)", "", address or "")
    return f"昆山市{town}{street}"


def _points(actor: Actor, rng: random.Random, lab: Unit, at: datetime) -> list[SamplingPoint]:
    towns = {d.name_zh: d for d in Division.objects.filter(level=Level.TOWN, code__startswith=CITY)}
    opened = (at - timedelta(days=60)).date()
    points = []
    centres = Unit.objects.filter(
        kind=UnitKind.MEDICAL_INSTITUTION, name__endswith="社区卫生服务中心"
    ).order_by("name")
    for unit in centres:
        town = towns.get(unit.name.removesuffix("社区卫生服务中心"))
        if town is None:
            continue
        lat = (town.latitude or 31.38) + rng.uniform(-0.004, 0.004)
        lon = (town.longitude or 120.98) + rng.uniform(-0.004, 0.004)
        kind = PointKind.HEALTH_CENTRE if town.name_zh.endswith("街道") else PointKind.TOWNSHIP_HOSPITAL
        points.append(
            save_point(
                actor=actor,
                data=PointInput(
                    kind=kind,
                    name=f"{unit.name}采样点",
                    unit_id=unit.pk,
                    address=_address_in(town.name_zh, unit.address),
                    division_code=town.code,
                    latitude=round(lat, 5),
                    longitude=round(lon, 5),
                    contact_name=unit.contact_name,
                    phone=f"0512-5{rng.randint(1000000, 9999999)}",
                    opening_hours="8:00-12:00, 13:30-17:30",
                    active_from=opened,
                    waiting_place="门诊楼东侧候检区（请保持1米间距，等候期间可扫码查询结果）",
                    lab_id=lab.pk,
                ),
            )
        )
    communities = list(Division.objects.filter(level=Level.COMMUNITY, code__startswith=CITY).order_by("code"))
    for community in rng.sample(communities, k=min(3, len(communities))):
        points.append(
            save_point(
                actor=actor,
                data=PointInput(
                    kind=PointKind.MOBILE,
                    name=f"{community.name_zh}流动采样点",
                    address=f"{community.name_zh}居委会门前广场",
                    division_code=community.code,
                    latitude=round((community.latitude or 31.38) + rng.uniform(-0.002, 0.002), 5),
                    longitude=round((community.longitude or 120.98) + rng.uniform(-0.002, 0.002), 5),
                    phone=f"0512-5{rng.randint(1000000, 9999999)}",
                    opening_hours="9:00-16:00",
                    active_from=opened,
                    active_to=(at + timedelta(days=14)).date(),
                    waiting_place="居委会活动室",
                    lab_id=lab.pk,
                ),
            )
        )
    return points


def _morning(actor: Actor, rng: random.Random, lab: Unit, points: list, at: datetime) -> dict:
    """Sampling six hours ago, pools of ten, results and retests since."""
    if not points:
        return {}
    point = points[0]
    people = _demo_people(rng, point)
    if not people:
        return {}
    # within the last hours, so the CDC's tasks from the positive pool and the positive retest
    # are due ahead of the demo's start, not long overdue
    sampled_at = at - timedelta(hours=6)
    groups = [people[start : start + 10] for start in range(0, len(people) - 2, 10)]
    pools = _sample_pools(actor, point, groups, pool="P", specimen="S", at=sampled_at)
    n = sum(len(group) for group in groups)
    # two people still waiting for a test: one due soon, one overdue
    for person in people[-2:]:
        with transaction.atomic():
            order = walk_in_order(
                actor=actor, person=person, test=TestKind.NUCLEIC_ACID, group=GroupName.CLOSE_CONTACT, at=at
            )
    order.due_at = at - timedelta(hours=1)
    order.save(update_fields=["due_at"])
    from epigrid.accounts.models import User

    lab_user = User.objects.filter(lab_membership__lab=lab).first()
    if lab_user is None:
        return {"pools": len(pools)}
    tested = sampled_at + timedelta(hours=4, minutes=10)
    rows = [
        ResultRow(
            row=i + 2,
            barcode=pool.barcode,
            analyte="nucleic_acid",
            result="positive" if i == 0 else "negative",
            tested_at=tested,
            ct_values={"orf1ab": 31.5, "n": 33.2} if i == 0 else {},
        )
        for i, pool in enumerate(pools)
    ]
    submit_results(actor=actor, user=lab_user, rows=rows, at=tested + timedelta(minutes=20))
    members = people[:10]
    _retest_singly(actor, point, lab_user, members, tested)
    waiting = _next_round(actor, rng, point, lab_user, at, taken={p.pk for p in people})
    return {"pools": len(pools), "specimens": n, "retests": len(members) - 1, "upload_rows": waiting}


def _demo_people(rng: random.Random, point) -> list:
    """Up to fifty people of the point's division (of anywhere, when it has none)."""
    people = list(
        Person.objects.filter(status=Status.ACTIVE, division_code__startswith=point.division_code).order_by(
            "id"
        )[:200]
    ) or list(Person.objects.filter(status=Status.ACTIVE).order_by("id")[:200])
    return rng.sample(people, k=min(50, len(people)))


def _retest_singly(actor: Actor, point, lab_user, members: list, tested: datetime) -> None:
    """The positive pool's members retested singly; all but the last have a result by now."""
    retest_at = tested + timedelta(minutes=40)
    for j, person in enumerate(members[:-1]):
        take_specimen(
            actor=actor,
            person=person,
            point=point,
            barcode=f"DEMO-R{j + 1:04d}",
            at=retest_at + timedelta(seconds=j),
        )
    rows = [
        ResultRow(
            row=j + 2,
            barcode=f"DEMO-R{j + 1:04d}",
            analyte="nucleic_acid",
            result="positive" if j == 3 else "negative",
            tested_at=retest_at + timedelta(minutes=50),
            ct_values={"orf1ab": 27.9, "n": 29.4} if j == 3 else {},
        )
        for j in range(len(members) - 1)
    ]
    submit_results(actor=actor, user=lab_user, rows=rows, at=retest_at + timedelta(minutes=55))


def _sample_pools(actor: Actor, point, groups: list, *, pool: str, specimen: str, at: datetime) -> list:
    """A sealed pool of ten per group of people, a minute apart from `at` on; barcodes DEMO-
    and the round's letters (P and S, Q and T)."""
    pools, n = [], 0
    for i, group in enumerate(groups):
        opened = open_pool(
            actor=actor, point=point, barcode=f"DEMO-{pool}{i + 1:04d}", size=10, at=at + timedelta(minutes=i)
        )
        for person in group:
            n += 1
            take_specimen(
                actor=actor,
                person=person,
                point=point,
                barcode=f"DEMO-{specimen}{n:05d}",
                pool=opened,
                walk_in_group=WILLING,
                at=at + timedelta(minutes=i, seconds=n),
            )
        seal_pool(actor=actor, pool=opened, at=at + timedelta(minutes=i, seconds=50))
        pools.append(opened)
    return pools


def _next_round(actor: Actor, rng: random.Random, point, lab_user, at: datetime, taken: set) -> int:
    """Two pools sampled four hours ago, received by the lab, and their results file checked:
    nothing is recorded until the lab imports it on its desk."""
    people = [
        p
        for p in Person.objects.filter(
            status=Status.ACTIVE, division_code__startswith=point.division_code
        ).order_by("id")[:400]
        if p.pk not in taken
    ]
    people = rng.sample(people, k=min(20, len(people)))
    groups = [people[start : start + 10] for start in range(0, len(people), 10)]
    pools = _sample_pools(actor, point, groups, pool="Q", specimen="T", at=at - timedelta(hours=4))
    barcodes = [pool.barcode for pool in pools]
    if not barcodes:
        return 0
    receive(actor=actor, user=lab_user, barcodes=barcodes, at=at - timedelta(hours=2))
    tested = timezone.localtime(at - timedelta(minutes=40)).strftime("%Y-%m-%d %H:%M")
    lines = ["条码,检测项目,结果,检测时间"] + [f"{code},核酸,阴性,{tested}" for code in barcodes]
    upload = start_import(
        actor=actor,
        user=lab_user,
        filename="第二批检测结果.csv",
        data=("\n".join(lines) + "\n").encode("utf-8"),
        at=at - timedelta(minutes=30),
    )
    return upload.total
