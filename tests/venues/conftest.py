"""Venues in the test city: approved, with a staff account, made through the services."""

import pytest

from epigrid.venues.services.venues import VenueInput, add_staff, decide_venue, register_venue


@pytest.fixture
def venue_types(db):
    """The venue types come from a data migration, which a transactional test's flush empties
    (the browser tests'): put them back as the migration made them."""
    import importlib

    from epigrid.venues.models import VenueType

    if VenueType.objects.exists():
        return
    types = importlib.import_module("epigrid.venues.migrations.0002_venue_types").TYPES
    for order, (code, zh, en, minutes, reservation, enclosed) in enumerate(types):
        VenueType.objects.create(
            code=code,
            name_zh=zh,
            name_en=en,
            dwell_minutes=minutes,
            reservation_default=reservation,
            enclosed=enclosed,
            order=order,
        )


@pytest.fixture
def make_venue(world, system, grid_cells, venue_types):
    def make(name="万达广场", type="shopping_mall", division_code=None, staff=(), approve=True, **extra):
        venue = register_venue(
            actor=system,
            data=VenueInput(name=name, type=type, division_code=division_code or grid_cells[0].code, **extra),
        )
        if approve:
            decide_venue(actor=system, venue=venue, approve=True)
        for user in staff:
            add_staff(actor=system, venue=venue, user=user)
        venue.refresh_from_db()
        return venue

    return make


@pytest.fixture
def door_staff(persona):
    """Venue staff: the checkpoint / venue role with no scope of their own."""
    return persona("checkpoint", prefixes=[])
