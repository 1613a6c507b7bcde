"""Recording what a check on the ground found (R2.4, R2.5): the person found confirms the
arrival (a declaration, a person registered if needed), "left" and "wrong information" withdraw
the pushed or declared arrival's facts."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor, record
from epigrid.accounts.roles import Perm
from epigrid.accounts.scoping import scope_of
from epigrid.declarations import claims, places
from epigrid.declarations.models import (
    Channel,
    Declaration,
    DeclarationStatus,
    Kind,
    Outcome,
    PushedRow,
    Tip,
    TipStatus,
    VerificationStatus,
    VerificationTask,
)
from epigrid.declarations.services.common import reassess_persons, require
from epigrid.declarations.services.declarations import find_person, write_declaration
from epigrid.declarations.services.follow_up import follow_up
from epigrid.declarations.services.pushed_checks import ROW_ID_FIELD, ROW_PHONE_FIELD
from epigrid.declarations.services.verification import check_declaration, close_mirror
from epigrid.declarations.validation import DeclarationError, DeclarationInput, IdentityInput, validate
from epigrid.lib import identity
from epigrid.lib.crypto import cipher
from epigrid.lib.errors import Conflict, NotFound
from epigrid.people import services as people
from epigrid.people.models import Person, Status
from epigrid.rules import facts as rf


@dataclass
class FoundDetails:
    """What the worker records when they find the person: who they are (when the task had no
    registered person), and when and from where they arrived when the source did not say."""

    doc_type: str = ""
    id_number: str = ""
    name: str = ""
    phone: str = ""
    arrived_at: datetime | None = None
    origin: str = ""


def _may_verify(actor: Actor, task: VerificationTask) -> None:
    require(actor, Perm.VERIFY)
    scope = scope_of(actor.user)
    if not (scope.covers_division(task.division_code) or (task.unit_id and task.unit_id in scope.unit_ids)):
        raise NotFound("not_found", _("Not found."))


def complete_verification(
    *,
    actor: Actor,
    task: VerificationTask,
    outcome: str,
    notes: str = "",
    found: FoundDetails | None = None,
    at: datetime | None = None,
) -> VerificationTask:
    """Record what the check on the ground found (R2.4, R2.5). A person found confirms the
    arrival: the registry gets the person if needed and a confirmed declaration carries the
    arrival's facts, then the rules run. "Left" and "wrong information" withdraw the pushed
    arrival's facts; "not found" keeps them until someone knows more."""
    _may_verify(actor, task)
    if outcome not in Outcome.values:
        raise DeclarationError("outcome_invalid", _("Choose what you found."), "outcome")
    notes = str(notes or "").strip()
    if len(notes) > 2000:
        raise DeclarationError("notes_length", _("Notes are limited to 2,000 characters."), "notes")
    now = at or timezone.now()
    found = found or FoundDetails()
    with transaction.atomic():
        task = VerificationTask.objects.select_for_update().get(pk=task.pk)
        if task.status != VerificationStatus.OPEN:
            raise Conflict("task_closed", _("This check was already recorded."))
        result, reassess_ids = _apply_outcome(actor, task, outcome, found, now)
        _mark_done(actor, task, outcome, notes, result, now)
        if task.tip_id:
            Tip.objects.filter(pk=task.tip_id).update(status=TipStatus.CLOSED)
        close_mirror(actor, task, outcome, now)
        record(
            actor,
            "update",
            object_type="verification_task",
            object_id=task.pk,
            division_code=task.division_code,
            fields=["status", "outcome", "notes"],
            note=outcome,
        )
        reassess_persons(actor, dict.fromkeys(reassess_ids), now, "verification")
    return task


def _apply_outcome(
    actor: Actor, task: VerificationTask, outcome: str, found: FoundDetails, now: datetime
) -> tuple[Declaration | None, list]:
    """What the outcome does to the arrival checked: the declaration it confirms or withdraws,
    the pushed row whose facts stop counting. Returns the declaration recorded (when found) and
    the persons to reassess."""
    reassess_ids = []
    result = None
    row = task.pushed_row
    if outcome == Outcome.FOUND:
        result = _record_found(actor, task, found, now)
        if result.counted:
            reassess_ids.append(result.person_id)
        if row is not None and result.counted:
            row.excluded_from_facts = True  # the confirmed declaration carries the arrival now
            row.person_id = row.person_id or result.person_id
            row.save(update_fields=["excluded_from_facts", "person"])
            reassess_ids.append(row.person_id)
    elif row is not None and outcome in (Outcome.LEFT, Outcome.WRONG_INFO):
        row.excluded_from_facts = True
        row.save(update_fields=["excluded_from_facts"])
        reassess_ids.append(row.person_id)
    elif task.declaration_id and outcome in (Outcome.LEFT, Outcome.WRONG_INFO):
        declaration = task.declaration
        declaration.status = DeclarationStatus.WITHDRAWN
        declaration.withdrawn_at = now
        declaration.withdrawn_reason = f"verification: {outcome}"
        declaration.save(update_fields=["status", "withdrawn_at", "withdrawn_reason"])
    return result, reassess_ids


def _mark_done(
    actor: Actor, task: VerificationTask, outcome: str, notes: str, result: Declaration | None, now: datetime
) -> None:
    task.status = VerificationStatus.DONE
    task.outcome = outcome
    task.notes = notes
    task.verified_at = now
    task.verified_by = actor.user
    task.result_declaration = result
    if result is not None and result.counted and task.person_id is None:
        task.person_id = result.person_id
    task.save(
        update_fields=[
            "status",
            "outcome",
            "notes",
            "verified_at",
            "verified_by",
            "result_declaration",
            "person",
        ]
    )


