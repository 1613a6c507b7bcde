"""/api/v1/testing: sampling points (public), orders, specimens, pools, lab results in bulk,
external results and EU DCC certificates, overdue lists, sequencing."""

from datetime import timedelta
from typing import Literal
from uuid import UUID

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.throttling import AnonRateThrottle

from epigrid.accounts.apiauth import public_operation, requires
from epigrid.accounts.audit import Actor
from epigrid.accounts.roles import Perm
from epigrid.accounts.scoping import get_visible_or_404, prefix_q, visible_to
from epigrid.apierrors import Invalid, invalid, row_item
from epigrid.lib.errors import Conflict, DomainError
from epigrid.lib.keyset import page
from epigrid.people.models import Person
from epigrid.testing import certificates, services
from epigrid.testing.models import (
    Pool,
    ResultSource,
    SamplingPoint,
    SequencingRequest,
    SequencingStatus,
    Specimen,
    TestOrder,
    TestResult,
)
from epigrid.testing.parsing import ResultRow
from epigrid.testing.schemas import (
    DccIn,
    DccRefused,
    ExternalIn,
    OrderOut,
    OrderPage,
    OverdueOut,
    PointIn,
    PointOut,
    PoolIn,
    PoolOut,
    ReceiveIn,
    ReceiveOut,
    ResultOut,
    ResultPage,
    ResultsIn,
    ResultsOut,
    SequencingIn,
    SequencingOut,
    SequencingPatch,
    SpecimenIn,
    SpecimenOut,
    WalkInIn,
)
from epigrid.units.models import Unit, UnitKind

router = Router(tags=["testing"])
# the public list: the same budget per address as the public pages
PUBLIC_RATE = [AnonRateThrottle("120/m")]


def _error(code: str, message: str, field: str | None = None, **extra) -> dict:
    return {"code": code, "message": message, "field": field, **extra}


# --- sampling points ----------------------------------------------------------------------


def _point_out(point: SamplingPoint, distance: float | None = None) -> dict:
    return {
        "id": point.pk,
        "kind": point.kind,
        "name": point.name,
        "unit_name": point.unit.name if point.unit_id else "",
        "address": point.address,
        "division_code": point.division_code,
        "latitude": point.latitude,
        "longitude": point.longitude,
        "contact_name": point.contact_name,
        "phone": point.phone,
        "opening_hours": point.opening_hours,
        "active_from": point.active_from,
        "active_to": point.active_to,
        "waiting_place": point.waiting_place,
        "distance_km": distance,
    }


@router.get(
    "/points",
    response=list[PointOut],
    auth=None,
    throttle=PUBLIC_RATE,
    summary="Open sampling points, published to everyone (R6.1, JS79-7); nearest first with lat/lon",
)
@public_operation
def list_points(
    request,
    division: str = Query("", pattern=r"^\d{0,12}$", description="division code prefix"),
    lat: float | None = Query(None, ge=-90, le=90),
    lon: float | None = Query(None, ge=-180, le=180),
    limit: int = Query(50, ge=1, le=200),
):
    if (lat is None) != (lon is None):
        raise DomainError("coordinates_invalid", _("Give both lat and lon, or neither."), "lat")
    if lat is not None:
        found = services.nearest_points(lat, lon, limit=limit)
        return [_point_out(p, km) for km, p in found]
    return [_point_out(p) for p in services.points_in(division).select_related("unit")[:limit]]


@router.post("/points", response={201: PointOut}, summary="Add a sampling point")
@requires(Perm.TESTING_MANAGE)
def create_point(request, payload: PointIn):
    point = services.save_point(actor=Actor.from_api(request), data=services.PointInput(**payload.dict()))
    return Status(201, _point_out(point))


# --- orders -------------------------------------------------------------------------------


def _order_out(order: TestOrder) -> dict:
    data = {f: getattr(order, f) for f in OrderOut.model_fields if hasattr(order, f)}
    data["specimen_barcode"] = order.specimen.barcode if order.specimen_id else None
    return data


@router.get("/orders", response=OrderPage, summary="Test orders in your scope, newest first")
@requires(Perm.TESTING_VIEW)
def list_orders(
    request,
    person_id: UUID | None = None,
    status: Literal["", "open", "sampled", "received", "resulted", "cancelled"] = "",
    overdue: bool = False,
    division: str = Query("", pattern=r"^\d{0,15}$"),
    cursor: str = Query("", max_length=200),
    limit: int = Query(50, ge=1, le=200),
):
    qs = visible_to(request.auth, TestOrder.objects.select_related("specimen"), listing=True)
    if person_id:
        qs = qs.filter(person_id=person_id)
    if status:
        qs = qs.filter(status=status)
    if overdue:
        qs = qs.filter(status__in=["open", "sampled", "received"], due_at__lt=timezone.now())
    if division:
        qs = qs.filter(prefix_q("division_code", division))
    result = page(qs, cursor or None, limit, time_field="ordered_at")
    return {"items": [_order_out(o) for o in result.items], "next_cursor": result.next_cursor}


