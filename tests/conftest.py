"""Shared fixtures: the country's divisions and the demo city below Kunshan, loaded once per
test database, and personas for every role.

Each test says who acts: `persona("grid_worker")` is a grid worker of one grid cell,
`persona("county_command", prefixes=["320585"])` a command of another county. A test that reads
`../shared/` is marked `shared_data(name)`: see tests/shared_data.py."""

import itertools
import os
import shutil
from pathlib import Path

import pytest
from django.test import Client

from epigrid.accounts.audit import Actor
from epigrid.accounts.models import ScopeGrant, User
from epigrid.regions.models import Division
from tests import shared_data

KUNSHAN = "320583"
TAICANG = "320585"

_counter = itertools.count()


# --- data read in place from ../shared (tests/shared_data.py) ------------------------------


def pytest_configure(config):
    config.addinivalue_line("markers", shared_data.MARKER_HELP)


def pytest_report_header(config):
    return shared_data.report_header()


def pytest_collection_finish(session):
    shared_data.stop_when_absent_in_ci(session.items)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    shared_data.skip_when_absent(item)


def _ensure_world():
    from epigrid.demo.services import build_city

    if not Division.objects.filter(code__startswith=KUNSHAN, level=6).exists():
        build_city(actor=Actor.system("test"), seed=1)
    # rows data migrations made, which a transactional test's flush empties
    from epigrid.venues.types import ensure_types

    ensure_types()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        _ensure_world()


@pytest.fixture
def world(db):
    """The divisions are there (reloaded after a transactional test flushed them)."""
    _ensure_world()
    return Division.objects.get(code=KUNSHAN)


@pytest.fixture
def grid_cells(world):
    return list(Division.objects.filter(code__startswith=KUNSHAN, level=6).order_by("code"))


@pytest.fixture
def ratelimit_clock(monkeypatch):
    """django-ratelimit counts in fixed windows whose edges fall at a time of its choosing; a
    test that makes N+1 requests across an edge sees the count restart and no 429. The clock
    is held still so the count of a test is the count of one window."""
    import time
    import types

    import django_ratelimit.core

    now = time.time()
    monkeypatch.setattr(django_ratelimit.core, "time", types.SimpleNamespace(time=lambda: now))
    return now


class Clock:
    """The test's time. `now` is the instant the test began; `shift(...)` moves every clock of
    this process (Django's `timezone.now`, `time.time`, `datetime.now`) by a timedelta or
    keyword arguments (`clock.shift(hours=13)`), so a deadline passes without sleeping."""

    def __init__(self, traveller):
        self._traveller = traveller

    @property
    def now(self):
        from django.utils import timezone

        return timezone.now()

    @property
    def today(self):
        """The date of `now` in the site's time zone (China time), as the pages read it."""
        from django.utils import timezone

        return timezone.localdate()

    def shift(self, delta=None, **parts):
        import datetime as dt

        self._traveller.shift(delta if delta is not None else dt.timedelta(**parts))
        return self.now


@pytest.fixture
def clock():
    """Time held still at the real present (so keys, sessions and tokens made now stay valid),
    moved only by `clock.shift`: tests never read the wall clock twice and hope."""
    import datetime as dt

    import time_machine

    with time_machine.travel(dt.datetime.now(dt.UTC), tick=False) as traveller:
        yield Clock(traveller)


@pytest.fixture
def system():
    return Actor.system("test")


@pytest.fixture
def persona(world):
    def make(
        role: str, prefixes=None, units=(), password: str | None = None, username: str | None = None
    ) -> User:
        default = {"province_command": ["32"], "city_command": ["3205"]}.get(role, [KUNSHAN])
        user = User(username=username or f"{role}-{next(_counter)}", role=role)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        for prefix in default if prefixes is None else prefixes:
            ScopeGrant.objects.create(user=user, division_prefix=prefix)
        for unit in units:
            ScopeGrant.objects.create(user=user, unit_id=unit.pk)
        return user

    return make


@pytest.fixture
def client_for():
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def make_person(world, system):
    """Register a valid person in a division; numbers come from a deterministic generator."""
    import random
    from datetime import date

    from epigrid.demo.population import IdNumbers
    from epigrid.people.services import PersonInput, register_person

    rng = random.Random(7)
    numbers = IdNumbers()

    def make(
        division_code: str,
        name: str = "张伟",
        phone: str = "",
        birth=date(1990, 5, 17),
        sex="M",
        number: str | None = None,
        **extra,
    ):
        number = number or numbers.make(rng, "320583" if birth.year >= 1989 else "320523", birth, sex)
        return register_person(
            actor=system,
            data=PersonInput(
                doc_type="resident_id",
                id_number=number,
                name=name,
                division_code=division_code,
                phone=phone,
                **extra,
            ),
        )

    return make


# --- the browser --------------------------------------------------------------------------

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


CSP_VIOLATIONS: list[str] = []


def _watch_csp(context):
    """Chromium reports what the Content-Security-Policy refused on the console: collected so
    the test that met it fails (`_no_csp_violations`)."""

    def on_console(message):
        if "Content Security Policy" in message.text:
            CSP_VIOLATIONS.append(f"{message.location.get('url', '')}: {message.text}")

    context.on("console", on_console)
    return context


@pytest.fixture(autouse=True)
def _no_csp_violations(request):
    seen = len(CSP_VIOLATIONS)
    yield
    if "browser" in request.fixturenames:
        assert CSP_VIOLATIONS[seen:] == [], "the page broke its Content-Security-Policy"


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium under Playwright; never a downloaded browser. Every context it opens
    watches for Content-Security-Policy violations."""
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the
    # test itself (setting up data) are still synchronous and safe here.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is missing: apt-get install -y chromium (scripts/test does it)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        open_context = browser.new_context
        browser.new_context = lambda *args, **kwargs: _watch_csp(open_context(*args, **kwargs))
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
