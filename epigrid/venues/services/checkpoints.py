"""Road checkpoints (道口、卡口、留置工作站): stations, shifts and the vehicles they stop
(R5.2, R5.3; KS10-9 to KS10-12, JS79-8).

`record_vehicles` is the one writer of vehicle checks, for one car from the record page and
for a device's queue alike. Every vehicle and every occupant is checked first (errors name the
field: `occupants[1].temperature`, or `vehicles[2].occupants[1].temperature` in a batch), then
the batch lands in one transaction with its audit row, its tasks and its reassessments. Ids
are made on the device: a vehicle already stored is answered as it was stored, never twice.

Each occupant goes through the gate rules (`gate.decide`, place "checkpoint"): a non-local
person without documents is refused (KS10-10), a Hubei-related one or one with fever is
registered, their home community told and a transfer or an ambulance asked (KS10-11, KS10-12),
and the work the rules name becomes tasks for the grid workers of the person's community.
KS10-9 (每人必测) is the record itself: an occupant without a temperature is refused here.

What staff get back is a colour, a masked name and the actions: never an ID number.
Stations and shifts live in `checkpoint_stations` (re-exported here), who is in the car in
`checkpoint_people`, the tasks and reassessments in `checkpoint_follow_up`.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor, record
from epigrid.lib import identity
from epigrid.lib.chinatime import local_date
from epigrid.lib.errors import DomainError, ErrorCollector, NotFound
from epigrid.venues import gate
from epigrid.venues.models import (
    Checkpoint,
    Document,
    Occupant,
    VehiclePass,
)
from epigrid.venues.services.access import check_can_record_at_checkpoint
from epigrid.venues.services.checkpoint_follow_up import follow_up
from epigrid.venues.services.checkpoint_people import (
    HUBEI,
    CheckpointError,
    Who,
    as_uuid,
    find_people,
    is_hubei_id,
    recent_hubei,
)
from epigrid.venues.services.checkpoint_stations import (
    CheckpointInput,
    create_checkpoint,
    open_shift,
    shift_at,
    visible_checkpoints,
)
from epigrid.venues.services.entries import CLOCK_SKEW, _temperature

MAX_VEHICLES = 500
MAX_OCCUPANTS = 60  # a coach
PLATE = re.compile(r"^[\u4e00-\u9fffA-Z0-9·]{2,12}$")


# --- vehicles ---------------------------------------------------------------------------


@dataclass
class OccupantInput:
    """One person in the vehicle. Exactly one of `token` (a health code scanned, verified
    here), `code_id` (a code the device verified offline) and `document_number` names them.
    A number nobody registered is registered with `name` and `residence_code` (their home
    division) when both are given; otherwise the check is kept without a person."""

    temperature: object = None
    documents: tuple[str, ...] = ()
    token: str = ""
    code_id: str = ""
    document_number: str = ""
    name: str = ""
    residence_code: str = ""
    colour_seen: str = ""
    is_driver: bool = False
    id: object = None


@dataclass
class VehicleInput:
    checkpoint_id: object
    passed_at: datetime
    plate: str = ""  # blank for a person on foot
    origin_code: str = ""
    origin_text: str = ""
    route: str = ""
    occupants: list[OccupantInput] = field(default_factory=list)
    id: object = None
    device_id: str = ""


@dataclass
class OccupantResult:
    id: uuid.UUID
    colour: str
    holder: str  # the masked name, "" when unknown
    registered: bool  # a person of the registry (found or registered now)
    admitted: bool
    fever: bool
    hubei_related: bool
    actions: tuple[str, ...]
    steps: list


@dataclass
class VehicleResult:
    id: uuid.UUID
    checkpoint_id: uuid.UUID
    plate: str
    passed_at: datetime
    admitted: bool
    new: bool
    occupants: list[OccupantResult]


def _plate(value: str) -> str:
    return re.sub(r"[\s\-·.]", "", str(value or "")).upper()


def _check_vehicle(item: VehicleInput, where: str, now: datetime, errors: ErrorCollector, divisions) -> None:
    if item.id not in (None, "") and as_uuid(item.id) is None:
        errors.add(
            CheckpointError("id_invalid", _("A record id is a UUID made on the device."), f"{where}id")
        )
    if item.passed_at.tzinfo is None:
        errors.add(
            CheckpointError(
                "time_naive", _("A time needs its zone (for example +08:00)."), f"{where}passed_at"
            )
        )
    elif item.passed_at > now + CLOCK_SKEW:
        errors.add(CheckpointError("time_future", _("The time lies in the future."), f"{where}passed_at"))
    plate = _plate(item.plate)
    if plate and not PLATE.match(plate):
        errors.add(CheckpointError("plate_invalid", _("This is not a number plate."), f"{where}plate"))
    if item.origin_code and item.origin_code not in divisions:
        errors.add(
            CheckpointError(
                "origin_unknown", _("Choose where the vehicle comes from."), f"{where}origin_code"
            )
        )
    if len(item.origin_text or "") > 128 or len(item.route or "") > 255:
        errors.add(CheckpointError("text_length", _("The text is too long."), f"{where}route"))
    if not item.occupants:
        errors.add(
            CheckpointError(
                "occupants_missing", _("Record every person in the vehicle."), f"{where}occupants"
            )
        )
    elif len(item.occupants) > MAX_OCCUPANTS:
        errors.add(
            CheckpointError(
                "occupants_too_many",
                _("At most %(n)s people in one vehicle.") % {"n": MAX_OCCUPANTS},
                f"{where}occupants",
            )
        )
    for i, occ in enumerate(item.occupants):
        at = f"{where}occupants[{i}]."
        # 每人必测 (KS10-9): a person not measured has not been checked
        if occ.temperature in (None, ""):
            errors.add(
                CheckpointError(
                    "temperature_missing", _("Measure every person's temperature."), f"{at}temperature"
                )
            )
        else:
            try:
                _temperature(occ.temperature, at.rstrip("."))
            except DomainError as exc:
                errors.add(exc)
        unknown = set(occ.documents or ()) - set(Document.values)
        if unknown:
            errors.add(CheckpointError("document_unknown", _("Unknown document."), f"{at}documents"))
        if occ.colour_seen not in ("", "green", "yellow", "red"):
            errors.add(CheckpointError("colour_invalid", _("Unknown colour."), f"{at}colour_seen"))
        if sum(bool(x) for x in (occ.token, occ.code_id, occ.document_number, occ.name)) == 0:
            errors.add(
                CheckpointError(
                    "person_missing", _("Scan the person's code or type their ID number."), f"{at}person"
                )
            )
        elif occ.token and (occ.code_id or occ.document_number):
            errors.add(CheckpointError("person_twice", _("Name the person one way only."), f"{at}person"))
        if occ.residence_code and occ.residence_code not in divisions:
            errors.add(
                CheckpointError(
                    "residence_unknown", _("Choose where the person lives."), f"{at}residence_code"
                )
            )
        if occ.id not in (None, "") and as_uuid(occ.id) is None:
            errors.add(
                CheckpointError("id_invalid", _("A record id is a UUID made on the device."), f"{at}id")
            )


def _prefix_for(single: bool):
    return (lambda j: "") if single else (lambda j: f"vehicles[{j}].")


def _checkpoints(items, actor: Actor, prefix, errors: ErrorCollector) -> dict:
    found = {
        c.pk: c
        for c in Checkpoint.objects.filter(
            pk__in=[as_uuid(i.checkpoint_id) for i in items if as_uuid(i.checkpoint_id)]
        )
    }
    for j, item in enumerate(items):
        checkpoint = found.get(as_uuid(item.checkpoint_id))
        where = f"{prefix(j)}checkpoint_id"
        if checkpoint is None or not checkpoint.active:
            errors.add(NotFound("checkpoint_unknown", _("No such checkpoint."), where))
        else:
            errors.check(check_can_record_at_checkpoint, actor, checkpoint, field=where)
    return found


def _divisions(items) -> dict[str, str]:
    from epigrid.regions.models import Division

    codes = {i.origin_code for i in items if i.origin_code}
    codes |= {o.residence_code for i in items for o in i.occupants if o.residence_code}
    return dict(Division.objects.filter(code__in=list(codes)).values_list("code", "name_zh"))


def record_vehicle(*, actor: Actor, item: VehicleInput, at: datetime | None = None) -> VehicleResult:
    """One vehicle from the record page: errors name `occupants[i].field`."""
    return _record(actor, [item], at, single=True)[0]


def record_vehicles(
    *, actor: Actor, items: list[VehicleInput], at: datetime | None = None
) -> list[VehicleResult]:
    """A device's queue of vehicles, whole or not at all: errors name `vehicles[j]…`."""
    if len(items) > MAX_VEHICLES:
        raise CheckpointError(
            "batch_too_large", _("At most %(n)s vehicles at a time.") % {"n": MAX_VEHICLES}, "vehicles"
        )
    return _record(actor, items, at, single=False)


