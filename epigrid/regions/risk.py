"""Risk areas (中高风险地区, R3.1, JX57-2.3, NA182-2.4): the only writers of `RiskArea` rows.

The list is edited in drafts and never overwritten:
- a new listing is a draft; a change to a published listing (a new end date when an area is
  delisted, a corrected notice) is a new draft that `supersedes` it;
- drafts are published together as one change, and only through
  `rules.bulk.publish_risk_change`, which first shows what the change would do to people
  (what-if preview) and then reassesses them: publishing here is `apply_change`, called by it;
- a published listing entered by mistake is withdrawn in a change as well (it then never
  counts, also not for people who travelled while it was listed); a draft that is not wanted
  is discarded;
- superseded and withdrawn rows stay, so the history of every area is readable.

Areas are GB/T 2260 codes at any level (padded 6-digit codes for provinces, cities and
counties, 9 digits for towns and streets, 12 for communities) or ISO 3166 alpha-2 country
codes. The lists the rules know: medium and high risk, key areas, areas with local cases, land
border areas (`rules.facts.RISK_LEVELS`). Dates are China calendar days, both ends included.

Imports run in two phases (parse and check every row, with errors by row and column; then
create the drafts in one transaction), like every bulk import in epigrid.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta

import iso3166
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor, record
from epigrid.accounts.roles import Perm
from epigrid.lib import tables
from epigrid.lib.errors import Conflict, DomainError, NotFound
from epigrid.regions import risk_scope
from epigrid.regions.models import Division, Level, RiskArea, RiskAreaStatus, RiskLevel
from epigrid.regions.services import ancestors

MAX_IMPORT_ROWS = 5000
MAX_IMPORT_BYTES = 5 * 1024 * 1024
# the order the public page lists them in
LEVEL_ORDER = [RiskLevel.HIGH, RiskLevel.MEDIUM, RiskLevel.KEY, RiskLevel.LOCAL_CASES, RiskLevel.LAND_BORDER]

_COUNTRY = re.compile(r"^[A-Z]{2}$")


class RiskAreaError(DomainError):
    pass


@dataclass
class RiskAreaInput:
    area: str
    level: str
    starts_on: date | None
    ends_on: date | None
    notice: str
    area_name: str = ""


# --- checking one listing ------------------------------------------------------------------


def normalise_area(value) -> str:
    """A code as typed or read from a sheet: `420100`, `4201` (a prefix, padded to `420100`),
    `420102001`, `us` → `US`; spreadsheets may hand numbers (`420100.0`)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip().replace(" ", "")
    if text.isdigit() and len(text) in (2, 4):
        text = text.ljust(6, "0")
    return text.upper() if text.isalpha() else text


def _check_area(area: str, area_name: str) -> str:
    """The area's problem, or "" when it can be listed."""
    if not area:
        return _("Give the area: a division code or a two-letter country code.")
    if area.isalpha():
        if not _COUNTRY.match(area) or area not in iso3166.countries_by_alpha2:
            return _("%(code)s is not an ISO 3166 country code.") % {"code": area}
        if area == "CN":
            return _("China as a whole cannot be listed; list its provinces, cities or counties.")
        return ""
    if not area.isdigit() or len(area) not in (6, 9, 12):
        return _(
            "%(code)s is not a division code "
            "(6 digits for county and above, 9 for a town, 12 for a community)."
        ) % {"code": area}
    if Division.objects.filter(code=area).exists():
        return ""
    if len(area) == 6:
        return _("%(code)s is not in the GB/T 2260 table.") % {"code": area}
    if not Division.objects.filter(code=area[:6]).exists():
        return _("The county %(code)s of this area is not in the GB/T 2260 table.") % {"code": area[:6]}
    if not area_name:
        return _("This town or community is not on record here: give its name.")
    return ""