@router.post("/orders", response={201: OrderOut}, summary="A walk-in order (must-test group or willing)")
@requires(Perm.SAMPLING_DO)
def create_order(request, payload: WalkInIn):
    person = get_visible_or_404(request.auth, Person.objects.all(), pk=payload.person_id)
    order = services.walk_in_order(
        actor=Actor.from_api(request), person=person, test=payload.test, group=payload.group
    )
    return Status(201, _order_out(order))


# --- specimens and pools ------------------------------------------------------------------


def _pool_out(pool: Pool) -> dict:
    return {
        "id": pool.pk,
        "barcode": pool.barcode,
        "size": pool.size,
        "status": pool.status,
        "result": pool.result,
        "sampling_point_id": pool.sampling_point_id,
        "members": pool.specimens.count(),
    }


@router.post("/pools", response={201: PoolOut}, summary="Open a pool tube (5, 10 or 20 swabs)")
@requires(Perm.SAMPLING_DO)
def create_pool(request, payload: PoolIn):
    point = get_visible_or_404(request.auth, SamplingPoint.objects.all(), pk=payload.point_id)
    pool = services.open_pool(
        actor=Actor.from_api(request), point=point, barcode=payload.barcode, size=payload.size
    )
    return Status(201, _pool_out(pool))


@router.post("/pools/{barcode}/seal", response=PoolOut, summary="Seal a pool for the lab")
@requires(Perm.SAMPLING_DO)
def seal_pool(request, barcode: str):
    pool = get_visible_or_404(request.auth, Pool.objects.all(), barcode=barcode[:40])
    return _pool_out(services.seal_pool(actor=Actor.from_api(request), pool=pool))


@router.post("/specimens", response={201: SpecimenOut}, summary="Take a specimen (optionally into a pool)")
@requires(Perm.SAMPLING_DO)
def create_specimen(request, payload: SpecimenIn):
    user = request.auth
    person = get_visible_or_404(user, Person.objects.all(), pk=payload.person_id)
    point = get_visible_or_404(user, SamplingPoint.objects.all(), pk=payload.point_id)
    pool = (
        get_visible_or_404(user, Pool.objects.all(), barcode=payload.pool_barcode)
        if payload.pool_barcode
        else None
    )
    sampled = services.take_specimen(
        actor=Actor.from_api(request),
        person=person,
        point=point,
        barcode=payload.barcode,
        test=payload.test,
        pool=pool,
        walk_in_group=payload.group,
    )
    s = sampled.specimen
    return Status(
        201,
        {
            "id": s.pk,
            "barcode": s.barcode,
            "person_id": s.person_id,
            "sample_type": s.sample_type,
            "status": s.status,
            "result": s.result,
            "pool_barcode": pool.barcode if pool else None,
            "taken_at": s.taken_at,
            "orders": [o.pk for o in sampled.orders],
            "waiting_place": sampled.waiting_place,
        },
    )


# --- the lab ------------------------------------------------------------------------------


@router.post("/receive", response=ReceiveOut, summary="Scan tubes in at the lab")
@requires(Perm.LAB_RESULTS)
def receive(request, payload: ReceiveIn):
    return services.receive(
        actor=Actor.from_api(request), user=request.auth, barcodes=[b[:40] for b in payload.barcodes]
    )


def _row_errors(errors: list[dict]) -> list[dict]:
    return [row_item("rows", e["row"], e["column"], e["code"], e["message"]) for e in errors]


@router.post(
    "/results",
    response={200: ResultsOut, 422: Invalid},
    summary="Results in bulk: every row checked first; with any error nothing is written",
)
@requires(Perm.LAB_RESULTS)
def submit_results(request, payload: ResultsIn):
    rows, errors = [], []
    now = timezone.now()
    seen: dict = {}
    for number, item in enumerate(payload.rows, start=1):
        problems = []
        for name in ("tested_at", "received_at", "reported_at"):
            value = getattr(item, name)
            if value is not None and value.tzinfo is None:
                problems.append((name, "time_zone", _("Give times with their time zone.")))
            elif value is not None and value > now + timedelta(minutes=10):
                problems.append((name, "time_future", _("The time is in the future.")))
        if any(not 0 <= v <= 50 for v in item.ct_values.values()):
            problems.append(("ct_values", "ct_invalid", _("A Ct value is a number from 0 to 50.")))
        key = (item.barcode, item.test)
        if key in seen:
            problems.append(
                ("barcode", "row_twice", _("The same barcode and test as row %(row)s.") % {"row": seen[key]})
            )
        seen.setdefault(key, number)
        if problems:
            errors += [row_item("rows", number, c, code, m) for c, code, m in problems]
            continue
        rows.append(
            ResultRow(
                row=number,
                barcode=item.barcode,
                analyte=item.test,
                result=item.result,
                tested_at=item.tested_at,
                received_at=item.received_at,
                reported_at=item.reported_at,
                ct_values={k: round(v, 2) for k, v in item.ct_values.items()},
            )
        )
    if errors:
        return Status(422, invalid("rows_invalid", "Some rows are invalid; nothing was written.", errors))
    outcome = services.submit_results(
        actor=Actor.from_api(request), user=request.auth, rows=rows, dry_run=payload.dry_run
    )
    if not outcome["accepted"]:
        return Status(
            422,
            invalid(
                "rows_invalid", "Some rows are invalid; nothing was written.", _row_errors(outcome["errors"])
            ),
        )
    return {**outcome, "errors": _row_errors(outcome["errors"])}


