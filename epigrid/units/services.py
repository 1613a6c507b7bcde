"""The only writers of units, groups and rosters (R1.3)."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum import exceptions as stdnum_errors
from stdnum.cn import uscc as uscc_number

from epigrid.accounts.audit import Actor, record
from epigrid.accounts.scoping import division_in_scope
from epigrid.lib import identity
from epigrid.lib.chinatime import local_date
from epigrid.lib.crypto import cipher
from epigrid.lib.errors import Conflict, DomainError
from epigrid.units.models import USCC_REQUIRED, RosterEntry, RosterRole, Unit, UnitGroup, UnitKind

CONTACT_PHONE_FIELD = "unit.contact_phone"


class UnitError(DomainError):
    pass


@dataclass
class UnitInput:
    kind: str
    name: str
    division_code: str
    address: str = ""
    uscc: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    staff_count: int = 0


def _clean_uscc(kind: str, value: str) -> str:
    value = (value or "").strip().upper()
    if not value:
        if kind in USCC_REQUIRED:
            raise UnitError(
                "uscc_missing", _("This kind of unit needs its unified social credit code."), "uscc"
            )
        return ""
    try:
        return uscc_number.validate(value)
    except stdnum_errors.InvalidChecksum:
        raise UnitError("uscc_checksum", _("The check character of the credit code does not match."), "uscc")
    except stdnum_errors.ValidationError:
        raise UnitError("uscc_format", _("A unified social credit code has 18 digits and letters."), "uscc")


def _check_division(actor: Actor, code: str) -> None:
    from epigrid.regions.models import Division

    exists = bool(code) and Division.objects.filter(code=code).exists()
    if not exists or (actor.user is not None and not division_in_scope(actor.user, code)):
        raise UnitError("division_unknown", _("Choose a division that exists."), "division_code")


def unit_columns(data: UnitInput, *, row) -> dict:
    """The columns of the unit whose id is `row` (bound into the phone's ciphertext)."""
    if data.kind not in UnitKind.values:
        raise UnitError("kind_invalid", _("Choose one of the unit kinds."), "kind")
    name = (data.name or "").strip()
    if not name:
        raise UnitError("name_missing", _("The unit name is required."), "name")
    phone_enc, phone_masked = None, ""
    if data.contact_phone:
        try:
            phone = identity.normalise_phone(data.contact_phone)
        except identity.InvalidIdentity as exc:
            raise UnitError(exc.code, exc.message, "contact_phone")
        phone_enc = cipher().encrypt(CONTACT_PHONE_FIELD, phone, row=row)
        phone_masked = identity.mask_phone(phone)
    if data.staff_count is not None and data.staff_count < 0:
        raise UnitError("staff_count_negative", _("The number of people cannot be negative."), "staff_count")
    return {
        "kind": data.kind,
        "name": name[:128],
        "division_code": data.division_code,
        "address": (data.address or "").strip()[:255],
        "uscc": _clean_uscc(data.kind, data.uscc),
        "contact_name": (data.contact_name or "").strip()[:64],
        "contact_phone_enc": phone_enc,
        "contact_phone_masked": phone_masked,
        "staff_count": data.staff_count or 0,
    }


def create_unit(*, actor: Actor, data: UnitInput) -> Unit:
    pk = uuid.uuid4()
    columns = unit_columns(data, row=pk)
    _check_division(actor, data.division_code)
    with transaction.atomic():
        if columns["uscc"] and Unit.objects.filter(uscc=columns["uscc"], kind=data.kind).exists():
            raise Conflict("unit_exists", _("A unit with this credit code is already registered."), "uscc")
        unit = Unit.objects.create(id=pk, **columns)
        record(
            actor,
            "create",
            object_type="unit",
            object_id=unit.pk,
            division_code=unit.division_code,
            fields=[k for k, v in columns.items() if v not in ("", None, 0) and not k.endswith("_masked")],
        )
    return unit


def add_group(*, actor: Actor, unit: Unit, kind: str, name: str, grade: int | None = None) -> UnitGroup:
    name = (name or "").strip()
    if not name:
        raise UnitError("name_missing", _("The class or team name is required."), "name")
    if kind not in UnitGroup.Kind.values:
        raise UnitError("kind_invalid", _("Choose class, team, department or building."), "kind")
    with transaction.atomic():
        if UnitGroup.objects.filter(unit=unit, name=name).exists():
            raise Conflict("group_exists", _("This unit already has a class or team with that name."), "name")
        group = UnitGroup.objects.create(unit=unit, kind=kind, name=name, grade=grade)
        record(
            actor,
            "create",
            object_type="unit_group",
            object_id=group.pk,
            division_code=unit.division_code,
            fields=["kind", "name", "grade"],
        )
    return group


def add_to_roster(
    *,
    actor: Actor,
    unit: Unit,
    person,
    role: str,
    group: UnitGroup | None = None,
    started_on: date | None = None,
) -> RosterEntry:
    if role not in RosterRole.values:
        raise UnitError(
            "role_invalid", _("Choose employee, student, teacher, resident, staff, patient or guest."), "role"
        )
    if group is not None and group.unit_id != unit.pk:
        raise UnitError("group_other_unit", _("The class or team belongs to another unit."), "group")
    if person.is_merged:
        raise Conflict("person_merged", _("This record was merged; use the surviving record."), "person")
    with transaction.atomic():
        if RosterEntry.objects.filter(unit=unit, person=person, role=role, ended_on__isnull=True).exists():
            raise Conflict("roster_exists", _("This person is already on the roster in this role."), "person")
        entry = RosterEntry.objects.create(
            unit=unit,
            person=person,
            role=role,
            group=group,
            division_code=unit.division_code,
            started_on=started_on or date.today(),
        )
        record(
            actor,
            "create",
            object_type="roster_entry",
            object_id=entry.pk,
            division_code=unit.division_code,
            fields=["unit", "person", "role", "group"],
        )
    return entry


def end_roster_entry(*, actor: Actor, entry: RosterEntry, ended_on: date | None = None) -> RosterEntry:
    with transaction.atomic():
        entry = RosterEntry.objects.select_for_update().get(pk=entry.pk)
        if entry.ended_on is not None:
            return entry
        entry.ended_on = ended_on or date.today()
        if entry.ended_on < entry.started_on:
            raise UnitError("ended_before_start", _("The end date is before the start date."), "ended_on")
        entry.save(update_fields=["ended_on"])
        record(
            actor,
            "update",
            object_type="roster_entry",
            object_id=entry.pk,
            division_code=entry.division_code,
            fields=["ended_on"],
        )
    return entry


def merge_roster(*, survivor, merged, at: datetime | None = None) -> int:
    """A people merge (`RosterEntry.on_person_merge`): current entries move to the survivor
    unless the survivor already holds the same place; then the merged record's entry is ended
    on the merge's China calendar day instead, so the roster keeps one line per person."""
    ended_on = local_date(at or timezone.now())
    held = set(
        RosterEntry.objects.filter(person=survivor, ended_on__isnull=True).values_list("unit_id", "role")
    )
    moved = 0
    for entry in RosterEntry.objects.filter(person=merged):
        if entry.ended_on is None and (entry.unit_id, entry.role) in held:
            entry.ended_on = ended_on
            entry.person = survivor
            entry.save(update_fields=["ended_on", "person"])
        else:
            entry.person = survivor
            entry.save(update_fields=["person"])
        moved += 1
    return moved
