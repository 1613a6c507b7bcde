"""The only writers of declarations, verification tasks and tips (R2.1–R2.3, R2.5).

Every function takes `actor=`, writes in one transaction with its audit row, and runs
`reassess` for the person whose facts changed inside that same transaction, so a declaration
never lands without the decision it leads to (DESIGN: the loop). Pushed lists are in
`pushed.py`.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from uuid import UUID, uuid4

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor, record
from epigrid.accounts.roles import Perm
from epigrid.accounts.scoping import division_in_scope, scope_of, visible_to
from epigrid.declarations import places
from epigrid.declarations.models import (
    Channel,
    CodeColour,
    Declaration,
    DeclarationStatus,
    Kind,
    Outcome,
    Purpose,
    PushedRow,
    Tip,
    TipStatus,
    Transport,
    TravelStop,
    VerificationKind,
    VerificationStatus,
    VerificationTask,
)
from epigrid.lib import identity
from epigrid.lib.crypto import cipher
from epigrid.lib.errors import Conflict, DomainError, Forbidden, NotFound
from epigrid.people import services as people
from epigrid.people.models import Person, Status
from epigrid.rules import facts as rf
from epigrid.rules.services import reassess_many
from epigrid.tasks.models import Assignee, Task, TaskStatus
from epigrid.tasks.services import TaskSpec, cancel_for_source, close_task, open_task

EARLIEST = datetime(2019, 12, 1, tzinfo=rf.CHINA_TZ)
ADVANCE_DAYS = 30  # how far ahead an arrival may be declared (XC-2.1)
MAX_STOPS = 20
STOP_LOOKBACK_DAYS = 30
VERIFY_HOURS = 24  # a tip or an unconfirmed declaration is checked within a day
TASK_SOURCE = "verification"

TIP_PHONE_FIELD = "tip.subject_phone"
REPORTER_NAME_FIELD = "tip.reporter_name"
REPORTER_PHONE_FIELD = "tip.reporter_phone"


class DeclarationError(DomainError):
    pass


# --- input -----------------------------------------------------------------------------------


@dataclass
class StopInput:
    area: str
    start: date | None
    end: date | None = None


@dataclass
class DeclarationInput:
    """What a declaration says, from a form or the API. `division_code` is the destination of an
    arrival (grid cell or community) or the residence of a departure."""

    kind: str = Kind.ARRIVAL
    division_code: str = ""
    address: str = ""
    arrived_at: datetime | None = None
    origin: str = ""
    transport: str = ""
    transport_number: str = ""
    purpose: str = ""
    declared_stay_days: int | None = None
    host_unit_id: UUID | None = None
    host_name: str = ""
    point_to_point_hosting: bool = False
    from_abroad: bool = False
    entered_country_at: datetime | None = None
    entry_port: str = ""
    isolated_at_first_entry: bool | None = None
    temperature: Decimal | float | str | None = None
    symptoms: list[str] = field(default_factory=list)
    health_code_colour: str = ""
    health_code_issuer: str = ""
    stops: list[StopInput] = field(default_factory=list)
    departs_at: datetime | None = None
    travel_to: str = ""
    expected_return_on: date | None = None


@dataclass
class IdentityInput:
    """Who declares (public page) or who is declared for (staff, new person)."""

    doc_type: str
    id_number: str
    name: str
    phone: str = ""
    nationality: str = "CHN"


def _aware(value: datetime | None, name: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise DeclarationError("time_invalid", _("Give a date and time."), name)
    if value.tzinfo is None:
        value = value.replace(tzinfo=rf.CHINA_TZ)
    return value


def _place(value: str, name: str, *, required: bool = False, allow_abroad: bool = True) -> str:
    code = places.normalise_code(value or "")
    if not code:
        if required:
            raise DeclarationError("place_missing", _("Choose a place."), name)
        return ""
    if places.is_country(code):
        if not allow_abroad:
            raise DeclarationError("place_abroad", _("Choose a place in mainland China."), name)
        return code
    if not rf.is_place(code):
        raise DeclarationError("place_invalid", _("Choose a province, city, county or country."), name)
    index = places.national_index()
    county = (code + "0000")[:6] if len(code) < 6 else code[:6]
    if index.places and county not in index.places:
        raise DeclarationError("place_unknown", _("No division has this code."), name)
    return code


def _local_division(code: str, name: str) -> str:
    code = (code or "").strip()
    if not places.is_local_division(code):
        raise DeclarationError(
            "division_unknown", _("Choose the community or grid cell where you stay."), name
        )
    return code


def validate(data: DeclarationInput, *, now: datetime) -> dict:
    """Check a declaration and return the column values and the travel stops to store. Raises
    DeclarationError naming the first field in error."""
    if data.kind not in Kind.values:
        raise DeclarationError("kind_invalid", _("A declaration is an arrival or a departure."), "kind")
    address = re.sub(r"\s+", " ", str(data.address or "")).strip()
    if len(address) > 255:
        raise DeclarationError("address_length", _("The address is longer than 255 characters."), "address")
    if data.purpose and data.purpose not in Purpose.values:
        raise DeclarationError("purpose_invalid", _("Choose a purpose from the list."), "purpose")
    if data.transport and data.transport not in Transport.values:
        raise DeclarationError("transport_invalid", _("Choose a transport from the list."), "transport")
    number = re.sub(r"\s+", "", str(data.transport_number or "")).upper()
    if len(number) > 32:
        raise DeclarationError(
            "transport_number_length",
            _("The flight, train or plate is at most 32 characters."),
            "transport_number",
        )
    values: dict = {
        "kind": data.kind,
        "address": address,
        "purpose": data.purpose or "",
        "transport": data.transport or "",
        "transport_number": number,
    }
    if data.kind == Kind.DEPARTURE:
        departs_at = _aware(data.departs_at, "departs_at")
        if departs_at is None:
            raise DeclarationError("departs_at_missing", _("Give the departure time."), "departs_at")
        if departs_at < EARLIEST or departs_at > now + timedelta(days=ADVANCE_DAYS):
            raise DeclarationError("departs_at_range", _("The departure time is out of range."), "departs_at")
        travel_to = _place(data.travel_to, "travel_to", required=True)
        expected = data.expected_return_on
        if expected is not None and expected < rf.local_date(departs_at):
            raise DeclarationError(
                "return_before_departure",
                _("The return cannot be before the departure."),
                "expected_return_on",
            )
        values.update(departs_at=departs_at, travel_to=travel_to, expected_return_on=expected)
        return {"values": values, "stops": []}

    arrived_at = _aware(data.arrived_at, "arrived_at")
    if arrived_at is None:
        raise DeclarationError("arrived_at_missing", _("Give the arrival time."), "arrived_at")
    if arrived_at < EARLIEST:
        raise DeclarationError(
            "arrived_at_range", _("The arrival time is before December 2019."), "arrived_at"
        )
    if arrived_at > now + timedelta(days=ADVANCE_DAYS):
        raise DeclarationError(
            "arrived_at_range",
            _("Arrivals are declared at most %(days)d days ahead.") % {"days": ADVANCE_DAYS},
            "arrived_at",
        )
    origin = _place(data.origin, "origin", required=True)
    if data.transport == Transport.CAR and not number:
        raise DeclarationError("plate_missing", _("Give the car's plate."), "transport_number")
    stay = data.declared_stay_days
    if stay is not None and not (0 <= int(stay) <= 366):
        raise DeclarationError(
            "stay_range", _("The days of stay are between 0 and 366."), "declared_stay_days"
        )
    from_abroad = bool(data.from_abroad) or places.is_abroad(origin)
    entered = entry_port = None
    isolated = None
    if from_abroad:
        entered = _aware(data.entered_country_at, "entered_country_at")
        if entered is not None and (entered > arrived_at or entered < EARLIEST):
            raise DeclarationError(
                "entered_after_arrival",
                _("The entry into the country is after the arrival."),
                "entered_country_at",
            )
        entry_port = _place(data.entry_port, "entry_port", allow_abroad=False)
        isolated = data.isolated_at_first_entry
    temperature = None
    if data.temperature not in (None, ""):
        try:
            temperature = Decimal(str(data.temperature)).quantize(Decimal("0.1"))
        except (InvalidOperation, ValueError):
            raise DeclarationError("temperature_invalid", _("Give the temperature like 36.5."), "temperature")
        if not temperature.is_finite() or not Decimal("34.0") <= temperature <= Decimal("43.0"):
            raise DeclarationError(
                "temperature_range", _("A body temperature is between 34 and 43 °C."), "temperature"
            )
    symptoms = sorted(set(data.symptoms or ()))
    for symptom in symptoms:
        if symptom not in rf.SYMPTOMS:
            raise DeclarationError("symptom_invalid", _("Choose symptoms from the list."), "symptoms")
    colour = data.health_code_colour or ""
    if colour and colour not in CodeColour.values:
        raise DeclarationError(
            "colour_invalid", _("A health code is green, yellow or red."), "health_code_colour"
        )
    issuer = _place(data.health_code_issuer, "health_code_issuer", allow_abroad=False) if colour else ""
    host_name = str(data.host_name or "").strip()[:128]
    values.update(
        arrived_at=arrived_at,
        origin=origin,
        declared_stay_days=int(stay) if stay is not None else None,
        host_unit_id=data.host_unit_id,
        host_name=host_name,
        point_to_point_hosting=bool(data.point_to_point_hosting),
        from_abroad=from_abroad,
        entered_country_at=entered,
        entry_port=entry_port or "",
        isolated_at_first_entry=isolated,
        temperature=temperature,
        symptoms=symptoms,
        health_code_colour=colour,
        health_code_issuer=issuer,
    )
    return {"values": values, "stops": _stops(data, values, arrived_at)}


def _stops(data: DeclarationInput, values: dict, arrived_at: datetime) -> list[dict]:
    if len(data.stops) > MAX_STOPS:
        raise DeclarationError("stops_too_many", _("List at most %(n)d places.") % {"n": MAX_STOPS}, "stops")
    arrival_day = rf.local_date(arrived_at)
    stops = []
    for i, stop in enumerate(data.stops):
        prefix = f"stops.{i}"
        if not stop.area and stop.start is None and stop.end is None:
            continue  # an empty row of the form
        area = _place(stop.area, f"{prefix}.area", required=True)
        if stop.start is None:
            raise DeclarationError("stop_start_missing", _("Give the first day there."), f"{prefix}.start")
        end = stop.end
        if end is not None and end < stop.start:
            raise DeclarationError("stop_order", _("The last day is before the first day."), f"{prefix}.end")
        if stop.start > arrival_day or (end is not None and end > arrival_day):
            raise DeclarationError(
                "stop_after_arrival", _("A stay before arrival cannot end after it."), f"{prefix}.end"
            )
        if (end or arrival_day) < arrival_day - timedelta(days=STOP_LOOKBACK_DAYS):
            raise DeclarationError(
                "stop_too_early", _("List the places of the last 14 days before arrival."), f"{prefix}.start"
            )
        stops.append({"area": area, "start": stop.start, "end": end or arrival_day, "from_origin": False})
    origin = values["origin"]
    entered = values.get("entered_country_at")
    entry_port = values.get("entry_port")
    if origin and not any(s["area"] == origin for s in stops):
        # the origin is always part of the travel history the rules read (旅居史)
        last = rf.local_date(entered) if entered and places.is_abroad(origin) else arrival_day
        first = min(last, arrival_day)
        stops.append({"area": origin, "start": first, "end": first, "from_origin": True})
    if entry_port and entered and not any(s["area"] == entry_port for s in stops):
        stops.append(
            {"area": entry_port, "start": rf.local_date(entered), "end": arrival_day, "from_origin": True}
        )
    return stops


# --- writing declarations ----------------------------------------------------------------------


def _write(
    *,
    actor: Actor,
    person: Person,
    cleaned: dict,
    division_code: str,
    channel: str,
    status: str,
    now: datetime,
) -> Declaration:
    values = cleaned["values"]
    declaration = Declaration.objects.create(
        person=person,
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
    if declaration.kind == Kind.ARRIVAL:
        _link_return(actor=actor, declaration=declaration, now=now)
    else:
        _open_return_watch(actor=actor, declaration=declaration, now=now)
    if declaration.kind == Kind.ARRIVAL and declaration.arrived_at > now:
        _schedule_arrival(actor=actor, declaration=declaration, now=now)
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


def _link_return(*, actor: Actor, declaration: Declaration, now: datetime) -> None:
    """An arrival of someone away on a declared trip is the return of that trip (JX57-3.12)."""
    departure = (
        Declaration.objects.select_for_update(of=("self",))
        .filter(
            person=declaration.person,
            kind=Kind.DEPARTURE,
            status__in=(DeclarationStatus.DECLARED, DeclarationStatus.CONFIRMED),
            departs_at__lte=declaration.arrived_at,
            return_arrival__isnull=True,
        )
        .order_by("-departs_at")
        .first()
    )
    if departure is None:
        return
    declaration.return_of = departure
    declaration.save(update_fields=["return_of"])
    for task in Task.objects.filter(
        source_type="declaration", source_id=str(departure.pk), status=TaskStatus.OPEN
    ):
        close_task(actor=actor, task=task, outcome="returned", at=now)


def _open_return_watch(*, actor: Actor, declaration: Declaration, now: datetime) -> None:
    """Health management on return (JX57-3.12): the grid worker is asked to see the return
    declared by the day after the expected return."""
    if declaration.expected_return_on is None:
        return
    person = declaration.person
    due = rf.start_of_day(declaration.expected_return_on + timedelta(days=1))
    open_task(
        actor=actor,
        spec=TaskSpec(
            kind="departure_return",
            title_zh=f"{person.name}：出差返回后纳入健康管理",
            title_en=f"{person.name}: health management on return from a trip",
            detail_zh=f"预计{declaration.expected_return_on:%Y-%m-%d}返回；返回时须报备到达（JX57-3.12）。",
            detail_en=(
                f"Expected back on {declaration.expected_return_on:%Y-%m-%d}; the return is declared as an "
                "arrival (JX57-3.12)."
            ),
            division_code=person.division_code,
            assignee=Assignee.GRID_WORKER,
            due_at=due,
            person_id=person.pk,
            source_type="declaration",
            source_id=str(declaration.pk),
        ),
        at=now,
    )


def _schedule_arrival(*, actor: Actor, declaration: Declaration, now: datetime) -> None:
    """A declaration made ahead (提前报备, XC-2.1): the rules see the arrival once it has
    happened, so the person is reassessed then; an overseas arrival also tells the destination's
    grid worker it is coming."""
    from epigrid.declarations.tasks import reassess_person

    person_id, at = str(declaration.person_id), declaration.arrived_at
    transaction.on_commit(lambda: reassess_person.using(run_after=at).enqueue(person_id, "declared_arrival"))
    if declaration.from_abroad:
        person = declaration.person
        open_task(
            actor=actor,
            spec=TaskSpec(
                kind="expected_arrival",
                title_zh=f"{person.name}：境外入境提前报备，预计{rf.local_date(at):%m-%d}到达",
                title_en=f"{person.name}: arrival from abroad declared ahead, due {rf.local_date(at):%m-%d}",
                detail_zh="到达后按规定登记、测温、查验健康码并安排检测（XC-2.1）。",
                detail_en="On arrival: registration, temperature, health-code check and testing (XC-2.1).",
                division_code=declaration.division_code,
                assignee=Assignee.GRID_WORKER if len(declaration.division_code) == 15 else Assignee.COMMAND,
                due_at=at,
                person_id=person.pk,
                source_type="declaration_expected",
                source_id=str(declaration.pk),
            ),
            at=now,
        )


def _reassess(actor: Actor, person_ids, at: datetime, cause: str) -> None:
    ids = [pid for pid in person_ids if pid]
    if ids:
        reassess_many(ids, actor=actor, at=at, cause=cause)


def _require(actor: Actor, perm: str) -> None:
    if actor.user is None or not actor.user.has_epigrid_perm(perm):
        raise Forbidden("permission_denied", _("Your role does not allow this operation."))


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
    """Staff or an API client declare for a person they can reach (R2.1, R2.3)."""
    _require(actor, Perm.DECLARATIONS_EDIT)
    now = at or timezone.now()
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
        declaration = _write(
            actor=actor,
            person=person,
            cleaned=cleaned,
            division_code=division_code,
            channel=channel,
            status=DeclarationStatus.DECLARED,
            now=now,
        )
        if reassess and declaration.kind == Kind.ARRIVAL:
            _reassess(actor, [person.pk], now, "declaration")
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
    """Staff declare for someone by their document: the registered person when there is one (even
    outside the staff member's scope: the declaration is theirs, the record stays out of reach),
    otherwise a new person registered at the destination."""
    _require(actor, Perm.DECLARATIONS_EDIT)
    now = at or timezone.now()
    division_code = _local_division(data.division_code, "division_code")
    person = _find_person(person_data)
    if person is None:
        _check_host(actor, data)
        person = _register(actor, person_data, division_code, data.address, source="staff_declaration")
    return declare(actor=actor, person=person, data=data, channel=channel, at=now, reassess=reassess)


def _find_person(person_data: IdentityInput) -> Person | None:
    try:
        number = identity.normalise_document(person_data.doc_type, person_data.id_number)
    except identity.InvalidIdentity as exc:
        raise DeclarationError(
            exc.code, exc.message, "doc_type" if exc.code == "document_type" else "id_number"
        )
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


def _same_name(a: str, b: str) -> bool:
    norm = lambda s: re.sub(r"\s+", "", s or "").upper()  # noqa: E731
    return norm(a) == norm(b)


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
    if not person_data.phone:
        raise DeclarationError(
            "phone_missing", _("Give a phone number so that your community can reach you."), "phone"
        )
    try:
        phone = identity.normalise_phone(person_data.phone)
    except identity.InvalidIdentity as exc:
        raise DeclarationError(exc.code, exc.message, "phone")
    if data.kind == Kind.DEPARTURE and not data.division_code:
        raise DeclarationError(
            "division_unknown", _("Choose the community or grid cell where you live."), "division_code"
        )
    cleaned = validate(data, now=now)
    division_code = _local_division(data.division_code, "division_code")
    cleaned["values"]["point_to_point_hosting"] = False  # only the host unit may state it
    cleaned["values"]["host_unit_id"] = None
    people.clean_name(person_data.name)
    for _attempt in range(2):
        person = _find_person(person_data)
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
                confirmed = _same_name(person.name, person_data.name) and (
                    not person.phone_bidx or person.phone_bidx == people.phone_index(phone)
                )
            declaration = _write(
                actor=actor,
                person=person,
                cleaned=cleaned,
                division_code=division_code,
                channel=Channel.PUBLIC,
                status=DeclarationStatus.DECLARED if confirmed else DeclarationStatus.UNCONFIRMED,
                now=now,
            )
            token = None
            if confirmed:
                if reassess and declaration.kind == Kind.ARRIVAL:
                    _reassess(actor, [person.pk], now, "declaration")
                token = people.create_private_link(actor=actor, person=person, language=language)
            else:
                _open_verification(
                    actor=actor,
                    kind=VerificationKind.DECLARATION,
                    division_code=division_code,
                    due_at=now + timedelta(hours=VERIFY_HOURS),
                    person=person,
                    declaration=declaration,
                    at=now,
                )
        return PublicResult(declaration, token, confirmed)
    raise Conflict("try_again", _("Please send the declaration again."))


def withdraw(
    *, actor: Actor, declaration: Declaration, reason: str, at: datetime | None = None
) -> Declaration:
    """Withdraw a wrong or duplicate declaration; it stays on record, its facts stop counting."""
    _require(actor, Perm.DECLARATIONS_EDIT)
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
        _reassess(actor, [declaration.person_id], now, "declaration_withdrawn")
    return declaration


# --- verification on the ground (落地核查) ----------------------------------------------------------


def assignee_for(division_code: str) -> str:
    """Grid cells are worked by their grid workers; anything broader goes to the command of that
    division, which routes it on to a grid cell."""
    return Assignee.GRID_WORKER if len(division_code) == 15 else Assignee.COMMAND


def task_texts(
    kind: str,
    *,
    name: str = "",
    origin: str = "",
    arrived: datetime | None = None,
    address: str = "",
    labels: tuple[dict, dict] | None = None,
) -> dict:
    """Title and detail of the mirrored work item: facts only, never a label for a place or its
    people (JS79-16). `labels` (zh, en) saves a query per task in bulk."""
    if labels is None:
        labels = (
            (places.place_labels([origin], "zh-hans"), places.place_labels([origin], "en"))
            if origin
            else ({}, {})
        )
    when_zh = f"{rf.local_date(arrived):%Y-%m-%d}到达" if arrived else "到达时间不详"
    when_en = f"arrived {rf.local_date(arrived):%Y-%m-%d}" if arrived else "arrival date unknown"
    origin_zh = f"，来自{labels[0].get(origin, origin)}" if origin else ""
    origin_en = f" from {labels[1].get(origin, origin)}" if origin else ""
    subject_zh = name or "待核实人员"
    subject_en = name or "person to identify"
    kind_zh, kind_en = {
        VerificationKind.PUSHED_ROW: ("推送名单核查", "Pushed list check"),
        VerificationKind.TIP: ("线索核查", "Tip check"),
        VerificationKind.DECLARATION: ("报备信息核实", "Declaration check"),
    }[kind]
    clauses = "JS79-16" if kind == VerificationKind.TIP else "JS79-2、JS79-4"
    return {
        "title_zh": f"{kind_zh}：{subject_zh}",
        "title_en": f"{kind_en}: {subject_en}",
        "detail_zh": f"{when_zh}{origin_zh}。地址：{address or '不详'}（{clauses}）",
        "detail_en": f"{when_en}{origin_en}. Address: {address or 'unknown'} ({clauses.replace('、', ', ')})",
    }


def _mirror_spec(task: VerificationTask, texts: dict) -> TaskSpec:
    return TaskSpec(
        kind="verification",
        division_code=task.division_code,
        assignee=task.assignee,
        due_at=task.due_at,
        person_id=task.person_id,
        unit_id=task.unit_id,
        source_type=TASK_SOURCE,
        source_id=str(task.pk),
        **texts,
    )


def _open_verification(
    *,
    actor: Actor,
    kind: str,
    division_code: str,
    due_at: datetime,
    at: datetime,
    person: Person | None = None,
    declaration: Declaration | None = None,
    tip: Tip | None = None,
) -> VerificationTask:
    task = VerificationTask.objects.create(
        kind=kind,
        division_code=division_code,
        assignee=assignee_for(division_code),
        due_at=due_at,
        created_at=at,
        person=person,
        declaration=declaration,
        tip=tip,
    )
    if declaration is not None:
        texts = task_texts(
            kind,
            name=person.name if person else "",
            origin=declaration.origin or declaration.travel_to,
            arrived=declaration.arrived_at,
            address=declaration.address,
        )
    else:
        texts = task_texts(
            kind,
            name=tip.subject_name if tip else "",
            origin=tip.origin if tip else "",
            arrived=rf.start_of_day(tip.arrived_on) if tip and tip.arrived_on else None,
            address=tip.address if tip else "",
        )
    open_task(actor=actor, spec=_mirror_spec(task, texts), at=at)
    record(
        actor,
        "create",
        object_type="verification_task",
        object_id=task.pk,
        division_code=division_code,
        fields=["kind", "division_code", "due_at"],
        note=kind,
    )
    return task


def _close_mirror(actor: Actor, task: VerificationTask, outcome: str, at: datetime) -> None:
    for mirror in Task.objects.filter(
        source_type=TASK_SOURCE, source_id=str(task.pk), status=TaskStatus.OPEN
    ):
        close_task(actor=actor, task=mirror, outcome=outcome, at=at)


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
    _require(actor, Perm.VERIFY)
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
        reassess_ids = []
        result = None
        row = task.pushed_row
        if outcome == Outcome.FOUND:
            result = _record_found(actor, task, found, now)
            reassess_ids.append(result.person_id)
            if row is not None:
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
        task.status = VerificationStatus.DONE
        task.outcome = outcome
        task.notes = notes
        task.verified_at = now
        task.verified_by = actor.user
        task.result_declaration = result
        if result is not None and task.person_id is None:
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
        if task.tip_id:
            Tip.objects.filter(pk=task.tip_id).update(status=TipStatus.CLOSED)
        _close_mirror(actor, task, outcome, now)
        record(
            actor,
            "update",
            object_type="verification_task",
            object_id=task.pk,
            division_code=task.division_code,
            fields=["status", "outcome", "notes"],
            note=outcome,
        )
        _reassess(actor, dict.fromkeys(reassess_ids), now, "verification")
    return task


def _record_found(actor: Actor, task: VerificationTask, found: FoundDetails, now: datetime) -> Declaration:
    if task.declaration_id:
        declaration = task.declaration
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
        return declaration
    row: PushedRow | None = task.pushed_row
    tip: Tip | None = task.tip
    person = task.person
    if person is None and row is not None and row.id_number_bidx:
        person = Person.objects.filter(id_number_bidx=row.id_number_bidx, status=Status.ACTIVE).first()
    if person is None:
        person = _person_from_found(actor, task, row, found)
    arrived_at = found.arrived_at or (row.arrived_at if row else None)
    if arrived_at is None and tip is not None and tip.arrived_on:
        arrived_at = rf.start_of_day(tip.arrived_on) + timedelta(hours=12)
    if arrived_at is None:
        raise DeclarationError(
            "arrived_at_missing", _("Give the arrival date the person told you."), "arrived_at"
        )
    origin = found.origin or (row.origin if row else "") or (tip.origin if tip else "")
    if not origin:
        raise DeclarationError("origin_missing", _("Give where the person came from."), "origin")
    division_code = task.division_code if len(task.division_code) >= 12 else person.division_code
    data = DeclarationInput(
        kind=Kind.ARRIVAL,
        division_code=division_code,
        address=(row.address if row else "") or (tip.address if tip else "") or person.address,
        arrived_at=arrived_at,
        origin=origin,
        transport=(row.transport if row else ""),
        transport_number=(row.transport_number if row else ""),
    )
    cleaned = validate(data, now=now)
    declaration = _write(
        actor=actor,
        person=person,
        cleaned=cleaned,
        division_code=division_code if places.is_local_division(division_code) else person.division_code,
        channel=Channel.VERIFICATION,
        status=DeclarationStatus.CONFIRMED,
        now=now,
    )
    return declaration


def _person_from_found(
    actor: Actor, task: VerificationTask, row: PushedRow | None, found: FoundDetails
) -> Person:
    c = cipher()
    from epigrid.declarations.pushed import ROW_ID_FIELD, ROW_PHONE_FIELD

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
    existing = _find_person(person_data)
    if existing is not None:
        return existing
    division_code = task.division_code
    if not places.is_local_division(division_code):
        raise DeclarationError(
            "division_unknown", _("Route the check to a community or grid cell first."), "division_code"
        )
    return people.register_person(
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


def route_verification(
    *, actor: Actor, task: VerificationTask, division_code: str, at: datetime | None = None
) -> VerificationTask:
    """A command passes a check on to a community or grid cell inside its area."""
    _require(actor, Perm.DECLARATIONS_EDIT)
    now = at or timezone.now()
    division_code = (division_code or "").strip()
    if (
        not division_code.startswith(task.division_code)
        or division_code == task.division_code
        or not division_in_scope(actor.user, division_code)
        or not places.is_local_division(division_code)
    ):
        raise DeclarationError(
            "division_unknown", _("Choose a community or grid cell inside this one."), "division_code"
        )
    with transaction.atomic():
        task = VerificationTask.objects.select_for_update().get(pk=task.pk)
        if task.status != VerificationStatus.OPEN:
            raise Conflict("task_closed", _("This check was already recorded."))
        old = task.division_code
        task.division_code = division_code
        task.assignee = assignee_for(division_code)
        task.save(update_fields=["division_code", "assignee"])
        mirror = (
            Task.objects.filter(source_type=TASK_SOURCE, source_id=str(task.pk))
            .order_by("-created_at")
            .first()
        )
        cancel_for_source(actor=actor, source_type=TASK_SOURCE, source_id=str(task.pk), at=now)
        texts = (
            {k: getattr(mirror, k) for k in ("title_zh", "title_en", "detail_zh", "detail_en")}
            if mirror
            else task_texts(task.kind)
        )
        open_task(actor=actor, spec=_mirror_spec(task, texts), at=now)
        record(
            actor,
            "update",
            object_type="verification_task",
            object_id=task.pk,
            division_code=division_code,
            fields=["division_code"],
            note=f"routed from {old}",
        )
    return task


# --- tips (线索, R2.5) ----------------------------------------------------------------------------


@dataclass
class TipInput:
    division_code: str
    address: str
    observed: str = ""
    subject_name: str = ""
    subject_phone: str = ""
    arrived_on: date | None = None
    origin: str = ""
    reporter_name: str = ""
    reporter_phone: str = ""


def submit_tip(*, actor: Actor, data: TipInput, at: datetime | None = None) -> Tip:
    """A tip about an arrival that may be undeclared becomes a check for the community (JS79-16).
    It holds facts only; the reporter's contact is encrypted and never shown with the tip."""
    now = at or timezone.now()
    division_code = _local_division(data.division_code, "division_code")
    address = re.sub(r"\s+", " ", str(data.address or "")).strip()
    if not address:
        raise DeclarationError("address_missing", _("Give the address where the person stays."), "address")
    if len(address) > 255:
        raise DeclarationError("address_length", _("The address is longer than 255 characters."), "address")
    observed = str(data.observed or "").strip()
    if len(observed) > 1000:
        raise DeclarationError(
            "observed_length", _("Describe what you saw in at most 1,000 characters."), "observed"
        )
    name = re.sub(r"\s+", " ", str(data.subject_name or "")).strip()
    if len(name) > 64:
        raise DeclarationError("name_length", _("The name is longer than 64 characters."), "subject_name")
    if data.arrived_on is not None and (
        data.arrived_on > rf.local_date(now) or data.arrived_on < rf.local_date(now) - timedelta(days=60)
    ):
        raise DeclarationError("arrived_on_range", _("Give a date within the last 60 days."), "arrived_on")
    origin = _place(data.origin, "origin")
    c = cipher()
    subject_phone = ""
    if data.subject_phone:
        try:
            subject_phone = identity.normalise_phone(data.subject_phone)
        except identity.InvalidIdentity as exc:
            raise DeclarationError(exc.code, exc.message, "subject_phone")
    reporter_phone = ""
    if data.reporter_phone:
        try:
            reporter_phone = identity.normalise_phone(data.reporter_phone)
        except identity.InvalidIdentity as exc:
            raise DeclarationError(exc.code, exc.message, "reporter_phone")
    reporter_name = re.sub(r"\s+", " ", str(data.reporter_name or "")).strip()[:64]
    pk = uuid4()  # made first: the tip's ciphertexts are bound to it
    with transaction.atomic():
        tip = Tip.objects.create(
            id=pk,
            created_at=now,
            division_code=division_code,
            address=address,
            subject_name=name,
            subject_phone_enc=c.encrypt(TIP_PHONE_FIELD, subject_phone, row=pk) if subject_phone else None,
            subject_phone_bidx=people.phone_index(subject_phone) if subject_phone else "",
            subject_phone_masked=identity.mask_phone(subject_phone) if subject_phone else "",
            arrived_on=data.arrived_on,
            origin=origin,
            observed=observed,
            reporter_name_enc=c.encrypt(REPORTER_NAME_FIELD, reporter_name, row=pk)
            if reporter_name
            else None,
            reporter_phone_enc=c.encrypt(REPORTER_PHONE_FIELD, reporter_phone, row=pk)
            if reporter_phone
            else None,
            channel=Channel.PUBLIC if actor.user is None else Channel.STAFF,
        )
        record(
            actor,
            "create",
            object_type="tip",
            object_id=tip.pk,
            division_code=division_code,
            fields=["division_code", "address", "observed"],
        )
        person = None
        if subject_phone:
            matches = list(Person.objects.filter(phone_bidx=tip.subject_phone_bidx, status=Status.ACTIVE)[:2])
            if len(matches) == 1 and (not name or _same_name(matches[0].name, name)):
                person = matches[0]
        _open_verification(
            actor=actor,
            kind=VerificationKind.TIP,
            division_code=division_code,
            due_at=now + timedelta(hours=VERIFY_HOURS),
            tip=tip,
            person=person,
            at=now,
        )
    return tip


def reveal_reporter(*, actor: Actor, tip: Tip, purpose: str = "") -> dict:
    """The reporter's contact, for the few who need it (TIPS_REPORTER), audited before it is
    decrypted."""
    _require(actor, Perm.TIPS_REPORTER)
    if not scope_of(actor.user).covers_division(tip.division_code):
        raise NotFound("not_found", _("Not found."))
    with transaction.atomic():
        record(
            actor,
            "reveal",
            object_type="tip",
            object_id=tip.pk,
            division_code=tip.division_code,
            fields=["reporter"],
            note=str(purpose or "")[:120],
        )
        c = cipher()
        return {
            "name": c.decrypt(REPORTER_NAME_FIELD, tip.reporter_name_enc, row=tip.pk)
            if tip.reporter_name_enc
            else "",
            "phone": c.decrypt(REPORTER_PHONE_FIELD, tip.reporter_phone_enc, row=tip.pk)
            if tip.reporter_phone_enc
            else "",
        }
