"""In Debian's chromium on a phone: an epidemiologist goes from the person page to the
co-location search, marks a candidate to investigate; a triage nurse pastes a health code and
reads the holder's last 14 days (R5.5, JX57-3.5)."""

from datetime import timedelta

import pytest

from epigrid.accounts.audit import Actor
from epigrid.healthcode.services import ensure_code, issue_token
from epigrid.venues.models import ContactCandidate, EntryMethod
from epigrid.venues.services import EntryInput, ingest_entries
from tests.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a long enough secret"


def _visit(venue, person, entered, minutes):
    ingest_entries(
        actor=Actor.system("public"),
        items=[
            EntryInput(
                venue_id=venue.pk,
                method=EntryMethod.VENUE_CODE,
                entered_at=entered,
                exited_at=entered + timedelta(minutes=minutes),
                person_id=person.pk,
            )
        ],
    )


def _sign_in(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


@pytest.fixture
def scene(make_venue, make_person, grid_cells):
    from django.utils import timezone

    from epigrid.healthcode import keys

    keys.invalidate_cache()
    market = make_venue(name="润华超市", type="supermarket")
    index = make_person(grid_cells[0].code, name="王建国")
    neighbour = make_person(grid_cells[1].code, name="李秀英")
    day = timezone.now() - timedelta(days=1)
    _visit(market, index, day, 40)
    _visit(market, neighbour, day + timedelta(minutes=10), 40)
    return index, neighbour


def test_it_marks_a_candidate_and_shows_a_trajectory_at_triage(scene, persona, live_server, page):
    index, neighbour = scene
    persona("cdc", password=PASSWORD, username="epi")
    _sign_in(page, live_server.url, "epi")
    page.goto(f"{live_server.url}/people/{index.pk}/")
    page.click("#colocation-link")
    page.click("#colocation-form button[type=submit]")
    page.wait_for_selector("#colocation-results")
    assert "李秀英" in page.inner_text("#colocation-results")
    page.check("#colocation-results input[type=checkbox]")
    page.click("#colocation-mark-submit")
    page.wait_for_selector("#colocation-marked")
    screenshot(page, "venues-colocation-marked")
    assert ContactCandidate.objects.filter(index_person=index, person=neighbour).exists()

    page.context.clear_cookies()
    persona("medical", password=PASSWORD, username="nurse")
    _sign_in(page, live_server.url, "nurse")
    page.goto(f"{live_server.url}/venues/trace/triage/")
    page.fill("#triage-token", issue_token(ensure_code(index)).token)
    page.click("#triage-form button[type=submit]")
    page.wait_for_selector("#triage-holder")
    text = page.inner_text("main")
    assert "王*国" in text and "润华超市" in text and "王建国" not in text
    screenshot(page, "venues-triage")
