"""Venues: the owner registers, the community or town approves (R5.1, JX57-3.8), staff are
added. Approval issues the venue code (`codes.issue_code`)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor, record
from epigrid.accounts.roles import Perm, permissions_of
from epigrid.accounts.scoping import division_in_scope, scope_of
from epigrid.lib.errors import Conflict, DomainError, ErrorCollector, NotFound
from epigrid.venues.models import Venue, VenueStaff, VenueStatus, VenueType


class VenueError(DomainError):
    pass


@dataclass
class VenueInput:
    name: str
    type: str
    division_code: str
    address: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    capacity: int | None = None
    flow_limit: int | None = None
    requires_reservation: bool | None = None
    slot_minutes: int = 60
    slot_capacity: int | None = None
    owner_unit_id: object = None


def _perms(actor: Actor) -> frozenset:
    return permissions_of(getattr(actor.user, "role", "")) if actor.user is not None else frozenset()


def _check(actor: Actor, data: VenueInput) -> VenueType | None:
    from epigrid.regions.models import Division
    from epigrid.units.models import Unit

    errors = ErrorCollector()
    if not (data.name or "").strip():
        errors.add(VenueError("name_missing", _("Give the venue's name."), "name"))
    venue_type = VenueType.objects.filter(code=data.type).first()
    if venue_type is None:
        errors.add(VenueError("type_unknown", _("Choose the kind of venue."), "type"))
    division = Division.objects.filter(code=data.division_code).first()
    owner = Unit.objects.filter(pk=data.owner_unit_id).first() if data.owner_unit_id else None
    in_scope = (
        actor.user is None
        or division_in_scope(actor.user, data.division_code)
        or (owner is not None and owner.pk in scope_of(actor.user).unit_ids)
    )
    if division is None or len(division.code) < 12 or not in_scope:
        errors.add(
            VenueError(
                "division_unknown", _("Choose the community or grid cell the venue lies in."), "division_code"
            )
        )
    if data.owner_unit_id and owner is None:
        errors.add(VenueError("unit_unknown", _("No such unit."), "owner_unit_id"))
    if data.latitude is not None and not Decimal(-90) <= Decimal(data.latitude) <= Decimal(90):
        errors.add(VenueError("latitude_range", _("A latitude lies between -90 and 90."), "latitude"))
    if data.longitude is not None and not Decimal(-180) <= Decimal(data.longitude) <= Decimal(180):
        errors.add(VenueError("longitude_range", _("A longitude lies between -180 and 180."), "longitude"))
    for name in ("capacity", "flow_limit", "slot_capacity"):
        value = getattr(data, name)
        if value is not None and value < 1:
            errors.add(VenueError(f"{name}_range", _("Give a number of people, at least 1."), name))
    if data.slot_minutes is not None and not 5 <= data.slot_minutes <= 24 * 60:
        errors.add(
            VenueError("slot_minutes_range", _("A slot lasts from 5 minutes to a day."), "slot_minutes")
        )
    errors.raise_any()
    return venue_type


def can_decide(user, venue: Venue) -> bool:
    """Approvers (the community or town) whose scope holds the venue's division."""
    return (
        user is not None
        and Perm.VENUES_APPROVE in permissions_of(getattr(user, "role", ""))
        and division_in_scope(user, venue.division_code)
    )


def can_manage(user, venue: Venue) -> bool:
    """Who may add staff and have a new code issued: the owner's side (who may register
    venues, and sees this one) and the venue's approvers. Callers have already found the venue
    through `visible_to`."""
    perms = permissions_of(getattr(user, "role", "")) if user is not None else frozenset()
    return Perm.VENUES_REGISTER in perms or can_decide(user, venue)


def register_venue(*, actor: Actor, data: VenueInput, at=None) -> Venue:
    """The owner (or staff for them) registers a venue; it waits for approval."""
    now = at or timezone.now()
    if actor.user is not None and Perm.VENUES_REGISTER not in _perms(actor):
        raise NotFound("venue_unknown", _("No such venue."), None)
    venue_type = _check(actor, data)
    with transaction.atomic():
        venue = Venue.objects.create(
            name=data.name.strip()[:128],
            type=venue_type,
            division_code=data.division_code,
            address=(data.address or "").strip()[:255],
            latitude=data.latitude,
            longitude=data.longitude,
            capacity=data.capacity,
            flow_limit=data.flow_limit,
            requires_reservation=venue_type.reservation_default
            if data.requires_reservation is None
            else data.requires_reservation,
            slot_minutes=data.slot_minutes or 60,
            slot_capacity=data.slot_capacity,
            owner_unit_id=data.owner_unit_id,
            registered_by=actor.user,
            created_at=now,
            updated_at=now,
        )
        record(
            actor,
            "create",
            object_type="venue",
            object_id=str(venue.pk),
            division_code=venue.division_code,
            fields=["name", "type", "division_code"],
            at=now,
        )
    return venue


def decide_venue(*, actor: Actor, venue: Venue, approve: bool, reason: str = "", at=None) -> Venue:
    """Approve a venue (its code is issued) or return it to its owner with the reason."""
    from epigrid.venues.services.codes import issue_code

    now = at or timezone.now()
    if actor.user is not None and (
        Perm.VENUES_APPROVE not in _perms(actor) or not division_in_scope(actor.user, venue.division_code)
    ):
        raise NotFound("venue_unknown", _("No such venue."), None)
    if venue.status == VenueStatus.APPROVED and approve:
        raise Conflict("venue_approved", _("The venue is already approved."), None)
    if not approve and not reason.strip():
        raise VenueError("reason_missing", _("Say why the venue goes back to its owner."), "reason")
    with transaction.atomic():
        venue.status = VenueStatus.APPROVED if approve else VenueStatus.RETURNED
        venue.status_reason = reason.strip()[:255]
        venue.decided_by = actor.user
        venue.decided_at = now
        venue.updated_at = now
        venue.save(update_fields=["status", "status_reason", "decided_by", "decided_at", "updated_at"])
        record(
            actor,
            "update",
            object_type="venue",
            object_id=str(venue.pk),
            division_code=venue.division_code,
            fields=["status", "status_reason"],
            note="approved" if approve else "returned",
            at=now,
        )
        if approve:
            issue_code(actor=actor, venue=venue, at=now)
    return venue


def add_staff(*, actor: Actor, venue: Venue, user, at=None) -> VenueStaff:
    now = at or timezone.now()
    with transaction.atomic():
        post, _created = VenueStaff.objects.get_or_create(venue=venue, user=user, defaults={"added_at": now})
        record(
            actor,
            "update",
            object_type="venue",
            object_id=str(venue.pk),
            division_code=venue.division_code,
            fields=["staff"],
            note=f"user {user.pk}",
            at=now,
        )
    return post