@router.get("/results", response=ResultPage, summary="Test results in your scope, newest first")
@requires(Perm.TESTING_VIEW)
def list_results(
    request,
    person_id: UUID | None = None,
    source: Literal[tuple(["", *ResultSource.values])] = "",  # type: ignore[valid-type]
    cursor: str = Query("", max_length=200),
    limit: int = Query(50, ge=1, le=200),
):
    qs = visible_to(request.auth, TestResult.objects.all(), listing=True)
    if person_id:
        qs = qs.filter(person_id=person_id)
    if source:
        qs = qs.filter(source=source)
    result = page(qs, cursor or None, limit, time_field="reported_at")
    items = [
        {
            **{f: getattr(r, f) for f in ResultOut.model_fields if f != "pooled"},
            "pooled": r.pool_id is not None,
        }
        for r in result.items
    ]
    return {"items": items, "next_cursor": result.next_cursor}


# --- results from elsewhere ----------------------------------------------------------------


@router.post(
    "/external-results",
    response={201: ResultOut, 200: ResultOut},
    summary="A result from another region (R3.4)",
)
@requires(Perm.TESTING_MANAGE)
def create_external_result(request, payload: ExternalIn):
    person = get_visible_or_404(request.auth, Person.objects.all(), pk=payload.person_id)
    if payload.sampled_at.tzinfo is None or (payload.reported_at and payload.reported_at.tzinfo is None):
        raise DomainError("time_zone", _("Give times with their time zone."), "sampled_at")
    data = services.ExternalInput(
        analyte=payload.analyte,
        result=payload.result,
        sampled_at=payload.sampled_at,
        reported_at=payload.reported_at,
        source=ResultSource.OTHER_REGION,
        issuer=payload.issuer,
        reference=payload.reference,
    )
    result, created = services.record_external_result(actor=Actor.from_api(request), person=person, data=data)
    out = {**{f: getattr(result, f) for f in ResultOut.model_fields if f != "pooled"}, "pooled": False}
    return Status(201 if created else 200, out)


@router.post(
    "/dcc",
    response={201: ResultOut, 200: ResultOut, 409: DccRefused},
    summary="Verify an EU DCC test certificate and record it for the matching person",
)
@requires(Perm.TESTING_MANAGE)
def record_dcc(request, payload: DccIn):
    person = None
    if payload.person_id:
        person = get_visible_or_404(request.auth, Person.objects.all(), pk=payload.person_id)
    try:
        result, created = certificates.record_certificate(
            actor=Actor.from_api(request), user=request.auth, qr_text=payload.qr, person=person
        )
    except Conflict as exc:
        return Status(
            409, _error(exc.code, exc.message, exc.field, candidates=getattr(exc, "candidates", []))
        )
    out = {**{f: getattr(result, f) for f in ResultOut.model_fields if f != "pooled"}, "pooled": False}
    return Status(201 if created else 200, out)


# --- turnaround ---------------------------------------------------------------------------


@router.get("/overdue", response=OverdueOut, summary="Orders past their due time, per lab and sampling point")
@requires(Perm.TESTING_VIEW)
def overdue(request):
    summary = services.overdue_summary(request.auth, at=timezone.now())
    return {
        "per_lab": [
            {"id": r["lab_id"], "name": r["lab__name"], "overdue": r["n"]} for r in summary["per_lab"]
        ],
        "per_point": [
            {"id": r["sampling_point_id"], "name": r["sampling_point__name"], "overdue": r["n"]}
            for r in summary["per_point"]
        ],
        "unsampled": summary["unsampled"],
    }


# --- sequencing ---------------------------------------------------------------------------


@router.post(
    "/sequencing", response={201: SequencingOut}, summary="Send a case specimen for sequencing (R6.5)"
)
@requires(Perm.SEQUENCING)
def create_sequencing(request, payload: SequencingIn):
    specimen = get_visible_or_404(request.auth, Specimen.objects.all(), barcode=payload.specimen_barcode)
    lab = get_visible_or_404(request.auth, Unit.objects.filter(kind=UnitKind.LAB), pk=payload.lab_id)
    req = services.request_sequencing(
        actor=Actor.from_api(request), specimen=specimen, lab=lab, notes=payload.notes
    )
    return Status(201, req)


@router.patch("/sequencing/{uuid:request_id}", response=SequencingOut, summary="Sent, received, lineage")
@requires(Perm.SEQUENCING)
def patch_sequencing(request, request_id: UUID, payload: SequencingPatch):
    req = get_visible_or_404(request.auth, SequencingRequest.objects.all(), pk=request_id)
    if payload.status not in SequencingStatus.values:
        raise DomainError("status_invalid", _("Unknown status."), "status")
    return services.advance_sequencing(actor=Actor.from_api(request), request=req, **payload.dict())
