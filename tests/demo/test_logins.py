"""Every login `epigrid demo` prints has something to do (issue 10.12): each signs in with the
printed password, its home page links its main page, and the main page lists work — the grid
worker's grid has open checks and tasks, Taicang has people, the school its roster, the CDC and
auditor lists are not empty, and so on for every role.

The demo is built once for the module, the way `epigrid demo` builds it (`build_demo`, through
the services), and the database is given back to the session as it found it afterwards."""

import re

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation

from epigrid.accounts.audit import Actor
from epigrid.demo.build import MAIN_PAGES, build_demo
from epigrid.demo.services import DEMO_PASSWORD

PERSONS = 1500


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), translation.override(settings.LANGUAGE_CODE):
        build = build_demo(actor=Actor.system("test"), persons=PERSONS, seed=1, base_url="http://testserver")
        yield build
        from tests.conftest import _ensure_world

        call_command("flush", interactive=False, verbosity=0)
        _ensure_world()


@pytest.fixture
def signed_in(demo, db):
    from django.core.cache import cache

    def sign_in(username: str) -> Client:
        cache.clear()  # the login page is rate-limited per address
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        response = client.post(reverse("accounts:login"), {"username": username, "password": DEMO_PASSWORD})
        assert response.status_code == 302, f"{username} cannot sign in with the printed password"
        return client

    return sign_in


def _page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def _count(pattern: str, page: str) -> int:
    return len(re.findall(pattern, page))


def _stat(page: str) -> int:
    """The first figure of a dashboard: open tasks of the area."""
    return int(re.search(r'<div class="stat">(\d+)</div>', page).group(1))


def _table_rows(page: str, tbody: str = "<tbody") -> int:
    body = page[page.index(tbody) :]
    body = body[: body.index("</tbody>")]
    return _count(r"<tr[ >]", body) - _count(r'<td colspan="\d+" class="muted"', body)


CHECK = r'href="/declarations/verify/[0-9a-f-]{36}/"'
TASK = r'<article class="card task" id="task-'


def _command(client):
    page = _page(client, reverse("tasks:command"))
    assert _stat(page) > 0
    assert _count(CHECK, _page(client, reverse("declarations:verify_list"))) > 0
    assert _table_rows(_page(client, reverse("people:list")), '<tbody id="person-rows"') > 0


def _grid(client):
    assert _count(TASK, _page(client, reverse("tasks:mine"))) >= 2
    assert _count(CHECK, _page(client, reverse("declarations:verify_list"))) >= 2
    assert _table_rows(_page(client, reverse("declarations:list"))) >= 2
    assert _table_rows(_page(client, reverse("people:list")), '<tbody id="person-rows"') > 0


def _cdc(client):
    tasks = _page(client, reverse("tasks:mine"))
    assert _count(TASK, tasks) > 0
    # the positive pool and the positive retest came in within the hour: due ahead, not overdue
    assert _count(r">overdue</span>", tasks) == 0
    assert _table_rows(_page(client, reverse("declarations:list"))) > 0
    assert "Merge into the chosen record" in _page(client, reverse("people:duplicates"))


def _unit(client):
    from epigrid.units.models import RosterEntry

    page = _page(client, reverse("units:list"))
    school = re.search(r'href="/units/([0-9a-f-]{36})/">([^<]+学校)<', page)
    assert school, "the unit manager's school is not listed"
    roster = _page(client, f"/units/{school.group(1)}/")
    students = RosterEntry.objects.filter(unit_id=school.group(1), role="student").count()
    assert students > 20 and _table_rows(roster) >= min(students, 50)


def _sampling(client):
    # the desk offers the points to sample at; the overdue orders are who to sample first
    assert _count(r'<option value="[0-9a-f-]{36}"', _page(client, reverse("testing:sample"))) > 0
    assert _table_rows(_page(client, reverse("testing:overdue"))) > 0


def _lab(client):
    page = _page(client, reverse("testing:lab"))
    assert "第二批检测结果.csv" in page and "checked, ready to commit" in page


