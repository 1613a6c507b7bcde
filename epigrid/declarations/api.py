"""/api/v1/declarations: declarations (R2.1–R2.3), pushed lists (R2.4), verification on the
ground and tips (R2.5). Every operation is scoped; out-of-scope objects are 404s; bad input is
a 4xx `{code, message, field}`."""

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from django.http import FileResponse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Schema, Status, UploadedFile
from pydantic import Field

from epigrid.accounts.apiauth import requires
from epigrid.accounts.audit import Actor
from epigrid.accounts.roles import Perm
from epigrid.accounts.scoping import get_visible_or_404, visible_to
from epigrid.declarations import claims, jobs, services
from epigrid.declarations.models import (
    Channel,
    Declaration,
    ListSource,
    Outcome,
    Purpose,
    PushedList,
    Tip,
    Transport,
    VerificationKind,
    VerificationStatus,
    VerificationTask,
)
from epigrid.declarations.services import pushed_commit, pushed_feedback, pushed_upload, queries
from epigrid.lib.errors import Conflict, DomainError
from epigrid.lib.keyset import page
from epigrid.people.models import DocumentType, Person
from epigrid.people.models import Status as PersonStatus
from epigrid.rules import facts as rf

router = Router(tags=["declarations"])

PLACE = r"^([A-Za-z]{2}|\d{2}|\d{4}|\d{6}|\d{9}|\d{12}|\d{15})?$"
Symptom = Literal[tuple(sorted(rf.SYMPTOMS))]  # type: ignore[valid-type]


# --- schemas ----------------------------------------------------------------------------------


class StopIn(Schema):
    area: str = Field(pattern=PLACE, min_length=2, max_length=15, description="division code or ISO country")
    start: date
    end: date | None = None


class StopOut(Schema):
    area: str
    start: date
    end: date | None
    from_origin: bool


class IdentityIn(Schema):
    doc_type: Literal[tuple(DocumentType.values)]  # type: ignore[valid-type]
    id_number: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=64)
    phone: str = Field("", max_length=24)


class DeclarationIn(Schema):
    kind: Literal["arrival", "departure"] = "arrival"
    person_id: UUID | None = Field(None, description="a registered person in your scope, or give `person`")
    person: IdentityIn | None = None
    division_code: str = Field(
        "", pattern=r"^(\d{12}|\d{15})?$", description="destination (arrival) or residence (departure)"
    )
    address: str = Field("", max_length=255)
    arrived_at: datetime | None = None
    origin: str = Field("", pattern=PLACE, max_length=15)
    transport: Literal[tuple(["", *Transport.values])] = ""  # type: ignore[valid-type]
    transport_number: str = Field("", max_length=32)
    purpose: Literal[tuple(["", *Purpose.values])] = ""  # type: ignore[valid-type]
    declared_stay_days: int | None = Field(None, ge=0, le=366)
    host_unit_id: UUID | None = None
    point_to_point_hosting: bool = False
    from_abroad: bool = False
    entered_country_at: datetime | None = None
    entry_port: str = Field("", pattern=PLACE, max_length=15)
    isolated_at_first_entry: bool | None = None
    temperature: float | None = Field(None, ge=30, le=45)
    symptoms: list[Symptom] = Field(default_factory=list, max_length=7)
    health_code_colour: Literal["", "green", "yellow", "red"] = ""
    health_code_issuer: str = Field("", pattern=PLACE, max_length=15)
    stops: list[StopIn] = Field(default_factory=list, max_length=20)
    departs_at: datetime | None = None
    travel_to: str = Field("", pattern=PLACE, max_length=15)
    expected_return_on: date | None = None


class DeclarationOut(Schema):
    id: UUID
    kind: str
    status: str
    channel: str
    person_id: UUID | None = Field(
        None, description="the person, when you may see their record (null otherwise: see `status`)"
    )
    name: str = Field("", description="the record's name when you may see it, else the name declared")
    division_code: str
    address: str
    arrived_at: datetime | None
    origin: str
    transport: str
    transport_number: str
    purpose: str
    declared_stay_days: int | None
    host_unit_id: UUID | None
    point_to_point_hosting: bool
    from_abroad: bool
    entered_country_at: datetime | None
    entry_port: str
    isolated_at_first_entry: bool | None
    temperature: float | None
    symptoms: list[str]
    health_code_colour: str
    health_code_issuer: str
    departs_at: datetime | None
    travel_to: str
    expected_return_on: date | None
    return_of_id: UUID | None
    declared_at: datetime
    in_advance: bool
    stops: list[StopOut]

    @staticmethod
    def resolve_person_id(obj):
        return obj.person_id if getattr(obj, "person_visible", False) else None

    @staticmethod
    def resolve_name(obj):
        return obj.name_shown(getattr(obj, "person_visible", False))

    @staticmethod
    def resolve_stops(obj):
        return list(obj.stops.all())

    @staticmethod
    def resolve_temperature(obj):
        return float(obj.temperature) if obj.temperature is not None else None


