"""The sampling desk (R6.3, JS79-14): at a point, find the person, take the specimen (into a
pool or alone), open and seal pools, and tell the person where to wait for the result."""

from django.contrib import messages
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from epigrid.accounts.access import scoped
from epigrid.accounts.audit import Actor
from epigrid.accounts.roles import Perm
from epigrid.accounts.scoping import get_visible_or_404, visible_to
from epigrid.lib.errors import DomainError
from epigrid.people import services as people_services
from epigrid.people.models import Person, Status
from epigrid.testing import forms, services
from epigrid.testing.models import (
    PENDING_ORDER_STATES,
    Pool,
    PoolStatus,
    SamplingPoint,
    TestOrder,
)


def _form_messages(request, form) -> None:
    """A form's errors as messages on the desk it redirects back to."""
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


def _open_pools(point):
    return list(
        Pool.objects.filter(sampling_point=point, status=PoolStatus.OPEN)
        .annotate(members=Count("specimens"))
        .order_by("created_at")
    )


@scoped(Perm.SAMPLING_DO)
def sample_desk(request):
    """At a sampling point: find the person (ID scan or search), take the specimen, optionally
    into a pool, tell the person where to wait (JS79-14)."""
    user = request.user
    today = timezone.localdate()
    points = list(visible_to(user, services.open_points(today)).order_by("name")[:200])
    point_id = request.GET.get("point") or request.POST.get("point") or request.session.get("testing_point")
    point = next((p for p in points if str(p.pk) == str(point_id)), points[0] if len(points) == 1 else None)
    if point is not None:
        request.session["testing_point"] = str(point.pk)
    q = (request.GET.get("q") or "").strip()[:64]
    persons = []
    if q and point is not None:
        persons = list(people_services.search(user, q).filter(status=Status.ACTIVE)[:20])
        pending = TestOrder.objects.filter(person__in=persons, status__in=PENDING_ORDER_STATES).order_by(
            "due_at"
        )
        by_person: dict = {}
        for order in pending:
            by_person.setdefault(order.person_id, []).append(order)
        for person in persons:
            person.pending_orders = by_person.get(person.pk, [])
    pools = _open_pools(point) if point else []
    return render(
        request,
        "testing/sample_desk.html",
        {
            "points": points,
            "point": point,
            "q": q,
            "persons": persons,
            "pools": pools,
            "specimen_form": forms.SpecimenForm(pools=pools, auto_id=False),
            "pool_form": forms.PoolForm(),
            "sampled": request.session.pop("testing_sampled", None),
        },
    )


def _desk_point(request):
    point_id = request.POST.get("point") or request.session.get("testing_point")
    if not point_id:
        raise Http404
    return get_visible_or_404(request.user, SamplingPoint.objects.all(), pk=point_id)


@scoped(Perm.SAMPLING_DO)
@require_POST
def take_specimen(request):
    point = _desk_point(request)
    pools = _open_pools(point)
    form = forms.SpecimenForm(request.POST, pools=pools)
    back = redirect(f"{_desk_url()}?point={point.pk}&q={request.POST.get('q', '')[:64]}")
    if not form.is_valid():
        _form_messages(request, form)
        return back
    data = form.cleaned_data
    person = get_visible_or_404(request.user, Person.objects.all(), pk=data["person_id"])
    pool = next((p for p in pools if p.barcode == data["pool"]), None) if data["pool"] else None
    if data["pool"] and pool is None:
        messages.error(request, _("This pool is not open at this point."))
        return back
    try:
        sampled = services.take_specimen(
            actor=Actor.from_request(request),
            person=person,
            point=point,
            barcode=data["barcode"],
            test=data["test"],
            pool=pool,
            walk_in_group=data["group"] or None,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return back
    request.session["testing_sampled"] = {
        "name": person.name,
        "barcode": sampled.specimen.barcode,
        "pool": pool.barcode if pool else "",
        "waiting_place": sampled.waiting_place,
    }
    return redirect(f"{_desk_url()}?point={point.pk}")


def _desk_url():
    from django.urls import reverse

    return reverse("testing:sample")


@scoped(Perm.SAMPLING_DO)
@require_POST
def open_pool(request):
    point = _desk_point(request)
    form = forms.PoolForm(request.POST)
    if form.is_valid():
        try:
            pool = services.open_pool(actor=Actor.from_request(request), point=point, **form.cleaned_data)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Pool %(barcode)s is open.") % {"barcode": pool.barcode})
    else:
        _form_messages(request, form)
    return redirect(f"{_desk_url()}?point={point.pk}")


@scoped(Perm.SAMPLING_DO)
@require_POST
def seal_pool(request, pool_id):
    pool = get_visible_or_404(request.user, Pool.objects.all(), pk=pool_id)
    try:
        services.seal_pool(actor=Actor.from_request(request), pool=pool)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Pool %(barcode)s is sealed for the lab.") % {"barcode": pool.barcode})
    return redirect(f"{_desk_url()}?point={pool.sampling_point_id}")
