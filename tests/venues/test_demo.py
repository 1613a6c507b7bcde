"""The demo's venues and week of entries (issue 12.10): many types, deterministic, seeded once,
and the demo's index people have co-location candidates."""

from datetime import timedelta

import pytest

from epigrid.demo.services import simulate
from epigrid.venues import demo
from epigrid.venues.models import Entry, Venue, VenueStatus
from epigrid.venues.services.trace import find_colocated

pytestmark = pytest.mark.django_db


def test_it_seeds_venues_and_a_week_of_entries_once(clock, system, grid_cells):
    simulate(actor=system, persons=300, seed=3, duplicates=False)
    counts = demo.seed_demo(actor=system, seed=1, at=clock.now)
    names = sum(len(n) for _t, n in demo.PLACES)
    assert counts["venues"] == names
    venues = demo.demo_venues()
    assert len(venues) == names and all(v.status == VenueStatus.APPROVED and v.code_serial for v in venues)
    assert len({v.type_id for v in venues}) >= 20
    assert counts["entries"] > 2000
    assert Entry.objects.count() == counts["entries"]
    first, last = Entry.objects.order_by("entered_at").first(), Entry.objects.order_by("entered_at").last()
    assert first.entered_at >= clock.now - timedelta(days=8) and last.entered_at < clock.now
    # the index people were seen beside others
    for person_id in counts["index_person_ids"]:
        found = find_colocated(person_id, clock.now - timedelta(days=8), clock.now, now=clock.now)
        assert len(found.index_visits) >= 10 and len(found.candidates) >= 10
    again = demo.seed_demo(actor=system, seed=1, at=clock.now + timedelta(minutes=5))
    assert (again["venues"], again["entries"]) == (0, 0)
    assert Venue.objects.count() == names