class DeclarationPage(Schema):
    items: list[DeclarationOut]
    next_cursor: str | None


class WithdrawIn(Schema):
    reason: str = Field(min_length=1, max_length=200)


class ListIssueOut(Schema):
    row: int | None
    column: str | None
    code: str
    message: str


class PushedListOut(Schema):
    id: UUID
    name: str
    source: str
    file_name: str
    status: str
    division_code: str
    total_rows: int
    valid_rows: int
    error_rows: int
    matched_by_id: int
    matched_by_phone: int
    routing: dict[str, int]
    header_map: dict[str, str]
    ignored_columns: list[str]
    file_errors: list[ListIssueOut]
    due_hours: int
    batch_size: int
    batches_total: int
    batches_done: int
    committed_rows: int
    percent: int
    received_at: datetime
    committed_at: datetime | None
    error: str
    # the commit's last sign of life; `stalled`: committing, but silent too long (resumable)
    heartbeat_at: datetime | None
    stalled: bool


class PushedListPage(Schema):
    items: list[PushedListOut]
    next_cursor: str | None


class CommitIn(Schema):
    skip_invalid: bool = False
    due_hours: int = Field(24, ge=1, le=168)
    batch_size: int | None = Field(None, ge=1, le=20_000)


class ProgressOut(Schema):
    list: PushedListOut
    open: int
    done: int
    outcomes: dict[str, int]


class VerificationOut(Schema):
    id: UUID
    kind: str
    status: str
    outcome: str
    notes: str
    division_code: str
    unit_id: UUID | None
    assignee: str
    due_at: datetime
    created_at: datetime
    verified_at: datetime | None
    person_id: UUID | None = Field(None, description="the person, when you may see their record")
    pushed_list_id: UUID | None = None
    row_number: int | None = None
    tip_id: UUID | None
    declaration_id: UUID | None
    result_declaration_id: UUID | None

    @staticmethod
    def resolve_person_id(obj):
        return obj.person_id if getattr(obj, "person_visible", False) else None

    @staticmethod
    def resolve_pushed_list_id(obj):
        return obj.pushed_row.pushed_list_id if obj.pushed_row_id else None

    @staticmethod
    def resolve_row_number(obj):
        return obj.pushed_row.row_number if obj.pushed_row_id else None


class VerificationPage(Schema):
    items: list[VerificationOut]
    next_cursor: str | None


class VerificationCompleteIn(Schema):
    outcome: Literal[tuple(Outcome.values)]  # type: ignore[valid-type]
    notes: str = Field("", max_length=2000)
    doc_type: Literal[tuple(["", *DocumentType.values])] = ""  # type: ignore[valid-type]
    id_number: str = Field("", max_length=40)
    name: str = Field("", max_length=64)
    phone: str = Field("", max_length=24)
    arrived_at: datetime | None = None
    origin: str = Field("", pattern=PLACE, max_length=15)


class TipOut(Schema):
    """A tip as staff see it: facts only, never the reporter."""

    id: UUID
    created_at: datetime
    division_code: str
    address: str
    subject_name: str
    subject_phone_masked: str
    arrived_on: date | None
    origin: str
    observed: str
    status: str


class TipPage(Schema):
    items: list[TipOut]
    next_cursor: str | None


# --- declarations ------------------------------------------------------------------------------


def _with_persons(request, objects):
    """Mark which objects' persons the caller may see (one query): a declaration or check names
    its person only to them, so a document number typed by someone else reveals no record."""
    items = list(objects)
    visible = claims.visible_person_ids(request.auth, [o.person_id for o in items])
    for item in items:
        item.person_visible = item.person_id in visible
    return items


def _input(payload: DeclarationIn) -> services.DeclarationInput:
    data = payload.dict(exclude={"person_id", "person", "stops"})
    data["stops"] = [services.StopInput(s.area.upper(), s.start, s.end) for s in payload.stops]
    for key in ("origin", "entry_port", "health_code_issuer", "travel_to"):
        data[key] = data[key].upper()
    return services.DeclarationInput(**data)


