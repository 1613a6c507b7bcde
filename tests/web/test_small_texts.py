"""Words a user sees (issue 10 item 17): the health code shown once on the person's own page,
a task's page headed by the task, a check's task that says what to do and leads there, each
language named in its own language, "the areas listed below" above the list, the demo's
sampling points in their own towns, and a favicon."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from epigrid.accounts.audit import Actor
from epigrid.people.services import create_private_link
from epigrid.tasks.models import Task

pytestmark = pytest.mark.django_db

GRID = "320583001001001"


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_it_shows_the_health_code_colour_once_on_the_persons_own_page(world, make_person, system):
    person = make_person(GRID, name="李玉新")
    token = create_private_link(actor=system, person=person, language="zh-hans")
    page = Client().get(f"/me/{token}/").content.decode()
    assert page.count("绿码") == 1, _text(page)
    assert "健康码: 绿码" not in _text(page) and "健康码：绿码" not in _text(page)


def _tip_task(system, now):
    from epigrid.declarations import services
    from epigrid.declarations.services import TipInput

    services.submit_tip(
        actor=Actor(user=None, via="public", ip="203.0.113.5"),
        data=TipInput(
            division_code=GRID,
            address="亭林路8号",
            observed="三天前回来，没见报备",
            arrived_on=timezone.localdate(now) - timedelta(days=3),
        ),
    )
    return Task.objects.get(source_type="verification")


def test_it_heads_a_tasks_page_with_the_task_and_not_the_word_twice(
    world, persona, client_for, system, clock
):
    task = _tip_task(system, clock.now)
    client = client_for(persona("grid_worker", prefixes=[GRID]))
    page = client.get(f"/tasks/{task.pk}/").content.decode()
    heading = re.search(r"<h1>(.*?)</h1>", page, re.S).group(1).strip()
    assert heading == task.title_zh
    assert "任务 任务" not in _text(page)


def test_it_says_what_a_check_needs_and_leads_to_its_page(world, persona, client_for, system, clock):
    task = _tip_task(system, clock.now)
    client = client_for(persona("grid_worker", prefixes=[GRID]))
    page = client.get("/tasks/").content.decode()
    card = page[page.index(f'id="task-{task.pk}"') :]
    card = card[: card.index("</article>")]
    assert "在相关业务页面办理" not in card
    assert "上门核实" in card  # what to do
    assert f'href="/declarations/verify/{task.source_id}/"' in card and "登记核查结果" in card


def test_it_names_each_language_in_its_own_language(client, world):
    for language in ("zh-hans", "en"):
        page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
        switcher = re.search(r'<select id="language-select".*?</select>', page, re.S).group(0)
        assert re.findall(r">([^<]+)</option>", switcher) == ["简体中文", "English"], language
        assert "英语" not in switcher


def test_it_refers_to_the_areas_listed_below_before_the_list(client, world):
    page = client.get("/regions/risk-areas/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "上述地区" not in page and "下列地区" in page
    english = client.get("/regions/risk-areas/?lang=en").content.decode()
    assert "one of the areas listed below" in english


def test_every_page_has_a_favicon(client, world):
    page = client.get("/accounts/login/").content.decode()
    href = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page).group(1)
    from django.contrib.staticfiles import finders

    path = finders.find(href.removeprefix("/static/"))
    assert path
    with open(path, encoding="utf-8") as svg:
        assert svg.read().lstrip().startswith("<svg")


def test_the_demo_sampling_points_lie_in_their_own_towns(world, clock):
    from epigrid.demo.services import demo_users, simulate
    from epigrid.regions.models import Division
    from epigrid.testing.demo import seed_demo
    from epigrid.testing.models import PointKind, SamplingPoint

    actor = Actor.system("test")
    simulate(actor=actor, persons=400, seed=3, duplicates=False)
    demo_users(actor=actor)
    seed_demo(actor=actor, seed=1, at=clock.now)
    towns = dict(Division.objects.filter(level=4, code__startswith="320583").values_list("code", "name_zh"))
    points = SamplingPoint.objects.exclude(kind=PointKind.MOBILE)
    assert points.exists()
    for point in points:
        town = towns[point.division_code[:9]]
        assert town in point.address, (point.name, point.address)
        assert not any(other in point.address for other in towns.values() if other != town), point.address