def _checkpoint(client, demo):
    from epigrid.venues.demo_checkpoints import NAME
    from epigrid.venues.models import Checkpoint

    posts = _page(client, reverse("venues:posts"))
    checkpoint = Checkpoint.objects.get(name=NAME)
    assert NAME in posts and reverse("venues:checkpoint_record", args=[checkpoint.pk]) in posts
    # this morning's cars are on the checkpoint's page: three vehicles, one held, one fever
    assert "鄂A8M2D5" in _page(client, reverse("venues:checkpoint", args=[checkpoint.pk]))
    assert 'id="hc-result"' in _page(client, reverse("healthcode:scan"))
    # the codes printed beside the logins are what a checkpoint scans
    for colour in ("green", "yellow", "red"):
        path = demo.codes[colour].removeprefix("http://testserver")
        assert f'data-colour="{colour}"' in Client().get(path).content.decode()


def _venue(client):
    from epigrid.venues.demo_posts import POSTED_AT
    from epigrid.venues.models import Venue

    venue = Venue.objects.get(name=POSTED_AT)
    posts = _page(client, reverse("venues:posts"))
    assert POSTED_AT in posts and reverse("venues:scanner", args=[venue.pk]) in posts
    assert not re.search(r"\b0 entries today", posts)
    assert 'id="vs-queue-count"' in _page(client, reverse("venues:scanner", args=[venue.pk]))


def _clinic(client):
    page = _page(client, reverse("venues:triage"))
    assert "<form" in page


def _auditor(client):
    assert _table_rows(_page(client, reverse("accounts:audit"))) >= 20


def _datateam(client):
    page = _page(client, reverse("declarations:lists"))
    pending = re.search(r"演示：电信运营商推送（第二批）.*?</tr>", page, re.S).group(0)
    assert "validated" in pending


def _admin(client):
    assert _table_rows(_page(client, reverse("units:list"))) > 0
    assert "signs new codes" in _page(client, reverse("healthcode:key_admin"))


def _taicang(client):
    _command(client)
    assert "320583" not in _page(client, reverse("people:list")).split('id="person-rows"')[1]


WORK = {
    "province": _command,
    "city": _command,
    "county": _command,
    "taicang": _taicang,
    "cdc": _cdc,
    "grid": _grid,
    "unit": _unit,
    "sampling": _sampling,
    "lab": _lab,
    "checkpoint": _checkpoint,
    "venue": _venue,
    "clinic": _clinic,
    "auditor": _auditor,
    "datateam": _datateam,
    "admin": _admin,
}


def test_the_demo_prints_one_login_per_role_each_with_its_main_page(demo):
    from epigrid.accounts.roles import Role

    assert {login["role"] for login in demo.logins} == set(Role.values)
    assert {login["username"] for login in demo.logins} == set(WORK) == set(MAIN_PAGES)
    assert all(login["main"].startswith("/") for login in demo.logins)


@pytest.mark.parametrize("username", list(WORK))
def test_it_every_printed_login_has_something_to_do(signed_in, demo, username):
    client = signed_in(username)
    main = next(login["main"] for login in demo.logins if login["username"] == username)
    assert f'href="{main}"' in _page(client, "/"), "the home page does not lead to the main page"
    check = WORK[username]
    if username == "checkpoint":
        check(client, demo)
    else:
        check(client)


def test_a_second_build_adds_nothing(demo, db):
    from epigrid.declarations.models import PushedList
    from epigrid.people.models import Person

    persons, lists = Person.objects.count(), PushedList.objects.count()
    build_demo(actor=Actor.system("test"), persons=PERSONS, seed=1, base_url="http://testserver")
    assert (Person.objects.count(), PushedList.objects.count()) == (persons, lists)


def test_the_sampling_point_of_a_towns_health_centre_stands_in_that_town(demo, db):
    from epigrid.regions.models import Division
    from epigrid.testing.models import SamplingPoint

    towns = {d.name_zh: d.code for d in Division.objects.filter(level=4, code__startswith="320583")}
    centres = SamplingPoint.objects.filter(name__endswith="社区卫生服务中心采样点")
    assert centres.count() == len(towns)
    for point in centres:
        town = point.name.removesuffix("社区卫生服务中心采样点")
        assert point.unit.division_code.startswith(towns[town]), point.name
        assert town in point.address, (point.name, point.address)