@router.post("", response={201: DeclarationOut}, summary="Declare an arrival or departure for someone")
@requires(Perm.DECLARATIONS_EDIT)
def declare(request, payload: DeclarationIn):
    data = _input(payload)
    if payload.person_id is not None:
        person = get_visible_or_404(
            request.auth, Person.objects.filter(status=PersonStatus.ACTIVE), pk=payload.person_id
        )
        declaration = services.declare(
            actor=Actor.from_api(request), person=person, data=data, channel=Channel.API
        )
    elif payload.person is not None:
        p = payload.person
        declaration = services.declare_for_new_person(
            actor=Actor.from_api(request),
            person_data=services.IdentityInput(
                doc_type=p.doc_type, id_number=p.id_number, name=p.name, phone=p.phone
            ),
            data=data,
            channel=Channel.API,
        )
    else:
        raise DomainError("person_missing", _("Give person_id or the person's document."), "person_id")
    created = Declaration.objects.select_related("person").prefetch_related("stops").get(pk=declaration.pk)
    return Status(201, _with_persons(request, [created])[0])


@router.get("", response=DeclarationPage, summary="Declarations in your scope, newest first")
@requires(Perm.DECLARATIONS_VIEW)
def list_declarations(
    request,
    kind: Literal["", "arrival", "departure"] = "",
    status: Literal["", "declared", "unconfirmed", "confirmed", "withdrawn"] = "",
    person_id: UUID | None = None,
    cursor: str = Query("", max_length=200),
    limit: int = Query(50, ge=1, le=200),
):
    qs = visible_to(
        request.auth,
        Declaration.objects.select_related("person").prefetch_related("stops"),
        listing=person_id is None,
    )
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    if person_id is not None:
        qs = qs.filter(person_id=person_id)
    result = page(qs, cursor or None, limit, time_field="declared_at")
    return {"items": _with_persons(request, result.items), "next_cursor": result.next_cursor}


@router.get("/{uuid:declaration_id}", response=DeclarationOut, summary="One declaration")
@requires(Perm.DECLARATIONS_VIEW)
def get_declaration(request, declaration_id: UUID):
    declaration = get_visible_or_404(
        request.auth,
        Declaration.objects.select_related("person").prefetch_related("stops"),
        pk=declaration_id,
    )
    return _with_persons(request, [declaration])[0]


@router.post("/{uuid:declaration_id}/withdraw", response=DeclarationOut, summary="Withdraw a declaration")
@requires(Perm.DECLARATIONS_EDIT)
def withdraw(request, declaration_id: UUID, payload: WithdrawIn):
    declaration = get_visible_or_404(request.auth, Declaration.objects.all(), pk=declaration_id)
    services.withdraw(actor=Actor.from_api(request), declaration=declaration, reason=payload.reason)
    withdrawn = Declaration.objects.select_related("person").prefetch_related("stops").get(pk=declaration.pk)
    return _with_persons(request, [withdrawn])[0]


# --- pushed lists -------------------------------------------------------------------------------


@router.post(
    "/pushed-lists", response={201: PushedListOut}, summary="Upload a pushed list (CSV or XLSX) and check it"
)
@requires(Perm.PUSHED_LISTS)
def upload_list(
    request,
    file: File[UploadedFile],
    name: str = Form(..., min_length=1, max_length=128),
    source: Literal[tuple(ListSource.values)] = Form(...),  # type: ignore[valid-type]
):
    if file.size is not None and file.size > pushed_upload.MAX_BYTES:
        raise DomainError("file_too_large", _("The file is larger than 64 MB; split the list."), "file")
    result = pushed_upload.upload(
        actor=Actor.from_api(request), name=name, source=source, file_name=file.name or "", data=file.read()
    )
    return Status(201, result)


@router.get("/pushed-lists", response=PushedListPage, summary="Pushed lists of your area, newest first")
@requires(Perm.PUSHED_LISTS)
def list_lists(request, cursor: str = Query("", max_length=200), limit: int = Query(50, ge=1, le=200)):
    result = page(
        visible_to(request.auth, PushedList.objects.all()), cursor or None, limit, time_field="received_at"
    )
    return {"items": result.items, "next_cursor": result.next_cursor}


@router.get(
    "/pushed-lists/{uuid:list_id}", response=ProgressOut, summary="A pushed list: counts and progress"
)
@requires(Perm.PUSHED_LISTS)
def list_status(request, list_id: UUID):
    pushed_list = get_visible_or_404(request.auth, PushedList.objects.all(), pk=list_id)
    return {"list": pushed_list, **queries.progress(pushed_list)}


