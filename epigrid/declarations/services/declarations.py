"""Declaring arrivals and departures (R2.1–R2.3): by staff or an API client for a person
(`declare`), for someone found by their document (`declare_for_new_person`), by the person on
the public page (`declare_public`); and `withdraw`. Each writes in one transaction with its
audit row and reassesses the person there, so a declaration never lands without the decision
it leads to (DESIGN: the loop)."""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor, record
from epigrid.accounts.roles import Perm
from epigrid.accounts.scoping import division_in_scope, scope_of, visible_to
from epigrid.declarations import claims
from epigrid.declarations.models import Channel, Declaration, DeclarationStatus, Kind, TravelStop
from epigrid.declarations.services.common import reassess_persons, require
from epigrid.declarations.services.follow_up import follow_up
from epigrid.declarations.services.verification import check_declaration
from epigrid.declarations.validation import (
    DeclarationError,
    DeclarationInput,
    IdentityInput,
    _document,
    _local_division,
    check_public,
    validate,
)
from epigrid.lib.errors import Conflict
from epigrid.people import services as people
from epigrid.people.models import Person, Status
from epigrid.tasks.services import cancel_for_source


def write_declaration(
    *,
    actor: Actor,
    person: Person,
    cleaned: dict,
    division_code: str,
    channel: str,
    status: str,
    now: datetime,
    declared_name: str | None = None,
) -> Declaration:
    values = cleaned["values"]
    declared = person.name if declared_name is None else declared_name
    declaration = Declaration.objects.create(
        person=person,
        declared_name=" ".join(str(declared or "").split())[:64],
        division_code=division_code,
        channel=channel,
        status=status,
        declared_at=now,
        declared_by=actor.user,
        verified_at=now if status == DeclarationStatus.CONFIRMED else None,
        verified_by=actor.user if status == DeclarationStatus.CONFIRMED else None,
        **values,
    )
    TravelStop.objects.bulk_create(
        [
            TravelStop(declaration=declaration, person=person, ordinal=i, **stop)
            for i, stop in enumerate(cleaned["stops"])
        ]
    )
    if declaration.counted:
        follow_up(actor=actor, declaration=declaration, now=now)
    record(
        actor,
        "create",
        object_type="declaration",
        object_id=declaration.pk,
        division_code=declaration.division_code,
        fields=sorted(
            {"kind", "person", "division_code", *values.keys(), *(["stops"] if cleaned["stops"] else [])}
        ),
        note=f"{declaration.kind} via {channel}",
    )
    return declaration


def _may_declare_for(actor: Actor, person: Person, division_code: str, host_unit_id) -> bool:
    scope = scope_of(actor.user)
    if scope.covers_division(division_code):
        return True
    if scope.unit_ids:
        if host_unit_id is not None and host_unit_id in scope.unit_ids:
            return True
        return visible_to(actor.user, Person.objects.filter(pk=person.pk)).exists()
    return False


def _check_host(actor: Actor, data: DeclarationInput) -> None:
    """Only the host unit itself (its manager) or a command over its area may state that a
    visit is hosted point to point (JS79-13): a self-declared claim exempts no one."""
    if data.host_unit_id is None:
        if data.point_to_point_hosting:
            raise DeclarationError("host_missing", _("Choose the host unit."), "host_unit_id")
        return
    from django.apps import apps

    unit = apps.get_model("units", "Unit").objects.filter(pk=data.host_unit_id).first()
    scope = scope_of(actor.user)
    if unit is None or not (unit.pk in scope.unit_ids or scope.covers_division(unit.division_code)):
        raise DeclarationError("host_unknown", _("Choose a unit you manage."), "host_unit_id")
    if not data.host_name:
        data.host_name = unit.name


