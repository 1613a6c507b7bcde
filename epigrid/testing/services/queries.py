"""The testing app's reads: open points (in a division, nearest), a must-test group's
configuration, the lab of a user and the labs they see, overdue orders and turnaround per day.
Nothing here writes."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from epigrid.accounts.scoping import prefix_q, visible_to
from epigrid.lib.chinatime import local_date
from epigrid.testing.models import (
    PENDING_ORDER_STATES,
    LabMember,
    MustTestGroup,
    OrderStatus,
    SamplingPoint,
    TestKind,
    TestOrder,
    TurnaroundDay,
)
from epigrid.units.models import Unit, UnitKind


def open_points(on: date | None = None):
    """Points open on a day: what the public sees."""
    on = on or timezone.localdate()
    return SamplingPoint.objects.filter(Q(active_to__isnull=True) | Q(active_to__gte=on), active_from__lte=on)


def points_in(division_prefix: str, on: date | None = None):
    qs = open_points(on)
    if division_prefix:
        qs = qs.filter(prefix_q("division_code", division_prefix))
    return qs.order_by("division_code", "name")


def nearest_points(lat: float, lon: float, *, on: date | None = None, limit: int = 5, radius_km: float = 50):
    """The nearest open points: a bounding box narrows the rows in SQL, the distance sorts them."""
    from epigrid.testing.geo import bounding_box, nearest

    lat_lo, lat_hi, lon_lo, lon_hi = bounding_box(lat, lon, radius_km)
    candidates = open_points(on).filter(
        latitude__gte=lat_lo, latitude__lte=lat_hi, longitude__gte=lon_lo, longitude__lte=lon_hi
    )[:5000]
    return nearest(lat, lon, list(candidates), limit=limit)


def group_config(division_code: str, group: str, test: str = TestKind.NUCLEIC_ACID) -> MustTestGroup | None:
    """The most specific active configuration of `group` covering a division."""
    prefixes = {division_code[:n] for n in range(2, len(division_code) + 1)}
    rows = MustTestGroup.objects.filter(group=group, test=test, active=True, division_code__in=prefixes)
    return max(rows, key=lambda c: len(c.division_code), default=None)


def labs_visible_to(user):
    return visible_to(user, Unit.objects.filter(kind=UnitKind.LAB, active=True)).order_by("name")


def lab_of(user) -> Unit | None:
    """The lab a lab user (or their API token) works for."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    cached = getattr(user, "_testing_lab", False)
    if cached is not False:
        return cached
    member = LabMember.objects.filter(user=user).select_related("lab").first()
    lab = member.lab if member and member.lab.active else None
    user._testing_lab = lab
    return lab


def overdue_orders(user, *, at: datetime, lab_id=None, point_id=None, stage: str = ""):
    """Pending orders past their due time, in the user's scope: per lab, per sampling point, or
    those not sampled yet (`stage="unsampled"`)."""
    qs = visible_to(user, TestOrder.objects.filter(status__in=PENDING_ORDER_STATES, due_at__lt=at))
    if lab_id:
        qs = qs.filter(lab_id=lab_id)
    if point_id:
        qs = qs.filter(sampling_point_id=point_id)
    if stage == "unsampled":
        qs = qs.filter(status=OrderStatus.OPEN)
    elif stage == "sampled":
        qs = qs.exclude(status=OrderStatus.OPEN)
    return qs.order_by("due_at")


def overdue_summary(user, *, at: datetime) -> dict:
    """Counts of overdue orders per lab and per sampling point (one GROUP BY each)."""
    from django.db.models import Count

    base = visible_to(user, TestOrder.objects.filter(status__in=PENDING_ORDER_STATES, due_at__lt=at))
    per_lab = list(
        base.exclude(lab__isnull=True)
        .values("lab_id", "lab__name")
        .annotate(n=Count("id"))
        .order_by("-n")[:100]
    )
    per_point = list(
        base.exclude(sampling_point__isnull=True)
        .values("sampling_point_id", "sampling_point__name")
        .annotate(n=Count("id"))
        .order_by("-n")[:100]
    )
    unsampled = base.filter(status=OrderStatus.OPEN).count()
    return {"per_lab": per_lab, "per_point": per_point, "unsampled": unsampled}


def turnaround_days(user, *, at: datetime, days: int = 14):
    from epigrid.testing.charts import DayBar

    last = local_date(at)
    first = last - timedelta(days=days - 1)
    qs = visible_to(user, TurnaroundDay.objects.filter(day__gte=first, day__lte=last))
    lab = lab_of(user)
    if lab is not None:
        qs = qs.filter(lab=lab)
    totals: dict = defaultdict(lambda: [0, 0])
    for day, on_time, late in qs.values_list("day", "on_time", "late"):
        totals[day][0] += on_time
        totals[day][1] += late
    return [DayBar(first + timedelta(days=i), *totals[first + timedelta(days=i)]) for i in range(days)]
