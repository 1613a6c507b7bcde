"""Fixtures of the testing app: a lab with its users, sampling points, and people whose facts
make the rules order a test (an arrival after a stay in Wuhan, JS79-13)."""

from datetime import date, datetime, timedelta

import pytest

from epigrid.rules import facts as rf
from epigrid.rules import registry
from epigrid.testing.models import PointKind
from epigrid.testing.services.collection import take_specimen
from epigrid.testing.services.labs import attach_lab_member
from epigrid.testing.services.orders import walk_in_order
from epigrid.testing.services.points import PointInput, save_point
from epigrid.units.models import Unit, UnitKind

KUNSHAN = "320583"
GRID = "320583001001001"
OTHER_GRID = "320583001001002"
OTHER_TOWN_GRID = "320583002001001"
TAICANG = "320585"
# a day the shipped packs are in force (JS79 from April 2020, NA182 from June 2020)
AT = datetime(2020, 6, 20, 9, 0, tzinfo=rf.CHINA_TZ)


@pytest.fixture
def at():
    return AT


@pytest.fixture
def lab(world):
    return Unit.objects.create(kind=UnitKind.LAB, name="昆山市疾控中心实验室", division_code=KUNSHAN)


@pytest.fixture
def other_lab(world):
    return Unit.objects.create(kind=UnitKind.LAB, name="太仓市第三方检测实验室", division_code=TAICANG)


@pytest.fixture
def lab_user(persona, lab, system):
    user = persona("lab", prefixes=[KUNSHAN])
    attach_lab_member(actor=system, user=user, lab=lab)
    return user


@pytest.fixture
def point(world, lab, system):
    return save_point(
        actor=system,
        data=PointInput(
            kind=PointKind.HEALTH_CENTRE,
            name="玉山镇社区卫生服务中心采样点",
            address="昆山市玉山镇前进路1号",
            division_code="320583001",
            active_from=date(2020, 1, 1),
            latitude=31.385,
            longitude=120.98,
            phone="0512-57000000",
            opening_hours="8:00-17:00",
            waiting_place="采样点东侧候检区",
            lab_id=lab.pk,
        ),
    )


@pytest.fixture
def sampler(persona):
    return persona("sampling", prefixes=[KUNSHAN])


class Arrivals:
    """A facts source of arrivals for the tests (the declarations app's place in production)."""

    def __init__(self):
        self.by_person: dict[str, tuple] = {}

    def add(self, person, arrived_at=AT - timedelta(hours=2), area="420102"):
        start = (arrived_at - timedelta(days=10)).date()
        end = (arrived_at - timedelta(days=1)).date()
        self.by_person[str(person.pk)] = (
            rf.Arrival(arrived_at=arrived_at, origin=area, transport="train", destination=KUNSHAN),
            rf.TravelStop(area, start, end),
        )

    def __call__(self, persons, at):
        out = {}
        for p in persons:
            found = self.by_person.get(str(p.pk))
            if found:
                out[str(p.pk)] = {"arrivals": (found[0],), "travel": (found[1],)}
        return out


@pytest.fixture
def arrivals():
    source = Arrivals()
    registry.register_facts_source("zz_test_arrivals", source)
    yield source
    if hasattr(registry, "unregister_facts_source"):
        registry.unregister_facts_source("zz_test_arrivals")
    else:
        registry._FACTS_SOURCES.pop("zz_test_arrivals", None)


@pytest.fixture
def arrived(make_person, arrivals, system):
    """A person who arrived from Wuhan two hours ago: the rules ask for a free nucleic-acid and a
    serology test (JS79-13/wuhan), which become two orders."""
    from epigrid.rules.services import reassess

    def make(name="李娜", division=GRID, **kwargs):
        person = make_person(division, name=name, **kwargs)
        arrivals.add(person)
        reassess(person, actor=system, at=AT, cause="declaration")
        return person

    return make


def sample(system, point, person, barcode, at):
    """A walk-in order for a nucleic-acid test and its specimen taken at `point`, both at `at`."""
    walk_in_order(actor=system, person=person, test="nucleic_acid", group="willing", at=at)
    return take_specimen(actor=system, person=person, point=point, barcode=barcode, at=at).specimen