@router.get(
    "/pushed-lists/{uuid:list_id}/errors", response=list[ListIssueOut], summary="Row and column errors"
)
@requires(Perm.PUSHED_LISTS)
def list_errors(request, list_id: UUID, limit: int = Query(200, ge=1, le=5000)):
    pushed_list = get_visible_or_404(request.auth, PushedList.objects.all(), pk=list_id)
    return [issue.as_dict() for issue in queries.row_errors(pushed_list, limit=limit)]


@router.post(
    "/pushed-lists/{uuid:list_id}/commit",
    response={202: PushedListOut},
    summary="Commit a list in the background",
)
@requires(Perm.PUSHED_LISTS)
def commit_list(request, list_id: UUID, payload: CommitIn):
    pushed_list = get_visible_or_404(request.auth, PushedList.objects.all(), pk=list_id)
    result = pushed_commit.request_commit(
        actor=Actor.from_api(request),
        pushed=pushed_list,
        skip_invalid=payload.skip_invalid,
        due_hours=payload.due_hours,
        batch_size=payload.batch_size,
    )
    return Status(202, result)


@router.post(
    "/pushed-lists/{uuid:list_id}/resume",
    response={202: PushedListOut},
    summary="Resume a commit that stopped (its worker died): 409 while the commit is alive",
)
@requires(Perm.PUSHED_LISTS)
def resume_list(request, list_id: UUID):
    pushed_list = get_visible_or_404(request.auth, PushedList.objects.all(), pk=list_id)
    return Status(202, jobs.resume_commit(actor=Actor.from_api(request), pushed=pushed_list))


@router.get(
    "/pushed-lists/{uuid:list_id}/feedback", summary="The feedback workbook (XLSX): each row's result"
)
@requires(Perm.PUSHED_LISTS)
def list_feedback(request, list_id: UUID):
    pushed_list = get_visible_or_404(request.auth, PushedList.objects.all(), pk=list_id)
    handle = pushed_feedback.feedback_file(
        actor=Actor.from_api(request), pushed=pushed_list, language=get_language() or "zh-hans"
    )
    return FileResponse(handle, as_attachment=True, filename=f"feedback-{pushed_list.pk}.xlsx")


# --- verification on the ground ---------------------------------------------------------------


@router.get("/verification-tasks", response=VerificationPage, summary="Checks in your scope, newest first")
@requires(Perm.TASKS_VIEW)
def list_verifications(
    request,
    status: Literal["", "open", "done", "cancelled"] = "",
    kind: Literal[tuple(["", *VerificationKind.values])] = "",  # type: ignore[valid-type]
    pushed_list_id: UUID | None = None,
    cursor: str = Query("", max_length=200),
    limit: int = Query(50, ge=1, le=200),
):
    qs = visible_to(request.auth, VerificationTask.objects.select_related("pushed_row"))
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    if pushed_list_id is not None:
        qs = qs.filter(pushed_row__pushed_list_id=pushed_list_id)
    result = page(qs, cursor or None, limit, time_field="created_at")
    return {"items": _with_persons(request, result.items), "next_cursor": result.next_cursor}


@router.post(
    "/verification-tasks/{uuid:task_id}/complete",
    response=VerificationOut,
    summary="Record the result of a check",
)
@requires(Perm.VERIFY)
def complete_verification(request, task_id: UUID, payload: VerificationCompleteIn):
    task = get_visible_or_404(request.auth, VerificationTask.objects.all(), pk=task_id)
    if task.status != VerificationStatus.OPEN:
        raise Conflict("task_closed", _("This check was already recorded."))
    done = services.complete_verification(
        actor=Actor.from_api(request),
        task=task,
        outcome=payload.outcome,
        notes=payload.notes,
        found=services.FoundDetails(
            doc_type=payload.doc_type,
            id_number=payload.id_number,
            name=payload.name,
            phone=payload.phone,
            arrived_at=payload.arrived_at,
            origin=payload.origin.upper(),
        ),
    )
    return _with_persons(request, [VerificationTask.objects.select_related("pushed_row").get(pk=done.pk)])[0]


# --- tips ----------------------------------------------------------------------------------------


@router.get("/tips", response=TipPage, summary="Tips in your scope (never the reporter)")
@requires(Perm.TIPS_VIEW)
def list_tips(request, cursor: str = Query("", max_length=200), limit: int = Query(50, ge=1, le=200)):
    result = page(
        visible_to(request.auth, Tip.objects.all(), listing=True),
        cursor or None,
        limit,
        time_field="created_at",
    )
    return {"items": result.items, "next_cursor": result.next_cursor}
