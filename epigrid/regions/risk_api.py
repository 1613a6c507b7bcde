"""Risk areas over the API (R3.1, R10.5): the public list, and for staff drafts, edits, imports
and history. Mounted by the rules API at /api/v1/rules/risk-areas, next to the preview and
publish operations that make a change take effect."""

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from django.http import Http404
from django.utils import timezone
from ninja import File, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.throttling import AnonRateThrottle
from pydantic import Field

from epigrid.accounts.apiauth import public_operation, requires
from epigrid.accounts.audit import Actor
from epigrid.accounts.roles import Perm
from epigrid.regions import risk_scope
from epigrid.regions.models import RiskArea, RiskAreaStatus, RiskLevel
from epigrid.regions.services import queries, risk, risk_import

router = Router(tags=["risk areas"])
PUBLIC_RATE = [AnonRateThrottle("120/m")]


class RiskAreaOut(Schema):
    id: UUID
    area: str
    name_zh: str
    name_en: str
    level: str
    starts_on: date | None
    ends_on: date | None
    notice: str
    status: str
    supersedes: UUID | None
    published_at: datetime | None


class RiskAreaIn(Schema):
    area: str = Field(min_length=2, max_length=15)
    level: Literal[tuple(RiskLevel.values)]  # type: ignore[valid-type]
    starts_on: date | None = None
    ends_on: date | None = None
    notice: str = Field(min_length=1, max_length=255)
    area_name: str = Field("", max_length=128)

    def input(self) -> risk.RiskAreaInput:
        return risk.RiskAreaInput(
            area=self.area,
            level=self.level,
            starts_on=self.starts_on,
            ends_on=self.ends_on,
            notice=self.notice,
            area_name=self.area_name,
        )


class RiskImportIssueOut(Schema):
    row: int
    column: str
    message: str


class ImportRowOut(Schema):
    row: int
    area: str
    level: str
    starts_on: str
    ends_on: str
    notice: str
    action: str


class ImportOut(Schema):
    ok: bool
    committed: bool
    counts: dict[str, int]
    rows: list[ImportRowOut]
    issues: list[RiskImportIssueOut]
    created: list[UUID]


def _out(rows: list[RiskArea]) -> list[dict]:
    names = queries.area_names(rows)
    return [
        {
            "id": r.pk,
            "area": r.area,
            "name_zh": names[r.area].path_zh,
            "name_en": names[r.area].path_en,
            "level": r.level,
            "starts_on": r.starts_on,
            "ends_on": r.ends_on,
            "notice": r.notice,
            "status": r.status,
            "supersedes": r.supersedes_id,
            "published_at": r.published_at,
        }
        for r in rows
    ]


@router.get(
    "",
    response=list[RiskAreaOut],
    auth=None,
    throttle=PUBLIC_RATE,
    summary="Risk areas in force on a day (today by default), with names in Chinese and English",
)
@public_operation
def list_risk_areas(request, on: date | None = None, level: str = Query("", max_length=16)):
    """The published list is public information (R10.5): no sign-in needed."""
    day = on or timezone.localdate()
    rows = queries.in_force_on(day).order_by("level", "area")
    if level:
        rows = rows.filter(level=level)
    return _out(list(rows[:5000]))


@router.get(
    "/drafts", response=list[RiskAreaOut], summary="Draft listings and changes waiting for publication"
)
@requires(Perm.RISK_EDIT)
def list_drafts(request):
    return _out(queries.drafts(request.auth))


@router.get(
    "/history/{area}", response=list[RiskAreaOut], summary="Every listing of an area, drafts included"
)
@requires(Perm.RISK_EDIT)
def area_history(request, area: str):
    rows = queries.history_of(area[:15], request.auth)
    if not rows:
        raise Http404
    return _out(rows)


@router.post("", response={201: RiskAreaOut}, summary="Draft a new listing")
@requires(Perm.RISK_EDIT)
def create_draft(request, payload: RiskAreaIn):
    row = risk.create_draft(actor=Actor.from_api(request), data=payload.input())
    return Status(201, _out([row])[0])


@router.put(
    "/{uuid:row_id}",
    response={200: RiskAreaOut},
    summary="Edit a draft, or draft a change of a published listing (returns the draft)",
)
@requires(Perm.RISK_EDIT)
def edit_listing(request, row_id: UUID, payload: RiskAreaIn):
    row = risk_scope.reachable(
        request.auth,
        RiskArea.objects.filter(pk=row_id, status__in=[RiskAreaStatus.DRAFT, RiskAreaStatus.PUBLISHED]),
    ).first()
    if row is None:
        raise Http404
    draft = risk.edit_listing(actor=Actor.from_api(request), row=row, data=payload.input())
    return _out([draft])[0]


@router.post("/{uuid:row_id}/discard", response=RiskAreaOut, summary="Discard a draft")
@requires(Perm.RISK_EDIT)
def discard_draft(request, row_id: UUID):
    row = risk_scope.reachable(request.auth, RiskArea.objects.filter(pk=row_id)).first()
    if row is None:
        raise Http404
    return _out([risk.discard_draft(actor=Actor.from_api(request), draft=row)])[0]


@router.post(
    "/import", response=ImportOut, summary="Check a CSV/XLSX file; with commit=true create the drafts"
)
@requires(Perm.RISK_EDIT)
def import_file(request, file: UploadedFile = File(...), commit: bool = False):  # noqa: B008 - ninja's idiom
    parsed = risk_import.parse_import(
        file.name or "", file.read(risk_import.MAX_IMPORT_BYTES + 1), user=request.auth
    )
    created = []
    if commit and parsed.ok:
        created = [
            r.pk for r in risk_import.commit_import(actor=Actor.from_api(request), rows=parsed.payload())
        ]
    return {
        "ok": parsed.ok,
        "committed": bool(commit and parsed.ok),
        "counts": parsed.counts(),
        "rows": [r.__dict__ for r in parsed.rows],
        "issues": [i.__dict__ for i in parsed.issues],
        "created": created,
    }