def _record_found(actor: Actor, task: VerificationTask, found: FoundDetails, now: datetime) -> Declaration:
    if task.declaration_id:
        return _confirm_declared(actor, task.declaration, now)
    return _declare_found(actor, task, found, now)


def _confirm_declared(actor: Actor, declaration: Declaration, now: datetime) -> Declaration:
    """The person of an unconfirmed declaration was found: it counts from now."""
    declaration.status = DeclarationStatus.CONFIRMED
    declaration.verified_at = now
    declaration.verified_by = actor.user
    declaration.save(update_fields=["status", "verified_at", "verified_by"])
    record(
        actor,
        "update",
        object_type="declaration",
        object_id=declaration.pk,
        division_code=declaration.division_code,
        fields=["status"],
        note="confirmed on verification",
    )
    follow_up(actor=actor, declaration=declaration, now=now)
    return declaration


def _declare_found(actor: Actor, task: VerificationTask, found: FoundDetails, now: datetime) -> Declaration:
    """The person of a pushed row or a tip was found: their arrival, declared on the check."""
    row: PushedRow | None = task.pushed_row
    tip: Tip | None = task.tip
    person, claimed = task.person, None
    if person is None and row is not None and row.id_number_bidx:
        person = Person.objects.filter(id_number_bidx=row.id_number_bidx, status=Status.ACTIVE).first()
    if person is None:
        person, claimed = _person_from_found(actor, task, row, found)
    arrived_at = _arrival_time(found, row, tip)
    origin = found.origin or (row.origin if row else "") or (tip.origin if tip else "")
    if not origin:
        raise DeclarationError("origin_missing", _("Give where the person came from."), "origin")
    division_code = task.division_code if len(task.division_code) >= 12 else person.division_code
    if not places.is_local_division(division_code):
        division_code = person.division_code
    # the same rule as a staff declaration: someone found here who is registered outside the
    # checker's scope, or whose document number belongs to a record with other details, is
    # confirmed by the community that knows them, not by this check alone
    reached = claims.reaches(actor.user, person)
    if claimed is not None:
        checked_in = claims.checked_in(
            actor.user, person, name=claimed.name, phone=claimed.phone, destination=division_code
        )
    else:
        checked_in = None if reached else person.division_code
    data = DeclarationInput(
        kind=Kind.ARRIVAL,
        division_code=division_code,
        address=(row.address if row else "")
        or (tip.address if tip else "")
        or (person.address if reached else ""),
        arrived_at=arrived_at,
        origin=origin,
        transport=(row.transport if row else ""),
        transport_number=(row.transport_number if row else ""),
    )
    cleaned = validate(data, now=now)
    declaration = write_declaration(
        actor=actor,
        person=person,
        cleaned=cleaned,
        division_code=division_code,
        channel=Channel.VERIFICATION,
        status=DeclarationStatus.CONFIRMED if checked_in is None else DeclarationStatus.UNCONFIRMED,
        now=now,
        declared_name=(claimed.name if claimed else "")
        or (row.name if row else "")
        or (tip.subject_name if tip else "")
        or (person.name if reached else ""),
    )
    if checked_in is not None:
        check_declaration(actor, declaration, checked_in, now)
    return declaration


def _arrival_time(found: FoundDetails, row: PushedRow | None, tip: Tip | None) -> datetime:
    """As the person told the checker, else as the list said, else midday of the tip's day."""
    arrived_at = found.arrived_at or (row.arrived_at if row else None)
    if arrived_at is None and tip is not None and tip.arrived_on:
        arrived_at = rf.start_of_day(tip.arrived_on) + timedelta(hours=12)
    if arrived_at is None:
        raise DeclarationError(
            "arrived_at_missing", _("Give the arrival date the person told you."), "arrived_at"
        )
    return arrived_at


def _person_from_found(
    actor: Actor, task: VerificationTask, row: PushedRow | None, found: FoundDetails
) -> tuple[Person, IdentityInput | None]:
    """The person the checker identified: a registered record of the document with what was
    said about it (a claim, see `claims`), or a person registered now (no claim)."""
    c = cipher()

    doc_type = found.doc_type or (row.doc_type if row else "") or identity.RESIDENT_ID
    number = found.id_number or (
        c.decrypt(ROW_ID_FIELD, row.id_number_enc, row=row.pk) if row and row.id_number_bidx else ""
    )
    name = found.name or (row.name if row else "") or (task.tip.subject_name if task.tip_id else "")
    phone = found.phone
    if not phone and row is not None and row.phone_bidx:
        phone = c.decrypt(ROW_PHONE_FIELD, row.phone_enc, row=row.pk)
    if not number:
        raise DeclarationError("id_number_missing", _("Give the person's document number."), "id_number")
    if not name:
        raise DeclarationError("name_missing", _("Give the person's name."), "name")
    person_data = IdentityInput(doc_type=doc_type, id_number=number, name=name, phone=phone)
    existing = find_person(person_data)
    if existing is not None:
        return existing, person_data
    division_code = task.division_code
    if not places.is_local_division(division_code):
        raise DeclarationError(
            "division_unknown", _("Route the check to a community or grid cell first."), "division_code"
        )
    registered = people.register_person(
        actor=actor,
        data=people.PersonInput(
            doc_type=doc_type,
            id_number=number,
            name=name,
            division_code=division_code,
            phone=phone,
            address=(row.address if row else "") or (task.tip.address if task.tip_id else ""),
            source="verification",
        ),
    )
    return registered, None