def _record(actor: Actor, items: list[VehicleInput], at, *, single: bool) -> list[VehicleResult]:
    now = at or timezone.now()
    if not items:
        return []
    prefix = _prefix_for(single)
    errors = ErrorCollector()
    checkpoints = _checkpoints(items, actor, prefix, errors)
    divisions = _divisions(items)
    for j, item in enumerate(items):
        _check_vehicle(item, prefix(j), now, errors, divisions)
    errors.raise_any()
    people = find_people(items, prefix, errors)
    errors.raise_any()
    ids = [as_uuid(i.id) or uuid.uuid4() for i in items]
    stored = set(VehiclePass.objects.filter(pk__in=ids).values_list("pk", flat=True))
    fresh = [j for j in range(len(items)) if ids[j] not in stored]
    travelled = recent_hubei(
        {people[(j, i)].person_id for j in fresh for i in range(len(items[j].occupants))} - {None}, now
    )
    plans = {
        j: _plan(items[j], checkpoints[as_uuid(items[j].checkpoint_id)], people, j, travelled) for j in fresh
    }
    with transaction.atomic():
        _register_new(actor, plans)
        passes, occupants = _rows(actor, items, ids, plans, checkpoints, divisions, now)
        VehiclePass.objects.bulk_create(passes)
        Occupant.objects.bulk_create(occupants)
        if passes:
            record(
                actor,
                # the audit log's own vocabulary: one vehicle is created, a device's queue imported
                "create" if single else "import",
                object_type="vehicle_pass",
                object_id=str(passes[0].pk) if len(passes) == 1 else "",
                division_code=passes[0].division_code,
                fields=["vehicles", "occupants"],
                note=f"{len(passes)} vehicles, {len(occupants)} people, "
                f"{len(ids) - len(passes)} already stored",
                at=now,
            )
            follow_up(actor, passes, occupants, plans, checkpoints, now)
    return _answers(items, ids, stored, plans)


