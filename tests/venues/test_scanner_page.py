"""Who opens a venue's door scanner: its staff (and staff who may record there); anyone else
is told there is no such venue, and a venue not yet approved has no scanner."""

import pytest

pytestmark = pytest.mark.django_db


def test_only_the_venues_staff_open_its_scanner(client_for, persona, make_venue):
    staff = persona("checkpoint", prefixes=[])
    other = persona("checkpoint", prefixes=[])
    venue = make_venue(staff=[staff])
    url = f"/venues/{venue.pk}/scan/"

    page = client_for(staff).get(url)

    assert page.status_code == 200
    assert venue.name in page.content.decode()
    assert client_for(other).get(url).status_code == 404
    pending = make_venue(name="待审批", staff=[staff], approve=False)
    assert client_for(staff).get(f"/venues/{pending.pk}/scan/").status_code == 404


def test_the_scanner_asks_visitors_to_sign_in(client, make_venue, door_staff):
    venue = make_venue(staff=[door_staff])
    response = client.get(f"/venues/{venue.pk}/scan/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
