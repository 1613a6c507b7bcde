"""Reading divisions and the risk-area list: where a code sits, what is in force on a day, what
changed lately, an area's history, the drafts waiting, and the names of listed areas."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

import iso3166
from django.db.models import Q
from django.utils import timezone

from epigrid.regions import risk_scope
from epigrid.regions.models import Division, Level, RiskArea, RiskAreaStatus, RiskLevel
from epigrid.regions.services.risk import normalise_area

# the order the public page lists them in
LEVEL_ORDER = [RiskLevel.HIGH, RiskLevel.MEDIUM, RiskLevel.KEY, RiskLevel.LOCAL_CASES, RiskLevel.LAND_BORDER]


# --- divisions ----------------------------------------------------------------------------


def ancestors(code: str) -> list[str]:
    """Codes of every division above `code`, nearest last: `320583102` → 320000, 320500, 320583."""
    result = []
    if len(code) >= 6:
        result += [c for c in (code[:2] + "0000", code[:4] + "00", code[:6]) if c != code]
    for length in (9, 12):
        if len(code) > length:
            result.append(code[:length])
    return list(dict.fromkeys(result))


def path_of(code: str) -> list[Division]:
    """The division and its ancestors that exist, from the province down."""
    codes = [*ancestors(code), code]
    found = {d.code: d for d in Division.objects.filter(code__in=codes)}
    return [found[c] for c in codes if c in found]


# --- the risk-area list -------------------------------------------------------------------


def in_force_on(day: date):
    """Published listings that apply on `day` (China calendar day)."""
    return RiskArea.objects.filter(status=RiskAreaStatus.PUBLISHED).filter(
        Q(starts_on__isnull=True) | Q(starts_on__lte=day), Q(ends_on__isnull=True) | Q(ends_on__gte=day)
    )


def upcoming_on(day: date):
    return RiskArea.objects.filter(status=RiskAreaStatus.PUBLISHED, starts_on__gt=day)


def history_of(area: str, user=None) -> list[RiskArea]:
    """Every listing of an area: what was published (the public list's history) and, for `user`,
    the drafts of their reach."""
    rows = RiskArea.objects.filter(area=normalise_area(area))
    if user is not None:
        rows = rows.filter(published_at__isnull=False) | risk_scope.reachable(user, rows)
    return list(rows.select_related("created_by", "published_by").order_by("created_at", "pk"))


@dataclass
class ChangeEvent:
    at: datetime
    kind: str  # listed, changed, delisted, withdrawn
    row: RiskArea


def recent_changes(since: datetime, until: datetime | None = None, limit: int = 200) -> list[ChangeEvent]:
    """What happened to the published list since `since`: new listings, changes (a delisting is
    a change that sets an end date), withdrawals; newest first."""
    from epigrid.accounts.models import AuditEvent

    until = until or timezone.now()
    events = []
    published = RiskArea.objects.filter(published_at__gte=since, published_at__lte=until).exclude(
        status=RiskAreaStatus.DRAFT
    )
    for row in published.select_related("supersedes")[:limit]:
        kind = "listed"
        if row.supersedes_id:
            old = row.supersedes
            kind = (
                "delisted"
                if row.ends_on and (old.ends_on is None or row.ends_on < old.ends_on)
                else "changed"
            )
        events.append(ChangeEvent(row.published_at, kind, row))
    withdrawals = AuditEvent.objects.filter(
        object_type="risk_area", at__gte=since, at__lte=until, note__startswith="withdrawn "
    ).values_list("object_id", "at")[:limit]
    withdrawn_at = dict(withdrawals)
    if withdrawn_at:
        for row in RiskArea.objects.filter(pk__in=list(withdrawn_at), status=RiskAreaStatus.WITHDRAWN):
            events.append(ChangeEvent(withdrawn_at[str(row.pk)], "withdrawn", row))
    events.sort(key=lambda e: e.at, reverse=True)
    return events[:limit]


# GB/T 2260 rows that group districts or counties without being a place one names
_GROUPING_NAMES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}


@dataclass
class AreaName:
    code: str
    zh: str
    en: str
    path_zh: str
    path_en: str
    level: int | None  # regions.Level, None for a country

    def for_language(self, language: str) -> str:
        return self.path_zh if (language or "zh").startswith("zh") else self.path_en


def area_names(rows: Iterable[RiskArea]) -> dict[str, AreaName]:
    """Names of listed areas in Chinese and English from the division table, with the divisions
    above them ("湖北省 武汉市 江岸区"), in one query; a town or community not on record here
    takes the name given with the listing; a country its ISO name."""
    rows = list(rows)
    codes = set()
    for row in rows:
        if row.area.isdigit():
            codes.add(row.area)
            codes.update(ancestors(row.area))
    found = {d.code: d for d in Division.objects.filter(code__in=codes)}
    names = {}
    for row in rows:
        code = row.area
        if code in names:
            continue
        if not code.isdigit():
            country = iso3166.countries_by_alpha2.get(code)
            en = country.name if country else code
            zh = row.area_name or en
            names[code] = AreaName(code, zh, en, zh, en, None)
            continue
        chain = [found[c] for c in [*ancestors(code), code] if c in found]
        own = found.get(code)
        zh = own.name_zh if own else (row.area_name or code)
        en = (own.name_en or own.name_zh) if own else (row.area_name or code)
        above = [d for d in chain if d.code != code and d.name_zh not in _GROUPING_NAMES]
        path_zh = "".join(d.name_zh for d in above) + zh if above else zh
        path_en = ", ".join([en, *[(d.name_en or d.name_zh) for d in reversed(above)]])
        level = own.level if own else (Level.TOWN if len(code) == 9 else Level.COMMUNITY)
        names[code] = AreaName(code, zh, en, path_zh, path_en, level)
    return names


def drafts(user=None) -> list[RiskArea]:
    """Drafts waiting for publication (of `user`'s reach when given)."""
    rows = RiskArea.objects.filter(status=RiskAreaStatus.DRAFT)
    if user is not None:
        rows = risk_scope.reachable(user, rows)
    return list(rows.select_related("supersedes", "created_by").order_by("area", "level"))


def published_rows() -> list[RiskArea]:
    return list(RiskArea.objects.filter(status=RiskAreaStatus.PUBLISHED).order_by("level", "area"))
