"""查轨迹 and co-location through the pages and the API (R4.3, R5.5; JX57-3.5, NA182-2.5.3):
scoped, audited, names masked outside the user's scope, candidates marked and exported."""

import io
from datetime import timedelta

import openpyxl
import pytest

from epigrid.accounts.audit import Actor
from epigrid.accounts.models import AuditEvent
from epigrid.healthcode.services import ensure_code, issue_token
from epigrid.people.services import create_private_link
from epigrid.regions.models import Division
from epigrid.venues.models import CandidateStatus, ContactCandidate, EntryMethod
from epigrid.venues.services import EntryInput, ingest_entries

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_trust_cache():
    """The online verifier caches the trust list per process: never across tests' databases."""
    from epigrid.healthcode import keys

    keys.invalidate_cache()
    yield
    keys.invalidate_cache()


def _visit(venue, person, entered, minutes):
    ingest_entries(
        actor=Actor.system("public"),
        items=[
            EntryInput(
                venue_id=venue.pk,
                method=EntryMethod.VENUE_CODE,
                entered_at=entered,
                exited_at=entered + timedelta(minutes=minutes),
                person_id=person.pk,
            )
        ],
    )


@pytest.fixture
def scene(clock, make_venue, make_person, grid_cells):
    """An index person at a supermarket and a restaurant yesterday; a neighbour met at both, a
    visitor from outside Kunshan met once, someone at the supermarket the next morning."""
    elsewhere = Division.objects.filter(level=3, code__startswith="3205").exclude(code="320583").first()
    market = make_venue(name="润华超市", type="supermarket")
    diner = make_venue(name="老街面馆", type="restaurant")
    index = make_person(grid_cells[0].code, name="王建国")
    neighbour = make_person(grid_cells[1].code, name="李秀英")
    visitor = make_person(elsewhere.code, name="赵晓明")
    stranger = make_person(grid_cells[1].code, name="孙丽")
    day = clock.now - timedelta(days=1)
    _visit(market, index, day, 40)
    _visit(diner, index, day + timedelta(hours=2), 60)
    _visit(market, neighbour, day + timedelta(minutes=10), 40)  # 30 min shared + window
    _visit(diner, neighbour, day + timedelta(hours=2, minutes=30), 60)
    _visit(market, visitor, day + timedelta(minutes=50), 20)  # after the index left: window
    _visit(market, stranger, day + timedelta(hours=20), 20)
    return {"index": index, "neighbour": neighbour, "visitor": visitor, "stranger": stranger, "day": day}


def _token(persona, role, prefixes=None):
    from epigrid.accounts.services import create_token

    user = persona(role, prefixes=prefixes)
    _, secret = create_token(actor=Actor.system("test"), user=user, name="test")
    return user, f"Bearer {secret}"