def check_input(data: RiskAreaInput) -> list[tuple[str, str]]:
    """Every problem of a listing as (field, message); empty when it is valid."""
    problems: list[tuple[str, str]] = []
    data.area = normalise_area(data.area)
    data.area_name = (data.area_name or "").strip()
    data.notice = (data.notice or "").strip()
    problem = _check_area(data.area, data.area_name)
    if problem:
        problems.append(("area", problem))
    if len(data.area_name) > 128:
        problems.append(("area_name", _("The name is limited to 128 characters.")))
    if data.level not in RiskLevel.values:
        problems.append(
            ("level", _("Choose one of the lists: %(levels)s.") % {"levels": ", ".join(RiskLevel.values)})
        )
    if data.starts_on is None and data.level != RiskLevel.LAND_BORDER:
        problems.append(("starts_on", _("Give the first day of the listing.")))
    if data.starts_on and data.ends_on and data.ends_on < data.starts_on:
        problems.append(("ends_on", _("The listing cannot end before it starts.")))
    if not data.notice:
        problems.append(("notice", _("Name the notice the listing comes from.")))
    elif len(data.notice) > 255:
        problems.append(("notice", _("The notice is limited to 255 characters.")))
    return problems


def _validated(data: RiskAreaInput) -> RiskAreaInput:
    problems = check_input(data)
    if problems:
        field_name, message = problems[0]
        raise RiskAreaError("risk_area_invalid", message, field_name)
    return data


def _content(row: RiskArea) -> tuple:
    return (row.area, row.level, row.starts_on, row.ends_on, row.notice, row.area_name)


def _same_listing(row: RiskArea, data: RiskAreaInput) -> bool:
    return _content(row) == (data.area, data.level, data.starts_on, data.ends_on, data.notice, data.area_name)


# --- drafts -------------------------------------------------------------------------------


def current_listing(area: str, level: str, starts_on: date | None) -> RiskArea | None:
    """The published listing of an area on a list that a new listing from `starts_on` would
    overlap (so it must be changed instead); an area delisted earlier may be listed again."""
    rows = RiskArea.objects.filter(area=area, level=level, status=RiskAreaStatus.PUBLISHED)
    if starts_on is not None:
        rows = rows.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=starts_on))
    return rows.order_by("-published_at").first()


def _reaches(user, row: RiskArea) -> bool:
    return risk_scope.reachable(user, RiskArea.objects.filter(pk=row.pk)).exists()


def _open_draft_for(row: RiskArea) -> RiskArea | None:
    return RiskArea.objects.filter(supersedes=row, status=RiskAreaStatus.DRAFT).first()


def _audit(actor: Actor, action: str, row: RiskArea, fields: Iterable[str], note: str = "", at=None) -> None:
    record(
        actor,
        action,
        object_type="risk_area",
        object_id=row.pk,
        fields=list(fields),
        note=(note or f"{row.area} {row.level}")[:255],
        at=at,
    )


def create_draft(
    *,
    actor: Actor,
    data: RiskAreaInput,
    supersedes: RiskArea | None = None,
    at: datetime | None = None,
    jurisdiction: str = "",
) -> RiskArea:
    """A new listing, or with `supersedes` a change to a published one, as a draft of the
    author's jurisdiction (`risk_scope`; the system gives `jurisdiction` or lists for itself)."""
    risk_scope.require(actor, Perm.RISK_EDIT)
    data = _validated(data)
    if actor.user is not None:
        jurisdiction = risk_scope.jurisdiction_for(actor.user, data.area)
    now = at or timezone.now()
    with transaction.atomic():
        if supersedes is not None:
            supersedes = RiskArea.objects.select_for_update().get(pk=supersedes.pk)
            risk_scope.require_reach(actor, [supersedes])
            if supersedes.status != RiskAreaStatus.PUBLISHED:
                raise Conflict("risk_area_not_published", _("Only a published listing can be changed."))
            if _open_draft_for(supersedes) is not None:
                raise Conflict(
                    "risk_area_draft_exists",
                    _("A draft change of this listing exists already; edit that draft."),
                )
            if (supersedes.area, supersedes.level) != (data.area, data.level):
                raise RiskAreaError(
                    "risk_area_identity",
                    _("A change keeps the area and the list; withdraw the listing instead."),
                    "area",
                )
            if _same_listing(supersedes, data):
                raise RiskAreaError("risk_area_unchanged", _("Nothing was changed."))
        elif current_listing(data.area, data.level, data.starts_on) is not None:
            raise Conflict(
                "risk_area_listed",
                _("This area is already on this list; change the published listing."),
                "area",
            )
        if RiskArea.objects.filter(area=data.area, level=data.level, status=RiskAreaStatus.DRAFT).exists():
            raise Conflict(
                "risk_area_draft_exists", _("A draft for this area and list exists already."), "area"
            )
        row = RiskArea.objects.create(
            area=data.area,
            area_name=data.area_name,
            level=data.level,
            starts_on=data.starts_on,
            ends_on=data.ends_on,
            notice=data.notice,
            status=RiskAreaStatus.DRAFT,
            supersedes=supersedes,
            division_code=jurisdiction,
            created_by=actor.user,
            created_at=now,
        )
        _audit(actor, "create", row, ["area", "level", "starts_on", "ends_on", "notice"], at=now)
    return row


