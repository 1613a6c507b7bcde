"""The published risk lists as the facts language reads them."""

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from epigrid.rules import facts as rf


def risk_context(at: datetime) -> rf.RiskContext:
    """The published risk lists: entries that could matter within the look-back of any rule."""
    from epigrid.regions.models import RiskArea, RiskAreaStatus

    return risk_context_from(RiskArea.objects.filter(status=RiskAreaStatus.PUBLISHED), at)


def risk_context_from(rows: Iterable, at: datetime) -> rf.RiskContext:
    """Risk listings from RiskArea rows (or anything with area, level, starts_on, ends_on,
    notice). Listings that ended more than 60 days before `at` cannot touch a 14- or 21-day
    window any more and are left out."""
    horizon = (at - timedelta(days=60)).date()
    areas = []
    for row in rows:
        if row.ends_on is not None and row.ends_on < horizon:
            continue
        areas.append(
            rf.RiskArea(
                area=area_prefix(row.area),
                level=row.level,
                start=row.starts_on,
                end=row.ends_on,
                source=row.notice,
            )
        )
    areas.sort(key=lambda a: (a.level, a.area, a.start or date.min, a.end or date.max, a.source))
    return rf.RiskContext(tuple(areas))


def area_prefix(code: str) -> str:
    """A risk area's prefix for "inside" matches: `420100` → `4201`; country codes unchanged."""
    return rf.division_prefix(code) if code.isdigit() else code.upper()
