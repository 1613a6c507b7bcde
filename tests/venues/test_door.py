"""The public scan page (扫场所码亮码, R5.1): a person scans the venue code, is known by their
private link, confirms, and shows their own code with the venue's name; a refused code gets a
plain page, a full venue says so and registers nobody (R5.4)."""

from datetime import timedelta

import pytest
from django.test import Client

from epigrid.accounts.audit import Actor
from epigrid.people.services import create_private_link
from epigrid.venues.models import Entry, EntryMethod
from epigrid.venues.services import EntryInput, ingest_entries
from epigrid.venues.services.codes import code_text
from epigrid.venues.web.door import link_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def visitor(make_person, grid_cells, system):
    person = make_person(grid_cells[1].code, name="李建新")
    return person, create_private_link(actor=system, person=person)


def _identified(venue, token) -> tuple[Client, str]:
    client = Client()
    url = f"/venues/c/{code_text(venue)}/"
    response = client.post(url, {"action": "identify", "link": f"https://epigrid.example/me/{token}/"})
    assert response.status_code == 302
    return client, url


@pytest.mark.parametrize(
    "text, token",
    [
        ("https://x.example/me/abcdefghijkl/", "abcdefghijkl"),
        ("  /healthcode/me/abc_def-ghijkl  ", "abc_def-ghijkl"),
        ("abcdefghijkl", "abcdefghijkl"),
        ("javascript:alert(1)", ""),
        ("", ""),
    ],
)
def test_link_token_reads_a_pasted_link(text, token):
    assert link_token(text) == token


def test_it_records_a_venue_code_entry_and_shows_the_persons_code(clock, make_venue, visitor):
    person, token = visitor
    venue = make_venue(name="万达广场")
    client = Client()
    url = f"/venues/c/{code_text(venue)}/"
    first = client.get(url).content.decode()
    assert "万达广场" in first and 'name="link"' in first
    assert (
        client.post(url, {"action": "identify", "link": "https://x/me/not-a-real-link/"}).status_code == 302
    )
    assert 'name="link"' in client.get(url).content.decode()  # still unknown
    client, url = _identified(venue, token)
    confirm = client.get(url).content.decode()
    assert "李*新" in confirm and "李建新" not in confirm and 'value="enter"' in confirm
    done = client.post(url, {"action": "enter"})
    assert done.status_code == 302 and "/shown/" in done["Location"]
    entry = Entry.objects.get(venue=venue)
    assert (entry.person_id, entry.method, entry.recorded_by_id) == (person.pk, EntryMethod.VENUE_CODE, None)
    shown = client.get(done["Location"])
    page = shown.content.decode()
    assert shown.status_code == 200
    assert "万达广场" in page and "李*新" in page and 'id="door-clock"' in page
    assert entry.colour_seen in ("green", "yellow", "red")  # the colour the code showed at the door
    assert 'id="code-card"' in page and f"hc-{entry.colour_seen}" in page
    # another browser cannot open this person's shown page
    assert Client().get(done["Location"]).status_code == 404


def test_it_refuses_a_bad_code_with_a_page(make_venue):
    venue = make_venue()
    text = code_text(venue)
    bad = text[:-3] + ("AAA" if not text.endswith("AAA") else "BBB")
    for code in (bad, "VNC1xyz", "nonsense"):
        response = Client().get(f"/venues/c/{code}/")
        assert response.status_code == 404
        assert "door-refused" in response.content.decode()
        assert Client().post(f"/venues/c/{code}/", {"action": "enter"}).status_code == 404
    assert not Entry.objects.exists()