def declare(
    *,
    actor: Actor,
    person: Person,
    data: DeclarationInput,
    channel: str = Channel.STAFF,
    at: datetime | None = None,
    reassess: bool = True,
) -> Declaration:
    """Staff or an API client declare for a person (R2.1, R2.3). A person outside the actor's
    scope is never changed by them alone: the declaration waits for the person's own community
    (`claims`)."""
    require(actor, Perm.DECLARATIONS_EDIT)
    reached = claims.reaches(actor.user, person)
    return _declare(
        actor=actor,
        person=person,
        data=data,
        channel=channel,
        now=at or timezone.now(),
        reassess=reassess,
        declared_name=person.name if reached else "",
        checked_in=None if reached else person.division_code,
    )


def _declare(
    *,
    actor: Actor,
    person: Person,
    data: DeclarationInput,
    channel: str,
    now: datetime,
    reassess: bool,
    declared_name: str,
    checked_in: str | None,
) -> Declaration:
    """Write a staff declaration: in force at once when `checked_in` is None, else unconfirmed
    with a check for the staff of `checked_in` (no reassessment, nothing set going)."""
    if person.is_merged:
        raise Conflict("person_merged", _("This record was merged; declare for the surviving record."))
    if data.kind == Kind.DEPARTURE and not data.division_code:
        data.division_code = person.division_code
    cleaned = validate(data, now=now)
    division_code = _local_division(data.division_code, "division_code")
    _check_host(actor, data)
    cleaned["values"]["host_name"] = data.host_name[:128]
    if not _may_declare_for(actor, person, division_code, data.host_unit_id):
        raise DeclarationError(
            "division_unknown", _("Choose a community or grid cell in your area."), "division_code"
        )
    with transaction.atomic():
        declaration = write_declaration(
            actor=actor,
            person=person,
            cleaned=cleaned,
            division_code=division_code,
            channel=channel,
            status=DeclarationStatus.DECLARED if checked_in is None else DeclarationStatus.UNCONFIRMED,
            now=now,
            declared_name=declared_name,
        )
        if checked_in is not None:
            check_declaration(actor, declaration, checked_in, now)
        elif reassess and declaration.kind == Kind.ARRIVAL:
            reassess_persons(actor, [person.pk], now, "declaration")
    return declaration


def declare_for_new_person(
    *,
    actor: Actor,
    person_data: IdentityInput,
    data: DeclarationInput,
    channel: str = Channel.STAFF,
    at: datetime | None = None,
    reassess: bool = True,
) -> Declaration:
    """Staff declare for someone by their document: a new person is registered at the
    destination; a registered one is declared for when they are in the staff member's scope and
    the name and phone agree with the record. Otherwise the declaration is recorded unconfirmed
    and checked by the community (`claims.checked_in`), and nothing of the record is revealed."""
    require(actor, Perm.DECLARATIONS_EDIT)
    now = at or timezone.now()
    division_code = _local_division(data.division_code, "division_code")
    with transaction.atomic():
        person = find_person(person_data)
        checked_in = None
        if person is None:
            _check_host(actor, data)
            person = _register(actor, person_data, division_code, data.address, source="staff_declaration")
        else:
            checked_in = claims.checked_in(
                actor.user,
                person,
                name=person_data.name,
                phone=person_data.phone,
                destination=division_code,
            )
        return _declare(
            actor=actor,
            person=person,
            data=data,
            channel=channel,
            now=now,
            reassess=reassess,
            declared_name=person_data.name,
            checked_in=checked_in,
        )


def find_person(person_data: IdentityInput) -> Person | None:
    number = _document(person_data)
    return Person.objects.filter(id_number_bidx=people.document_index(number), status=Status.ACTIVE).first()


def _register(
    actor: Actor, person_data: IdentityInput, division_code: str, address: str, *, source: str
) -> Person:
    data = people.PersonInput(
        doc_type=person_data.doc_type,
        id_number=person_data.id_number,
        name=person_data.name,
        division_code=division_code,
        phone=person_data.phone,
        address=address,
        nationality=person_data.nationality or "CHN",
        source=source,
    )
    if actor.user is not None and not division_in_scope(actor.user, division_code):
        # a unit declaring a visitor it hosts: the record is filed at the destination on the
        # unit's behalf, and the audit row names who asked
        with transaction.atomic():
            person = people.register_person(actor=Actor(user=None, via="host_unit", ip=actor.ip), data=data)
            record(
                actor,
                "create",
                object_type="person",
                object_id=person.pk,
                division_code=person.division_code,
                fields=["doc_type", "id_number", "name", "phone", "address", "division_code"],
                note="registered with a host unit's declaration",
            )
        return person
    return people.register_person(actor=actor, data=data)


