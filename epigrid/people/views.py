from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from epigrid.accounts.access import scoped
from epigrid.accounts.audit import Actor
from epigrid.accounts.roles import Perm
from epigrid.accounts.scoping import get_visible_or_404, prefix_q
from epigrid.lib.errors import DomainError
from epigrid.lib.keyset import BadCursor, page
from epigrid.people import services
from epigrid.people.forms import PersonEditForm, PersonFilter, PersonForm
from epigrid.people.models import Person, PersonMerge, Status
from epigrid.people.panels import panels_for
from epigrid.regions.labels import label_divisions
from epigrid.regions.services import path_of


def _apply_form_error(form, exc: DomainError):
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@scoped(Perm.PEOPLE_VIEW)
def person_list(request):
    form = PersonFilter(request.GET or None, user=request.user)
    qs = Person.objects.filter(status=Status.ACTIVE)
    q = ""
    if form.is_valid():
        q = form.cleaned_data["q"]
        if form.cleaned_data["division"]:
            qs = qs.filter(prefix_q("division_code", form.cleaned_data["division"]))
        if form.cleaned_data["sex"]:
            qs = qs.filter(sex=form.cleaned_data["sex"])
    qs = services.search(request.user, q, qs, listing=True)
    try:
        result = page(qs, request.GET.get("cursor") or None, 50)
    except BadCursor:
        result = page(qs, None, 50)
    query = request.GET.copy()
    query.pop("cursor", None)
    label_divisions(result.items, get_language() or "zh-hans")
    context = {
        "form": form,
        "persons": result.items,
        "next_cursor": result.next_cursor,
        "query": query.urlencode(),
        "searched": bool(q),
    }
    if request.htmx and request.GET.get("cursor"):
        return render(request, "people/_rows.html", context)
    return render(request, "people/list.html", context)


@scoped(Perm.PEOPLE_VIEW)
def person_detail(request, person_id):
    person = get_visible_or_404(request.user, Person.objects.all(), pk=person_id)
    rosters = person.roster_entries.select_related("unit", "group").order_by("ended_on", "-started_on")
    merges = PersonMerge.objects.filter(survivor=person).select_related("merged")
    return render(
        request,
        "people/detail.html",
        {
            "person": person,
            "path": path_of(person.division_code),
            "rosters": rosters,
            "merges": merges,
            "can_reveal": request.user.has_epigrid_perm(Perm.PEOPLE_REVEAL),
            "can_edit": request.user.has_epigrid_perm(Perm.PEOPLE_EDIT),
            "panels": panels_for(request, person),
        },
    )


@scoped(Perm.PEOPLE_REVEAL)
@require_POST
def reveal(request, person_id, field_name):
    person = get_visible_or_404(request.user, Person.objects.all(), pk=person_id)
    try:
        value = services.reveal(actor=Actor.from_request(request), person=person, field_name=field_name)
    except DomainError:
        raise Http404
    return render(request, "people/_revealed.html", {"value": value, "field": field_name})


@scoped(Perm.PEOPLE_EDIT)
def person_new(request):
    form = PersonForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = services.PersonInput(**{k: v for k, v in form.cleaned_data.items()})
        try:
            person = services.register_person(actor=Actor.from_request(request), data=data)
        except DomainError as exc:
            _apply_form_error(form, exc)
        else:
            messages.success(request, _("The person was registered."))
            return redirect("people:detail", person_id=person.pk)
    return render(request, "people/form.html", {"form": form, "title": _("Register a person")})


@scoped(Perm.PEOPLE_EDIT)
def person_edit(request, person_id):
    person = get_visible_or_404(request.user, Person.objects.filter(status=Status.ACTIVE), pk=person_id)
    initial = {"name": person.name, "address": person.address, "division_code": person.division_code}
    form = PersonEditForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changes = services.PersonChanges(
            name=data["name"],
            address=data["address"],
            division_code=data["division_code"],
            phone=data["phone"] or None,
        )
        try:
            services.update_person(actor=Actor.from_request(request), person=person, changes=changes)
        except DomainError as exc:
            _apply_form_error(form, exc)
        else:
            messages.success(request, _("The changes were saved."))
            return redirect("people:detail", person_id=person.pk)
    return render(request, "people/form.html", {"form": form, "person": person, "title": _("Edit person")})


@scoped(Perm.PEOPLE_MERGE)
def duplicates(request):
    groups = services.find_duplicates(request.user, limit=50)
    return render(request, "people/duplicates.html", {"groups": groups})


@scoped(Perm.PEOPLE_MERGE)
@require_POST
def merge(request):
    survivor_id = request.POST.get("survivor")
    members = request.POST.getlist("member")
    reason = request.POST.get("reason", "manual")
    if reason not in {"same_id", "same_phone_name", "similar_name_birth", "manual"}:
        reason = "manual"
    if not survivor_id or survivor_id not in members:
        messages.error(request, _("Choose which record survives."))
        return redirect("people:duplicates")
    survivor = get_visible_or_404(request.user, Person.objects.all(), pk=survivor_id)
    actor = Actor.from_request(request)
    merged_count = 0
    for member_id in members:
        if member_id == survivor_id:
            continue
        merged = get_visible_or_404(request.user, Person.objects.all(), pk=member_id)
        try:
            services.merge_persons(actor=actor, survivor=survivor, merged=merged, reason=reason)
            merged_count += 1
        except DomainError as exc:
            messages.error(request, exc.message)
    if merged_count:
        messages.success(request, _("Merged %(n)d record(s) into this one.") % {"n": merged_count})
    return redirect("people:detail", person_id=survivor.pk)
