"""API: 查轨迹 and co-location (R4.3, R5.5; JX57-3.5, NA182-2.5.3).

- `GET /venues/people/{id}/trajectory`: entries and checkpoint passes, newest first (audited);
- `POST /venues/colocation`: candidates beside an index person in a time range (audited);
- `GET /venues/people/{id}/candidates`, `POST /venues/candidates`: the marked candidates, and
  marking the entries of a search (the search is run again; nothing sent back is trusted).

The index person must be in the caller's scope (else 404). Candidates outside it come with a
masked name; those inside with their name and id.
"""

from datetime import datetime
from typing import Literal
from uuid import UUID

from django.utils import timezone
from ninja import Router, Schema
from pydantic import Field

from epigrid.accounts.apiauth import requires
from epigrid.accounts.audit import Actor
from epigrid.accounts.roles import Perm
from epigrid.accounts.scoping import get_visible_or_404, visible_to
from epigrid.lib.identity import mask_name
from epigrid.venues.models import CandidateStatus
from epigrid.venues.services import candidates as candidate_service
from epigrid.venues.services import trace as trace_service

router = Router(tags=["venues"])


def _person(user, person_id):
    from epigrid.people.models import Person

    return get_visible_or_404(user, Person.objects.all(), pk=person_id)


def _visible(user, ids) -> set:
    from epigrid.people.models import Person

    ids = list(set(ids))
    return (
        set(visible_to(user, Person.objects.filter(pk__in=ids)).values_list("pk", flat=True))
        if ids
        else set()
    )


class TrajectoryStopOut(Schema):
    kind: Literal["entry", "checkpoint"]
    at: datetime
    until: datetime | None
    place: str
    place_kind: str
    place_area: str = Field(description="city and county of the place")
    method: str = Field(description="how the entry was recorded, as its label")
    colour: str
    temperature: float | None
    admitted: bool
    plate: str


class TrajectoryOut(Schema):
    person_id: UUID
    stops: list[TrajectoryStopOut]


@router.get(
    "/people/{person_id}/trajectory",
    response=TrajectoryOut,
    summary="A person's entries and checkpoint passes (查轨迹), newest first; audited",
)
@requires(Perm.TRAJECTORY)
def get_trajectory(request, person_id: UUID, since: datetime | None = None, until: datetime | None = None):
    person = _person(request.auth, person_id)
    language = getattr(request, "LANGUAGE_CODE", "") or "zh-hans"
    stops = trace_service.view_trajectory(
        actor=Actor.from_api(request),
        person=person,
        since=since,
        until=until,
        purpose="api",
        language=language,
    )
    areas = trace_service.place_names({s.division_code for s in stops}, language)
    return {
        "person_id": person.pk,
        "stops": [
            {
                "kind": s.kind,
                "at": s.at,
                "until": s.until,
                "place": s.place,
                "place_kind": s.place_kind,
                "place_area": areas.get(s.division_code, ""),
                "method": s.method,
                "colour": s.colour,
                "temperature": float(s.temperature) if s.temperature is not None else None,
                "admitted": s.admitted,
                "plate": s.plate,
            }
            for s in stops
        ],
    }


class ColocationIn(Schema):
    index_person_id: UUID
    start: datetime = Field(description="with its zone; no earlier than the retention allows")
    end: datetime
    window_minutes: int | None = Field(
        None, ge=0, le=trace_service.MAX_WINDOW_MINUTES, description="around each visit; default 30"
    )
    type_windows: dict[str, int] = Field(
        default_factory=dict, description="a window per venue type code, when no window_minutes"
    )


class ColocationMeetingOut(Schema):
    entry_id: UUID
    venue_id: UUID
    venue: str
    venue_type: str
    entered_at: datetime
    leaves_at: datetime
    index_entered_at: datetime
    index_leaves_at: datetime
    window_minutes: int
    overlap_minutes: int
    method: Literal["venue_code", "staff_scan", "document"]


class ColocationCandidateOut(Schema):
    person_id: UUID | None = Field(description="only for people in your scope")
    name: str = Field(description="in full in your scope, masked outside it")
    overlap_minutes: int
    meetings: list[ColocationMeetingOut]


