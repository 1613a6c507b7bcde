"""Whose list a risk area is on, and who may change it (R3.1, JX57-2.3, issue 10.4).

JX57-2.3 gives the list of medium and high risk and key areas to the epidemic commands of every
level (各级疫情防控应急指挥部), which follow it and adjust it. epigrid reads that as:

- A listing belongs to a jurisdiction (`RiskArea.division_code`): the broadest division of its
  author that contains the area. A county or city command and its CDC list areas inside their
  own county or city only; areas elsewhere in the country and abroad come from the province's
  list (the province command transcribes the national one), so only a user with a province-wide
  grant lists them, on the province's list.
- A draft, and a change or withdrawal of a published listing, is reached by the users whose
  scope covers its jurisdiction: the author's level and the commands above it. Anyone else gets
  a 404, as for every object out of scope (`visible_to`, through `RiskArea.scope`).
- Drafting is `RISK_EDIT` (commands and CDC); publishing a change is `RISK_PUBLISH`, the
  commands' alone (`accounts.roles`): the CDC member drafts and previews, the command decides.
- Listings written without a user (the system, rows from before jurisdictions) have none and
  are changed by the system only, unless a migration gave them one.
"""

from collections.abc import Iterable

from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor
from epigrid.accounts.scoping import scope_of, visible_to
from epigrid.lib.errors import DomainError, Forbidden, NotFound

PROVINCE = 2  # digits of a province's prefix: a grant this broad lists areas beyond the province


class RiskScopeError(DomainError):
    pass


def _province_prefixes(user) -> list[str]:
    return [p for p in scope_of(user).prefixes if len(p) <= PROVINCE]


def jurisdiction_for(user, area: str) -> str:
    """The jurisdiction a listing of `area` by `user` belongs to; refused when the area lies
    outside everything the user lists."""
    if area.isdigit():
        covering = [p for p in scope_of(user).prefixes if area.startswith(p)]
        if covering:
            return min(covering, key=len)
    provinces = _province_prefixes(user)
    if provinces:
        return provinces[0]
    raise RiskScopeError(
        "risk_area_outside",
        _(
            "This area is outside your jurisdiction: you list areas inside it only; areas "
            "elsewhere and abroad come from the province's list."
        ),
        "area",
    )


def within(jurisdiction: str, area: str) -> bool:
    """An area a listing of this jurisdiction may name (the system's listings name any)."""
    if not jurisdiction or len(jurisdiction) <= PROVINCE:
        return True
    return area.isdigit() and area.startswith(jurisdiction)


def reachable(user, queryset):
    """The listings of `queryset` whose jurisdiction the user's scope covers."""
    return visible_to(user, queryset)


def require(actor: Actor, perm: str) -> None:
    if actor.user is not None and not actor.user.has_epigrid_perm(perm):
        raise Forbidden("permission_denied", _("Your role does not allow this operation."))


def require_reach(actor: Actor, rows: Iterable) -> None:
    """Every row is the actor's to change; a row out of their scope is not found."""
    if actor.user is None:
        return
    rows = list(rows)
    if not rows:
        return
    model = type(rows[0])
    ids = {r.pk for r in rows}
    if reachable(actor.user, model.objects.filter(pk__in=ids)).count() != len(ids):
        raise NotFound("risk_area_missing", _("Not found."))


def check_area(actor: Actor, jurisdiction: str, area: str) -> None:
    if actor.user is not None and not within(jurisdiction, area):
        raise RiskScopeError(
            "risk_area_outside",
            _("This area is outside the jurisdiction of this listing; list it from the province's list."),
            "area",
        )
