from datetime import date, datetime
from typing import Literal
from uuid import UUID

from ninja import Query, Router, Schema, Status
from pydantic import Field

from epigrid.accounts.apiauth import requires
from epigrid.accounts.audit import Actor
from epigrid.accounts.roles import Perm
from epigrid.accounts.scoping import get_visible_or_404, prefix_q
from epigrid.lib.keyset import page
from epigrid.people import services
from epigrid.people.models import DocumentType, Person

router = Router(tags=["persons"])


class PersonOut(Schema):
    id: UUID
    name: str
    sex: str
    birth_date: date | None
    nationality: str
    doc_type: str
    id_number_masked: str
    phone_masked: str
    address: str
    division_code: str
    status: str
    merged_into: UUID | None = Field(None, alias="merged_into_id")
    registered_at: datetime
    updated_at: datetime


class PersonPage(Schema):
    items: list[PersonOut]
    next_cursor: str | None


class PersonIn(Schema):
    doc_type: Literal[tuple(DocumentType.values)]  # type: ignore[valid-type]
    id_number: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=64)
    division_code: str = Field(pattern=r"^\d{6,15}$")
    sex: Literal["M", "F", "U", ""] = ""
    birth_date: date | None = None
    phone: str = Field("", max_length=24)
    address: str = Field("", max_length=255)
    nationality: str = Field("CHN", pattern=r"^[A-Za-z]{3}$")


class PersonPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=64)
    phone: str | None = Field(None, max_length=24)
    address: str | None = Field(None, max_length=255)
    division_code: str | None = Field(None, pattern=r"^\d{6,15}$")
    sex: Literal["M", "F", "U"] | None = None


class RevealIn(Schema):
    field: Literal["id_number", "phone"]
    purpose: str = Field("", max_length=120)


class RevealOut(Schema):
    field: str
    value: str


class DuplicateGroupOut(Schema):
    kind: str
    persons: list[PersonOut]


class MergeIn(Schema):
    survivor: UUID
    merged: UUID
    reason: Literal["same_id", "same_phone_name", "similar_name_birth", "manual"] = "manual"


class MergeOut(Schema):
    id: UUID
    survivor: UUID
    merged: UUID
    moved: dict[str, int]
    filled_fields: list[str]


@router.get("", response=PersonPage, summary="Persons in your scope, newest first (keyset pages)")
@requires(Perm.PEOPLE_VIEW)
def list_persons(
    request,
    q: str = Query("", max_length=64, description="ID number, phone or name (or pinyin)"),
    division: str = Query("", pattern=r"^\d{0,15}$"),
    sex: Literal["M", "F", "U", ""] = "",
    status: Literal["active", "merged", "any"] = "active",
    cursor: str = Query("", max_length=200),
    limit: int = Query(50, ge=1, le=200),
):
    qs = services.search(request.auth, q, listing=True)
    if division:
        qs = qs.filter(prefix_q("division_code", division))
    if sex:
        qs = qs.filter(sex=sex)
    if status != "any":
        qs = qs.filter(status=status)
    result = page(qs, cursor or None, limit)
    return {"items": result.items, "next_cursor": result.next_cursor}


@router.post("", response={201: PersonOut}, summary="Register a person")
@requires(Perm.PEOPLE_EDIT)
def create_person(request, payload: PersonIn):
    person = services.register_person(
        actor=Actor.from_api(request), data=services.PersonInput(**payload.dict())
    )
    return Status(201, person)


@router.get("/duplicates", response=list[DuplicateGroupOut], summary="Candidate duplicates in your scope")
@requires(Perm.PEOPLE_MERGE)
def duplicates(request, limit: int = Query(50, ge=1, le=200)):
    return [
        {"kind": g.kind, "persons": g.persons} for g in services.find_duplicates(request.auth, limit=limit)
    ]


@router.post("/merge", response=MergeOut, summary="Merge one record into another")
@requires(Perm.PEOPLE_MERGE)
def merge(request, payload: MergeIn):
    survivor = get_visible_or_404(request.auth, Person.objects.all(), pk=payload.survivor)
    merged = get_visible_or_404(request.auth, Person.objects.all(), pk=payload.merged)
    trace = services.merge_persons(
        actor=Actor.from_api(request), survivor=survivor, merged=merged, reason=payload.reason
    )
    return {
        "id": trace.pk,
        "survivor": trace.survivor_id,
        "merged": trace.merged_id,
        "moved": trace.moved,
        "filled_fields": trace.filled_fields,
    }


@router.get("/{uuid:person_id}", response=PersonOut, summary="One person")
@requires(Perm.PEOPLE_VIEW)
def get_person(request, person_id: UUID):
    return get_visible_or_404(request.auth, Person.objects.all(), pk=person_id)


@router.patch("/{uuid:person_id}", response=PersonOut, summary="Change a person's details")
@requires(Perm.PEOPLE_EDIT)
def patch_person(request, person_id: UUID, payload: PersonPatch):
    person = get_visible_or_404(request.auth, Person.objects.all(), pk=person_id)
    changes = services.PersonChanges(**payload.dict(exclude_unset=True))
    return services.update_person(actor=Actor.from_api(request), person=person, changes=changes)


@router.post("/{uuid:person_id}/reveal", response=RevealOut, summary="Reveal an identifier (audited)")
@requires(Perm.PEOPLE_REVEAL)
def reveal(request, person_id: UUID, payload: RevealIn):
    person = get_visible_or_404(request.auth, Person.objects.all(), pk=person_id)
    value = services.reveal(
        actor=Actor.from_api(request), person=person, field_name=payload.field, purpose=payload.purpose
    )
    return {"field": payload.field, "value": value}
