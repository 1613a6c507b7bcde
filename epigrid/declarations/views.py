"""Staff pages: declarations in scope and entering one for someone, the checks on the ground
(phone pages for grid workers), pushed lists for the data team, and tips."""

import tempfile

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from epigrid.accounts.access import scoped
from epigrid.accounts.audit import Actor
from epigrid.accounts.roles import Perm
from epigrid.accounts.scoping import get_visible_or_404, scope_of, visible_to
from epigrid.declarations import claims, jobs, places, services
from epigrid.declarations.forms import (
    CommitForm,
    DeclarationFilter,
    DeclarationForm,
    IdentityForm,
    RouteForm,
    UploadForm,
    VerificationForm,
    WithdrawForm,
    now_local_input,
    parse_stops,
)
from epigrid.declarations.models import (
    Declaration,
    Kind,
    ListStatus,
    PushedList,
    RoutedBy,
    Tip,
    VerificationKind,
    VerificationStatus,
    VerificationTask,
)
from epigrid.declarations.public import apply_error, form_context
from epigrid.declarations.services import pushed_commit, pushed_feedback, pushed_upload, queries
from epigrid.lib.errors import DomainError
from epigrid.lib.keyset import BadCursor, page
from epigrid.people.forms import division_choices
from epigrid.people.models import Person, Status
from epigrid.regions.models import Level
from epigrid.rules import facts as rf


def _page(qs, request, time_field: str, size: int = 50):
    try:
        return page(qs, request.GET.get("cursor") or None, size, time_field=time_field)
    except BadCursor:
        return page(qs, None, size, time_field=time_field)


def _query_without_cursor(request) -> str:
    query = request.GET.copy()
    query.pop("cursor", None)
    return query.urlencode()


# --- declarations ------------------------------------------------------------------------------


@scoped(Perm.DECLARATIONS_VIEW)
def declaration_list(request):
    form = DeclarationFilter(request.GET or None)
    qs = visible_to(request.user, Declaration.objects.select_related("person"), listing=True)
    if form.is_valid():
        d = form.cleaned_data
        if d["kind"]:
            qs = qs.filter(kind=d["kind"])
        if d["status"]:
            qs = qs.filter(status=d["status"])
        if d["arrived_since"]:
            qs = qs.filter(arrived_at__gte=rf.start_of_day(d["arrived_since"]))
    result = _page(qs, request, "declared_at")
    language = get_language() or "zh-hans"
    labels = places.place_labels({d.origin or d.travel_to for d in result.items}, language)
    visible = claims.visible_person_ids(request.user, [d.person_id for d in result.items])
    for d in result.items:
        d.place_label = labels.get(d.origin or d.travel_to, "")
        d.subject = d.name_shown(d.person_id in visible)
    context = {
        "form": form,
        "declarations": result.items,
        "next_cursor": result.next_cursor,
        "query": _query_without_cursor(request),
    }
    if request.htmx and request.GET.get("cursor"):
        return render(request, "declarations/_declaration_rows.html", context)
    return render(request, "declarations/list.html", context)


def _host_units(user) -> list[tuple[str, str]]:
    from django.apps import apps

    unit_ids = scope_of(user).unit_ids
    if not unit_ids:
        return []
    units = apps.get_model("units", "Unit").objects.filter(pk__in=unit_ids).order_by("name")
    return [(str(u.pk), u.name) for u in units]