class ColocationOut(Schema):
    index_person_id: UUID
    index_visits: int
    candidates: list[ColocationCandidateOut]


def _search(request, payload: ColocationIn):
    person = _person(request.auth, payload.index_person_id)
    result = trace_service.colocation_search(
        actor=Actor.from_api(request),
        person=person,
        start=payload.start,
        end=payload.end,
        window_minutes=payload.window_minutes,
        type_windows=payload.type_windows or None,
    )
    return person, result


@router.post("/colocation", response=ColocationOut, summary="Co-location: who was beside an index person")
@requires(Perm.COLOCATION)
def post_colocation(request, payload: ColocationIn):
    person, result = _search(request, payload)
    language = getattr(request, "LANGUAGE_CODE", "") or "zh-hans"
    visible = _visible(request.auth, [c.person_id for c in result.candidates])
    out = []
    for c in result.candidates:
        holder = result.people.get(c.person_id)
        name = holder.name if holder else ""
        out.append(
            {
                "person_id": c.person_id if c.person_id in visible else None,
                "name": name if c.person_id in visible else mask_name(name),
                "overlap_minutes": c.overlap_minutes,
                "meetings": [
                    {
                        "entry_id": m.entry_id,
                        "venue_id": m.venue_id,
                        "venue": result.venues[m.venue_id].name,
                        "venue_type": result.venues[m.venue_id].type.label(language),
                        "entered_at": m.entered_at,
                        "leaves_at": m.leaves_at,
                        "index_entered_at": m.index_entered_at,
                        "index_leaves_at": m.index_leaves_at,
                        "window_minutes": int(m.window.total_seconds() // 60),
                        "overlap_minutes": m.overlap_minutes,
                        "method": m.method,
                    }
                    for m in c.meetings
                ],
            }
        )
    return {"index_person_id": person.pk, "index_visits": len(result.index_visits), "candidates": out}


class CandidateMarkIn(ColocationIn):
    entry_ids: list[UUID] = Field(max_length=candidate_service.MAX_MARKS, description="from the search")
    status: Literal["to_investigate", "dismissed"]


class CandidateMarkOut(Schema):
    created: int
    updated: int


@router.post(
    "/candidates",
    response=CandidateMarkOut,
    summary="Mark candidates of a search to investigate or dismissed",
)
@requires(Perm.COLOCATION)
def post_candidates(request, payload: CandidateMarkIn):
    person, result = _search(request, payload)
    marked = candidate_service.mark_candidates(
        actor=Actor.from_api(request),
        index_person=person,
        result=result,
        entry_ids=payload.entry_ids,
        status=payload.status,
    )
    return {"created": marked.created, "updated": marked.updated}


class MarkedCandidateOut(Schema):
    person_id: UUID | None
    name: str
    status: Literal["to_investigate", "dismissed"]
    venue_id: UUID
    venue: str
    entered_at: datetime
    leaves_at: datetime
    overlap_minutes: int
    method: str
    marked_at: datetime


@router.get(
    "/people/{person_id}/candidates",
    response=list[MarkedCandidateOut],
    summary="The marked contact candidates of an index person",
)
@requires(Perm.COLOCATION)
def get_candidates(request, person_id: UUID, status: str = ""):
    person = _person(request.auth, person_id)
    rows = list(
        candidate_service.candidates_of(person, status=status if status in CandidateStatus.values else "")[
            :2000
        ]
    )
    visible = _visible(request.auth, [r.person_id for r in rows])
    return [
        {
            "person_id": r.person_id if r.person_id in visible else None,
            "name": r.person.name if r.person_id in visible else mask_name(r.person.name),
            "status": r.status,
            "venue_id": r.venue_id,
            "venue": r.venue.name,
            "entered_at": r.entered_at,
            "leaves_at": r.leaves_at,
            "overlap_minutes": r.overlap_minutes,
            "method": r.method,
            "marked_at": r.marked_at or timezone.now(),
        }
        for r in rows
    ]
