"""The demo city's testing: points at every town's health centre and a few mobile ones, the lab,
must-test groups, and a morning of pooled sampling with its results. Runs once."""

import pytest

from epigrid.accounts.audit import Actor
from epigrid.demo.services import demo_users, simulate
from epigrid.testing.demo import LAB_NAME, seed_demo
from epigrid.testing.models import (
    MustTestGroup,
    OrderSource,
    PointKind,
    Pool,
    PoolStatus,
    SamplingPoint,
    TestOrder,
    TestResult,
)
from epigrid.units.models import Unit, UnitKind

pytestmark = pytest.mark.django_db


def test_it_seeds_points_a_lab_and_a_morning_of_pooled_tests_once(world, clock):
    actor = Actor.system("test")
    simulate(actor=actor, persons=400, seed=3, duplicates=False)
    demo_users(actor=actor)
    now = clock.now
    report = seed_demo(actor=actor, seed=1, at=now)
    assert report["created"] is True
    centres = Unit.objects.filter(
        kind=UnitKind.MEDICAL_INSTITUTION, name__endswith="社区卫生服务中心"
    ).count()
    fixed = SamplingPoint.objects.exclude(kind=PointKind.MOBILE)
    assert fixed.count() == centres >= 1
    assert SamplingPoint.objects.filter(kind=PointKind.MOBILE).count() == 3
    assert all(
        p.latitude and p.phone and p.waiting_place and p.lab.name == LAB_NAME
        for p in SamplingPoint.objects.all()
    )
    assert MustTestGroup.objects.filter(division_code="320583").count() == 6
    pools = Pool.objects.all()
    assert pools.filter(status=PoolStatus.RETESTING).count() == 1  # one retest still missing
    assert pools.filter(status=PoolStatus.NEGATIVE).count() == pools.count() - 1
    assert TestResult.objects.filter(result="positive").count() == 1
    assert TestOrder.objects.filter(source=OrderSource.RETEST, status="open").count() == 1
    assert TestOrder.objects.filter(status="open", due_at__lt=now).exists()  # an overdue order to show
    assert seed_demo(actor=actor, seed=1, at=now) == {"created": False}
    assert SamplingPoint.objects.count() == fixed.count() + 3