def update_draft(*, actor: Actor, draft: RiskArea, data: RiskAreaInput) -> RiskArea:
    """Edit a draft of the actor's reach; its area stays inside the draft's jurisdiction."""
    risk_scope.require(actor, Perm.RISK_EDIT)
    data = _validated(data)
    with transaction.atomic():
        draft = RiskArea.objects.select_for_update().get(pk=draft.pk)
        risk_scope.require_reach(actor, [draft])
        risk_scope.check_area(actor, draft.division_code, data.area)
        if draft.status != RiskAreaStatus.DRAFT:
            raise Conflict(
                "risk_area_not_draft", _("Only a draft can be edited; change the published listing instead.")
            )
        if draft.supersedes_id and (draft.area, draft.level) != (data.area, data.level):
            raise RiskAreaError(
                "risk_area_identity",
                _("A change keeps the area and the list; withdraw the listing instead."),
                "area",
            )
        changed = [
            name
            for name in ("area", "area_name", "level", "starts_on", "ends_on", "notice")
            if getattr(draft, name) != getattr(data, name)
        ]
        if not changed:
            return draft
        for name in changed:
            setattr(draft, name, getattr(data, name))
        draft.save(update_fields=changed)
        _audit(actor, "update", draft, changed)
    return draft


def edit_listing(*, actor: Actor, row: RiskArea, data: RiskAreaInput) -> RiskArea:
    """Change a listing: a draft is edited in place; a published one gets a superseding draft."""
    row = RiskArea.objects.get(pk=row.pk)
    if row.status == RiskAreaStatus.DRAFT:
        return update_draft(actor=actor, draft=row, data=data)
    return create_draft(actor=actor, data=data, supersedes=row)


def discard_draft(*, actor: Actor, draft: RiskArea) -> RiskArea:
    risk_scope.require(actor, Perm.RISK_EDIT)
    with transaction.atomic():
        draft = RiskArea.objects.select_for_update().get(pk=draft.pk)
        risk_scope.require_reach(actor, [draft])
        if draft.status != RiskAreaStatus.DRAFT:
            raise Conflict("risk_area_not_draft", _("Only a draft can be discarded."))
        draft.status = RiskAreaStatus.WITHDRAWN
        draft.save(update_fields=["status"])
        _audit(actor, "update", draft, ["status"], note=f"discarded draft {draft.area} {draft.level}")
    return draft


# --- publishing a change (called by rules.bulk only) ---------------------------------------


@dataclass
class AppliedChange:
    published: list[RiskArea]
    withdrawn: list[RiskArea]
    superseded: list[RiskArea]

    @property
    def areas(self) -> set[str]:
        return {r.area for r in [*self.published, *self.withdrawn, *self.superseded]}