@scoped(Perm.DECLARATIONS_EDIT)
def declaration_new(request):
    """Staff of a community or unit declare for someone: a person picked from the registry
    (`?person=`) or identified by their document (R2.1: "or their employer / community")."""
    person = None
    person_id = request.GET.get("person") or request.POST.get("person")
    if person_id:
        person = get_visible_or_404(request.user, Person.objects.filter(status=Status.ACTIVE), pk=person_id)
    language = get_language() or "zh-hans"
    choices = division_choices(request.user, min_level=Level.COMMUNITY)
    initial = {"kind": request.GET.get("kind") or Kind.ARRIVAL}
    if person is not None:
        initial.update(division_code=person.division_code, address=person.address)
    form = DeclarationForm(
        request.POST or None,
        language=language,
        division_choices=choices or None,
        host_units=_host_units(request.user),
        public=False,
        initial=initial,
    )
    identity_form = IdentityForm(request.POST or None, phone_required=False) if person is None else None
    stops, stop_errors = parse_stops(request.POST) if request.method == "POST" else ([], [])
    if request.method == "POST":
        valid = form.is_valid() and (identity_form is None or identity_form.is_valid()) and not stop_errors
        if valid:
            actor = Actor.from_request(request)
            try:
                if person is not None:
                    declaration = services.declare(actor=actor, person=person, data=form.to_input(stops))
                else:
                    declaration = services.declare_for_new_person(
                        actor=actor, person_data=identity_form.to_input(), data=form.to_input(stops)
                    )
            except DomainError as exc:
                apply_error([f for f in (identity_form, form) if f is not None], exc, form, stop_errors)
            else:
                if declaration.counted:
                    messages.success(request, _("The declaration was recorded."))
                else:
                    messages.warning(
                        request,
                        _(
                            "The declaration was recorded. It counts once the community has "
                            "confirmed it on the ground."
                        ),
                    )
                if visible_to(request.user, Declaration.objects.filter(pk=declaration.pk)).exists():
                    return redirect("declarations:detail", declaration_id=declaration.pk)
                return redirect("declarations:list")
    context = form_context(request, form, identity_form, stop_errors, stops)
    context.update(person=person, staff=True, division_select=bool(choices))
    return render(request, "declarations/new.html", context)


@scoped(Perm.DECLARATIONS_VIEW)
def declaration_detail(request, declaration_id):
    declaration = get_visible_or_404(
        request.user, Declaration.objects.select_related("person", "return_of"), pk=declaration_id
    )
    from epigrid.declarations.panels import decorate

    decorate([declaration], get_language() or "zh-hans")
    person_visible = claims.reaches(request.user, declaration.person)
    return_arrival = Declaration.objects.filter(return_of=declaration).first()
    return render(
        request,
        "declarations/detail.html",
        {
            "declaration": declaration,
            "person_visible": person_visible,
            "subject": declaration.name_shown(person_visible),
            "return_arrival": return_arrival,
            "can_edit": request.user.has_epigrid_perm(Perm.DECLARATIONS_EDIT),
            "withdraw_form": WithdrawForm(),
            # a check routed to the person's own community is theirs: not even its existence here
            "checks": visible_to(request.user, declaration.verifications.all()),
        },
    )


def _submitted(request, form, action, *, done: str, invalid: str) -> bool:
    """A form posted to a button: `action(cleaned_data)` when the form is valid, and the message
    saying how it went (the service's refusal as it words it). True when the action was done."""
    if not form.is_valid():
        messages.error(request, invalid)
        return False
    try:
        action(form.cleaned_data)
    except DomainError as exc:
        messages.error(request, exc.message)
        return False
    messages.success(request, done)
    return True


@scoped(Perm.DECLARATIONS_EDIT)
@require_POST
def withdraw(request, declaration_id):
    declaration = get_visible_or_404(request.user, Declaration.objects.all(), pk=declaration_id)
    _submitted(
        request,
        WithdrawForm(request.POST),
        lambda d: services.withdraw(
            actor=Actor.from_request(request), declaration=declaration, reason=d["reason"]
        ),
        done=_("The declaration was withdrawn."),
        invalid=_("Say why the declaration is withdrawn."),
    )
    return redirect("declarations:detail", declaration_id=declaration.pk)


# --- verification on the ground -------------------------------------------------------------------


def _verification_qs(user):
    return visible_to(
        user,
        VerificationTask.objects.select_related("pushed_row", "tip", "declaration", "person"),
        listing=False,
    )


