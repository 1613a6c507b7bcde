"""Who is in a stopped vehicle (R5.2, R5.3): each occupant's person found by health code or
document number in a handful of queries for a whole batch, and whether they are Hubei-related
(KS10-11): the vehicle's origin, their home, the birthplace digits of the ID number typed, or a
stay in Hubei in the last 14 days that any fact producer knows of."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from epigrid.lib import identity
from epigrid.lib.errors import DomainError, ErrorCollector
from epigrid.venues.services.entries import CLOCK_SKEW

HUBEI = "42"
# how far back a stay in Hubei makes a person Hubei-related at the checkpoint
HUBEI_DAYS = 14


class CheckpointError(DomainError):
    pass


def as_uuid(value):
    if value in (None, ""):
        return None
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


@dataclass
class Who:
    person_id: uuid.UUID | None = None
    name: str = ""
    division_code: str = ""
    colour: str = ""
    number: str = ""  # the typed number, kept in memory only (the ID's birthplace)
    register: bool = False  # to be registered in the transaction
    hubei_code: bool = False  # holds a health code Hubei issued


def _verified(token: str, at: datetime, where: str, errors: ErrorCollector):
    from epigrid.healthcode import tokens
    from epigrid.healthcode.keys import cached_trust_list
    from epigrid.healthcode.labels import REASONS, lang

    checked = tokens.verify(token.strip(), cached_trust_list(), at, leeway=CLOCK_SKEW)
    if not checked.valid:
        errors.add(
            CheckpointError("code_" + checked.reason.value, REASONS[checked.reason.value][lang()], where)
        )
        return None
    return checked


def find_people(items: list, prefix, errors: ErrorCollector) -> dict[tuple[int, int], Who]:
    """Each occupant's person, a handful of queries for the whole batch."""
    from epigrid.healthcode.keys import issuer
    from epigrid.healthcode.models import HealthCode
    from epigrid.lib.sql import any_of
    from epigrid.people.models import Person
    from epigrid.people.services import PersonInput, document_index, validated

    own = issuer()
    codes: dict[uuid.UUID, Who | None] = {}
    docs: dict[str, Who | None] = {}
    wanted: dict[tuple[int, int], tuple[str, object]] = {}
    for j, item in enumerate(items):
        for i, occ in enumerate(item.occupants):
            at = f"{prefix(j)}occupants[{i}]."
            if occ.token:
                checked = _verified(occ.token, item.passed_at, f"{at}token", errors)
                if checked is None:
                    continue
                if checked.issuer != own or not checked.code_id:
                    # another province's code: we trust its colour, the person is theirs
                    wanted[(j, i)] = ("foreign", (checked.colour, checked.issuer))
                    continue
                code = uuid.UUID(bytes=checked.code_id)
                codes[code] = None
                wanted[(j, i)] = ("code", code)
            elif occ.code_id:
                code = as_uuid(occ.code_id)
                if code is None:
                    errors.add(
                        CheckpointError(
                            "code_invalid", _("A code id is 32 hexadecimal digits."), f"{at}code_id"
                        )
                    )
                    continue
                codes[code] = None
                wanted[(j, i)] = ("code", code)
            elif occ.document_number:
                number = identity.compact(occ.document_number)
                bidx = document_index(number)
                docs[bidx] = None
                wanted[(j, i)] = ("doc", (bidx, number))
            else:
                wanted[(j, i)] = ("none", None)
    for code_id, pid, name, division, colour in any_of(
        HealthCode.objects, "code_id", list(codes)
    ).values_list("code_id", "person_id", "person__name", "person__division_code", "colour"):
        codes[code_id] = Who(pid, name, division, colour)
    active = Person.objects.filter(status="active")
    for bidx, pid, name, division, colour in any_of(active, "id_number_bidx", list(docs)).values_list(
        "id_number_bidx", "id", "name", "division_code", "health_code__colour"
    ):
        docs[bidx] = Who(pid, name, division, colour or "")
    _colour_the_uncoded([w for w in docs.values() if w is not None])
    out: dict[tuple[int, int], Who] = {}
    for (j, i), (how, key) in wanted.items():
        occ = items[j].occupants[i]
        at = f"{prefix(j)}occupants[{i}]."
        if how == "foreign":
            colour, issuer_id = key
            # a code Hubei issued (`CN-42`) is a Hubei link whoever holds it (KS10-11)
            out[(j, i)] = Who(colour=colour, hubei_code=issuer_id == f"CN-{HUBEI}")
        elif how == "code":
            who = codes.get(key)
            if who is None:
                errors.add(
                    CheckpointError("code_unknown", _("No person holds this code here."), f"{at}code_id")
                )
                continue
            out[(j, i)] = who
        elif how == "doc":
            bidx, number = key
            found = docs.get(bidx)
            if found is not None:
                out[(j, i)] = Who(found.person_id, found.name, found.division_code, found.colour, number)
                continue
            who = Who(name=occ.name.strip(), division_code=occ.residence_code, number=number)
            if occ.name.strip() and occ.residence_code:
                # not in the registry: registered with the home they state, so their community
                # can be told (KS10-11); checked now so the batch fails before anything is stored
                try:
                    validated(
                        PersonInput(
                            doc_type=identity.RESIDENT_ID,
                            id_number=number,
                            name=occ.name,
                            division_code=occ.residence_code,
                            source="manual",  # entered by (checkpoint) staff: a SOURCE_LABELS key
                        )
                    )
                except DomainError as exc:
                    field_name = {"id_number": "document_number"}.get(exc.field or "", exc.field or "person")
                    errors.add(CheckpointError(exc.code, exc.message, f"{at}{field_name}"))
                    continue
                who.register = True
            out[(j, i)] = who
        else:
            out[(j, i)] = Who(name=occ.name.strip(), division_code=occ.residence_code)
    return out


def _colour_the_uncoded(people: list) -> None:
    """A person named by their ID number who never had a code gets one now (assessed on first
    need, as the code page and the venue door do), so the checkpoint sees a colour."""
    from epigrid.healthcode.services import ensure_code
    from epigrid.people.models import Person

    for who in people:
        if not who.colour:
            who.colour = ensure_code(Person.objects.get(pk=who.person_id)).colour


def recent_hubei(person_ids: set, at: datetime) -> set:
    """Persons whose facts hold a stay in or an arrival from Hubei in the last 14 days: what
    every producer told the rules (declarations, pushed lists, earlier checkpoints)."""
    from epigrid.people.models import Person
    from epigrid.rules import facts as rf
    from epigrid.rules.registry import facts_sources

    if not person_ids:
        return set()
    persons = list(Person.objects.filter(pk__in=list(person_ids)))
    since = at - timedelta(days=HUBEI_DAYS)
    found = set()
    for _name, source in facts_sources():
        for pid, facts in source(persons, at).items():
            for arrival in facts.get("arrivals", ()):
                if rf.within(arrival.origin, HUBEI) and arrival.arrived_at >= since:
                    found.add(str(pid))
            for stop in facts.get("travel", ()):
                if rf.within(stop.area, HUBEI) and (stop.end is None or stop.end >= since.date()):
                    found.add(str(pid))
    return found


def is_hubei_id(number: str) -> bool:
    # a resident ID's first two digits: where it was first issued (birthplace, usually)
    return len(number) == 18 and number.startswith(HUBEI)
