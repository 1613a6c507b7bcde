"""The province command publishes a risk-area change in the browser: the preview's progress is
polled with htmx until the counts show, then publishing reassesses the people concerned."""

from datetime import timedelta

import pytest
from django.core.management import call_command

from epigrid.accounts.audit import Actor
from epigrid.regions.services import risk
from epigrid.rules.models import BulkRun, PersonRuleState
from epigrid.rules.registry import register_facts_source, unregister_facts_source
from epigrid.rules.services.population import Population
from epigrid.rules.services.sweeping import sweep
from tests.conftest import screenshot

from .conftest import FactsBook

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_previews_and_publishes_a_change_in_the_browser(
    live_server, page, world, persona, make_person, clock
):
    book = FactsBook()
    register_facts_source("test_book", book.source, touching=book.touching)
    try:
        system = Actor.system("test")
        now = clock.now
        cells = ["320583001001001", "320583001001002", "320583102001001"]
        people = [
            book.arrival(make_person(code, name=f"到达{i}"), at=now - timedelta(days=2), origin="110106")
            for i, code in enumerate(cells)
        ]
        sweep(Population(), at=now - timedelta(minutes=1), write=True, actor=system)
        risk.create_draft(
            actor=system,
            data=risk.RiskAreaInput(
                area="110106",
                level="high",
                starts_on=(now - timedelta(days=10)).date(),
                ends_on=None,
                notice="北京市通告",
            ),
            jurisdiction="32",
        )
        persona("province_command", username="cdc-browser", password="a long enough secret")

        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(f"{live_server.url}/accounts/login/?next=/regions/risk-areas/manage/")
        page.fill("#id_username", "cdc-browser")
        page.fill("#id_password", "a long enough secret")
        page.click("button[type=submit]")
        page.wait_for_url("**/regions/risk-areas/manage/")
        with page.expect_navigation():
            page.click("form[action='/rules/risk-change/preview'] button[type=submit]:not(.link)")
        assert "/rules/runs/" in page.url
        page.locator("#run-progress[hx-trigger]").wait_for()  # queued: the page polls

        call_command("db_worker", batch=True, interval=0, startup_delay=False, reload=False, verbosity=0)
        publish = page.locator("form[action$='/publish'] button")
        publish.wait_for(timeout=10_000)  # the next poll brings the counts and the button
        assert page.locator("#run-progress[hx-trigger]").count() == 0
        assert page.locator("[role=progressbar]").get_attribute("aria-valuenow") == "100"
        screenshot(page, "risk-change-preview")

        with page.expect_navigation():
            publish.click()
        call_command("db_worker", batch=True, interval=0, startup_delay=False, reload=False, verbosity=0)
        page.locator("#run-progress:not([hx-trigger]) .stat").first.wait_for(timeout=10_000)
        screenshot(page, "risk-change-published")
        run = BulkRun.objects.get(kind="publish")
        assert run.status == "done" and run.counts[""]["to_red"] == 3
        assert {PersonRuleState.objects.get(person=p).colour for p in people} == {"red"}
    finally:
        unregister_facts_source("test_book")