def _describe(tasks: list[VerificationTask], language: str, user) -> None:
    """What the worker needs on the card: name, address, arrival, origin (facts only). The name is
    the record's only for a person the worker may see, else the one the source gave."""
    codes = set()
    visible = claims.visible_person_ids(user, [t.person_id for t in tasks])
    for t in tasks:
        src = t.pushed_row or t.tip or t.declaration
        t.src = src
        record_name = t.person.name if t.person_id in visible else ""
        # a declaration to confirm is checked for the name it was declared with
        declared = t.declaration.declared_name if t.declaration else ""
        t.subject = (
            declared
            or record_name
            or (t.pushed_row.name if t.pushed_row else "")
            or (t.tip.subject_name if t.tip else "")
        )
        t.record_name = record_name if record_name and not claims.same_name(record_name, t.subject) else ""
        if t.declaration:
            # staff of another area declared for a person of this one, or the details differ
            t.declared_elsewhere = not t.declaration.division_code.startswith(t.division_code)
            codes.add(t.declaration.division_code)
        t.address_text = getattr(src, "address", "") if src else ""
        t.origin_code = getattr(src, "origin", "") if src else ""
        arrived = getattr(src, "arrived_at", None) if src else None
        if arrived is None and t.tip is not None and t.tip.arrived_on:
            t.arrived_day = t.tip.arrived_on
        else:
            t.arrived_day = rf.local_date(arrived) if arrived else None
        codes.update((t.origin_code, t.division_code))
    labels = places.place_labels(codes, language)
    now = timezone.now()
    for t in tasks:
        t.origin_label = labels.get(t.origin_code, t.origin_code)
        t.division_label = labels.get(t.division_code, t.division_code)
        if t.declaration:
            t.destination_label = labels.get(t.declaration.division_code, t.declaration.division_code)
        t.overdue = t.status == VerificationStatus.OPEN and t.due_at < now


@scoped(Perm.TASKS_VIEW)
def verification_list(request):
    """The checks in the user's area, open ones first by due time (a phone page)."""
    show = request.GET.get("show", "open")
    qs = _verification_qs(request.user)
    if show == "done":
        qs = qs.exclude(status=VerificationStatus.OPEN).order_by("-verified_at", "-id")
    else:
        show = "open"
        qs = qs.filter(status=VerificationStatus.OPEN).order_by("due_at", "id")
    kind = request.GET.get("kind", "")
    if kind in VerificationKind.values:
        qs = qs.filter(kind=kind)
    tasks = list(qs[:100])
    _describe(tasks, get_language() or "zh-hans", request.user)
    return render(
        request,
        "declarations/verify_list.html",
        {
            "tasks": tasks,
            "show": show,
            "kind": kind,
            "kinds": VerificationKind.choices,
            "limited": len(tasks) == 100,
        },
    )


def _route_choices(user, task: VerificationTask) -> list[tuple[str, str]]:
    return [
        (code, label)
        for code, label in division_choices(user, min_level=Level.COMMUNITY)
        if code.startswith(task.division_code) and code != task.division_code
    ][:500]


@scoped(Perm.TASKS_VIEW)
def verification_detail(request, task_id):
    task = get_visible_or_404(request.user, _verification_qs(request.user), pk=task_id)
    can_verify = request.user.has_epigrid_perm(Perm.VERIFY) and task.is_open
    form = VerificationForm(request.POST or None, initial={"arrived_at": None})
    if request.method == "POST":
        if not can_verify:
            raise Http404
        if form.is_valid():
            try:
                services.complete_verification(
                    actor=Actor.from_request(request),
                    task=task,
                    outcome=form.cleaned_data["outcome"],
                    notes=form.cleaned_data.get("notes") or "",
                    found=form.found_details(),
                )
            except DomainError as exc:
                apply_error([form], exc, form)
            else:
                messages.success(request, _("The check was recorded."))
                return redirect("declarations:verify_list")
    _describe([task], get_language() or "zh-hans", request.user)
    route_choices = (
        _route_choices(request.user, task)
        if task.is_open and request.user.has_epigrid_perm(Perm.DECLARATIONS_EDIT)
        else []
    )
    needs_identity = task.person_id is None and not (task.pushed_row and task.pushed_row.id_number_bidx)
    return render(
        request,
        "declarations/verify.html",
        {
            "task": task,
            "form": form,
            "can_verify": can_verify,
            "needs_identity": needs_identity,
            "needs_arrival": task.pushed_row is not None and task.pushed_row.arrived_at is None,
            "route_form": RouteForm(choices=route_choices) if route_choices else None,
            "person_visible": task.person_id
            and visible_to(request.user, Person.objects.filter(pk=task.person_id)).exists(),
            "declaration_visible": task.declaration_id
            and visible_to(request.user, Declaration.objects.filter(pk=task.declaration_id)).exists(),
            "now_input": now_local_input(),
        },
    )


