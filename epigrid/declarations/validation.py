"""What a declaration says (from a form or the API) and the checks on it before anything is
written (R2.1–R2.3): every field in error is reported at once, so a person fixes the form in
one go (issue 10 item 17). `services` writes what passes."""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from uuid import UUID

from django.utils.translation import gettext as _

from epigrid.declarations import places
from epigrid.declarations.models import CodeColour, Kind, Purpose, Transport
from epigrid.lib import identity
from epigrid.lib.errors import DomainError, ErrorCollector, FieldErrors
from epigrid.people import services as people
from epigrid.rules import facts as rf

EARLIEST = datetime(2019, 12, 1, tzinfo=rf.CHINA_TZ)
ADVANCE_DAYS = 30  # how far ahead an arrival may be declared (XC-2.1)
MAX_STOPS = 20
STOP_LOOKBACK_DAYS = 30


class DeclarationError(DomainError):
    pass


class DeclarationErrors(FieldErrors, DeclarationError):
    """Several errors of one declaration, all of them in `errors`."""


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
    """Check a declaration and return the column values and the travel stops to store. Every
    field in error is reported at once (FieldErrors, or the one DeclarationError), so a person
    fixes the form in one go."""
    errors = ErrorCollector(DeclarationErrors)
    if data.kind not in Kind.values:
        raise DeclarationError("kind_invalid", _("A declaration is an arrival or a departure."), "kind")
    values = _common_values(data, errors)
    if data.kind == Kind.DEPARTURE:
        values.update(_departure_values(data, errors, now))
        errors.raise_any()
        return {"values": values, "stops": []}
    arrived_at = _arrival_time(data, errors, now)
    origin = errors.check(_place, data.origin, "origin", required=True, default="")
    if data.transport == Transport.CAR and not values["transport_number"]:
        errors.add(DeclarationError("plate_missing", _("Give the car's plate."), "transport_number"))
    stay = data.declared_stay_days
    if stay is not None and not (0 <= int(stay) <= 366):
        errors.add(
            DeclarationError("stay_range", _("The days of stay are between 0 and 366."), "declared_stay_days")
        )
    from_abroad = bool(data.from_abroad) or places.is_abroad(origin)
    values.update(
        arrived_at=arrived_at,
        origin=origin,
        declared_stay_days=int(stay) if stay is not None else None,
        host_unit_id=data.host_unit_id,
        host_name=str(data.host_name or "").strip()[:128],
        point_to_point_hosting=bool(data.point_to_point_hosting),
        from_abroad=from_abroad,
        **_entry_values(data, errors, arrived_at, from_abroad),
        **_health_values(data, errors),
    )
    stops = errors.check(_stops, data, values, arrived_at) if arrived_at is not None else []
    errors.raise_any()
    return {"values": values, "stops": stops}


def _common_values(data: DeclarationInput, errors: ErrorCollector) -> dict:
    """The address and the journey, for an arrival and a departure alike."""
    address = re.sub(r"\s+", " ", str(data.address or "")).strip()
    if len(address) > 255:
        errors.add(
            DeclarationError("address_length", _("The address is longer than 255 characters."), "address")
        )
    if data.purpose and data.purpose not in Purpose.values:
        errors.add(DeclarationError("purpose_invalid", _("Choose a purpose from the list."), "purpose"))
    if data.transport and data.transport not in Transport.values:
        errors.add(DeclarationError("transport_invalid", _("Choose a transport from the list."), "transport"))
    number = re.sub(r"\s+", "", str(data.transport_number or "")).upper()
    if len(number) > 32:
        errors.add(
            DeclarationError(
                "transport_number_length",
                _("The flight, train or plate is at most 32 characters."),
                "transport_number",
            )
        )
    return {
        "kind": data.kind,
        "address": address,
        "purpose": data.purpose or "",
        "transport": data.transport or "",
        "transport_number": number,
    }


def _departure_values(data: DeclarationInput, errors: ErrorCollector, now: datetime) -> dict:
    departs_at = errors.check(_aware, data.departs_at, "departs_at")
    if departs_at is None and not errors.has("departs_at"):
        errors.add(DeclarationError("departs_at_missing", _("Give the departure time."), "departs_at"))
    elif departs_at is not None and (
        departs_at < EARLIEST or departs_at > now + timedelta(days=ADVANCE_DAYS)
    ):
        errors.add(
            DeclarationError("departs_at_range", _("The departure time is out of range."), "departs_at")
        )
    travel_to = errors.check(_place, data.travel_to, "travel_to", required=True)
    expected = data.expected_return_on
    if expected is not None and departs_at is not None and expected < rf.local_date(departs_at):
        errors.add(
            DeclarationError(
                "return_before_departure",
                _("The return cannot be before the departure."),
                "expected_return_on",
            )
        )
    return {"departs_at": departs_at, "travel_to": travel_to, "expected_return_on": expected}


def _arrival_time(data: DeclarationInput, errors: ErrorCollector, now: datetime) -> datetime | None:
    arrived_at = errors.check(_aware, data.arrived_at, "arrived_at")
    if arrived_at is None and not errors.has("arrived_at"):
        errors.add(DeclarationError("arrived_at_missing", _("Give the arrival time."), "arrived_at"))
    elif arrived_at is not None and arrived_at < EARLIEST:
        errors.add(
            DeclarationError("arrived_at_range", _("The arrival time is before December 2019."), "arrived_at")
        )
    elif arrived_at is not None and arrived_at > now + timedelta(days=ADVANCE_DAYS):
        errors.add(
            DeclarationError(
                "arrived_at_range",
                _("Arrivals are declared at most %(days)d days ahead.") % {"days": ADVANCE_DAYS},
                "arrived_at",
            )
        )
    return arrived_at


