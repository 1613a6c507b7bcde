"""Pages of the testing app: the public list of sampling points, the lab desk (receive,
two-phase upload), turnaround and overdue lists, sequencing, results from elsewhere and EU DCC
certificates; the sampling desk is `testing.desk`. Views parse and render; services decide."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from epigrid.accounts.access import public, scoped
from epigrid.accounts.audit import Actor
from epigrid.accounts.roles import Perm
from epigrid.accounts.scoping import get_visible_or_404, visible_to
from epigrid.lib.errors import DomainError
from epigrid.people.models import Person, Status
from epigrid.regions.models import Division, Level
from epigrid.testing import certificates, forms, jobs, lab_upload, parsing, results_import, services
from epigrid.testing.charts import stacked_bars_svg
from epigrid.testing.geo import parse_coordinates
from epigrid.testing.models import (
    ImportStatus,
    MustTestGroup,
    ResultImport,
    ResultSource,
    SamplingPoint,
    SequencingRequest,
    Specimen,
    TrustedSigner,
)
from epigrid.units.models import Unit, UnitKind

MAX_UPLOAD = 20 * 1024 * 1024
# files with more checked rows than this are committed by the worker, not in the request
INLINE_COMMIT_ROWS = 20_000


def _form_error(form, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


# --- public -------------------------------------------------------------------------------


@public
@never_cache
@ratelimit(key="ip", rate="60/m", block=True)
def public_points(request):
    """采样点 published to everyone (R6.1, R10.5, JS79-7): by town, or the nearest to a place
    (the browser's location, or coordinates typed in)."""
    # the towns and streets that have an open point; points below town level count for their town
    town_codes = {c[:9] for c in services.open_points().values_list("division_code", flat=True)}
    towns = list(
        Division.objects.filter(code__in=town_codes, level=Level.TOWN)
        .order_by("code")
        .values_list("code", "name_zh")
    )
    form = forms.NearestForm(request.GET or None, towns=towns)
    nearest, listed, origin = [], [], None
    if form.is_valid():
        data = form.cleaned_data
        if data.get("lat") is not None and data.get("lon") is not None:
            origin = (data["lat"], data["lon"])
        elif data.get("where"):
            origin = parse_coordinates(data["where"])
            if origin is None:
                form.add_error(
                    "where", _("Write the coordinates as latitude, longitude, e.g. 31.38, 120.98.")
                )
        if origin is not None:
            nearest = services.nearest_points(origin[0], origin[1], limit=5)
        elif data.get("town"):
            listed = list(services.points_in(data["town"]).select_related("unit"))
    if not nearest and not listed:
        listed = list(services.points_in("").select_related("unit")[:100])
    return render(
        request,
        "testing/public_points.html",
        {"form": form, "nearest": nearest, "listed": listed, "origin": origin},
    )


# --- overview, turnaround, overdue ----------------------------------------------------------


@scoped(Perm.TESTING_VIEW)
def overview(request):
    now = timezone.now()
    user = request.user
    bars = services.turnaround_days(user, at=now, days=14)
    chart = stacked_bars_svg(
        bars,
        title=_("Results per day: on time and late against each order's due time"),
        on_time_label=_("on time"),
        late_label=_("late"),
    )
    summary = services.overdue_summary(user, at=now)
    lab = services.lab_of(user)
    return render(
        request,
        "testing/overview.html",
        {"chart": chart, "bars": bars, "summary": summary, "lab": lab, "perms": user.permissions},
    )


@scoped(Perm.TESTING_VIEW)
def overdue(request):
    now = timezone.now()
    lab_id = request.GET.get("lab") or None
    point_id = request.GET.get("point") or None
    stage = request.GET.get("stage") or ""
    try:
        qs = services.overdue_orders(request.user, at=now, lab_id=lab_id, point_id=point_id, stage=stage)
        orders = list(qs.select_related("person", "sampling_point", "lab", "specimen")[:200])
    except (ValueError, DomainError):
        raise Http404
    return render(
        request,
        "testing/overdue.html",
        {
            "orders": orders,
            "now": now,
            "show_names": request.user.has_epigrid_perm(Perm.PEOPLE_VIEW),
            "stage": stage,
        },
    )


# --- sampling points ----------------------------------------------------------------------


@scoped(Perm.TESTING_VIEW)
def point_list(request):
    points = visible_to(request.user, SamplingPoint.objects.select_related("unit", "lab")).order_by(
        "division_code", "name"
    )[:500]
    return render(request, "testing/points.html", {"points": points})


def _point_form_choices(user):
    units = visible_to(user, Unit.objects.filter(kind=UnitKind.MEDICAL_INSTITUTION, active=True)).order_by(
        "name"
    )
    return {"units": list(units[:500]), "labs": list(services.labs_visible_to(user)[:200])}


@scoped(Perm.TESTING_MANAGE)
def point_edit(request, point_id=None):
    point = get_visible_or_404(request.user, SamplingPoint.objects.all(), pk=point_id) if point_id else None
    initial = {"active_from": timezone.localdate()}
    if point is not None:
        initial = {
            **{f: getattr(point, f) for f in forms.PointForm.base_fields if hasattr(point, f)},
            "unit_id": str(point.unit_id or ""),
            "lab_id": str(point.lab_id or ""),
        }
    form = forms.PointForm(request.POST or None, initial=initial, **_point_form_choices(request.user))
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items()}
        data["unit_id"] = data["unit_id"] or None
        data["lab_id"] = data["lab_id"] or None
        try:
            services.save_point(
                actor=Actor.from_request(request), data=services.PointInput(**data), point=point
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("The sampling point was saved."))
            return redirect("testing:points")
    return render(request, "testing/point_form.html", {"form": form, "point": point})