@scoped(Perm.DECLARATIONS_EDIT)
@require_POST
def verification_route(request, task_id):
    task = get_visible_or_404(request.user, _verification_qs(request.user), pk=task_id)
    if _submitted(
        request,
        RouteForm(request.POST, choices=_route_choices(request.user, task)),
        lambda d: services.route_verification(
            actor=Actor.from_request(request), task=task, division_code=d["division_code"]
        ),
        done=_("The check was passed on."),
        invalid=_("Choose a community or grid cell."),
    ):
        return redirect("declarations:verify_list")
    return redirect("declarations:verify", task_id=task.pk)


# --- pushed lists --------------------------------------------------------------------------------


@scoped(Perm.PUSHED_LISTS)
def list_index(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > pushed_upload.MAX_BYTES:
            form.add_error("file", _("The file is larger than 64 MB; split the list."))
        else:
            try:
                result = pushed_upload.upload(
                    actor=Actor.from_request(request),
                    name=form.cleaned_data["name"],
                    source=form.cleaned_data["source"],
                    file_name=upload.name,
                    data=upload.read(),
                )
            except DomainError as exc:
                apply_error([form], exc, form)
            else:
                return redirect("declarations:list_detail", list_id=result.pk)
    qs = visible_to(request.user, PushedList.objects.all())
    result = _page(qs, request, "received_at", 30)
    return render(
        request,
        "declarations/lists.html",
        {"form": form, "lists": result.items, "next_cursor": result.next_cursor},
    )


@scoped(Perm.PUSHED_LISTS)
def list_template(request):
    handle = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it)
    pushed_feedback.template_workbook(handle)
    handle.seek(0)
    return FileResponse(handle, as_attachment=True, filename="pushed-list-template.xlsx")


def _list_context(request, pushed_list: PushedList) -> dict:
    routing_labels = {k: str(v) for k, v in RoutedBy.choices}
    return {
        "pushed_list": pushed_list,
        "errors": (
            queries.row_errors(pushed_list) if pushed_list.error_rows or pushed_list.file_errors else []
        ),
        "routing": [(routing_labels.get(k, k), n) for k, n in (pushed_list.routing or {}).items()],
        "progress": queries.progress(pushed_list) if pushed_list.committed_rows else None,
        "polling": pushed_list.status in (ListStatus.QUEUED, ListStatus.COMMITTING),
    }


@scoped(Perm.PUSHED_LISTS)
def list_detail(request, list_id):
    pushed_list = get_visible_or_404(request.user, PushedList.objects.all(), pk=list_id)
    context = _list_context(request, pushed_list)
    context["commit_form"] = CommitForm(initial={"due_hours": pushed_list.due_hours})
    return render(request, "declarations/list_detail.html", context)


@scoped(Perm.PUSHED_LISTS)
def list_progress(request, list_id):
    """The progress block, polled by htmx while the commit runs."""
    pushed_list = get_visible_or_404(request.user, PushedList.objects.all(), pk=list_id)
    return render(request, "declarations/_list_progress.html", _list_context(request, pushed_list))


@scoped(Perm.PUSHED_LISTS)
@require_POST
def list_commit(request, list_id):
    pushed_list = get_visible_or_404(request.user, PushedList.objects.all(), pk=list_id)
    _submitted(
        request,
        CommitForm(request.POST),
        lambda d: pushed_commit.request_commit(
            actor=Actor.from_request(request),
            pushed=pushed_list,
            skip_invalid=d["skip_invalid"],
            due_hours=d["due_hours"],
        ),
        done=_("The commit was queued; this page shows its progress."),
        invalid=_("Check the commit settings."),
    )
    return redirect("declarations:list_detail", list_id=pushed_list.pk)


