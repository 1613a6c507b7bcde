"""The venue registry's API (R5.1, R5.4): scoped lists, registration, the decision, a new code
and occupancy, each error as {code, message, field}."""

from datetime import timedelta

import pytest

from epigrid.accounts.audit import Actor
from epigrid.venues.models import EntryMethod, Venue
from epigrid.venues.services import EntryInput, ingest_entries
from epigrid.venues.services.codes import venue_of_code

pytestmark = pytest.mark.django_db


def _other_community(grid_cells):
    return next(c for c in grid_cells if c.code[:12] != grid_cells[0].code[:12]).code[:12]


def test_it_registers_decides_and_issues_codes_through_the_api(persona, client_for, grid_cells):
    owner = client_for(persona("unit_manager", prefixes=[grid_cells[0].code]))
    created = owner.post(
        "/api/v1/venues/",
        {"name": "昆山影剧院", "type": "cinema", "division_code": grid_cells[0].code, "flow_limit": 50},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["status"], body["code_serial"], body["type"]) == ("pending", 0, "cinema")
    assert body["type_label"] and body["type_label"] != "cinema" and body["division_name"]
    venue_id = body["id"]

    stranger = client_for(persona("grid_worker", prefixes=[_other_community(grid_cells)]))
    refused = stranger.post(
        f"/api/v1/venues/{venue_id}/decision", {"approve": True}, content_type="application/json"
    )
    assert refused.status_code == 404 and set(refused.json()) >= {"code", "message", "field"}
    assert stranger.get("/api/v1/venues/").json()["items"] == []

    approver = client_for(persona("grid_worker", prefixes=[grid_cells[0].code]))
    no_reason = approver.post(
        f"/api/v1/venues/{venue_id}/decision", {"approve": False}, content_type="application/json"
    )
    assert no_reason.status_code == 400 and no_reason.json()["field"] == "reason"
    approved = approver.post(
        f"/api/v1/venues/{venue_id}/decision", {"approve": True}, content_type="application/json"
    )
    assert approved.status_code == 200 and approved.json()["code_serial"] == 1
    again = approver.post(
        f"/api/v1/venues/{venue_id}/decision", {"approve": True}, content_type="application/json"
    )
    assert again.status_code == 409 and again.json()["code"] == "venue_approved"

    code = approver.post(f"/api/v1/venues/{venue_id}/code")
    assert code.status_code == 201
    issued = code.json()
    assert issued["serial"] == 2 and issued["url"].endswith(f"/venues/c/{issued['code']}/")
    assert str(venue_of_code(issued["code"]).pk) == venue_id

    listed = owner.get("/api/v1/venues/", {"status": "approved"}).json()["items"]
    assert [v["id"] for v in listed] == [venue_id]
    assert owner.get(f"/api/v1/venues/{venue_id}").json()["status_label"]


def test_it_tells_the_occupancy(clock, make_venue, make_person, persona, client_for, grid_cells):
    venue = make_venue(flow_limit=2)
    people = [make_person(grid_cells[1].code) for _ in range(2)]
    ingest_entries(
        actor=Actor.system("public"),
        items=[
            EntryInput(
                venue_id=venue.pk,
                method=EntryMethod.VENUE_CODE,
                entered_at=clock.now - timedelta(minutes=5),
                person_id=p.pk,
            )
            for p in people
        ],
    )
    client = client_for(persona("grid_worker", prefixes=[grid_cells[0].code]))
    answer = client.get(f"/api/v1/venues/{venue.pk}/occupancy").json()
    assert (answer["inside"], answer["flow_limit"], answer["full"], answer["entries_today"]) == (
        2,
        2,
        True,
        2,
    )
    assert (
        client_for(persona("cdc", prefixes=["320585"]))
        .get(f"/api/v1/venues/{venue.pk}/occupancy")
        .status_code
        == 404
    )


def test_the_registry_operations_are_in_the_openapi_with_named_schemas(client):
    schema = client.get("/api/v1/openapi.json").json()
    names = set(schema["components"]["schemas"])
    assert {
        "VenueOut",
        "VenueIn",
        "VenuePage",
        "VenueDecisionIn",
        "VenueCodeOut",
        "OccupancyOut",
        "ApiError",
    } <= names
    paths = schema["paths"]
    assert {
        "/api/v1/venues/",
        "/api/v1/venues/{venue_id}/occupancy",
        "/api/v1/venues/{venue_id}/code",
    } <= set(paths)


def test_the_api_refuses_a_registration_outside_scope(persona, client_for, grid_cells):
    owner = client_for(persona("unit_manager", prefixes=[grid_cells[0].code]))
    answer = owner.post(
        "/api/v1/venues/",
        {"name": "别处", "type": "cinema", "division_code": _other_community(grid_cells)},
        content_type="application/json",
    )
    assert answer.status_code == 400 and answer.json()["field"] == "division_code"
    assert not Venue.objects.filter(name="别处").exists()