@dataclass
class PublicResult:
    declaration: Declaration
    token: str | None  # the private link token; None when the declaration awaits verification
    confirmed: bool


def declare_public(
    *,
    actor: Actor,
    person_data: IdentityInput,
    data: DeclarationInput,
    language: str = "zh-hans",
    at: datetime | None = None,
    reassess: bool = True,
) -> PublicResult:
    """A person declares on the public page, without signing in (R2.1, R2.2, R2.3).

    The document number finds their record; a person not yet registered is registered at the
    destination. Someone could type another person's number: so when the name or phone differs
    from the record, the declaration is kept but counts for nothing until the community has
    checked it (a verification task), and no private link is given."""
    now = at or timezone.now()
    if actor.user is not None:
        actor = Actor(user=None, via="public", ip=actor.ip)
    phone, cleaned, division_code = check_public(person_data, data, now=now)
    cleaned["values"]["point_to_point_hosting"] = False  # only the host unit may state it
    cleaned["values"]["host_unit_id"] = None
    for _attempt in range(2):
        person = find_person(person_data)
        confirmed = True
        with transaction.atomic():
            if person is None:
                try:
                    person = _register(
                        actor, person_data, division_code, data.address, source="self_declaration"
                    )
                except Conflict:
                    continue  # registered a moment ago by a parallel request: match it instead
            else:
                confirmed = claims.identity_matches(person, person_data.name, phone)
            declaration = write_declaration(
                actor=actor,
                person=person,
                cleaned=cleaned,
                division_code=division_code,
                channel=Channel.PUBLIC,
                status=DeclarationStatus.DECLARED if confirmed else DeclarationStatus.UNCONFIRMED,
                now=now,
                declared_name=person_data.name,
            )
            token = None
            if confirmed:
                if reassess and declaration.kind == Kind.ARRIVAL:
                    reassess_persons(actor, [person.pk], now, "declaration")
                token = people.create_private_link(actor=actor, person=person, language=language)
            else:
                check_declaration(actor, declaration, division_code, now)
        return PublicResult(declaration, token, confirmed)
    raise Conflict("try_again", _("Please send the declaration again."))


def withdraw(
    *, actor: Actor, declaration: Declaration, reason: str, at: datetime | None = None
) -> Declaration:
    """Withdraw a wrong or duplicate declaration; it stays on record, its facts stop counting."""
    require(actor, Perm.DECLARATIONS_EDIT)
    reason = str(reason or "").strip()
    if not reason:
        raise DeclarationError("reason_missing", _("Say why the declaration is withdrawn."), "reason")
    now = at or timezone.now()
    with transaction.atomic():
        declaration = Declaration.objects.select_for_update().get(pk=declaration.pk)
        if declaration.status == DeclarationStatus.WITHDRAWN:
            raise Conflict("already_withdrawn", _("This declaration was already withdrawn."))
        declaration.status = DeclarationStatus.WITHDRAWN
        declaration.withdrawn_at = now
        declaration.withdrawn_reason = reason[:200]
        declaration.save(update_fields=["status", "withdrawn_at", "withdrawn_reason"])
        record(
            actor,
            "update",
            object_type="declaration",
            object_id=declaration.pk,
            division_code=declaration.division_code,
            fields=["status", "withdrawn_reason"],
        )
        cancel_for_source(actor=actor, source_type="declaration", source_id=str(declaration.pk), at=now)
        reassess_persons(actor, [declaration.person_id], now, "declaration_withdrawn")
    return declaration