def change_rows(
    publish: Iterable, withdraw: Iterable, *, actor: Actor | None = None
) -> tuple[list[RiskArea], list[RiskArea]]:
    """The rows of a change; with `actor`, only rows of their reach (others are not found)."""
    publish_ids, withdraw_ids = list(dict.fromkeys(publish)), list(dict.fromkeys(withdraw))
    rows = RiskArea.objects.all()
    if actor is not None and actor.user is not None:
        rows = risk_scope.reachable(actor.user, rows)
    drafts = list(rows.filter(pk__in=publish_ids).select_related("supersedes"))
    listed = list(rows.filter(pk__in=withdraw_ids))
    if len(drafts) != len(publish_ids) or len(listed) != len(withdraw_ids):
        raise NotFound("risk_area_missing", _("A listing of this change no longer exists."))
    return drafts, listed


def check_change(drafts: list[RiskArea], withdraw: list[RiskArea]) -> None:
    """A change is publishable: drafts are drafts whose superseded listing is still published,
    withdrawals are published, and no listing is both changed and withdrawn."""
    if not drafts and not withdraw:
        raise RiskAreaError(
            "risk_change_empty", _("Choose at least one draft to publish or listing to withdraw.")
        )
    withdrawn_ids = {r.pk for r in withdraw}
    for draft in drafts:
        if draft.status != RiskAreaStatus.DRAFT:
            raise Conflict("risk_change_stale", _("%(area)s is no longer a draft.") % {"area": draft.area})
        if draft.supersedes_id is not None:
            if draft.supersedes.status != RiskAreaStatus.PUBLISHED:
                raise Conflict(
                    "risk_change_stale",
                    _("The listing that %(area)s changes is no longer published.") % {"area": draft.area},
                )
            if draft.supersedes_id in withdrawn_ids:
                raise RiskAreaError(
                    "risk_change_conflict",
                    _("%(area)s is both changed and withdrawn in this change.") % {"area": draft.area},
                )
    for row in withdraw:
        if row.status != RiskAreaStatus.PUBLISHED:
            raise Conflict(
                "risk_change_stale", _("%(area)s is not a published listing.") % {"area": row.area}
            )


def change_digest(drafts: list[RiskArea], withdraw: list[RiskArea]) -> str:
    """A fingerprint of what a change consists of, to tell whether it moved since its preview."""
    content = {
        "publish": sorted(
            [str(r.pk), r.status, str(r.supersedes_id or ""), *[str(v) for v in _content(r)]] for r in drafts
        ),
        "withdraw": sorted([str(r.pk), r.status, *[str(v) for v in _content(r)]] for r in withdraw),
    }
    return hashlib.sha256(json.dumps(content, ensure_ascii=False).encode()).hexdigest()


def list_after_change(drafts: list[RiskArea], withdraw: list[RiskArea]) -> list[RiskArea]:
    """The published list as it would be once the change is applied (for the what-if)."""
    leaving = {r.pk for r in withdraw} | {d.supersedes_id for d in drafts if d.supersedes_id}
    published = [r for r in RiskArea.objects.filter(status=RiskAreaStatus.PUBLISHED) if r.pk not in leaving]
    return [*published, *drafts]


