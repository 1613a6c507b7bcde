"""A scanner's queue through the API (R5.1): idempotent, whole or nothing, errors that name
the entry and the field, and nothing but a colour and a masked name back."""

import json
import random
import uuid
from datetime import date, timedelta

import pytest

from epigrid.accounts.services import create_token
from epigrid.demo.population import IdNumbers
from epigrid.healthcode.services import ensure_code
from epigrid.venues.models import Entry

pytestmark = pytest.mark.django_db
URL = "/api/v1/venues/entries"


@pytest.fixture
def scanner(client, door_staff, system):
    _, secret = create_token(actor=system, user=door_staff, name="door phone")
    return lambda body: client.post(
        URL, json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}"
    )


def _entry(venue, at, **who):
    return {
        "id": str(uuid.uuid4()),
        "venue_id": str(venue.pk),
        "method": "staff_scan",
        "entered_at": at.isoformat(),
        **who,
    }


def test_it_stores_a_queue_once_however_often_it_is_sent(
    clock, scanner, make_venue, door_staff, make_person, grid_cells
):
    venue = make_venue(staff=[door_staff])
    codes = [ensure_code(make_person(grid_cells[2].code, name=f"王{n}")).code_id.hex for n in "甲乙丙"]
    queue = [
        _entry(venue, clock.now - timedelta(minutes=i), code_id=c, temperature=36.6)
        for i, c in enumerate(codes)
    ]
    first = scanner({"entries": queue[:2]})
    assert first.status_code == 201, first.content
    again = scanner({"entries": queue})
    assert again.status_code == 201
    body = again.json()
    assert (body["stored"], body["duplicates"]) == (1, 2)
    assert [e["new"] for e in body["entries"]] == [False, False, True]
    assert Entry.objects.count() == 3


def test_it_answers_a_colour_and_a_masked_name_never_an_id_number(
    clock, scanner, make_venue, door_staff, make_person, grid_cells
):
    venue = make_venue(staff=[door_staff])
    number = IdNumbers().make(random.Random(5), "320583", date(1991, 3, 2), "F")
    person = make_person(grid_cells[2].code, name="陈静怡", number=number)
    answer = scanner({"entries": [_entry(venue, clock.now, method="document", document_number=number)]})
    assert answer.status_code == 201, answer.content
    text = answer.content.decode()
    entry = answer.json()["entries"][0]
    assert entry["colour"] == ensure_code(person).colour
    assert entry["holder"] == "陈*怡"
    assert (
        number not in text and number[-6:] not in text and "陈静怡" not in text and str(person.pk) not in text
    )


def test_it_refuses_a_bad_batch_whole_naming_each_entry(
    clock, scanner, make_venue, door_staff, make_person, grid_cells
):
    venue = make_venue(staff=[door_staff])
    code = ensure_code(make_person(grid_cells[2].code)).code_id.hex
    good = _entry(venue, clock.now, code_id=code)
    bad = _entry(venue, clock.now, code_id="0" * 32)
    hot = _entry(venue, clock.now, code_id=code, temperature=48)
    answer = scanner({"entries": [good, bad, hot]})
    assert answer.status_code == 400
    body = answer.json()
    assert {"code", "message", "field"} <= set(body)
    assert [e["field"] for e in body["errors"]] == ["entries[2].temperature", "entries[1].code_id"] or [
        e["field"] for e in body["errors"]
    ] == ["entries[1].code_id", "entries[2].temperature"]
    assert not Entry.objects.exists()


def test_it_refuses_more_than_five_thousand_entries_at_once(clock, scanner, make_venue, door_staff):
    venue = make_venue(staff=[door_staff])
    entry = _entry(venue, clock.now, code_id="0" * 32)
    answer = scanner({"entries": [dict(entry, id=str(uuid.uuid4())) for _ in range(5001)]})
    assert answer.status_code == 422
    assert answer.json()["code"]


def test_it_answers_a_venue_outside_the_devices_posts_as_absent(
    clock, client, make_venue, persona, system, make_person, grid_cells
):
    venue = make_venue()
    _, secret = create_token(actor=system, user=persona("checkpoint", prefixes=[]), name="other phone")
    code = ensure_code(make_person(grid_cells[2].code)).code_id.hex
    answer = client.post(
        URL,
        json.dumps({"entries": [_entry(venue, clock.now, code_id=code)]}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert answer.status_code == 404
    assert answer.json()["code"] == "venue_unknown"
