"""What a what-if says (issue 10.16, R3.1): the people whose measures or colour change apart
from the first assessments of people never assessed before, on the run page, in the API and in
the list of runs; and a published change reads as published, not as waiting."""

from datetime import timedelta

import pytest

from epigrid.regions.services import risk
from epigrid.rules.models import BulkRun
from epigrid.rules.services.population import Population
from epigrid.rules.services.sweeping import sweep

from .conftest import run_worker


@pytest.fixture
def change(book, make_person, grid_cells, system, clock):
    """Three Wuhan arrivals assessed before; five residents never assessed; a draft listing
    Wuhan as a key area on the province's list."""
    now = clock.now
    for i in range(3):
        person = make_person(grid_cells[i].code, name=f"到达{i}")
        book.arrival(person, at=now - timedelta(days=3, hours=i), origin="420102")
    sweep(Population(), at=now - timedelta(minutes=5), write=True, actor=system)
    for i in range(5):
        make_person(grid_cells[i].code, name=f"新登记{i}")
    return risk.create_draft(
        actor=system,
        data=risk.RiskAreaInput(
            area="420100",
            level="key",
            starts_on=clock.today - timedelta(days=20),
            ends_on=None,
            notice="n",
        ),
        jurisdiction="32",
    )


def test_it_counts_first_assessments_apart_from_real_changes(change, persona, client_for):
    client = client_for(persona("province_command"))
    started = client.post("/rules/risk-change/preview", {"publish": [str(change.pk)]})
    run = BulkRun.objects.get(kind="preview")
    run_worker()
    total = BulkRun.objects.get(pk=run.pk).counts[""]
    assert (total["people"], total["first"], total["affected"], total["to_red"]) == (8, 5, 3, 3)
    page = client.get(started["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "3 people's measures or colour change · 5 first assessments" in page
    assert "8 people change" not in page
    assert "of 8 decisions updated" in page
    zh = client.get(started["Location"], HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "3 人措施或颜色有变化" in zh and "5 人首次研判" in zh
    api = client.get(f"/api/v1/rules/runs/{run.pk}").json()
    assert api["counts"][""]["affected"] == 3 and api["counts"][""]["first"] == 5
    index = client.get("/rules/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "+5 first assessments" in index


def test_it_shows_a_published_change_as_published(change, persona, client_for):
    client = client_for(persona("province_command"))
    started = client.post("/rules/risk-change/preview", {"publish": [str(change.pk)]})
    run_worker()
    preview = client.get(started["Location"], HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "待发布" in preview and "本次已发布" not in preview
    published = client.post(f"{started['Location']}publish")
    run_worker()
    for location in (published["Location"], started["Location"]):
        page = client.get(location, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
        assert "本次已发布" in page and "待发布" not in page
