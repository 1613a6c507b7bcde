"""The declaration form reports all its errors at once (issue 10 item 17, R2.1): the service's
checks collect every field in error, the public and staff pages show them together next to
their fields, and the API answers `{code, message, field}` of the first with every one in
`errors`."""

from datetime import timedelta

import pytest

from epigrid.accounts.audit import Actor
from epigrid.declarations import services
from epigrid.declarations.models import Declaration
from epigrid.declarations.validation import DeclarationError, validate

from .conftest import GRID, WUCHANG, arrival, identity, stop
from .test_pages import _form

pytestmark = pytest.mark.django_db


def test_it_collects_every_field_in_error_of_an_arrival(world, clock):
    today = clock.today
    data = arrival(
        transport="car",
        transport_number="",
        temperature="51",
        declared_stay_days=400,
        stops=[stop(WUCHANG, today + timedelta(days=3))],
    )
    data.origin = "ZZ"
    with pytest.raises(DeclarationError) as error:
        validate(data, now=clock.now)
    fields = {e.field for e in error.value.errors}
    assert {"origin", "transport_number", "temperature", "declared_stay_days", "stops.0.end"} <= fields
    assert error.value.code == error.value.errors[0].code


def test_it_collects_the_identity_errors_with_the_declaration_errors(world, id_numbers):
    data = arrival(temperature="51")
    data.division_code = "320583"  # a county, not a community or grid cell
    person = identity(id_numbers()[:-1] + "0", name="", phone="12")
    with pytest.raises(DeclarationError) as error:
        services.declare_public(actor=Actor(user=None, via="public"), person_data=person, data=data)
    fields = {e.field for e in error.value.errors}
    assert {"id_number", "name", "phone", "division_code", "temperature"} <= fields
    assert not Declaration.objects.exists()


def test_it_shows_every_error_of_the_public_form_together(client, world, id_numbers, clock):
    bad = _form(
        clock.now,
        id_numbers()[:-1] + "0",  # a wrong check digit: found by the service
        phone="12",
        temperature="51",
        transport="car",
        transport_number="",
        address="",  # required: found by the form
    )
    page = client.post("/declarations/public/declare/", bad, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "This field is required." in page  # the address, from the form
    assert "A body temperature is between 34 and 43 °C." in page
    assert "Give the car&#x27;s plate." in page
    assert "check digit" in page or "resident ID number" in page
    assert "mobile" in page.lower() or "phone" in page.lower()
    assert not Declaration.objects.exists()


def test_it_numbers_the_stops_in_error(client, world, id_numbers, clock):
    later = str(clock.today + timedelta(days=3))
    bad = _form(clock.now, id_numbers(), temperature="51", stop_end=[later, ""])
    page = client.post("/declarations/public/declare/", bad, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Place 1: A stay before arrival cannot end after it." in page
    assert "A body temperature is between 34 and 43 °C." in page


def test_it_answers_the_api_with_every_error(client_for, persona, world, id_numbers, clock):
    client = client_for(persona("grid_worker", prefixes=[GRID]))
    payload = {
        "person": {"doc_type": "resident_id", "id_number": id_numbers(), "name": "王芳"},
        "division_code": GRID,
        "arrived_at": (clock.now - timedelta(hours=2)).isoformat(),
        "origin": "420100",
        "transport": "car",
        "temperature": 33.0,
        "stops": [{"area": "420106", "start": str(clock.today + timedelta(days=2))}],
    }
    response = client.post("/api/v1/declarations", payload, content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"code", "message", "field", "errors"}, body
    assert body["field"] == body["errors"][0]["field"]
    fields = {e["field"] for e in body["errors"]}
    assert {"transport_number", "temperature", "stops.0.end"} <= fields
    # each problem in the shape of a 422's problems
    assert all(set(e) == {"code", "message", "field", "row", "column"} for e in body["errors"])


def test_it_answers_one_error_in_the_usual_shape(client_for, persona, world, id_numbers, clock):
    client = client_for(persona("grid_worker", prefixes=[GRID]))
    payload = {
        "person": {"doc_type": "resident_id", "id_number": id_numbers(), "name": "王芳"},
        "division_code": GRID,
        "arrived_at": (clock.now - timedelta(hours=2)).isoformat(),
        "origin": "420100",
        "transport": "car",
    }
    body = client.post("/api/v1/declarations", payload, content_type="application/json").json()
    assert set(body) == {"code", "message", "field"} and body["field"] == "transport_number"
