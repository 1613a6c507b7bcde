"""Risk-area drafts and their publication (中高风险地区, R3.1, JX57-2.3, NA182-2.4): the only
writers of `RiskArea` rows, with the import in `risk_import`.

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
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

import iso3166
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor, record
from epigrid.accounts.roles import Perm
from epigrid.lib.errors import Conflict, DomainError, NotFound
from epigrid.regions import risk_scope
from epigrid.regions.models import Division, RiskArea, RiskAreaStatus, RiskLevel

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


def same_listing(row: RiskArea, data: RiskAreaInput) -> bool:
    return _content(row) == (data.area, data.level, data.starts_on, data.ends_on, data.notice, data.area_name)


# --- drafts -------------------------------------------------------------------------------


def current_listing(area: str, level: str, starts_on: date | None) -> RiskArea | None:
    """The published listing of an area on a list that a new listing from `starts_on` would
    overlap (so it must be changed instead); an area delisted earlier may be listed again."""
    rows = RiskArea.objects.filter(area=area, level=level, status=RiskAreaStatus.PUBLISHED)
    if starts_on is not None:
        rows = rows.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=starts_on))
    return rows.order_by("-published_at").first()


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
            if same_listing(supersedes, data):
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
