"""Capacity (R5.4, XC-2.2): live occupancy is entries minus exits or dwell, the flow limit
gives "full", and reservation slots hold at most their capacity."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from epigrid.accounts.audit import Actor
from epigrid.lib.errors import DomainError
from epigrid.venues.models import EntryMethod, Reservation
from epigrid.venues.services import EntryInput, ingest_entries, record_exit
from epigrid.venues.services.capacity import (
    book_slot,
    cancel_reservation,
    entries_today,
    is_full,
    occupancy,
    reservation_now,
    slot_start_of,
    upcoming_slots,
)


def _enter(system, venue, person, at, **extra):
    return ingest_entries(
        actor=system,
        items=[
            EntryInput(
                venue_id=venue.pk, method=EntryMethod.VENUE_CODE, entered_at=at, person_id=person.pk, **extra
            )
        ],
    ).entries[0]


@pytest.mark.django_db
def test_it_counts_who_is_inside_minus_exits_and_dwell(clock, system, make_venue, make_person, grid_cells):
    venue = make_venue(flow_limit=2)  # a shopping mall: 120 minutes' visit when no exit is logged
    a, b, c = (make_person(grid_cells[1].code) for _ in range(3))
    now = clock.now
    _enter(system, venue, a, now - timedelta(minutes=10))
    left = _enter(system, venue, b, now - timedelta(minutes=20))
    _enter(system, venue, c, now - timedelta(minutes=130))  # its dwell ended 10 minutes ago
    venue.refresh_from_db()
    assert occupancy(venue) == 2 and is_full(venue)
    record_exit(actor=Actor.system("cli"), entry_id=left.id, exited_at=now - timedelta(minutes=1))
    venue.refresh_from_db()
    assert occupancy(venue) == 1 and not is_full(venue)
    assert entries_today(venue) >= 2
    clock.shift(minutes=111)
    assert occupancy(venue) == 0


@pytest.mark.django_db
def test_it_does_not_count_a_refused_entry(clock, system, make_venue, make_person, grid_cells):
    venue = make_venue(flow_limit=1)
    person = make_person(grid_cells[1].code)
    stored = _enter(system, venue, person, clock.now - timedelta(minutes=1), temperature="38.6")
    if stored.admitted:
        pytest.skip("the venue pack admits a fever here")
    assert occupancy(venue) == 0 and not is_full(venue)


@pytest.mark.django_db
def test_it_holds_a_slot_to_its_capacity(clock, system, make_venue, make_person, grid_cells):
    venue = make_venue(requires_reservation=True, slot_minutes=30, slot_capacity=2)
    first, second, third = (make_person(grid_cells[1].code) for _ in range(3))
    slot = upcoming_slots(venue)[1]
    assert slot.booked == 0 and slot.free == 2
    book_slot(actor=system, venue=venue, person=first, slot_start=slot.start)
    with pytest.raises(DomainError) as twice:
        book_slot(actor=system, venue=venue, person=first, slot_start=slot.start)
    assert twice.value.code == "slot_booked"
    kept = book_slot(actor=system, venue=venue, person=second, slot_start=slot.start)
    with pytest.raises(DomainError) as full:
        book_slot(actor=system, venue=venue, person=third, slot_start=slot.start)
    assert full.value.code == "slot_full"
    assert upcoming_slots(venue)[1].free == 0
    cancel_reservation(actor=system, reservation=kept, person=second)
    book_slot(actor=system, venue=venue, person=third, slot_start=slot.start)
    assert Reservation.objects.filter(venue=venue, status="booked").count() == 2
    # a booking lets its holder in from a little before the slot to its end
    clock.shift(slot.start - clock.now)
    assert reservation_now(venue, third) is not None and reservation_now(venue, second) is None


@pytest.mark.django_db
def test_it_refuses_slots_off_the_grid_in_the_past_or_without_reservation(
    clock, system, make_venue, make_person, grid_cells
):
    venue = make_venue(requires_reservation=True, slot_minutes=60)
    person = make_person(grid_cells[1].code)
    start = upcoming_slots(venue)[1].start
    for wrong in (start + timedelta(minutes=7), start - timedelta(days=2), start + timedelta(days=30)):
        with pytest.raises(DomainError) as refused:
            book_slot(actor=system, venue=venue, person=person, slot_start=wrong)
        assert refused.value.code == "slot_invalid"
    walk_in = make_venue(name="超市", type="supermarket")
    with pytest.raises(DomainError) as refused:
        book_slot(actor=system, venue=walk_in, person=person, slot_start=start)
    assert refused.value.code == "reservation_not_needed"


@given(
    at=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)),
    minutes=st.sampled_from([5, 15, 20, 30, 45, 60, 90, 120, 1440]),
)
def test_a_slot_holds_its_moment_and_starts_on_the_days_grid(at, minutes):
    """Slots run from midnight China time, `slot_minutes` long (R5.4)."""
    from django.utils import timezone

    start = slot_start_of(SimpleNamespace(slot_minutes=minutes), at)
    assert start <= at < start + timedelta(minutes=minutes)
    local = timezone.localtime(start)
    assert (local.hour * 60 + local.minute) % minutes == 0 and local.second == 0 and local.microsecond == 0