def _entry_values(
    data: DeclarationInput, errors: ErrorCollector, arrived_at: datetime | None, from_abroad: bool
) -> dict:
    """The entry into the country of an arrival from abroad."""
    entered = entry_port = isolated = None
    if from_abroad:
        entered = errors.check(_aware, data.entered_country_at, "entered_country_at")
        if entered is not None and (entered < EARLIEST or (arrived_at is not None and entered > arrived_at)):
            errors.add(
                DeclarationError(
                    "entered_after_arrival",
                    _("The entry into the country is after the arrival."),
                    "entered_country_at",
                )
            )
        entry_port = errors.check(_place, data.entry_port, "entry_port", allow_abroad=False)
        isolated = data.isolated_at_first_entry
    return {
        "entered_country_at": entered,
        "entry_port": entry_port or "",
        "isolated_at_first_entry": isolated,
    }


def _health_values(data: DeclarationInput, errors: ErrorCollector) -> dict:
    """Temperature, symptoms and the health code shown on arrival."""
    temperature = None
    if data.temperature not in (None, ""):
        try:
            temperature = Decimal(str(data.temperature)).quantize(Decimal("0.1"))
        except (InvalidOperation, ValueError):
            errors.add(
                DeclarationError("temperature_invalid", _("Give the temperature like 36.5."), "temperature")
            )
        else:
            if not temperature.is_finite() or not Decimal("34.0") <= temperature <= Decimal("43.0"):
                errors.add(
                    DeclarationError(
                        "temperature_range", _("A body temperature is between 34 and 43 °C."), "temperature"
                    )
                )
    symptoms = sorted(set(data.symptoms or ()))
    if any(symptom not in rf.SYMPTOMS for symptom in symptoms):
        errors.add(DeclarationError("symptom_invalid", _("Choose symptoms from the list."), "symptoms"))
    colour = data.health_code_colour or ""
    if colour and colour not in CodeColour.values:
        errors.add(
            DeclarationError(
                "colour_invalid", _("A health code is green, yellow or red."), "health_code_colour"
            )
        )
    issuer = ""
    if colour:
        issuer = errors.check(
            _place, data.health_code_issuer, "health_code_issuer", allow_abroad=False, default=""
        )
    return {
        "temperature": temperature,
        "symptoms": symptoms,
        "health_code_colour": colour,
        "health_code_issuer": issuer,
    }


def _stops(data: DeclarationInput, values: dict, arrived_at: datetime) -> list[dict]:
    if len(data.stops) > MAX_STOPS:
        raise DeclarationError("stops_too_many", _("List at most %(n)d places.") % {"n": MAX_STOPS}, "stops")
    arrival_day = rf.local_date(arrived_at)
    errors = ErrorCollector(DeclarationErrors)
    stops = []
    for i, stop in enumerate(data.stops):
        prefix = f"stops.{i}"
        if not stop.area and stop.start is None and stop.end is None:
            continue  # an empty row of the form
        area = errors.check(_place, stop.area, f"{prefix}.area", required=True)
        if stop.start is None:
            errors.add(
                DeclarationError("stop_start_missing", _("Give the first day there."), f"{prefix}.start")
            )
            continue
        end = stop.end
        if end is not None and end < stop.start:
            errors.add(
                DeclarationError("stop_order", _("The last day is before the first day."), f"{prefix}.end")
            )
        elif stop.start > arrival_day or (end is not None and end > arrival_day):
            errors.add(
                DeclarationError(
                    "stop_after_arrival", _("A stay before arrival cannot end after it."), f"{prefix}.end"
                )
            )
        elif (end or arrival_day) < arrival_day - timedelta(days=STOP_LOOKBACK_DAYS):
            errors.add(
                DeclarationError(
                    "stop_too_early",
                    _("List the places of the last 14 days before arrival."),
                    f"{prefix}.start",
                )
            )
        elif area:
            stops.append({"area": area, "start": stop.start, "end": end or arrival_day, "from_origin": False})
    errors.raise_any()
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


def _public_phone(phone: str) -> str:
    if not phone:
        raise DeclarationError(
            "phone_missing", _("Give a phone number so that your community can reach you."), "phone"
        )
    try:
        return identity.normalise_phone(phone)
    except identity.InvalidIdentity as exc:
        raise DeclarationError(exc.code, exc.message, "phone")


def _document(person_data: IdentityInput) -> str:
    try:
        return identity.normalise_document(person_data.doc_type, person_data.id_number)
    except identity.InvalidIdentity as exc:
        raise DeclarationError(
            exc.code, exc.message, "doc_type" if exc.code == "document_type" else "id_number"
        )


def check_public(person_data: IdentityInput, data: DeclarationInput, *, now: datetime) -> tuple:
    """Everything the public page's input must satisfy before anything is written, every error
    at once: the phone, the document number, the name, the place of stay and the declaration.
    Returns the phone, the checked declaration and the division."""
    errors = ErrorCollector(DeclarationErrors)
    phone = errors.check(_public_phone, person_data.phone, default="")
    errors.check(_document, person_data)
    errors.check(people.clean_name, person_data.name)
    if data.kind == Kind.DEPARTURE and not data.division_code:
        errors.add(
            DeclarationError(
                "division_unknown", _("Choose the community or grid cell where you live."), "division_code"
            )
        )
        division_code = ""
    else:
        division_code = errors.check(_local_division, data.division_code, "division_code", default="")
    cleaned = errors.check(validate, data, now=now)
    errors.raise_any()
    return phone, cleaned, division_code