def apply_change(
    *,
    actor: Actor,
    publish: Iterable,
    withdraw: Iterable,
    digest: str | None = None,
    at: datetime | None = None,
) -> AppliedChange:
    """Publish drafts (superseding what they change) and withdraw listings, in one transaction.
    Call through `rules.bulk.publish_risk_change`, which reassesses the people concerned. Only a
    command publishes (`RISK_PUBLISH`), and only listings of its reach."""
    risk_scope.require(actor, Perm.RISK_PUBLISH)
    now = at or timezone.now()
    with transaction.atomic():
        publish, withdraw = list(publish), list(withdraw)
        superseded = RiskArea.objects.filter(pk__in=publish, supersedes__isnull=False).values_list(
            "supersedes_id", flat=True
        )
        # lock the rows of the change and those it supersedes, so two publications never race
        list(RiskArea.objects.select_for_update().filter(pk__in=[*publish, *withdraw, *superseded]))
        drafts, listed = change_rows(publish, withdraw, actor=actor)
        check_change(drafts, listed)
        if digest is not None and change_digest(drafts, listed) != digest:
            raise Conflict(
                "risk_change_stale", _("The change was edited after its preview; preview it again.")
            )
        applied = AppliedChange([], [], [])
        for draft in drafts:
            if draft.supersedes_id:
                old = draft.supersedes
                old.status = RiskAreaStatus.SUPERSEDED
                old.save(update_fields=["status"])
                _audit(actor, "update", old, ["status"], note=f"superseded {old.area} {old.level}", at=now)
                applied.superseded.append(old)
            draft.status = RiskAreaStatus.PUBLISHED
            draft.published_at = now
            draft.published_by = actor.user
            draft.save(update_fields=["status", "published_at", "published_by"])
            _audit(actor, "update", draft, ["status"], note=f"published {draft.area} {draft.level}", at=now)
            applied.published.append(draft)
        for row in listed:
            row.status = RiskAreaStatus.WITHDRAWN
            row.save(update_fields=["status"])
            _audit(actor, "update", row, ["status"], note=f"withdrawn {row.area} {row.level}", at=now)
            applied.withdrawn.append(row)
    return applied


# --- reading ------------------------------------------------------------------------------


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


# --- import: parse and check, then create drafts -------------------------------------------

COLUMNS = {
    "area": ("area", "code", "area_code", "division", "地区代码", "区划代码", "代码"),
    "area_name": ("area_name", "name", "地区名称", "名称", "地区"),
    "level": ("level", "list", "risk_level", "风险等级", "等级", "类别"),
    "starts_on": ("starts_on", "from", "start", "起始日期", "开始日期", "生效日期"),
    "ends_on": ("ends_on", "until", "to", "end", "截止日期", "结束日期", "解除日期"),
    "notice": ("notice", "source", "document", "通知", "文件", "依据"),
}
REQUIRED_COLUMNS = ("area", "level", "starts_on", "notice")
LEVEL_WORDS = {
    "medium": RiskLevel.MEDIUM,
    "中风险": RiskLevel.MEDIUM,
    "中风险地区": RiskLevel.MEDIUM,
    "中": RiskLevel.MEDIUM,
    "high": RiskLevel.HIGH,
    "高风险": RiskLevel.HIGH,
    "高风险地区": RiskLevel.HIGH,
    "高": RiskLevel.HIGH,
    "key": RiskLevel.KEY,
    "key_area": RiskLevel.KEY,
    "重点地区": RiskLevel.KEY,
    "local_cases": RiskLevel.LOCAL_CASES,
    "本土病例": RiskLevel.LOCAL_CASES,
    "有本土病例": RiskLevel.LOCAL_CASES,
    "有本土病例地区": RiskLevel.LOCAL_CASES,
    "land_border": RiskLevel.LAND_BORDER,
    "陆地边境": RiskLevel.LAND_BORDER,
    "陆地边境地区": RiskLevel.LAND_BORDER,
}
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")


@dataclass
class ImportIssue:
    row: int  # as numbered in the sheet: the header is row 1
    column: str
    message: str


@dataclass
class ImportRow:
    row: int
    area: str
    area_name: str
    level: str
    starts_on: str  # ISO dates, so a parsed import can be carried between requests as JSON
    ends_on: str
    notice: str
    action: str = "new"  # new | change | unchanged
    supersedes: str = ""

    def input(self) -> RiskAreaInput:
        return RiskAreaInput(
            area=self.area,
            level=self.level,
            starts_on=date.fromisoformat(self.starts_on) if self.starts_on else None,
            ends_on=date.fromisoformat(self.ends_on) if self.ends_on else None,
            notice=self.notice,
            area_name=self.area_name,
        )


