"""API: the venue registry (R5.1, JX57-3.8) and live occupancy (R5.4).

Venues in the caller's scope, registration by the owner, the community's decision, a new venue
code (the text the poster's QR carries; every earlier code stops working) and how many are
inside now. Out-of-scope venues are 404s; every error is `{code, message, field}`.
"""

from datetime import datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from epigrid.accounts.apiauth import requires
from epigrid.accounts.audit import Actor
from epigrid.accounts.roles import Perm
from epigrid.accounts.scoping import get_visible_or_404, prefix_q, visible_to
from epigrid.lib.errors import Conflict, Forbidden
from epigrid.venues.models import Venue, VenueStatus
from epigrid.venues.services import capacity, codes
from epigrid.venues.services.venues import VenueInput, can_manage, decide_venue, register_venue

router = Router(tags=["venues"])


class ApiError(Schema):
    """The one error shape of the API."""

    code: str
    message: str
    field: str | None


ERRORS = {400: ApiError, 403: ApiError, 404: ApiError, 409: ApiError}


class VenueOut(Schema):
    id: UUID
    name: str
    type: str = Field(description="the venue type's code (see type_label)")
    type_label: str
    division_code: str
    division_name: str
    address: str
    latitude: Decimal | None
    longitude: Decimal | None
    capacity: int | None
    flow_limit: int | None = Field(description="most people inside at once while a flow limit is in force")
    requires_reservation: bool
    slot_minutes: int
    slot_capacity: int | None
    owner_unit_id: UUID | None
    status: Literal[tuple(VenueStatus.values)]  # type: ignore[valid-type]
    status_label: str
    status_reason: str
    code_serial: int = Field(description="the serial of the code in force; 0 until approved")
    created_at: datetime
    decided_at: datetime | None

    @staticmethod
    def resolve_type(obj):
        return obj.type_id

    @staticmethod
    def resolve_type_label(obj):
        return obj.type.label(get_language() or "zh-hans")

    @staticmethod
    def resolve_division_name(obj):
        return getattr(obj, "division_label", "")

    @staticmethod
    def resolve_status_label(obj):
        return str(obj.get_status_display())


class VenuePage(Schema):
    items: list[VenueOut]
    next_cursor: str | None


class VenueIn(Schema):
    name: str = Field(min_length=1, max_length=128)
    type: str = Field(max_length=32, description="a venue type's code")
    division_code: str = Field(pattern=r"^\d{12}(\d{3})?$", description="the community or grid cell")
    address: str = Field("", max_length=255)
    latitude: Decimal | None = Field(None, ge=-90, le=90)
    longitude: Decimal | None = Field(None, ge=-180, le=180)
    capacity: int | None = Field(None, ge=1, le=10_000_000)
    flow_limit: int | None = Field(None, ge=1, le=10_000_000)
    requires_reservation: bool | None = Field(None, description="omitted: as is usual for the type")
    slot_minutes: int = Field(60, ge=5, le=1440)
    slot_capacity: int | None = Field(None, ge=1, le=10_000_000)
    owner_unit_id: UUID | None = None


class VenueDecisionIn(Schema):
    approve: bool
    reason: str = Field("", max_length=255, description="required when the venue is returned")


class VenueCodeOut(Schema):
    serial: int
    code: str = Field(description="the signed venue code (`VNC1…`) the poster's QR carries")
    url: str = Field(description="the public scan page's address, as in the QR")


class OccupancyOut(Schema):
    venue_id: UUID
    at: datetime
    inside: int = Field(description="admitted entries whose visit has not ended")
    flow_limit: int | None
    full: bool
    entries_today: int


def _venue(request, venue_id: UUID) -> Venue:
    return get_visible_or_404(request.auth, Venue.objects.select_related("type"), pk=venue_id)


def _labelled(venues):
    from epigrid.regions.labels import label_divisions

    label_divisions(venues, get_language() or "zh-hans")
    return venues


@router.get("", response=VenuePage, summary="Venues in your scope, newest first")
@requires(Perm.VENUES_VIEW)
def list_venues(
    request,
    status: Literal[tuple(["", *VenueStatus.values])] = "",  # type: ignore[valid-type]
    type: str = Query("", max_length=32),
    division: str = Query("", pattern=r"^\d{0,15}$"),
    q: str = Query("", max_length=64),
    cursor: str = Query("", max_length=200),
    limit: int = Query(50, ge=1, le=200),
):
    from epigrid.lib.keyset import page

    qs = visible_to(request.auth, Venue.objects.select_related("type"), listing=True)
    if status:
        qs = qs.filter(status=status)
    if type:
        qs = qs.filter(type_id=type)
    if division:
        qs = qs.filter(prefix_q("division_code", division))
    if q:
        qs = qs.filter(name__contains=q.strip())
    result = page(qs, cursor or None, limit, time_field="created_at")
    return {"items": _labelled(result.items), "next_cursor": result.next_cursor}


@router.post("", response={201: VenueOut, **ERRORS}, summary="Register a venue (it awaits approval)")
@requires(Perm.VENUES_REGISTER)
def create_venue(request, payload: VenueIn):
    data = payload.dict()
    venue = register_venue(actor=Actor.from_api(request), data=VenueInput(**data))
    return Status(201, _labelled([venue])[0])


@router.get("/{uuid:venue_id}", response={200: VenueOut, 404: ApiError}, summary="One venue")
@requires(Perm.VENUES_VIEW)
def get_venue(request, venue_id: UUID):
    return _labelled([_venue(request, venue_id)])[0]


@router.post(
    "/{uuid:venue_id}/decision",
    response={200: VenueOut, **ERRORS},
    summary="Approve a venue (its code is issued) or return it with the reason",
)
@requires(Perm.VENUES_APPROVE)
def decide(request, venue_id: UUID, payload: VenueDecisionIn):
    venue = _venue(request, venue_id)
    decided = decide_venue(
        actor=Actor.from_api(request), venue=venue, approve=payload.approve, reason=payload.reason
    )
    return _labelled([decided])[0]


@router.post(
    "/{uuid:venue_id}/code",
    response={201: VenueCodeOut, **ERRORS},
    summary="Issue a new venue code (every earlier poster stops working)",
)
@requires(Perm.VENUES_VIEW)
def new_code(request, venue_id: UUID):
    venue = _venue(request, venue_id)
    if not can_manage(request.auth, venue):
        raise Forbidden("permission_denied", _("Your role does not allow this operation."))
    if venue.status != VenueStatus.APPROVED:
        raise Conflict("venue_not_approved", _("The venue has no code until it is approved."), None)
    serial = codes.issue_code(actor=Actor.from_api(request), venue=venue)
    text = codes.code_text(venue)
    return Status(
        201,
        {
            "serial": serial,
            "code": text,
            "url": request.build_absolute_uri(reverse("venues:door", args=[text])),
        },
    )


@router.get(
    "/{uuid:venue_id}/occupancy",
    response={200: OccupancyOut, 404: ApiError},
    summary="How many are inside now, against the flow limit",
)
@requires(Perm.VENUES_VIEW)
def occupancy(request, venue_id: UUID):
    venue = _venue(request, venue_id)
    now = timezone.now()
    inside = capacity.occupancy(venue, now)
    return {
        "venue_id": venue.pk,
        "at": now,
        "inside": inside,
        "flow_limit": venue.flow_limit,
        "full": venue.flow_limit is not None and inside >= venue.flow_limit,
        "entries_today": capacity.entries_today(venue, now),
    }
