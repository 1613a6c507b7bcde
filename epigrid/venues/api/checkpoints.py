"""Road checkpoints (R5.2, R5.3): checkpoints, shifts, vehicle records and recent passes.

A device records vehicles offline and uploads its queue: every vehicle and occupant carries
an id made on the device, so sending the same queue again stores nothing twice (`new` is
false for those). The answer gives per occupant a colour, the masked name and what the rules
ask: never an ID number.
"""

from datetime import datetime
from typing import Literal
from uuid import UUID

from django.utils import timezone
from ninja import Query, Router, Schema, Status
from pydantic import Field

from epigrid.accounts.apiauth import requires
from epigrid.accounts.audit import Actor
from epigrid.accounts.models import User
from epigrid.accounts.roles import Perm
from epigrid.lib.errors import DomainError, NotFound
from epigrid.venues import gate
from epigrid.venues.models import CheckpointShift, VehiclePass
from epigrid.venues.services import checkpoints as service

router = Router(tags=["venues"])


class CheckpointOut(Schema):
    id: UUID
    name: str
    kind: str
    kind_label: str
    division_code: str
    road: str
    direction: str
    active: bool


class CheckpointIn(Schema):
    name: str = Field(max_length=128)
    kind: Literal["expressway", "national_road", "cross_region", "station"]
    division_code: str = Field(max_length=15, description="the town or community the checkpoint lies in")
    road: str = Field("", max_length=64)
    direction: str = Field("", max_length=64)


class ShiftIn(Schema):
    starts_at: datetime
    ends_at: datetime
    staff: list[str] = Field(default_factory=list, max_length=50, description="user names of the staff")
    note: str = Field("", max_length=255)


class ShiftOut(Schema):
    id: UUID
    checkpoint_id: UUID
    starts_at: datetime
    ends_at: datetime
    staff: list[str]
    note: str


class CheckpointOccupantIn(Schema):
    id: UUID | None = Field(None, description="made on the device; a re-sent record keeps it")
    temperature: float = Field(description="°C, one decimal: every person is measured (KS10-9)")
    documents: list[Literal["id_card", "residence_permit", "work_permit"]] = Field(
        default_factory=list, max_length=3
    )
    token: str = Field("", max_length=400, description="the health code scanned (`HCT1:…`), verified here")
    code_id: str = Field("", max_length=36, description="or the code id a device verified offline")
    document_number: str = Field(
        "", max_length=32, description="or the ID number, typed or read from the card"
    )
    name: str = Field(
        "", max_length=64, description="with residence_code: registers a person not yet registered"
    )
    residence_code: str = Field("", max_length=15, description="the division the person lives in")
    colour_seen: Literal["green", "yellow", "red", ""] = ""
    is_driver: bool = False


class CheckpointVehicleIn(Schema):
    id: UUID = Field(description="made on the device when the vehicle was recorded")
    checkpoint_id: UUID
    passed_at: datetime = Field(description="with its zone, e.g. 2026-12-02T09:30:00+08:00")
    plate: str = Field("", max_length=16, description="empty for a person on foot")
    origin_code: str = Field("", max_length=12, description="the division the vehicle comes from")
    origin_text: str = Field("", max_length=128)
    route: str = Field("", max_length=255)
    occupants: list[CheckpointOccupantIn] = Field(max_length=service.MAX_OCCUPANTS)
    device_id: str = Field("", max_length=64)


class CheckpointVehicleBatchIn(Schema):
    vehicles: list[CheckpointVehicleIn] = Field(max_length=service.MAX_VEHICLES)


class CheckpointActionOut(Schema):
    code: str
    zh_hans: str = Field(alias="zh-hans")
    en: str


class CheckpointOccupantOut(Schema):
    id: UUID
    colour: str
    holder: str = Field(description="the person's name, masked; empty when unknown")
    registered: bool
    admitted: bool
    fever: bool
    hubei_related: bool
    actions: list[CheckpointActionOut]


class CheckpointVehicleOut(Schema):
    id: UUID
    checkpoint_id: UUID
    plate: str
    passed_at: datetime
    admitted: bool
    new: bool = Field(description="false when an earlier upload stored this vehicle")
    occupants: list[CheckpointOccupantOut]


class CheckpointVehicleBatchOut(Schema):
    stored: int
    duplicates: int
    vehicles: list[CheckpointVehicleOut]


class CheckpointPassesOut(Schema):
    vehicles: list[CheckpointVehicleOut]


def _checkpoint_out(c) -> dict:
    return {
        "id": c.pk,
        "name": c.name,
        "kind": c.kind,
        "kind_label": c.get_kind_display(),
        "division_code": c.division_code,
        "road": c.road,
        "direction": c.direction,
        "active": c.active,
    }


def _action(code: str) -> dict:
    zh, en = gate.ACTIONS[code]
    return {"code": code, "zh-hans": zh, "en": en}


