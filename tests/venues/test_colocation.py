"""Co-location equals a brute-force oracle on random visits (R5.5, NA182-2.5.3, XC-3.2): the pure
merge, and the range lookups on (venue, entered_at) through the database."""

import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from epigrid.lib.bulk import insert_rows
from epigrid.lib.errors import DomainError
from epigrid.venues.colocation import Visit, colocate, overlap_seconds
from epigrid.venues.models import Entry, EntryRow, Venue
from epigrid.venues.services.trace import find_colocated

BASE = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
VENUES = ["v1", "v2", "v3"]
PEOPLE = ["index", "p1", "p2", "p3", "p4", "p5"]


def oracle(index_visits, others, windows, default):
    """Minute by minute: a minute counts for a pair when it lies in both the widened index
    visit and the other visit at the same venue (every time is on a whole minute)."""
    totals: dict = defaultdict(int)
    for person_visit in others:
        if person_visit.person_id in (None, "index"):
            continue
        for index in index_visits:
            if index.venue_id != person_visit.venue_id:
                continue
            window = windows.get(index.venue_id, default)
            start, end = index.entered_at - window, index.leaves_at + window
            minute = min(start, person_visit.entered_at)
            shared = 0
            while minute < max(end, person_visit.leaves_at):
                if start <= minute < end and person_visit.entered_at <= minute < person_visit.leaves_at:
                    shared += 1
                minute += timedelta(minutes=1)
            if shared:
                totals[person_visit.person_id] += shared
    return totals


@st.composite
def visit(draw, person=None):
    start = draw(st.integers(0, 600))
    length = draw(st.integers(1, 240))
    return Visit(
        venue_id=draw(st.sampled_from(VENUES)),
        person_id=person or draw(st.sampled_from(PEOPLE[1:])),
        entered_at=BASE + timedelta(minutes=start),
        leaves_at=BASE + timedelta(minutes=start + length),
        method="staff_scan",
        entry_id=uuid.uuid4(),
    )


windows_strategy = st.dictionaries(
    st.sampled_from(VENUES), st.integers(0, 90).map(lambda m: timedelta(minutes=m)), max_size=3
)


@given(
    index_visits=st.lists(visit(person="index"), min_size=0, max_size=6),
    others=st.lists(visit(), max_size=30),
    windows=windows_strategy,
    default=st.integers(0, 60).map(lambda m: timedelta(minutes=m)),
)
def test_colocation_equals_the_brute_force_oracle(index_visits, others, windows, default):
    found = colocate(index_visits, others, windows=windows, default_window=default, exclude=["index"])
    expected = oracle(index_visits, others, windows, default)
    assert {c.person_id: c.overlap_seconds // 60 for c in found} == dict(expected)
    totals = [c.overlap_seconds for c in found]
    assert totals == sorted(totals, reverse=True)
    for candidate in found:
        assert sum(m.overlap_seconds for m in candidate.meetings) == candidate.overlap_seconds


def test_it_leaves_out_the_index_person_and_visits_without_a_person():
    index = Visit("v1", "index", BASE, BASE + timedelta(hours=1))
    others = [
        Visit("v1", "index", BASE, BASE + timedelta(hours=1)),
        Visit("v1", None, BASE, BASE + timedelta(hours=1)),
        Visit("v2", "p1", BASE, BASE + timedelta(hours=1)),  # another venue
    ]
    assert colocate([index], others, exclude=["index"]) == []


def test_a_visit_that_ends_when_the_window_opens_does_not_overlap():
    index = Visit("v1", "index", BASE, BASE + timedelta(hours=1))
    before = Visit("v1", "p1", BASE - timedelta(hours=2), BASE - timedelta(minutes=30))
    assert colocate([index], [before], default_window=timedelta(minutes=30)) == []
    found = colocate([index], [before], default_window=timedelta(minutes=31))
    assert [c.overlap_minutes for c in found] == [1]
    assert overlap_seconds(BASE, BASE, BASE, BASE + timedelta(1)) == 0


# --- through the database -------------------------------------------------------------------


@pytest.fixture
def venue_pool(make_venue):
    return {
        key: make_venue(name=f"场所{i}", type=kind)
        for i, (key, kind) in enumerate(zip(VENUES, ["supermarket", "restaurant", "barber"], strict=True))
    }


@pytest.fixture
def people_pool(make_person, grid_cells):
    return {key: make_person(grid_cells[0].code, name=f"测试{i}") for i, key in enumerate(PEOPLE)}


def _rows(visits, venues, people, at):
    return [
        EntryRow(
            id=v.entry_id,
            venue_id=venues[v.venue_id].pk,
            person_id=people[v.person_id].pk,
            entered_at=v.entered_at,
            leaves_at=v.leaves_at,
            method=v.method,
            division_code=venues[v.venue_id].division_code,
            received_at=at,
        )
        for v in visits
    ]


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    index_visits=st.lists(visit(person="index"), min_size=1, max_size=5),
    others=st.lists(visit(), max_size=25),
    window=st.integers(0, 60),
)
def test_colocation_through_the_database_equals_the_oracle(
    clock, venue_pool, people_pool, index_visits, others, window
):
    # the hypothesis times are moved to yesterday, inside the retention
    shift = (clock.now - timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0) - BASE
    moved = [
        Visit(v.venue_id, v.person_id, v.entered_at + shift, v.leaves_at + shift, v.method, v.entry_id)
        for v in index_visits + others
    ]
    Entry.objects.all().delete()
    insert_rows(Entry, _rows(moved, venue_pool, people_pool, clock.now))
    # bulk rows bypass ingest, which keeps each venue's longest stay: keep it here likewise
    Venue.objects.update(longest_stay_minutes=241)
    start, end = BASE + shift - timedelta(hours=1), BASE + shift + timedelta(hours=12)
    result = find_colocated(people_pool["index"].pk, start, end, window_minutes=window, now=clock.now)
    by_key = {p.pk: k for k, p in people_pool.items()}
    got = {by_key[c.person_id]: c.overlap_seconds // 60 for c in result.candidates}
    index_moved, others_moved = moved[: len(index_visits)], moved[len(index_visits) :]
    assert got == dict(oracle(index_moved, others_moved, {}, timedelta(minutes=window)))


@pytest.mark.django_db
def test_it_refuses_a_range_older_than_the_retention(clock, people_pool):
    with pytest.raises(DomainError) as refused:
        find_colocated(
            people_pool["index"].pk,
            clock.now - timedelta(days=40),
            clock.now - timedelta(days=35),
            now=clock.now,
        )
    assert refused.value.code == "range_past_retention"
    assert "28" in refused.value.message


def test_a_window_per_venue_type_applies_when_the_search_names_none():
    from types import SimpleNamespace

    from epigrid.venues.colocation import DEFAULT_WINDOW
    from epigrid.venues.services.trace import windows_for

    venues = {"a": SimpleNamespace(type_id="ktv"), "b": SimpleNamespace(type_id="bank_outlet")}
    by_type = windows_for(venues, None, {"ktv": 0, "bank_outlet": ""})
    assert by_type == {"a": timedelta(0), "b": DEFAULT_WINDOW}
    assert windows_for(venues, timedelta(minutes=5), {"ktv": 90}) == {
        "a": timedelta(minutes=5),
        "b": timedelta(minutes=5),
    }