@scoped(Perm.PUSHED_LISTS)
@require_POST
def list_resume(request, list_id):
    """Resume a commit whose worker stopped (its heartbeat expired); refused while it runs."""
    pushed_list = get_visible_or_404(request.user, PushedList.objects.all(), pk=list_id)
    try:
        jobs.resume_commit(actor=Actor.from_request(request), pushed=pushed_list)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The commit was queued again; it continues after the last batch."))
    return redirect("declarations:list_detail", list_id=pushed_list.pk)


@scoped(Perm.PUSHED_LISTS)
def list_feedback(request, list_id):
    """反馈: every row with its check, match, routing and verification result (XLSX)."""
    pushed_list = get_visible_or_404(request.user, PushedList.objects.all(), pk=list_id)
    handle = pushed_feedback.feedback_file(
        actor=Actor.from_request(request), pushed=pushed_list, language=get_language() or "zh-hans"
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return FileResponse(handle, as_attachment=True, filename=f"feedback-{pushed_list.pk}-{stamp}.xlsx")


# --- tips ------------------------------------------------------------------------------------------


@scoped(Perm.TIPS_VIEW)
def tip_list(request):
    qs = visible_to(request.user, Tip.objects.select_related("verification"), listing=True)
    result = _page(qs, request, "created_at")
    labels = places.place_labels(
        {t.origin for t in result.items} | {t.division_code for t in result.items},
        get_language() or "zh-hans",
    )
    for t in result.items:
        t.origin_label = labels.get(t.origin, t.origin)
        t.division_label = labels.get(t.division_code, t.division_code)
    return render(
        request,
        "declarations/tips.html",
        {"tips": result.items, "next_cursor": result.next_cursor, "query": _query_without_cursor(request)},
    )


@scoped(Perm.TIPS_VIEW)
def tip_detail(request, tip_id):
    tip = get_visible_or_404(request.user, Tip.objects.all(), pk=tip_id)
    labels = places.place_labels({tip.origin, tip.division_code}, get_language() or "zh-hans")
    verification = VerificationTask.objects.filter(tip=tip).first()
    return render(
        request,
        "declarations/tip.html",
        {
            "tip": tip,
            "origin_label": labels.get(tip.origin, tip.origin),
            "division_label": labels.get(tip.division_code, tip.division_code),
            "verification": verification,
            "can_reveal": request.user.has_epigrid_perm(Perm.TIPS_REPORTER) and tip.has_reporter_contact,
        },
    )


@scoped(Perm.TIPS_REPORTER)
@require_POST
def tip_reporter(request, tip_id):
    tip = get_visible_or_404(request.user, Tip.objects.all(), pk=tip_id)
    try:
        contact = services.reveal_reporter(
            actor=Actor.from_request(request), tip=tip, purpose=request.POST.get("purpose", "")
        )
    except DomainError:
        raise Http404
    return render(request, "declarations/_reporter.html", {"contact": contact})


def tabs(request) -> list[dict]:
    """The section's own navigation, built from the role table like the main menu."""
    user = request.user
    items = [
        ("declarations:list", _("Declarations"), Perm.DECLARATIONS_VIEW),
        ("declarations:verify_list", _("Checks on the ground"), Perm.TASKS_VIEW),
        ("declarations:lists", _("Pushed lists"), Perm.PUSHED_LISTS),
        ("declarations:tips", _("Tips"), Perm.TIPS_VIEW),
    ]
    out = [
        {"url": reverse(name), "label": label, "current": False}
        for name, label, perm in items
        if user.has_epigrid_perm(perm)
    ]
    # the most specific tab the page lies under is the current one ("/declarations/" holds them all)
    under = [t for t in out if request.path.startswith(t["url"])]
    if under:
        max(under, key=lambda t: len(t["url"]))["current"] = True
    return out
