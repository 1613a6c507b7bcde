"""Venues in the test city: approved, with a staff account, made through the services."""

import pytest

from epigrid.venues.services.venues import VenueInput, add_staff, decide_venue, register_venue


@pytest.fixture
def venue_types(db):
    """The venue types a data migration loads, loaded again after a transactional test (a
    browser test) flushed them, as `world` does for the divisions."""
    from epigrid.venues.types import ensure_types

    ensure_types()


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
