"""In Debian's chromium, on a phone: a grid worker finds a pending venue in the list, approves
it on its page, and the page then offers the poster; occupancy and the full state are shown
(R5.1, R5.4)."""

from datetime import timedelta

import pytest

from epigrid.accounts.audit import Actor
from epigrid.venues.models import EntryMethod, VenueStatus
from epigrid.venues.services import EntryInput, ingest_entries
from tests.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a long enough secret"


def test_it_approves_a_venue_and_shows_it_full(
    live_server, page, persona, make_venue, make_person, grid_cells
):
    from django.utils import timezone

    persona("grid_worker", prefixes=[grid_cells[0].code], username="grid-1", password=PASSWORD)
    venue = make_venue(name="昆山影剧院", type="cinema", approve=False, flow_limit=1, address="人民路8号")
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "grid-1")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()

    page.goto(f"{live_server.url}/venues/")
    assert "昆山影剧院" in page.content() and "影剧院" in page.locator("table.list").inner_text()
    screenshot(page, "venue-registry-list")
    page.click("text=昆山影剧院")
    page.click("form:has(input[value=approve]) button[type=submit]")
    page.wait_for_selector("#venue-poster")
    venue.refresh_from_db()
    assert venue.status == VenueStatus.APPROVED and venue.code_serial == 1

    ingest_entries(
        actor=Actor.system("public"),
        items=[
            EntryInput(
                venue_id=venue.pk,
                method=EntryMethod.VENUE_CODE,
                entered_at=timezone.now() - timedelta(minutes=3),
                person_id=make_person(grid_cells[1].code).pk,
            )
        ],
    )
    page.reload()
    assert page.locator("#venue-occupancy").inner_text().replace(" ", "") == "1/1"
    assert page.locator(".venue-full").count() == 1
    screenshot(page, "venue-registry-detail")
    response = page.request.get(live_server.url + page.locator("#venue-poster").get_attribute("href"))
    assert response.status == 200 and response.body().startswith(b"%PDF")