# --- must-test groups ---------------------------------------------------------------------


@scoped(Perm.TESTING_MANAGE)
def groups(request):
    form = forms.GroupForm(request.POST or None, initial={"interval_days": 0, "due_hours": 12})
    if request.method == "POST" and form.is_valid():
        try:
            services.configure_group(actor=Actor.from_request(request), **form.cleaned_data)
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("The must-test group was saved."))
            return redirect("testing:groups")
    configs = visible_to(request.user, MustTestGroup.objects.all()).order_by("division_code", "group")
    return render(
        request,
        "testing/groups.html",
        {"form": form, "configs": configs, "screenable": set(services.GROUP_UNIT_KINDS)},
    )


@scoped(Perm.TESTING_MANAGE)
@require_POST
def group_screen(request, config_id):
    config = get_visible_or_404(request.user, MustTestGroup.objects.all(), pk=config_id)
    try:
        count = services.screen_group(actor=Actor.from_request(request), config=config)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(n)d test orders were created.") % {"n": count})
    return redirect("testing:groups")


# --- the lab desk -------------------------------------------------------------------------


@scoped(Perm.LAB_RESULTS)
def lab_desk(request):
    lab = services.lab_of(request.user)
    upload_form = forms.UploadForm()
    receive_form = forms.ReceiveForm()
    received = None
    if request.method == "POST" and lab is not None:
        if "barcodes" in request.POST:
            receive_form = forms.ReceiveForm(request.POST)
            if receive_form.is_valid():
                codes = receive_form.cleaned_data["barcodes"].split()
                received = services.receive(
                    actor=Actor.from_request(request), user=request.user, barcodes=codes
                )
        else:
            upload_form = forms.UploadForm(request.POST, request.FILES)
            if upload_form.is_valid():
                upload = upload_form.cleaned_data["file"]
                if upload.size > MAX_UPLOAD:
                    upload_form.add_error("file", _("A results file is at most 20 MB; split it."))
                else:
                    imp = services.start_import(
                        actor=Actor.from_request(request),
                        user=request.user,
                        filename=upload.name,
                        data=upload.read(),
                    )
                    return redirect("testing:import", import_id=imp.pk)
    imports = ResultImport.objects.filter(lab=lab).order_by("-created_at")[:20] if lab else []
    return render(
        request,
        "testing/lab_desk.html",
        {
            "lab": lab,
            "upload_form": upload_form,
            "receive_form": receive_form,
            "received": received,
            "imports": imports,
            "help": lab_upload.upload_help(),
        },
    )


@scoped(Perm.LAB_RESULTS)
def import_detail(request, import_id):
    lab = services.lab_of(request.user)
    if lab is None:
        raise Http404
    imp = get_visible_or_404(request.user, ResultImport.objects.filter(lab=lab), pk=import_id)
    if request.method == "POST":
        if len(imp.rows) > INLINE_COMMIT_ROWS and imp.status == ImportStatus.VALID:
            try:
                results_import.queue_commit(
                    actor=Actor.from_request(request), user=request.user, result_import=imp
                )
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.info(
                    request, _("The file is being committed in the background; reload to follow it.")
                )
            return redirect("testing:import", import_id=imp.pk)
        try:
            imp = results_import.commit_import(
                actor=Actor.from_request(request), user=request.user, result_import=imp
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("Committed: %(new)d new results, %(same)d already known, %(pools)d positive pools.")
                % {
                    "new": imp.counts.get("new_results", 0),
                    "same": imp.counts.get("unchanged", 0),
                    "pools": imp.counts.get("positive_pools", 0),
                },
            )
        return redirect("testing:import", import_id=imp.pk)
    labels = {w.code: w.label for kind in parsing.vocabulary().values() for w in kind}
    errors = [{**e, "column_label": parsing.column_label(e.get("column") or "")} for e in imp.errors]
    preview = [
        {
            **r,
            "test_label": labels.get(r["analyte"], r["analyte"]),
            "result_label": labels.get(r["result"], r["result"]),
        }
        for r in imp.rows[:50]
    ]
    return render(
        request,
        "testing/import.html",
        {"imp": imp, "errors": errors, "can_commit": imp.status == ImportStatus.VALID, "preview": preview},
    )


