"""Pages of the rules: what-if previews and bulk reassessments with their progress, publishing
a risk-area change, the packs in force (R3.1-R3.3, issue item 6)."""

from django.contrib import messages
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from epigrid.accounts.access import scoped
from epigrid.accounts.audit import Actor
from epigrid.accounts.roles import Perm
from epigrid.accounts.scoping import scope_of, visible_to
from epigrid.lib.errors import DomainError
from epigrid.regions import services as risk_areas
from epigrid.regions.models import Division, RiskArea
from epigrid.rules import bulk
from epigrid.rules import jobs as rule_jobs
from epigrid.rules.models import BulkRun
from epigrid.rules.packs import default_library
from epigrid.rules.services import COUNT_FIELDS

MAX_PACK_BYTES = 256 * 1024


def visible_runs(user):
    """Runs of the user's divisions, and runs over everyone (risk-area changes concern the
    whole list): their counts are shown only for divisions in the user's scope."""
    runs = BulkRun.objects.select_related("created_by")
    return visible_to(user, runs) | runs.filter(division_prefix="")


def _run_or_404(user, run_id) -> BulkRun:
    run = visible_runs(user).filter(pk=run_id).first()
    if run is None or not change_reached(user, run):
        raise Http404
    return run


def change_reached(user, run: BulkRun) -> bool:
    """A what-if of a risk-area change shows its drafts: it is seen by those whose jurisdiction
    the drafts are of (regions.risk_scope), like the drafts themselves."""
    if run.cause != bulk.RISK_CHANGE or run.kind != BulkRun.Kind.PREVIEW:
        return True
    params = run.parameters or {}
    try:
        risk_areas.change_rows(
            params.get("publish", []), params.get("withdraw", []), actor=Actor(user=user, via="web")
        )
    except DomainError:
        return False
    return True


@scoped(Perm.RULES_PUBLISH)
def index(request):
    scope = scope_of(request.user)
    area = scope.prefixes[0] if scope.prefixes else "320583"
    now = timezone.now()
    packs = default_library().in_force(area, now)
    runs = [
        r for r in visible_runs(request.user).order_by("-created_at")[:30] if change_reached(request.user, r)
    ]
    for run in runs:
        total = (run.counts or {}).get("", {})
        run.affected, run.first = total.get("affected", 0), total.get("first", 0)
    return render(
        request,
        "rules/index.html",
        {"runs": runs, "packs": packs, "area": area, "prefixes": scope.prefixes},
    )


@scoped(Perm.RULES_PUBLISH)
@require_POST
def preview_risk_change(request):
    publish = request.POST.getlist("publish")
    withdraw = request.POST.getlist("withdraw")
    try:
        run = bulk.preview_risk_change(actor=Actor.from_request(request), publish=publish, withdraw=withdraw)
    except (DomainError, ValueError) as exc:
        messages.error(
            request, getattr(exc, "message", None) or _("Choose drafts or listings that still exist.")
        )
        return redirect("regions:risk_manage")
    return redirect("rules:run", run_id=run.pk)