@dataclass
class _Planned:
    who: Who
    occupant: OccupantInput
    reading: Decimal
    colour: str
    local: bool
    hubei: bool
    decision: gate.GateDecision
    id: uuid.UUID


def _plan(item: VehicleInput, checkpoint: Checkpoint, people, j: int, travelled: set) -> list[_Planned]:
    plate = _plate(item.plate)
    origin_hubei = bool(item.origin_code) and item.origin_code.startswith(HUBEI)
    out = []
    for i, occ in enumerate(item.occupants):
        who = people[(j, i)]
        reading = _temperature(occ.temperature, f"occupants[{i}]")
        colour = who.colour if occ.token or occ.code_id else (occ.colour_seen or who.colour)
        hubei = (
            origin_hubei
            or who.division_code.startswith(HUBEI)
            or is_hubei_id(who.number)
            or who.hubei_code
            or (who.person_id is not None and str(who.person_id) in travelled)
        )
        decision = gate.decide(
            gate.Observation(
                place="checkpoint",
                temperature=reading,
                colour=colour,
                division_code=who.division_code,
                documents=frozenset(occ.documents or ()),
                hubei_related=hubei,
                has_vehicle=bool(plate),
                place_division=checkpoint.division_code,
            ),
            local_date(item.passed_at),
        )
        out.append(
            _Planned(
                who=who,
                occupant=occ,
                reading=reading,
                colour=colour,
                local=bool(who.division_code) and who.division_code.startswith(checkpoint.division_code[:6]),
                hubei=hubei,
                decision=decision,
                id=as_uuid(occ.id) or uuid.uuid4(),
            )
        )
    return out