@scoped(Perm.LAB_RESULTS)
@require_POST
def import_resume(request, import_id):
    """Resume a commit whose worker stopped (its heartbeat expired); refused while it runs."""
    lab = services.lab_of(request.user)
    if lab is None:
        raise Http404
    imp = get_visible_or_404(request.user, ResultImport.objects.filter(lab=lab), pk=import_id)
    try:
        jobs.resume_import(actor=Actor.from_request(request), user=request.user, result_import=imp)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The commit was queued again; it continues after the last row written."))
    return redirect("testing:import", import_id=imp.pk)


# --- sequencing ---------------------------------------------------------------------------


@scoped(Perm.SEQUENCING)
def sequencing(request):
    user = request.user
    labs = list(services.labs_visible_to(user))
    form = forms.SequencingForm(request.POST or None, labs=labs)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        specimen = visible_to(user, Specimen.objects.filter(barcode=data["specimen_barcode"])).first()
        lab = next((u for u in labs if str(u.pk) == data["lab_id"]), None)
        if specimen is None:
            form.add_error("specimen_barcode", _("No specimen in your area has this barcode."))
        else:
            try:
                services.request_sequencing(
                    actor=Actor.from_request(request), specimen=specimen, lab=lab, notes=data["notes"]
                )
            except DomainError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("Sequencing was requested."))
                return redirect("testing:sequencing")
    requests = visible_to(
        user, SequencingRequest.objects.select_related("lab", "specimen", "person")
    ).order_by("-requested_at")[:200]
    return render(
        request,
        "testing/sequencing.html",
        {
            "form": form,
            "requests": requests,
            "update_form": forms.SequencingUpdateForm(),
            "show_names": user.has_epigrid_perm(Perm.PEOPLE_VIEW),
        },
    )


@scoped(Perm.SEQUENCING)
@require_POST
def sequencing_update(request, request_id):
    req = get_visible_or_404(request.user, SequencingRequest.objects.all(), pk=request_id)
    form = forms.SequencingUpdateForm(request.POST)
    if form.is_valid():
        try:
            services.advance_sequencing(actor=Actor.from_request(request), request=req, **form.cleaned_data)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The sequencing request was updated."))
    return redirect("testing:sequencing")


# --- results from elsewhere ---------------------------------------------------------------


@scoped(Perm.TESTING_MANAGE)
def external_result(request, person_id):
    person = get_visible_or_404(request.user, Person.objects.filter(status=Status.ACTIVE), pk=person_id)
    form = forms.ExternalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.record_external_result(
                actor=Actor.from_request(request),
                person=person,
                data=services.ExternalInput(
                    analyte=data["analyte"],
                    result=data["result"],
                    sampled_at=data["sampled_at"],
                    reported_at=data["reported_at"],
                    source=ResultSource.OTHER_REGION,
                    issuer=data["issuer"],
                    reference=data["reference"],
                ),
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("The result from another region was recorded."))
            return redirect("people:detail", person_id=person.pk)
    return render(request, "testing/external.html", {"form": form, "person": person})


@scoped(Perm.TESTING_MANAGE)
def dcc(request):
    """Paste or upload an EU DCC; it is verified against the trust list, and a valid test
    certificate is recorded for the person staff confirm (R3.4)."""
    form = forms.DccForm(request.POST or None, request.FILES or None)
    checked = None
    chosen = None
    if request.method == "POST" and form.is_valid():
        qr = form.cleaned_data["qr"]
        person_id = request.POST.get("person")
        try:
            if person_id:
                chosen = get_visible_or_404(
                    request.user, Person.objects.filter(status=Status.ACTIVE), pk=person_id
                )
                result, created = certificates.record_certificate(
                    actor=Actor.from_request(request), user=request.user, qr_text=qr, person=chosen
                )
                if created:
                    messages.success(request, _("The certificate was recorded as a test result."))
                else:
                    messages.info(request, _("This certificate was already recorded."))
                return redirect("people:detail", person_id=chosen.pk)
            checked = certificates.check(request.user, qr)
        except DomainError as exc:
            form.add_error(None, exc.message)
    return render(
        request,
        "testing/dcc.html",
        {
            "form": form,
            "checked": checked,
            "qr": form.cleaned_data.get("qr", "") if form.is_bound and form.is_valid() else "",
            "signers": TrustedSigner.objects.filter(active=True).count(),
        },
    )


@scoped(Perm.TESTING_MANAGE)
def dcc_trust(request):
    form = forms.TrustForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            added = certificates.add_trusted_signers(
                actor=Actor.from_request(request), data=upload.read(1_000_000), source=upload.name
            )
        except DomainError as exc:
            form.add_error("file", exc.message)
        else:
            messages.success(request, _("%(n)d signer certificate(s) are trusted.") % {"n": len(added)})
            return redirect("testing:dcc_trust")
    signers = TrustedSigner.objects.filter(active=True).order_by("subject")
    return render(request, "testing/dcc_trust.html", {"form": form, "signers": signers})