@dataclass
class ParsedImport:
    rows: list[ImportRow] = field(default_factory=list)
    issues: list[ImportIssue] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # our column → header in the file

    @property
    def ok(self) -> bool:
        return not self.issues and bool(self.rows)

    def counts(self) -> dict[str, int]:
        out = {"new": 0, "change": 0, "unchanged": 0}
        for row in self.rows:
            out[row.action] += 1
        return out

    def payload(self) -> list[dict]:
        return [asdict(r) for r in self.rows]


def _header_key(text) -> str:
    return re.sub(r"[\s\-]+", "_", str(text or "").strip().lower())


def _parse_date(value) -> date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def parse_import(name: str, content: bytes, user=None) -> ParsedImport:
    """Phase one: read the sheet, check every row and cell (for `user`, also that each area is
    inside their jurisdiction), and say what each row would do (a new listing, a change of a
    published one, or nothing). Nothing is written."""
    if len(content) > MAX_IMPORT_BYTES:
        raise RiskAreaError("import_size", _("The file is larger than 5 MB."), "file")
    # a file that is no readable table raises lib.tables.TableError (a DomainError on "file")
    table = tables.open_table(content, name, max_rows=MAX_IMPORT_ROWS + 1, max_bytes=MAX_IMPORT_BYTES)
    parsed = ParsedImport()
    header_row = table.header_row
    aliases = {_header_key(alias): column for column, names in COLUMNS.items() for alias in names}
    index: dict[str, int] = {}
    for i, header in enumerate(table.headers):
        key = _header_key(header)
        if not key:
            continue
        column = aliases.get(key)
        if column is None:
            parsed.issues.append(
                ImportIssue(
                    header_row,
                    str(header),
                    _("Unknown column. Known columns: %(cols)s.") % {"cols": ", ".join(COLUMNS)},
                )
            )
        elif column in index:
            parsed.issues.append(ImportIssue(header_row, str(header), _("This column appears twice.")))
        else:
            index[column] = i
            parsed.columns[column] = str(header)
    for column in REQUIRED_COLUMNS:
        if column not in index:
            parsed.issues.append(ImportIssue(header_row, column, _("The column is missing.")))
    if parsed.issues:
        return parsed

    def cell(values, column):
        i = index.get(column)
        return values[i] if i is not None and i < len(values) else None

    seen: dict[tuple[str, str], int] = {}
    published = {}
    for row_number, values in table.rows:
        issues: list[ImportIssue] = []
        level_raw = str(cell(values, "level") or "").strip()
        level = str(LEVEL_WORDS.get(level_raw.lower(), LEVEL_WORDS.get(level_raw, "")))
        if not level:
            issues.append(
                ImportIssue(
                    row_number,
                    parsed.columns["level"],
                    _("%(value)s is not a list; use medium, high, key, local_cases or land_border.")
                    % {"value": level_raw or "—"},
                )
            )
        dates = {}
        for column in ("starts_on", "ends_on"):
            try:
                dates[column] = _parse_date(cell(values, column))
            except ValueError as exc:
                dates[column] = None
                issues.append(
                    ImportIssue(
                        row_number,
                        parsed.columns.get(column, column),
                        _("%(value)s is not a date like 2020-06-13.") % {"value": exc.args[0]},
                    )
                )
        data = RiskAreaInput(
            area=cell(values, "area"),
            level=level or RiskLevel.MEDIUM,  # checked above; keeps other checks meaningful
            starts_on=dates["starts_on"],
            ends_on=dates["ends_on"],
            notice=str(cell(values, "notice") or ""),
            area_name=str(cell(values, "area_name") or ""),
        )
        unreadable = {i.column for i in issues}
        for field_name, message in check_input(data):
            column = parsed.columns.get(field_name, field_name)
            if field_name == "level" or column in unreadable:
                continue  # already reported as unreadable
            issues.append(ImportIssue(row_number, column, message))
        if user is not None and data.area and not any(i.column == parsed.columns["area"] for i in issues):
            try:
                risk_scope.jurisdiction_for(user, data.area)
            except DomainError as exc:
                issues.append(ImportIssue(row_number, parsed.columns["area"], exc.message))
        if level and data.area:
            key = (data.area, level)
            if key in seen:
                issues.append(
                    ImportIssue(
                        row_number,
                        parsed.columns["area"],
                        _("The same area and list appear in row %(row)d as well.") % {"row": seen[key]},
                    )
                )
            else:
                seen[key] = row_number
        if issues:
            parsed.issues.extend(issues)
            continue
        item = ImportRow(
            row=row_number,
            area=data.area,
            area_name=data.area_name,
            level=level,
            starts_on=data.starts_on.isoformat() if data.starts_on else "",
            ends_on=data.ends_on.isoformat() if data.ends_on else "",
            notice=data.notice,
        )
        parsed.rows.append(item)
    if parsed.rows:
        keys = {(r.area, r.level) for r in parsed.rows}
        for row in RiskArea.objects.filter(
            status=RiskAreaStatus.PUBLISHED, area__in={a for a, _ in keys}
        ).order_by("published_at"):
            published.setdefault((row.area, row.level), []).append(row)
        drafts = set(
            RiskArea.objects.filter(status=RiskAreaStatus.DRAFT, area__in={a for a, _ in keys}).values_list(
                "area", "level"
            )
        )
        for item in parsed.rows:
            key = (item.area, item.level)
            if key in drafts:
                parsed.issues.append(
                    ImportIssue(
                        item.row, parsed.columns["area"], _("A draft for this area and list exists already.")
                    )
                )
                continue
            data = item.input()
            overlapping = [
                r
                for r in published.get(key, [])
                if data.starts_on is None or r.ends_on is None or r.ends_on >= data.starts_on
            ]
            if any(_same_listing(r, data) for r in published.get(key, [])):
                item.action = "unchanged"
                continue
            if not overlapping:
                continue
            current = overlapping[-1]
            if _same_listing(current, data):
                item.action = "unchanged"
            elif user is not None and not _reaches(user, current):
                parsed.issues.append(
                    ImportIssue(
                        item.row,
                        parsed.columns["area"],
                        _("This area is listed by a command above yours; that command changes it."),
                    )
                )
            else:
                item.action, item.supersedes = "change", str(current.pk)
    return parsed


