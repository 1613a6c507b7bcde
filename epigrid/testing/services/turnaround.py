"""Turnaround (R6.3, XC-3.3): resulted orders counted per day, lab and county, on time or
late against their due time; the chart reads only these counts."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db.models import F, Q

from epigrid.lib.chinatime import local_date
from epigrid.testing.models import (
    TurnaroundDay,
)


class TurnaroundCounter:
    """Resulted orders counted per day, lab and county as on time or late (XC-3.3), aggregated in
    SQL before the orders are updated, and added to `TurnaroundDay` once per batch."""

    def __init__(self):
        self.counts: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])

    def add(self, orders, resulted_at: datetime) -> None:
        from django.db.models import Count

        rows = (
            orders.order_by()
            .values("lab_id", "division_code")
            .annotate(total=Count("id"), on_time=Count("id", filter=Q(due_at__gte=resulted_at)))
        )
        day = local_date(resulted_at)
        for row in rows:
            key = (day, row["lab_id"], row["division_code"][:6])
            self.counts[key][0] += row["on_time"]
            self.counts[key][1] += row["total"] - row["on_time"]

    def save(self) -> None:
        for (day, lab_id, division), (on_time, late) in self.counts.items():
            updated = TurnaroundDay.objects.filter(day=day, lab_id=lab_id, division_code=division).update(
                on_time=F("on_time") + on_time, late=F("late") + late
            )
            if not updated:
                TurnaroundDay.objects.create(
                    day=day, lab_id=lab_id, division_code=division, on_time=on_time, late=late
                )
        self.counts.clear()