@scoped(Perm.RULES_PUBLISH)
@require_POST
def preview_reassessment(request):
    division = (request.POST.get("division") or "").strip()
    scope = scope_of(request.user)
    if not division.isdigit() or not scope.covers_division(division):
        messages.error(request, _("Choose a division in your area."))
        return redirect("rules:index")
    pack_yaml = ""
    upload = request.FILES.get("pack")
    if upload is not None:
        if upload.size > MAX_PACK_BYTES:
            messages.error(request, _("A pack file is at most 256 KB."))
            return redirect("rules:index")
        if not upload.size:  # not the same as no pack: the preview would run without it
            messages.error(request, _("The pack file is empty."))
            return redirect("rules:index")
        try:
            pack_yaml = upload.read().decode("utf-8")
        except UnicodeDecodeError:
            messages.error(request, _("A pack file is UTF-8 text."))
            return redirect("rules:index")
    try:
        run = bulk.preview_reassessment(
            actor=Actor.from_request(request), division=division, pack_yaml=pack_yaml
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("rules:index")
    return redirect("rules:run", run_id=run.pk)


def _count_rows(user, counts: dict, language: str) -> list[dict]:
    scope = scope_of(user)
    codes = [c for c in counts if c and scope.covers_division(c)]
    names = {d.code: d.name_for(language) for d in Division.objects.filter(code__in=codes)}
    rows = []
    for code in sorted(codes):
        row = {"code": code, "name": names.get(code, code), "town": len(code) == 9}
        row.update({f: counts[code].get(f, 0) for f in COUNT_FIELDS})
        rows.append(row)
    return rows


def _change_of(run: BulkRun, language: str) -> dict | None:
    params = run.parameters or {}
    if run.cause != bulk.RISK_CHANGE:
        return None
    ids = [*params.get("publish", []), *params.get("withdraw", [])]
    rows = {str(r.pk): r for r in RiskArea.objects.filter(pk__in=ids).select_related("supersedes")}
    names = risk_areas.area_names(rows.values())
    for row in rows.values():
        row.display_name = names[row.area].for_language(language)
    return {
        "publish": [rows[i] for i in params.get("publish", []) if i in rows],
        "withdraw": [rows[i] for i in params.get("withdraw", []) if i in rows],
    }


def _run_context(request, run: BulkRun) -> dict:
    progress = bulk.progress_of(run)
    published = None
    if run.kind == BulkRun.Kind.PREVIEW:
        published = BulkRun.objects.filter(
            Q(kind=BulkRun.Kind.PUBLISH) & Q(parameters__preview=str(run.pk))
        ).first()
    can_publish = (
        run.kind == BulkRun.Kind.PREVIEW
        and run.status == BulkRun.Status.DONE
        and run.cause in (bulk.RISK_CHANGE, bulk.REASSESS)
        and published is None
        and timezone.now() - run.at <= bulk.PREVIEW_VALID_FOR
        # a risk-area change is published by a command (JX57-2.3, regions.risk_scope)
        and (run.cause != bulk.RISK_CHANGE or request.user.has_epigrid_perm(Perm.RISK_PUBLISH))
    )
    total = progress["counts"].get("", {})
    return {
        "run": run,
        "progress": progress,
        "percent": run.percent
        if run.finished
        else (min(99, progress["done"] * 100 // progress["total"]) if progress["total"] else 0),
        "rows": _count_rows(request.user, progress["counts"], request.LANGUAGE_CODE),
        "total": {f: total.get(f, 0) for f in COUNT_FIELDS},
        "can_publish": can_publish,
        "published": published,
        "stalled": rule_jobs.stalled_shards(run),
    }


@scoped(Perm.RULES_PUBLISH)
def run_detail(request, run_id):
    run = _run_or_404(request.user, run_id)
    context = _run_context(request, run)
    context["change"] = _change_of(run, request.LANGUAGE_CODE)
    if context["change"] is not None:
        # a publication, or a preview that was published: the change is in force, not pending
        context["change"]["applied"] = run.kind == BulkRun.Kind.PUBLISH or context["published"] is not None
    return render(request, "rules/run.html", context)


@scoped(Perm.RULES_PUBLISH)
def run_progress(request, run_id):
    """The part of the run page that changes while it runs; htmx polls it until it is done."""
    run = _run_or_404(request.user, run_id)
    return render(request, "rules/_run_progress.html", _run_context(request, run))


@scoped(Perm.RULES_PUBLISH)
@require_POST
def publish(request, run_id):
    preview = _run_or_404(request.user, run_id)
    actor = Actor.from_request(request)
    try:
        if preview.cause == bulk.RISK_CHANGE:
            run = bulk.publish_risk_change(actor=actor, preview=preview)
        else:
            run = bulk.publish_reassessment(actor=actor, preview=preview)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("rules:run", run_id=preview.pk)
    messages.success(request, _("Published. The people concerned are being reassessed."))
    return redirect("rules:run", run_id=run.pk)


@scoped(Perm.RULES_PUBLISH)
@require_POST
def resume(request, run_id):
    """Resume the shards of a run whose workers stopped (their heartbeat expired)."""
    run = _run_or_404(request.user, run_id)
    try:
        rule_jobs.resume_run(actor=Actor.from_request(request), run=run)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The run was queued again; it continues after the last batch."))
    return redirect("rules:run", run_id=run.pk)
