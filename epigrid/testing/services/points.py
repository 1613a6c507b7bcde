"""Sampling points (R6.1, JS79-7): created or changed with their opening days, coordinates,
waiting place and the lab their tubes go to. Reading them is in `queries`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor, record
from epigrid.accounts.scoping import visible_to
from epigrid.testing.models import (
    PointKind,
    SamplingPoint,
)
from epigrid.testing.services.common import TestingError, active_lab, check_division
from epigrid.units.models import Unit


@dataclass
class PointInput:
    kind: str
    name: str
    address: str
    division_code: str
    active_from: date
    unit_id: object = None
    latitude: float | None = None
    longitude: float | None = None
    contact_name: str = ""
    phone: str = ""
    opening_hours: str = ""
    active_to: date | None = None
    waiting_place: str = ""
    lab_id: object = None


def _point_columns(actor: Actor, data: PointInput) -> dict:
    from epigrid.testing.geo import valid_coordinates

    if data.kind not in PointKind.values:
        raise TestingError("kind_invalid", _("Choose a kind of sampling point."), "kind")
    name = (data.name or "").strip()
    if not name:
        raise TestingError("name_missing", _("The name is required."), "name")
    address = (data.address or "").strip()
    if not address:
        raise TestingError(
            "address_missing", _("The address is required: people must find the point."), "address"
        )
    check_division(actor, data.division_code)
    if (data.latitude is None) != (data.longitude is None) or (
        data.latitude is not None and not valid_coordinates(data.latitude, data.longitude)
    ):
        raise TestingError(
            "coordinates_invalid", _("Give both latitude and longitude, or neither."), "latitude"
        )
    if data.active_to is not None and data.active_to < data.active_from:
        raise TestingError("dates_order", _("The point closes before it opens."), "active_to")
    unit = None
    if data.unit_id:
        unit = (
            visible_to(actor.user, Unit.objects.all()).filter(pk=data.unit_id).first()
            if actor.user
            else (Unit.objects.filter(pk=data.unit_id).first())
        )
        if unit is None:
            raise TestingError("unit_unknown", _("Choose a unit in your area."), "unit")
    phone = "".join(ch for ch in (data.phone or "") if ch.isdigit() or ch in "+-() ").strip()
    return {
        "kind": data.kind,
        "name": name[:128],
        "address": address[:255],
        "division_code": data.division_code,
        "unit": unit,
        "latitude": data.latitude,
        "longitude": data.longitude,
        "contact_name": (data.contact_name or "").strip()[:64],
        "phone": phone[:24],
        "opening_hours": (data.opening_hours or "").strip()[:128],
        "active_from": data.active_from,
        "active_to": data.active_to,
        "waiting_place": (data.waiting_place or "").strip()[:255],
        "lab": active_lab(data.lab_id),
    }


def save_point(*, actor: Actor, data: PointInput, point: SamplingPoint | None = None) -> SamplingPoint:
    """Create or change a sampling point (R6.1, JS79-7)."""
    columns = _point_columns(actor, data)
    now = timezone.now()
    with transaction.atomic():
        if point is None:
            point = SamplingPoint(created_at=now, updated_at=now, **columns)
            point.save()
            action, changed = "create", sorted(columns)
        else:
            changed = [k for k, v in columns.items() if getattr(point, k) != v]
            for key, value in columns.items():
                setattr(point, key, value)
            point.updated_at = now
            point.save()
            action = "update"
        record(
            actor,
            action,
            object_type="sampling_point",
            object_id=point.pk,
            division_code=point.division_code,
            fields=changed,
        )
    return point