def commit_import(*, actor: Actor, rows: list[dict], at: datetime | None = None) -> list[RiskArea]:
    """Phase two: create the drafts of a checked import in one transaction; every row is checked
    again, so a listing published or drafted in between is refused, not duplicated."""
    now = at or timezone.now()
    created = []
    with transaction.atomic():
        for raw in rows:
            item = ImportRow(**raw)
            if item.action == "unchanged":
                continue
            supersedes = None
            if item.action == "change":
                supersedes = RiskArea.objects.filter(pk=item.supersedes).first()
                if supersedes is None:
                    raise Conflict(
                        "import_stale", _("Row %(row)d: the listing it changes is gone.") % {"row": item.row}
                    )
            try:
                created.append(create_draft(actor=actor, data=item.input(), supersedes=supersedes, at=now))
            except DomainError as exc:
                raise type(exc)(
                    exc.code,
                    _("Row %(row)d: %(message)s") % {"row": item.row, "message": exc.message},
                    exc.field,
                )
        record(actor, "import", object_type="risk_area", note=f"{len(created)} draft listings imported")
    return created


def drafts(user=None) -> list[RiskArea]:
    """Drafts waiting for publication (of `user`'s reach when given)."""
    rows = RiskArea.objects.filter(status=RiskAreaStatus.DRAFT)
    if user is not None:
        rows = risk_scope.reachable(user, rows)
    return list(rows.select_related("supersedes", "created_by").order_by("area", "level"))


def published_rows() -> list[RiskArea]:
    return list(RiskArea.objects.filter(status=RiskAreaStatus.PUBLISHED).order_by("level", "area"))


def recent_window(now: datetime | None = None, days: int = 14) -> datetime:
    return (now or timezone.now()) - timedelta(days=days)