def test_it_ranks_candidates_masks_names_outside_the_scope_and_marks_them(scene, persona, client_for):
    epidemiologist = persona("cdc")
    client = client_for(epidemiologist)
    url = f"/venues/trace/colocation/{scene['index'].pk}/"
    page = client.get(url, {"start": "", "end": "", "window_minutes": "30"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "李秀英" in html  # in scope: the full name
    assert "赵晓明" not in html and "赵*明" in html  # from another county: masked
    assert "孙丽" not in html and "孙*" not in html  # the next morning: nobody met
    assert html.index("李秀英") < html.index("赵*明")  # most minutes first
    assert AuditEvent.objects.filter(
        action="reveal", fields=["colocation"], object_id=str(scene["index"].pk)
    ).exists()
    result = page.context["result"]
    neighbour = next(c for c in result.candidates if c.person_id == scene["neighbour"].pk)
    chosen = [str(m.entry_id) for m in neighbour.meetings]
    marked = client.post(
        url,
        {
            "start": page.context["start"],
            "end": page.context["end"],
            "window_minutes": "30",
            "entry": chosen,
            "status": CandidateStatus.TO_INVESTIGATE,
        },
    )
    assert marked.status_code == 200
    rows = ContactCandidate.objects.filter(index_person=scene["index"])
    assert rows.count() == 2 and {r.status for r in rows} == {"to_investigate"}
    assert {r.overlap_minutes for r in rows} == {m.overlap_minutes for m in neighbour.meetings}
    export = client.get(f"/venues/trace/colocation/{scene['index'].pk}/export.xlsx")
    assert export.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(export.content)).active
    cells = [c for row in sheet.iter_rows() for c in row if c.value is not None]
    assert all(c.data_type == "s" for c in cells)  # every cell text
    assert any(c.value == "李秀英" for c in cells) and any(
        c.value == "待调查" or c.value == "to investigate" for c in cells
    )
    assert AuditEvent.objects.filter(action="export", object_type="contact_candidates").exists()


def test_it_refuses_a_search_older_than_the_retention_and_an_index_person_out_of_scope(
    scene, persona, client_for
):
    client = client_for(persona("cdc"))
    old = (scene["day"] - timedelta(days=40)).strftime("%Y-%m-%dT%H:%M")
    page = client.get(f"/venues/trace/colocation/{scene['index'].pk}/", {"start": old, "end": ""})
    assert page.context["error"].code == "range_past_retention"
    other = client_for(persona("cdc", prefixes=["320505"]))
    assert other.get(f"/venues/trace/colocation/{scene['index'].pk}/").status_code == 404
    grid = client_for(persona("grid_worker"))  # no co-location power
    assert grid.get(f"/venues/trace/colocation/{scene['index'].pk}/").status_code == 403


def test_the_person_page_shows_the_trajectory_panel_audited(scene, persona, client_for):
    client = client_for(persona("grid_worker"))
    page = client.get(f"/people/{scene['index'].pk}/")
    html = page.content.decode()
    assert "润华超市" in html and "老街面馆" in html and 'id="trajectory-panel"' in html
    assert 'id="colocation-link"' not in html  # a grid worker has no co-location power
    assert (
        AuditEvent.objects.filter(
            action="reveal", fields=["trajectory"], object_id=str(scene["index"].pk)
        ).count()
        == 1
    )
    cdc = client_for(persona("cdc")).get(f"/people/{scene['index'].pk}/").content.decode()
    assert 'id="colocation-link"' in cdc
    whole = client.get(f"/venues/trace/trajectory/{scene['index'].pk}/")
    assert whole.status_code == 200 and "润华超市" in whole.content.decode()


def test_the_person_sees_their_own_trajectory_only(scene, client):
    token = create_private_link(actor=Actor.system("test"), person=scene["neighbour"])
    html = client.get(f"/me/{token}/").content.decode()
    assert 'id="my-trajectory"' in html and "润华超市" in html and "老街面馆" in html
    token = create_private_link(actor=Actor.system("test"), person=scene["visitor"])
    html = client.get(f"/me/{token}/").content.decode()
    assert "润华超市" in html and "老街面馆" not in html


def test_triage_shows_the_holders_last_14_days_masked_and_audited(scene, persona, client_for):
    nurse = client_for(persona("medical"))
    token = issue_token(ensure_code(scene["index"])).token
    page = nurse.post("/venues/trace/triage/", {"token": token})
    html = page.content.decode()
    assert page.status_code == 200
    assert "王*国" in html and "王建国" not in html
    assert "润华超市" in html and "昆山市" in html
    assert AuditEvent.objects.filter(
        action="reveal", fields=["trajectory"], note__startswith="triage"
    ).exists()
    assert "triage-error" in nurse.post("/venues/trace/triage/", {"token": "HCT1:nonsense"}).content.decode()


def test_the_api_gives_trajectory_colocation_and_candidates(scene, persona, client):
    _, bearer = _token(persona, "cdc")
    index = scene["index"]
    trajectory = client.get(f"/api/v1/venues/people/{index.pk}/trajectory", HTTP_AUTHORIZATION=bearer)
    assert trajectory.status_code == 200
    assert [s["place"] for s in trajectory.json()["stops"]] == ["老街面馆", "润华超市"]
    body = {
        "index_person_id": str(index.pk),
        "start": (scene["day"] - timedelta(hours=1)).isoformat(),
        "end": (scene["day"] + timedelta(hours=5)).isoformat(),
    }
    found = client.post(
        "/api/v1/venues/colocation", body, content_type="application/json", HTTP_AUTHORIZATION=bearer
    )
    assert found.status_code == 200, found.content
    candidates = found.json()["candidates"]
    assert [c["name"] for c in candidates] == ["李秀英", "赵*明"]
    assert candidates[1]["person_id"] is None  # outside the scope: no id either
    entry_ids = [m["entry_id"] for m in candidates[1]["meetings"]]
    marked = client.post(
        "/api/v1/venues/candidates",
        {**body, "entry_ids": entry_ids, "status": "dismissed"},
        content_type="application/json",
        HTTP_AUTHORIZATION=bearer,
    )
    assert marked.json() == {"created": 1, "updated": 0}
    listed = client.get(f"/api/v1/venues/people/{index.pk}/candidates", HTTP_AUTHORIZATION=bearer).json()
    assert [(r["name"], r["status"]) for r in listed] == [("赵*明", "dismissed")]
    refused = client.post(
        "/api/v1/venues/colocation",
        {**body, "start": (scene["day"] - timedelta(days=40)).isoformat()},
        content_type="application/json",
        HTTP_AUTHORIZATION=bearer,
    )
    assert refused.status_code == 400 and refused.json()["code"] == "range_past_retention"
    _, medical = _token(persona, "medical")
    assert (
        client.post(
            "/api/v1/venues/colocation", body, content_type="application/json", HTTP_AUTHORIZATION=medical
        ).status_code
        == 403
    )
