"""Fixtures for the declarations tests: places of the demo city, valid document numbers, and
inputs for the usual arrivals (R2.1–R2.5)."""

import random
from datetime import date, datetime, timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone, translation

from epigrid.declarations.services import DeclarationInput, IdentityInput, StopInput

GRID = "320583001001001"  # 亭林街道, first community, first grid cell
GRID_B = "320583001001002"  # the neighbouring grid cell of the same community
COMMUNITY = "320583001001"
OTHER_COMMUNITY = "320583001002"
OTHER_GRID = "320583001002001"
TAICANG = "320585"  # another county: its command must see nothing of Kunshan
WUHAN = "420100"
WUCHANG = "420106"
YICHANG = "420500"  # other Hubei


@pytest.fixture(autouse=True)
def _english_messages():
    """Messages of the services are translated (gettext); the tests read them in English, so they
    hold once the zh-hans catalogue has them. Pages are requested in the language each test says."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Public pages are rate-limited per address in the cache; each test starts at zero."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def id_numbers():
    """Valid resident ID numbers, different on every call."""
    from epigrid.demo.population import IdNumbers

    rng = random.Random(11)
    numbers = IdNumbers()
    used = set()

    def make(birth=date(1995, 3, 14), sex="F", division="420106") -> str:
        while True:
            number = numbers.make(rng, division, birth, sex)
            if number not in used:
                used.add(number)
                return number

    return make


@pytest.fixture
def now(clock):
    return clock.now


def arrival(
    *,
    division=GRID,
    origin=WUHAN,
    days_ago=1,
    stops=(),
    at=None,
    **extra,
) -> DeclarationInput:
    at = at or timezone.now()
    arrived = at - timedelta(days=days_ago)
    return DeclarationInput(
        kind="arrival",
        division_code=division,
        address="亭林路8号3幢201室",
        arrived_at=arrived,
        origin=origin,
        transport=extra.pop("transport", "train"),
        transport_number=extra.pop("transport_number", "G1234"),
        stops=list(stops),
        **extra,
    )


def stop(area, first: date, last: date | None = None) -> StopInput:
    return StopInput(area, first, last)


def identity(number: str, name="李娜", phone="13900001111") -> IdentityInput:
    return IdentityInput(doc_type="resident_id", id_number=number, name=name, phone=phone)


def local(dt: datetime) -> date:
    return timezone.localtime(dt).date()