def test_it_shows_full_and_registers_nobody_at_the_flow_limit(
    clock, make_venue, visitor, make_person, grid_cells
):
    person, token = visitor
    venue = make_venue(flow_limit=1)
    inside = make_person(grid_cells[2].code, name="王芳")
    from epigrid.accounts.audit import Actor

    ingest_entries(
        actor=Actor.system("public"),
        items=[
            EntryInput(
                venue_id=venue.pk,
                method=EntryMethod.VENUE_CODE,
                entered_at=clock.now - timedelta(minutes=10),
                person_id=inside.pk,
            )
        ],
    )
    client, url = _identified(venue, token)
    page = client.get(url).content.decode()
    assert 'data-state="full"' in page and 'value="enter"' not in page
    answer = client.post(url, {"action": "enter"})
    assert 'data-state="full"' in answer.content.decode()
    assert Entry.objects.filter(venue=venue).count() == 1
    # once the visit's dwell time has passed, there is room again
    clock.shift(minutes=venue.type.dwell_minutes)
    assert client.post(url, {"action": "enter"}).status_code == 302
    assert Entry.objects.filter(venue=venue, person=person).count() == 1


def test_it_asks_a_reservation_venue_for_a_booking_first(clock, make_venue, visitor):
    from epigrid.venues.models import Reservation

    person, token = visitor
    venue = make_venue(name="市图书馆", requires_reservation=True, slot_minutes=60, slot_capacity=1)
    client, url = _identified(venue, token)
    page = client.get(url).content.decode()
    assert 'data-state="book"' in page and 'value="enter"' not in page
    assert client.post(url, {"action": "enter"}).status_code == 302
    assert not Entry.objects.exists()
    import re

    slot = re.search(r'name="slot" value="([^"]+)"', page).group(1)
    client.post(url, {"action": "book", "slot": slot})
    booking = Reservation.objects.get(venue=venue, person=person)
    assert booking.status == Reservation.Status.BOOKED
    page = client.get(url).content.decode()
    assert 'value="enter"' in page
    assert "/shown/" in client.post(url, {"action": "enter"})["Location"]
    assert Entry.objects.filter(venue=venue, person=person).count() == 1


def test_it_forgets_the_link_on_request(make_venue, visitor):
    _person, token = visitor
    venue = make_venue()
    client, url = _identified(venue, token)
    client.post(url, {"action": "forget"})
    assert 'name="link"' in client.get(url).content.decode()


def test_it_rate_limits_the_scan_page(make_venue, ratelimit_clock):
    from django.core.cache import cache

    venue = make_venue()
    cache.clear()  # the counts of earlier tests' requests in this window
    url = f"/venues/c/{code_text(venue)}/"
    client = Client()
    try:
        statuses = [client.get(url).status_code for _ in range(61)]
    finally:
        cache.clear()  # later tests' requests start a fresh count
    assert statuses[:60] == [200] * 60 and statuses[60] == 429


def test_it_shows_a_red_code_what_to_do_and_records_a_refused_entry(clock, make_venue, visitor):
    """JS79-5: a red code does not enter; the page says so in the pack's words."""
    from epigrid.rules import registry
    from epigrid.rules.facts import ContactStatus
    from epigrid.rules.services import reassess

    person, token = visitor
    now = clock.now
    registry.register_facts_source(
        "test-door",
        lambda persons, at: {
            str(p.pk): {"contact": ContactStatus(kind="close", last_exposure=now, identified_at=now)}
            for p in persons
            if p.pk == person.pk
        },
    )
    try:
        reassess(person, actor=Actor.system("test"), at=now, cause="test")
    finally:
        registry._FACTS_SOURCES.pop("test-door", None)
    venue = make_venue(name="万达广场")
    client, url = _identified(venue, token)
    shown = client.get(client.post(url, {"action": "enter"})["Location"]).content.decode()
    entry = Entry.objects.get(venue=venue)
    assert (entry.colour_seen, entry.admitted) == ("red", False)
    assert "door-red" in shown and "禁止进入" in shown and "door-refuse" in shown


def test_it_knows_a_phone_that_opened_its_status_link(make_venue, visitor):
    _person, token = visitor
    venue = make_venue()
    client = Client()
    assert client.get(f"/me/{token}/").status_code == 200
    page = client.get(f"/venues/c/{code_text(venue)}/").content.decode()
    assert 'data-state="confirm"' in page and 'name="link"' not in page
