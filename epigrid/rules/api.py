"""The rules over the API: risk areas (`/risk-areas`, from regions), what-if previews and bulk
runs of a risk-area change or a reassessment, and a person's measures explained (R3.1-R3.3)."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from django.http import Http404
from ninja import Router, Schema, Status
from pydantic import Field

from epigrid.accounts.apiauth import requires
from epigrid.accounts.audit import Actor
from epigrid.accounts.roles import Perm
from epigrid.accounts.scoping import get_visible_or_404, scope_of
from epigrid.people.models import Person
from epigrid.regions.risk_api import router as risk_router
from epigrid.rules import bulk
from epigrid.rules import jobs as rule_jobs
from epigrid.rules.explanations import explain_person
from epigrid.rules.models import BulkRun
from epigrid.rules.views import change_reached, visible_runs

router = Router(tags=["rules"])
router.add_router("/risk-areas", risk_router)


class RunOut(Schema):
    id: UUID
    kind: str
    cause: str
    status: str
    division_prefix: str
    at: datetime
    total: int
    done: int
    changed: int
    percent: int
    # {"": totals, "<town or community code>": {...}} for divisions in the caller's scope
    counts: dict[str, dict[str, int]]
    parameters: dict
    error: str
    created_at: datetime
    finished_at: datetime | None
    # a part of the run lost its worker (no heartbeat for too long): `POST .../resume` it
    stalled: bool


def _run_out(request, run: BulkRun) -> dict:
    progress = bulk.progress_of(run)
    scope = scope_of(request.auth)
    counts = {k: v for k, v in progress["counts"].items() if k == "" or scope.covers_division(k)}
    parameters = {k: v for k, v in (run.parameters or {}).items() if k != "pack_yaml"}
    total = progress["total"]
    return {
        "id": run.pk,
        "kind": run.kind,
        "cause": run.cause,
        "status": run.status,
        "division_prefix": run.division_prefix,
        "at": run.at,
        "total": total,
        "done": progress["done"],
        "changed": progress["changed"],
        "percent": run.percent
        if run.finished
        else (min(99, progress["done"] * 100 // total) if total else 0),
        "counts": counts,
        "parameters": parameters,
        "error": run.error,
        "created_at": run.created_at,
        "finished_at": run.finished_at,
        "stalled": bool(rule_jobs.stalled_shards(run)),
    }


def _run_or_404(request, run_id) -> BulkRun:
    run = visible_runs(request.auth).filter(pk=run_id).first()
    if run is None or not change_reached(request.auth, run):
        raise Http404
    return run


class RiskChangeIn(Schema):
    publish: list[UUID] = Field(default_factory=list, max_length=5000)
    withdraw: list[UUID] = Field(default_factory=list, max_length=5000)


@router.post(
    "/risk-changes/preview",
    response={202: RunOut},
    summary="What-if of publishing risk-area drafts and withdrawing listings (runs in the background)",
)
@requires(Perm.RULES_PUBLISH)
def preview_risk_change(request, payload: RiskChangeIn):
    run = bulk.preview_risk_change(
        actor=Actor.from_api(request), publish=payload.publish, withdraw=payload.withdraw
    )
    return Status(202, _run_out(request, run))


class ReassessIn(Schema):
    division: str = Field(pattern=r"^\d{2,15}$")
    pack_yaml: str = Field("", max_length=256 * 1024)


@router.post(
    "/reassessments/preview",
    response={202: RunOut},
    summary="What-if of reassessing a division with the packs deployed, or with a candidate pack",
)
@requires(Perm.RULES_PUBLISH)
def preview_reassessment(request, payload: ReassessIn):
    if not scope_of(request.auth).covers_division(payload.division):
        raise Http404
    run = bulk.preview_reassessment(
        actor=Actor.from_api(request), division=payload.division, pack_yaml=payload.pack_yaml
    )
    return Status(202, _run_out(request, run))


@router.get("/runs/{uuid:run_id}", response=RunOut, summary="A preview or bulk run: progress and counts")
@requires(Perm.RULES_PUBLISH)
def get_run(request, run_id: UUID):
    return _run_out(request, _run_or_404(request, run_id))


@router.post(
    "/runs/{uuid:run_id}/publish",
    response={202: RunOut},
    summary="Publish what a finished preview showed; people are reassessed in the background",
)
@requires(Perm.RULES_PUBLISH)
def publish_run(request, run_id: UUID):
    preview = _run_or_404(request, run_id)
    if preview.cause == bulk.RISK_CHANGE:
        run = bulk.publish_risk_change(actor=Actor.from_api(request), preview=preview)
    else:
        run = bulk.publish_reassessment(actor=Actor.from_api(request), preview=preview)
    return Status(202, _run_out(request, run))


@router.post(
    "/runs/{uuid:run_id}/resume",
    response={202: RunOut},
    summary="Resume a run whose workers stopped (no heartbeat for too long): 409 while it is alive",
)
@requires(Perm.RULES_PUBLISH)
def resume_run(request, run_id: UUID):
    run = rule_jobs.resume_run(actor=Actor.from_api(request), run=_run_or_404(request, run_id))
    return Status(202, _run_out(request, run))


class MeasureOut(Schema):
    label: str
    kind: str
    state: str
    state_label: str
    reason: str
    clauses: list[str]
    rule: str
    pack: str
    pack_version: int
    starts_at: datetime | None
    ends_at: datetime | None


class ColourOut(Schema):
    value: str
    label: str
    reasons: list[str]
    clauses: list[str]
    rules: list[str]
    release: str
    release_at: datetime | None


class DecisionHistoryOut(Schema):
    at: datetime
    cause: str
    colour: str
    previous_colour: str | None
    opened: list[str]
    closed: list[str]
    packs: list[str]


class ExplanationOut(Schema):
    language: str
    assessed: bool
    evaluated_at: datetime | None
    next_review_at: datetime | None
    colour: ColourOut | None
    measures: list[MeasureOut]
    history: list[DecisionHistoryOut]


@router.get(
    "/persons/{uuid:person_id}/explanation",
    response=ExplanationOut,
    summary="A person's open measures and colour with reasons, clauses and pack versions, and the history",
)
@requires(Perm.PEOPLE_VIEW, Perm.HEALTHCODE_VIEW)
def person_explanation(request, person_id: UUID, lang: Literal["zh-hans", "en"] = "zh-hans"):
    person = get_visible_or_404(request.auth, Person.objects.all(), pk=person_id)
    return explain_person(person, lang, with_history=True)
