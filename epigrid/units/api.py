from datetime import date, datetime
from typing import Literal
from uuid import UUID

from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from epigrid.accounts.apiauth import requires
from epigrid.accounts.audit import Actor
from epigrid.accounts.roles import Perm
from epigrid.accounts.scoping import get_visible_or_404, prefix_q, visible_to
from epigrid.people.models import Person
from epigrid.units import services
from epigrid.units.models import RosterEntry, RosterRole, Unit, UnitGroup, UnitKind

router = Router(tags=["units"])


class UnitOut(Schema):
    id: UUID
    kind: str
    name: str
    division_code: str
    address: str
    uscc: str
    contact_name: str
    contact_phone_masked: str
    staff_count: int
    active: bool
    created_at: datetime


class UnitIn(Schema):
    kind: Literal[tuple(UnitKind.values)]  # type: ignore[valid-type]
    name: str = Field(min_length=1, max_length=128)
    division_code: str = Field(pattern=r"^\d{6,15}$")
    address: str = Field("", max_length=255)
    uscc: str = Field("", max_length=18)
    contact_name: str = Field("", max_length=64)
    contact_phone: str = Field("", max_length=24)
    staff_count: int = Field(0, ge=0, le=10_000_000)


class GroupOut(Schema):
    id: UUID
    kind: str
    name: str
    grade: int | None


class GroupIn(Schema):
    kind: Literal[tuple(UnitGroup.Kind.values)]  # type: ignore[valid-type]
    name: str = Field(min_length=1, max_length=64)
    grade: int | None = Field(None, ge=0, le=20)


class RosterOut(Schema):
    id: UUID
    person_id: UUID
    person_name: str
    id_number_masked: str
    role: str
    group_id: UUID | None
    started_on: date
    ended_on: date | None

    @staticmethod
    def resolve_person_name(obj):
        return obj.person.name

    @staticmethod
    def resolve_id_number_masked(obj):
        return obj.person.id_number_masked


class RosterIn(Schema):
    person_id: UUID
    role: Literal[tuple(RosterRole.values)]  # type: ignore[valid-type]
    group_id: UUID | None = None
    started_on: date | None = None


class UnitPage(Schema):
    items: list[UnitOut]
    next_cursor: str | None


@router.get("", response=UnitPage, summary="Units in your scope")
@requires(Perm.UNITS_VIEW)
def list_units(
    request,
    kind: Literal[tuple(["", *UnitKind.values])] = "",  # type: ignore[valid-type]
    division: str = Query("", pattern=r"^\d{0,15}$"),
    q: str = Query("", max_length=64),
    cursor: str = Query("", max_length=200),
    limit: int = Query(50, ge=1, le=200),
):
    from epigrid.lib.keyset import page

    qs = visible_to(request.auth, Unit.objects.all())
    if kind:
        qs = qs.filter(kind=kind)
    if division:
        qs = qs.filter(prefix_q("division_code", division))
    if q:
        qs = qs.filter(name__contains=q.strip())
    result = page(qs, cursor or None, limit, time_field="created_at")
    return {"items": result.items, "next_cursor": result.next_cursor}


@router.post("", response={201: UnitOut}, summary="Register a unit")
@requires(Perm.UNITS_EDIT)
def create_unit(request, payload: UnitIn):
    return Status(
        201, services.create_unit(actor=Actor.from_api(request), data=services.UnitInput(**payload.dict()))
    )


@router.get("/{uuid:unit_id}", response=UnitOut, summary="One unit")
@requires(Perm.UNITS_VIEW)
def get_unit(request, unit_id: UUID):
    return get_visible_or_404(request.auth, Unit.objects.all(), pk=unit_id)


@router.get("/{uuid:unit_id}/groups", response=list[GroupOut], summary="Classes and teams of a unit")
@requires(Perm.UNITS_VIEW)
def list_groups(request, unit_id: UUID):
    unit = get_visible_or_404(request.auth, Unit.objects.all(), pk=unit_id)
    return list(unit.groups.all())


@router.post("/{uuid:unit_id}/groups", response={201: GroupOut}, summary="Add a class or team")
@requires(Perm.ROSTER_EDIT)
def add_group(request, unit_id: UUID, payload: GroupIn):
    unit = get_visible_or_404(request.auth, Unit.objects.all(), pk=unit_id)
    return Status(201, services.add_group(actor=Actor.from_api(request), unit=unit, **payload.dict()))


@router.get("/{uuid:unit_id}/roster", response=list[RosterOut], summary="Current roster of a unit")
@requires(Perm.UNITS_VIEW)
def roster(request, unit_id: UUID, group: UUID | None = None, include_ended: bool = False):
    unit = get_visible_or_404(request.auth, Unit.objects.all(), pk=unit_id)
    qs = (
        RosterEntry.objects.filter(unit=unit).select_related("person").order_by("group__name", "person__name")
    )
    if not include_ended:
        qs = qs.filter(ended_on__isnull=True)
    if group:
        qs = qs.filter(group_id=group)
    return list(qs[:5000])


@router.post("/{uuid:unit_id}/roster", response={201: RosterOut}, summary="Put a person on the roster")
@requires(Perm.ROSTER_EDIT)
def add_roster(request, unit_id: UUID, payload: RosterIn):
    unit = get_visible_or_404(request.auth, Unit.objects.all(), pk=unit_id)
    person = get_visible_or_404(request.auth, Person.objects.all(), pk=payload.person_id)
    group = None
    if payload.group_id:
        group = (
            get_visible_or_404(request.auth, Unit.objects.all(), pk=unit_id)
            .groups.filter(pk=payload.group_id)
            .first()
        )
        if group is None:
            raise services.UnitError("group_unknown", _("No such class or team in this unit."), "group_id")
    entry = services.add_to_roster(
        actor=Actor.from_api(request),
        unit=unit,
        person=person,
        role=payload.role,
        group=group,
        started_on=payload.started_on,
    )
    return Status(201, entry)
