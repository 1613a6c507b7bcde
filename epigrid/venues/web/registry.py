"""Pages: the venue registry (R5.1, JX57-3.8): venues in scope, registration by the owner,
a venue's page with its staff, today's entries and live occupancy (R5.4), approval by the
community or town, a new code for a lost poster, and the A4 poster itself."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy, pgettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from epigrid.accounts.access import scoped
from epigrid.accounts.audit import Actor
from epigrid.accounts.roles import Perm, Role, permissions_of
from epigrid.accounts.scoping import get_visible_or_404, prefixes_q, scope_of, visible_to
from epigrid.lib.errors import DomainError
from epigrid.lib.keyset import BadCursor, page
from epigrid.regions.labels import label_divisions
from epigrid.venues.models import Venue, VenueStatus, VenueType
from epigrid.venues.services import capacity, codes
from epigrid.venues.services.venues import (
    VenueInput,
    add_staff,
    can_decide,
    can_manage,
    decide_venue,
    register_venue,
)

# a county's list of communities and grid cells stays a usable select below this
MAX_DIVISION_CHOICES = 2000


def _lang() -> str:
    return get_language() or "zh-hans"


def _label_types(venues, language: str) -> None:
    for venue in venues:
        venue.type_label = venue.type.label(language)


# --- forms ----------------------------------------------------------------------------------


class VenueFilter(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"), required=False, choices=[("", gettext_lazy("all"))]
    )
    type = forms.ChoiceField(label=gettext_lazy("Type"), required=False)
    q = forms.CharField(label=pgettext_lazy("entity", "Name"), required=False, max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("all")), *VenueStatus.choices]
        self.fields["type"].choices = [("", _("all")), *_type_choices()]


def _type_choices() -> list[tuple[str, str]]:
    language = _lang()
    return [(t.code, t.label(language)) for t in VenueType.objects.all()]


def division_choices(user, levels=None) -> list[tuple[str, str]]:
    """The communities and grid cells a user may register a venue in (or the `levels` asked
    for: a checkpoint stands in a town or a community): those under their division prefixes,
    and the communities (with their cells) of the units they manage."""
    from epigrid.regions.models import Division, Level
    from epigrid.units.models import Unit

    scope = scope_of(user)
    prefixes = list(scope.prefixes)
    if scope.unit_ids:
        prefixes += [
            c[:12] for c in Unit.objects.filter(pk__in=scope.unit_ids).values_list("division_code", flat=True)
        ]
    if not prefixes and not scope.everything:
        return []
    rows = Division.objects.filter(level__in=levels or [Level.COMMUNITY, Level.GRID])
    if not scope.everything:
        rows = rows.filter(prefixes_q("code", prefixes))
    language = _lang()
    rows = list(rows.order_by("code")[:MAX_DIVISION_CHOICES])
    communities = {d.code: d.name_for(language) for d in rows if d.level == Level.COMMUNITY}
    towns = {d.code: d.name_for(language) for d in rows if d.level == Level.TOWN}
    out = []
    for d in rows:
        if d.level == Level.TOWN:
            out.append((d.code, d.name_for(language)))
        elif d.level == Level.COMMUNITY:
            town = towns.get(d.code[:9])
            out.append((d.code, f"{town} · {d.name_for(language)}" if town else d.name_for(language)))
        else:
            parent = communities.get(d.code[:12])
            name = d.name_for(language)
            out.append((d.code, f"{parent} · {name}" if parent else name))
    return out


RESERVATION_CHOICES = [
    ("", gettext_lazy("as is usual for the type")),
    ("yes", gettext_lazy("by reservation")),
    ("no", gettext_lazy("without reservation")),
]


class VenueForm(forms.Form):
    name = forms.CharField(label=pgettext_lazy("entity", "Name"), max_length=128)
    type = forms.ChoiceField(label=gettext_lazy("Type"))
    division_code = forms.ChoiceField(label=gettext_lazy("Community or grid cell"))
    address = forms.CharField(label=gettext_lazy("Address"), max_length=255, required=False)
    latitude = forms.DecimalField(
        label=gettext_lazy("Latitude"),
        max_digits=9,
        decimal_places=6,
        min_value=-90,
        max_value=90,
        required=False,
    )
    longitude = forms.DecimalField(
        label=gettext_lazy("Longitude"),
        max_digits=9,
        decimal_places=6,
        min_value=-180,
        max_value=180,
        required=False,
    )
    capacity = forms.IntegerField(label=gettext_lazy("Capacity"), min_value=1, required=False)
    flow_limit = forms.IntegerField(
        label=gettext_lazy("Flow limit (most people inside at once)"), min_value=1, required=False
    )
    requires_reservation = forms.ChoiceField(
        label=gettext_lazy("Reservation"), choices=RESERVATION_CHOICES, required=False
    )
    slot_minutes = forms.IntegerField(
        label=gettext_lazy("Slot length (minutes)"), min_value=5, max_value=1440, initial=60
    )
    slot_capacity = forms.IntegerField(label=gettext_lazy("People per slot"), min_value=1, required=False)
    owner_unit_id = forms.ChoiceField(label=gettext_lazy("Owner unit"), required=False)

    def __init__(self, *args, user, **kwargs):
        from epigrid.units.models import Unit

        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [("", "—"), *_type_choices()]
        self.fields["division_code"].choices = [("", "—"), *division_choices(user)]
        scope = scope_of(user)
        units = Unit.objects.filter(pk__in=scope.unit_ids, active=True).order_by("name")
        self.fields["owner_unit_id"].choices = [("", "—"), *((str(u.pk), u.name) for u in units)]
        # a manager who reaches places only through their units registers for one of them
        self.fields["owner_unit_id"].required = not scope.prefixes and not scope.everything

    def to_input(self) -> VenueInput:
        data = dict(self.cleaned_data)
        reservation = data.pop("requires_reservation")
        return VenueInput(
            **{k: v for k, v in data.items() if k != "owner_unit_id"},
            requires_reservation=None if not reservation else reservation == "yes",
            owner_unit_id=data["owner_unit_id"] or None,
        )


class DecideForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "approve"), ("return", "return")])
    reason = forms.CharField(max_length=255, required=False)


class StaffForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("Username"), max_length=150)


def _venue_or_404(request, venue_id):
    return get_visible_or_404(request.user, Venue.objects.select_related("type", "owner_unit"), pk=venue_id)


# --- pages ----------------------------------------------------------------------------------------


@scoped(Perm.VENUES_VIEW)
def venue_list(request):
    form = VenueFilter(request.GET or None)
    qs = visible_to(request.user, Venue.objects.select_related("type"), listing=True)
    if form.is_valid():
        if form.cleaned_data["status"]:
            qs = qs.filter(status=form.cleaned_data["status"])
        if form.cleaned_data["type"]:
            qs = qs.filter(type_id=form.cleaned_data["type"])
        if form.cleaned_data["q"]:
            qs = qs.filter(name__contains=form.cleaned_data["q"].strip())
    try:
        result = page(qs, request.GET.get("cursor") or None, 50, time_field="created_at")
    except BadCursor:
        result = page(qs, None, 50, time_field="created_at")
    language = _lang()
    label_divisions(result.items, language)
    _label_types(result.items, language)
    query = request.GET.copy()
    query.pop("cursor", None)
    return render(
        request,
        "venues/registry_list.html",
        {
            "form": form,
            "venues": result.items,
            "next_cursor": result.next_cursor,
            "query": query.urlencode(),
            "can_register": Perm.VENUES_REGISTER in permissions_of(request.user.role),
        },
    )


@scoped(Perm.VENUES_REGISTER)
def venue_new(request):
    form = VenueForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            venue = register_venue(actor=Actor.from_request(request), data=form.to_input())
        except DomainError as exc:
            for error in getattr(exc, "errors", None) or [exc]:
                form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, _("The venue was registered. It awaits approval by the community."))
            return redirect("venues:detail", venue_id=venue.pk)
    return render(request, "venues/registry_form.html", {"form": form})


@scoped(Perm.VENUES_VIEW)
def venue_detail(request, venue_id):
    venue = _venue_or_404(request, venue_id)
    language = _lang()
    label_divisions([venue], language)
    now = timezone.now()
    inside = capacity.occupancy(venue, now)
    staff = list(venue.staff.select_related("user").order_by("added_at"))
    manage = can_manage(request.user, venue)
    return render(
        request,
        "venues/registry_detail.html",
        {
            "venue": venue,
            "type_label": venue.type.label(language),
            "staff": staff,
            "entries_today": capacity.entries_today(venue, now),
            "occupancy": inside,
            "full": venue.flow_limit is not None and inside >= venue.flow_limit,
            "slots": capacity.upcoming_slots(venue, now, 4) if venue.requires_reservation else [],
            "approved": venue.status == VenueStatus.APPROVED and venue.code_serial > 0,
            "can_decide": can_decide(request.user, venue) and venue.status != VenueStatus.APPROVED,
            "can_manage": manage,
            "staff_form": StaffForm() if manage else None,
        },
    )


@scoped(Perm.VENUES_APPROVE)
@require_POST
def venue_decide(request, venue_id):
    venue = _venue_or_404(request, venue_id)
    form = DecideForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose to approve or to return the venue."))
        return redirect("venues:detail", venue_id=venue.pk)
    approve = form.cleaned_data["decision"] == "approve"
    try:
        decide_venue(
            actor=Actor.from_request(request),
            venue=venue,
            approve=approve,
            reason=form.cleaned_data["reason"],
        )
    except DomainError as exc:
        if exc.status == 404:
            raise Http404
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("The venue was approved and its code issued.")
            if approve
            else _("The venue was returned to its owner."),
        )
    return redirect("venues:detail", venue_id=venue.pk)


@scoped(Perm.VENUES_VIEW)
@require_POST
def venue_reissue(request, venue_id):
    venue = _venue_or_404(request, venue_id)
    if not can_manage(request.user, venue):
        raise PermissionDenied
    if venue.status != VenueStatus.APPROVED:
        messages.error(request, _("The venue has no code until it is approved."))
    else:
        codes.issue_code(actor=Actor.from_request(request), venue=venue)
        messages.success(
            request, _("A new code was issued: print the new poster; the old one no longer works.")
        )
    return redirect("venues:detail", venue_id=venue.pk)


@scoped(Perm.VENUES_VIEW)
@require_POST
def venue_staff_add(request, venue_id):
    from epigrid.accounts.models import User

    venue = _venue_or_404(request, venue_id)
    if not can_manage(request.user, venue):
        raise PermissionDenied
    form = StaffForm(request.POST)
    user = None
    if form.is_valid():
        user = User.objects.filter(
            username=form.cleaned_data["username"].strip(), role=Role.CHECKPOINT, is_active=True
        ).first()
    if user is None:
        messages.error(request, _("No venue staff account has this username."))
    else:
        add_staff(actor=Actor.from_request(request), venue=venue, user=user)
        messages.success(request, _("%(name)s can now record entries here.") % {"name": user.username})
    return redirect("venues:detail", venue_id=venue.pk)


@scoped(Perm.VENUES_VIEW)
def venue_poster(request, venue_id):
    """The A4 poster of the venue's code, to print and post at the entrance."""
    from epigrid.venues.web.poster import poster_pdf

    venue = _venue_or_404(request, venue_id)
    try:
        text = codes.code_text(venue)
    except DomainError:
        messages.error(request, _("The venue has no code until it is approved."))
        return redirect("venues:detail", venue_id=venue.pk)
    url = request.build_absolute_uri(reverse("venues:door", args=[text]))
    pdf = poster_pdf(venue, url)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="venue-code-{venue.pk}-{venue.code_serial}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


urlpatterns = [
    path("", venue_list, name="list"),
    path("new/", venue_new, name="new"),
    path("<uuid:venue_id>/", venue_detail, name="detail"),
    path("<uuid:venue_id>/decide", venue_decide, name="decide"),
    path("<uuid:venue_id>/reissue", venue_reissue, name="reissue"),
    path("<uuid:venue_id>/staff", venue_staff_add, name="staff_add"),
    path("<uuid:venue_id>/poster.pdf", venue_poster, name="poster"),
]
