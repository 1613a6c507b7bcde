"""The three ways into a venue give one record (R5.1, R4.3; JS79-5)."""

import random
import uuid
from datetime import date, timedelta

import pytest

from epigrid.accounts.audit import Actor
from epigrid.demo.population import IdNumbers
from epigrid.healthcode.services import ensure_code, issue_token
from epigrid.lib.errors import DomainError
from epigrid.venues.models import Entry, EntryMethod
from epigrid.venues.services import EntryInput, ingest_entries

pytestmark = pytest.mark.django_db


def _record(entry):
    return {
        k: getattr(entry, k)
        for k in (
            "venue_id",
            "person_id",
            "entered_at",
            "leaves_at",
            "temperature",
            "colour_seen",
            "admitted",
            "division_code",
        )
    }


def test_it_gives_one_record_for_each_of_the_three_ways_in(
    clock, make_person, make_venue, door_staff, grid_cells
):
    venue = make_venue(staff=[door_staff])
    number = IdNumbers().make(random.Random(3), "320583", date(1990, 5, 17), "M")
    person = make_person(grid_cells[1].code, number=number)
    code = ensure_code(person)
    token = issue_token(code).token
    staff = Actor(user=door_staff, via="web")
    at = clock.now - timedelta(minutes=5)
    ways = [
        (
            Actor.system("public"),
            EntryInput(
                venue_id=venue.pk,
                method=EntryMethod.VENUE_CODE,
                entered_at=at,
                person_id=person.pk,
                temperature="36.5",
            ),
        ),
        (
            staff,
            EntryInput(
                venue_id=venue.pk,
                method=EntryMethod.STAFF_SCAN,
                entered_at=at,
                token=token,
                temperature="36.5",
            ),
        ),
        (
            staff,
            EntryInput(
                venue_id=venue.pk,
                method=EntryMethod.DOCUMENT,
                entered_at=at,
                document_number=number,
                temperature="36.5",
            ),
        ),
    ]
    records = []
    for actor, item in ways:
        result = ingest_entries(actor=actor, items=[item])
        assert result.stored == 1
        answer = result.entries[0]
        assert answer.colour == code.colour == "green" and answer.admitted
        assert answer.holder and answer.holder != person.name
        records.append(_record(Entry.objects.get(pk=answer.id)))
    assert records[0] == records[1] == records[2]
    assert records[0]["leaves_at"] == at + timedelta(minutes=venue.type.dwell_minutes)


def test_it_stores_a_queue_sent_twice_once(clock, make_person, make_venue, door_staff, grid_cells):
    venue = make_venue(staff=[door_staff])
    people = [make_person(grid_cells[1].code, name=f"李{n}") for n in "一二三"]
    codes = [ensure_code(p).code_id.hex for p in people]
    staff = Actor(user=door_staff, via="web")
    queue = [
        EntryInput(
            id=uuid.uuid4(),
            venue_id=venue.pk,
            method=EntryMethod.STAFF_SCAN,
            code_id=c,
            entered_at=clock.now - timedelta(minutes=i),
            device_id="phone-1",
        )
        for i, c in enumerate(codes)
    ]
    first = ingest_entries(actor=staff, items=queue[:2])
    again = ingest_entries(actor=staff, items=queue)
    assert (first.stored, first.duplicates) == (2, 0)
    assert (again.stored, again.duplicates) == (1, 2)
    assert [a.new for a in again.entries] == [False, False, True]
    assert Entry.objects.filter(venue=venue).count() == 3


def test_it_refuses_a_bad_batch_whole_and_names_each_item(
    clock, make_person, make_venue, door_staff, grid_cells
):
    venue = make_venue(staff=[door_staff])
    person = make_person(grid_cells[1].code)
    code = ensure_code(person).code_id.hex
    good = EntryInput(venue_id=venue.pk, method="staff_scan", code_id=code, entered_at=clock.now)
    hot = EntryInput(
        venue_id=venue.pk, method="staff_scan", code_id=code, entered_at=clock.now, temperature="45"
    )
    future = EntryInput(
        venue_id=venue.pk, method="staff_scan", code_id=code, entered_at=clock.now + timedelta(hours=1)
    )
    with pytest.raises(DomainError) as refused:
        ingest_entries(actor=Actor(user=door_staff), items=[good, hot, future])
    fields = [e.field for e in refused.value.errors]
    assert fields == ["entries[1].temperature", "entries[2].entered_at"]
    assert not Entry.objects.exists()


def test_it_refuses_staff_of_another_venue_as_if_the_venue_did_not_exist(
    clock, make_person, make_venue, door_staff, persona, grid_cells
):
    venue = make_venue(staff=[door_staff])
    other = persona("checkpoint", prefixes=[])
    code = ensure_code(make_person(grid_cells[1].code)).code_id.hex
    with pytest.raises(DomainError) as refused:
        ingest_entries(
            actor=Actor(user=other),
            items=[EntryInput(venue_id=venue.pk, method="staff_scan", code_id=code, entered_at=clock.now)],
        )
    assert refused.value.code == "venue_unknown" and refused.value.status == 404
