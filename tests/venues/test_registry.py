"""The venue registry's pages (R5.1, JX57-3.8): the owner registers, the community or town of
the venue approves (which issues code serial 1), nobody outside the venue's area sees it."""

import pytest

from epigrid.venues.models import Venue, VenueStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def unit(grid_cells):
    from epigrid.units.models import Unit

    return Unit.objects.create(
        kind="enterprise", name="昆山精密机械有限公司", division_code=grid_cells[0].code
    )


@pytest.fixture
def manager(persona, unit):
    """A unit manager who reaches places only through their unit."""
    return persona("unit_manager", prefixes=[], units=[unit])


def _other_community_cell(grid_cells):
    home = grid_cells[0].code[:12]
    return next(c for c in grid_cells if c.code[:12] != home)


def test_it_lets_a_unit_manager_register_a_venue_from_choices(client_for, manager, unit, grid_cells):
    client = client_for(manager)
    form = client.get("/venues/new/")
    assert form.status_code == 200
    page = form.content.decode()
    # the division is chosen among the unit's community and its cells, not typed
    assert f'value="{grid_cells[0].code}"' in page
    assert f'value="{_other_community_cell(grid_cells).code}"' not in page
    assert "商场" in page  # the type by its label
    response = client.post(
        "/venues/new/",
        {
            "name": "厂区食堂",
            "type": "restaurant",
            "division_code": grid_cells[0].code,
            "address": "前进中路1号",
            "capacity": "200",
            "flow_limit": "120",
            "requires_reservation": "",
            "slot_minutes": "60",
            "owner_unit_id": str(unit.pk),
        },
    )
    venue = Venue.objects.get(name="厂区食堂")
    assert response.status_code == 302 and response["Location"] == f"/venues/{venue.pk}/"
    assert venue.status == VenueStatus.PENDING and venue.owner_unit_id == unit.pk and venue.code_serial == 0
    listing = client.get("/venues/").content.decode()
    assert "厂区食堂" in listing and "餐饮场所" in listing  # the type by its label, not its code
    assert ">pending<" not in listing
    detail = client.get(f"/venues/{venue.pk}/").content.decode()
    assert "120" in detail and "restaurant" not in detail


def test_it_refuses_a_division_outside_the_managers_reach(client_for, manager, unit, grid_cells):
    response = client_for(manager).post(
        "/venues/new/",
        {
            "name": "别处商店",
            "type": "supermarket",
            "division_code": _other_community_cell(grid_cells).code,
            "slot_minutes": "60",
            "owner_unit_id": str(unit.pk),
        },
    )
    assert response.status_code == 200
    assert not Venue.objects.filter(name="别处商店").exists()


def test_it_lets_only_the_venues_own_area_approve(make_venue, persona, client_for, grid_cells):
    venue = make_venue(approve=False)
    stranger = persona("grid_worker", prefixes=[_other_community_cell(grid_cells).code[:12]])
    assert client_for(stranger).get(f"/venues/{venue.pk}/").status_code == 404
    assert client_for(stranger).post(f"/venues/{venue.pk}/decide", {"decision": "approve"}).status_code == 404
    venue.refresh_from_db()
    assert venue.status == VenueStatus.PENDING and venue.code_serial == 0

    worker = persona("grid_worker", prefixes=[grid_cells[0].code])
    client = client_for(worker)
    assert f"/venues/{venue.pk}/decide" in client.get(f"/venues/{venue.pk}/").content.decode()
    assert client.post(f"/venues/{venue.pk}/decide", {"decision": "approve"}).status_code == 302
    venue.refresh_from_db()
    assert venue.status == VenueStatus.APPROVED and venue.code_serial == 1 and venue.decided_by == worker
    detail = client.get(f"/venues/{venue.pk}/").content.decode()
    assert f"/venues/{venue.pk}/poster.pdf" in detail


def test_it_returns_a_venue_with_its_reason(make_venue, persona, client_for, grid_cells):
    venue = make_venue(approve=False)
    client = client_for(persona("grid_worker", prefixes=[grid_cells[0].code]))
    client.post(f"/venues/{venue.pk}/decide", {"decision": "return", "reason": ""})
    venue.refresh_from_db()
    assert venue.status == VenueStatus.PENDING  # a return needs its reason
    client.post(f"/venues/{venue.pk}/decide", {"decision": "return", "reason": "地址不详"})
    venue.refresh_from_db()
    assert venue.status == VenueStatus.RETURNED and venue.status_reason == "地址不详"
    assert "地址不详" in client.get(f"/venues/{venue.pk}/").content.decode()


def test_it_adds_only_venue_staff_accounts(make_venue, persona, client_for, grid_cells, door_staff):
    venue = make_venue()
    client = client_for(persona("grid_worker", prefixes=[grid_cells[0].code]))
    other = persona("cdc")
    client.post(f"/venues/{venue.pk}/staff", {"username": other.username})
    assert not venue.staff.filter(user=other).exists()
    client.post(f"/venues/{venue.pk}/staff", {"username": door_staff.username})
    assert venue.staff.filter(user=door_staff).exists()
    assert door_staff.username in client.get(f"/venues/{venue.pk}/").content.decode()


def test_it_issues_a_new_code_that_stops_the_old_poster(make_venue, persona, client_for, grid_cells):
    from epigrid.venues.services.codes import VenueCodeError, code_text, venue_of_code

    venue = make_venue()
    old = code_text(venue)
    client = client_for(persona("grid_worker", prefixes=[grid_cells[0].code]))
    assert client.post(f"/venues/{venue.pk}/reissue").status_code == 302
    venue.refresh_from_db()
    assert venue.code_serial == 2
    with pytest.raises(VenueCodeError):
        venue_of_code(old)
    # the public page refuses the old poster with a page, not an error
    refused = client.get(f"/venues/c/{old}/")
    assert refused.status_code == 404 and "venue-code" not in refused.content.decode()
    assert client.get(f"/venues/c/{code_text(venue)}/").status_code == 200


def test_it_lists_venues_newest_first_filtered_by_status_and_type(
    clock, make_venue, persona, client_for, grid_cells
):
    older = make_venue(name="老超市", type="supermarket")
    clock.shift(minutes=5)
    newer = make_venue(name="新超市", type="supermarket")
    clock.shift(minutes=5)
    pending = make_venue(name="待批网吧", type="internet_cafe", approve=False)
    client = client_for(persona("grid_worker", prefixes=[grid_cells[0].code]))

    def names(**query):
        page = client.get("/venues/", query).content.decode()
        return [n for n in ("待批网吧", "新超市", "老超市") if n in page], page

    listed, page = names()
    assert page.index("待批网吧") < page.index("新超市") < page.index("老超市")
    assert names(status="pending")[0] == [pending.name]
    assert names(type="supermarket")[0] == [newer.name, older.name]
    assert names(status="approved", type="internet_cafe")[0] == []