def _vehicle_out(v: service.VehicleResult) -> dict:
    return {
        "id": v.id,
        "checkpoint_id": v.checkpoint_id,
        "plate": v.plate,
        "passed_at": v.passed_at,
        "admitted": v.admitted,
        "new": v.new,
        "occupants": [
            {
                "id": o.id,
                "colour": o.colour,
                "holder": o.holder,
                "registered": o.registered,
                "admitted": o.admitted,
                "fever": o.fever,
                "hubei_related": o.hubei_related,
                "actions": [_action(a) for a in o.actions if a in gate.ACTIONS],
            }
            for o in v.occupants
        ],
    }


def _visible(request, checkpoint_id):
    checkpoint = service.visible_checkpoints(request.auth).filter(pk=checkpoint_id).first()
    if checkpoint is None:
        raise NotFound("checkpoint_unknown", "No such checkpoint.", "checkpoint_id")
    return checkpoint


@router.get("/checkpoints", response=list[CheckpointOut], summary="Checkpoints open to me")
@requires()
def list_checkpoints(request):
    return [
        _checkpoint_out(c)
        for c in service.visible_checkpoints(request.auth).order_by("division_code", "name")[:500]
    ]


@router.post("/checkpoints", response={201: CheckpointOut}, summary="Create a checkpoint")
@requires(Perm.CHECKPOINTS_MANAGE)
def create_checkpoint(request, payload: CheckpointIn):
    checkpoint = service.create_checkpoint(
        actor=Actor.from_api(request), data=service.CheckpointInput(**payload.dict())
    )
    return Status(201, _checkpoint_out(checkpoint))


def _shift_out(s: CheckpointShift) -> dict:
    return {
        "id": s.pk,
        "checkpoint_id": s.checkpoint_id,
        "starts_at": s.starts_at,
        "ends_at": s.ends_at,
        "staff": [u.username for u in s.staff.all()],
        "note": s.note,
    }


@router.get("/checkpoints/{checkpoint_id}/shifts", response=list[ShiftOut], summary="A checkpoint's shifts")
@requires()
def list_shifts(request, checkpoint_id: UUID):
    checkpoint = _visible(request, checkpoint_id)
    return [_shift_out(s) for s in checkpoint.shifts.prefetch_related("staff")[:100]]


@router.post("/checkpoints/{checkpoint_id}/shifts", response={201: ShiftOut}, summary="Open a shift")
@requires(Perm.CHECKPOINTS_MANAGE)
def open_shift(request, checkpoint_id: UUID, payload: ShiftIn):
    checkpoint = _visible(request, checkpoint_id)
    staff = list(User.objects.filter(username__in=payload.staff, is_active=True))
    if len(staff) != len(set(payload.staff)):
        raise DomainError("staff_unknown", "Some of these accounts do not exist.", "staff")
    shift = service.open_shift(
        actor=Actor.from_api(request),
        checkpoint=checkpoint,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        staff=staff,
        note=payload.note,
    )
    return Status(201, _shift_out(shift))


@router.post(
    "/checkpoints/vehicles", response={201: CheckpointVehicleBatchOut}, summary="Upload checked vehicles"
)
@requires()
def upload_vehicles(request, payload: CheckpointVehicleBatchIn):
    items = [
        service.VehicleInput(
            id=v.id,
            checkpoint_id=v.checkpoint_id,
            passed_at=v.passed_at,
            plate=v.plate,
            origin_code=v.origin_code,
            origin_text=v.origin_text,
            route=v.route,
            device_id=v.device_id,
            occupants=[
                service.OccupantInput(
                    id=o.id,
                    temperature=o.temperature,
                    documents=tuple(o.documents),
                    token=o.token,
                    code_id=o.code_id,
                    document_number=o.document_number,
                    name=o.name,
                    residence_code=o.residence_code,
                    colour_seen=o.colour_seen,
                    is_driver=o.is_driver,
                )
                for o in v.occupants
            ],
        )
        for v in payload.vehicles
    ]
    results = service.record_vehicles(actor=Actor.from_api(request), items=items)
    stored = sum(1 for r in results if r.new)
    return Status(
        201,
        {
            "stored": stored,
            "duplicates": len(results) - stored,
            "vehicles": [_vehicle_out(r) for r in results],
        },
    )


class PassesQuery(Schema):
    since: datetime | None = Field(None, description="default: the start of today (China time)")
    limit: int = Field(50, ge=1, le=200)


@router.get(
    "/checkpoints/{checkpoint_id}/passes",
    response=CheckpointPassesOut,
    summary="Recent vehicles at a checkpoint",
)
@requires()
def list_passes(request, checkpoint_id: UUID, query: Query[PassesQuery]):
    from epigrid.lib.chinatime import start_of_day

    checkpoint = _visible(request, checkpoint_id)
    since = query.since or start_of_day(timezone.localdate())
    passes = (
        VehiclePass.objects.filter(checkpoint=checkpoint, passed_at__gte=since)
        .order_by("-passed_at")
        .prefetch_related("occupants__person")[: query.limit]
    )
    return {
        "vehicles": [
            _vehicle_out(
                service.VehicleResult(
                    id=v.pk,
                    checkpoint_id=v.checkpoint_id,
                    plate=v.plate,
                    passed_at=v.passed_at,
                    admitted=v.admitted,
                    new=False,
                    occupants=[service.stored_answer(o) for o in v.occupants.all()],
                )
            )
            for v in passes
        ]
    }