def _register_new(actor: Actor, plans: dict) -> None:
    """People not in the registry who stated their home: registered in the batch's
    transaction. The checkpoint registers them for the authority (its staff hold no scope
    over a traveller's home), and the batch's own audit row names the staff member."""
    from epigrid.people.services import PersonInput, register_person

    on_behalf = Actor(user=None, via="checkpoint", ip=actor.ip)
    made: dict[str, uuid.UUID] = {}
    for planned in (p for plan in plans.values() for p in plan):
        who = planned.who
        if not who.register:
            continue
        if who.number not in made:
            person = register_person(
                actor=on_behalf,
                data=PersonInput(
                    doc_type=identity.RESIDENT_ID,
                    id_number=who.number,
                    name=who.name,
                    division_code=who.division_code,
                    source="manual",  # entered by (checkpoint) staff: a SOURCE_LABELS key
                ),
            )
            made[who.number] = person.pk
        who.person_id = made[who.number]
        who.register = False


def _rows(actor: Actor, items, ids, plans: dict, checkpoints: dict, divisions: dict, now: datetime):
    user = actor.user
    passes, occupants = [], []
    for j, plan in plans.items():
        item = items[j]
        checkpoint = checkpoints[as_uuid(item.checkpoint_id)]
        vehicle = VehiclePass(
            id=ids[j],
            checkpoint=checkpoint,
            shift=shift_at(checkpoint, item.passed_at, user),
            plate=_plate(item.plate),
            origin_code=item.origin_code or "",
            origin_text=((item.origin_text or "").strip() or divisions.get(item.origin_code, ""))[:128],
            route=(item.route or "").strip()[:255],
            passed_at=item.passed_at,
            admitted=all(p.decision.admit for p in plan),
            division_code=checkpoint.division_code,
            recorded_by=user,
            device_id=(item.device_id or "")[:64],
            received_at=now,
        )
        passes.append(vehicle)
        for p in plan:
            occupants.append(
                Occupant(
                    id=p.id,
                    vehicle=vehicle,
                    person_id=p.who.person_id,
                    is_driver=bool(p.occupant.is_driver),
                    documents=sorted(set(p.occupant.documents or ())),
                    temperature=p.reading,
                    colour_seen=p.colour,
                    local=p.local,
                    hubei_related=p.hubei,
                    admitted=p.decision.admit,
                    actions=p.decision.as_record(),
                    passed_at=item.passed_at,
                    division_code=checkpoint.division_code,
                )
            )
    return passes, occupants


def _answers(items, ids, stored: set, plans: dict) -> list[VehicleResult]:
    old = {
        v.pk: v
        for v in VehiclePass.objects.filter(pk__in=[i for i in ids if i in stored]).prefetch_related(
            "occupants__person"
        )
    }
    out = []
    for j, vehicle_id in enumerate(ids):
        if vehicle_id in old:
            v = old[vehicle_id]
            out.append(
                VehicleResult(
                    id=v.pk,
                    checkpoint_id=v.checkpoint_id,
                    plate=v.plate,
                    passed_at=v.passed_at,
                    admitted=v.admitted,
                    new=False,
                    occupants=[stored_answer(o) for o in v.occupants.all()],
                )
            )
            continue
        plan, item = plans[j], items[j]
        out.append(
            VehicleResult(
                id=vehicle_id,
                checkpoint_id=as_uuid(item.checkpoint_id),
                plate=_plate(item.plate),
                passed_at=item.passed_at,
                admitted=all(p.decision.admit for p in plan),
                new=True,
                occupants=[
                    OccupantResult(
                        id=p.id,
                        colour=p.colour,
                        holder=identity.mask_name(p.who.name) if p.who.name else "",
                        registered=p.who.person_id is not None,
                        admitted=p.decision.admit,
                        fever=p.decision.fever,
                        hubei_related=p.hubei,
                        actions=p.decision.actions,
                        steps=p.decision.as_record(),
                    )
                    for p in plan
                ],
            )
        )
    return out


def stored_answer(o: Occupant) -> OccupantResult:
    actions = tuple(dict.fromkeys(a for s in o.actions for a in s["actions"]))
    return OccupantResult(
        id=o.pk,
        colour=o.colour_seen,
        holder=identity.mask_name(o.person.name) if o.person_id else "",
        registered=o.person_id is not None,
        admitted=o.admitted,
        fever=o.temperature is not None and o.temperature >= Decimal("37.3"),
        hubei_related=o.hubei_related,
        actions=actions,
        steps=o.actions,
    )


__all__ = [
    "CheckpointError",
    "CheckpointInput",
    "OccupantInput",
    "VehicleInput",
    "create_checkpoint",
    "open_shift",
    "record_vehicle",
    "record_vehicles",
    "shift_at",
    "stored_answer",
    "visible_checkpoints",
]
