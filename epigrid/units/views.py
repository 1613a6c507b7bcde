from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from epigrid.accounts.access import scoped
from epigrid.accounts.audit import Actor
from epigrid.accounts.roles import Perm
from epigrid.accounts.scoping import get_visible_or_404, visible_to
from epigrid.lib.errors import DomainError
from epigrid.lib.keyset import BadCursor, page
from epigrid.people import services as people_services
from epigrid.regions.labels import label_divisions
from epigrid.units import services
from epigrid.units.forms import GroupForm, RosterAddForm, UnitFilter, UnitForm
from epigrid.units.models import RosterEntry, Unit


@scoped(Perm.UNITS_VIEW)
def unit_list(request):
    form = UnitFilter(request.GET or None)
    qs = visible_to(request.user, Unit.objects.all())
    if form.is_valid():
        if form.cleaned_data["kind"]:
            qs = qs.filter(kind=form.cleaned_data["kind"])
        if form.cleaned_data["q"]:
            qs = qs.filter(name__contains=form.cleaned_data["q"].strip())
    try:
        result = page(qs, request.GET.get("cursor") or None, 50, time_field="created_at")
    except BadCursor:
        result = page(qs, None, 50, time_field="created_at")
    query = request.GET.copy()
    query.pop("cursor", None)
    label_divisions(result.items, get_language() or "zh-hans")
    return render(
        request,
        "units/list.html",
        {"form": form, "units": result.items, "next_cursor": result.next_cursor, "query": query.urlencode()},
    )


@scoped(Perm.UNITS_VIEW)
def unit_detail(request, unit_id):
    unit = get_visible_or_404(request.user, Unit.objects.all(), pk=unit_id)
    group_id = request.GET.get("group") or None
    roster = RosterEntry.objects.filter(unit=unit, ended_on__isnull=True).select_related("person", "group")
    groups = list(unit.groups.all())
    if group_id and any(str(g.pk) == group_id for g in groups):
        roster = roster.filter(group_id=group_id)
    roster = roster.order_by("group__grade", "group__name", "person__name")[:1000]
    can_edit = request.user.has_epigrid_perm(Perm.ROSTER_EDIT)
    label_divisions([unit], get_language() or "zh-hans")
    return render(
        request,
        "units/detail.html",
        {
            "unit": unit,
            "groups": groups,
            "roster": roster,
            "group_id": group_id,
            "can_edit": can_edit,
            "roster_form": RosterAddForm(unit=unit) if can_edit else None,
            "group_form": GroupForm() if can_edit else None,
        },
    )


@scoped(Perm.UNITS_EDIT)
def unit_new(request):
    form = UnitForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            unit = services.create_unit(
                actor=Actor.from_request(request), data=services.UnitInput(**form.cleaned_data)
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("The unit was registered."))
            return redirect("units:detail", unit_id=unit.pk)
    return render(request, "units/form.html", {"form": form})


@scoped(Perm.ROSTER_EDIT)
@require_POST
def roster_add(request, unit_id):
    unit = get_visible_or_404(request.user, Unit.objects.all(), pk=unit_id)
    form = RosterAddForm(request.POST, unit=unit)
    if not form.is_valid():
        messages.error(request, _("Check the roster form."))
        return redirect("units:detail", unit_id=unit.pk)
    # the person must be someone this user may already see: no lookups of strangers by ID
    person = (
        people_services.search(request.user, form.cleaned_data["id_number"]).filter(status="active").first()
    )
    if person is None:
        messages.error(request, _("No person with this document number in your area. Register them first."))
        return redirect("units:detail", unit_id=unit.pk)
    group = unit.groups.filter(pk=form.cleaned_data["group"]).first() if form.cleaned_data["group"] else None
    try:
        services.add_to_roster(
            actor=Actor.from_request(request),
            unit=unit,
            person=person,
            role=form.cleaned_data["role"],
            group=group,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(name)s was added to the roster.") % {"name": person.name})
    return redirect("units:detail", unit_id=unit.pk)


@scoped(Perm.ROSTER_EDIT)
@require_POST
def roster_end(request, unit_id, entry_id):
    unit = get_visible_or_404(request.user, Unit.objects.all(), pk=unit_id)
    entry = get_visible_or_404(request.user, RosterEntry.objects.filter(unit=unit), pk=entry_id)
    services.end_roster_entry(actor=Actor.from_request(request), entry=entry)
    messages.success(request, _("The roster entry was ended."))
    return redirect("units:detail", unit_id=unit.pk)


@scoped(Perm.ROSTER_EDIT)
@require_POST
def group_add(request, unit_id):
    unit = get_visible_or_404(request.user, Unit.objects.all(), pk=unit_id)
    form = GroupForm(request.POST)
    if form.is_valid():
        try:
            services.add_group(actor=Actor.from_request(request), unit=unit, **form.cleaned_data)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The class or team was added."))
    else:
        messages.error(request, _("Check the class or team form."))
    return redirect("units:detail", unit_id=unit.pk)
