"""demo_links: one green, one yellow and one red person's code page, and the scanner."""

import pytest

from epigrid.healthcode import demo
from epigrid.healthcode.models import HealthCode

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_facts():
    yield
    from epigrid.rules import registry

    registry._FACTS_SOURCES.pop(demo.DEMO_SOURCE, None)
    demo._SCENARIOS.clear()


def test_it_links_a_code_page_of_each_colour_and_the_scanner(client, make_person, demo_facts):
    for i in range(3):
        make_person("320583001001001", name=f"演示{i}")

    links = demo.demo_links("http://127.0.0.1:8000/")

    assert set(links) == {"green", "yellow", "red", "scanner"}
    assert links["scanner"] == "http://127.0.0.1:8000/healthcode/scan/"
    for colour in ("green", "yellow", "red"):
        assert links[colour].startswith("http://127.0.0.1:8000/healthcode/me/")
        page = client.get(links[colour].removeprefix("http://127.0.0.1:8000"))
        assert page.status_code == 200
        assert f'data-colour="{colour}"' in page.content.decode()
    yellow = HealthCode.objects.get(colour="yellow")
    assert [r["rule"] for r in yellow.reasons] == ["colour/fever-or-respiratory-symptoms"]


def test_a_second_run_reuses_the_people_who_have_each_colour(make_person, demo_facts):
    for i in range(3):
        make_person("320583001001001", name=f"演示{i}")
    demo.demo_links("http://x")
    before = dict(HealthCode.objects.values_list("colour", "person_id"))

    demo.demo_links("http://x")

    assert dict(HealthCode.objects.values_list("colour", "person_id")) == before
