"""Where a user may look. Every scoped queryset goes through `visible_to`; nothing else
filters by scope, so there is one place to read and one place to get wrong.

Scope is a set of division-code prefixes (`32` = Jiangsu, `3205` = Suzhou, `320583102001001` =
one grid cell) plus, for unit managers, unit ids. Prefixes match as ranges on the code column
(`code >= '3205' AND code < '3206'`), which every database serves from a plain b-tree index
whatever its collation, because codes are digits only.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db.models import F, Model, Q, QuerySet, Value
from django.db.models.functions import Concat
from django.http import Http404


def next_prefix(prefix: str) -> str | None:
    """The smallest digit string greater than every string starting with `prefix`."""
    digits = prefix.rstrip("9")
    if not digits:
        return None
    return digits[:-1] + str(int(digits[-1]) + 1)


def prefix_q(field_name: str, prefix: str) -> Q:
    if not prefix:
        return Q()
    upper = next_prefix(prefix)
    q = Q(**{f"{field_name}__gte": prefix})
    if upper is not None:
        q &= Q(**{f"{field_name}__lt": upper})
    return q


def prefixes_q(field_name: str, prefixes: Iterable[str]) -> Q:
    combined = Q(pk__in=[])
    for prefix in normalise_prefixes(prefixes):
        combined |= prefix_q(field_name, prefix)
    return combined


def normalise_prefixes(prefixes: Iterable[str]) -> list[str]:
    """Drop prefixes already covered by a shorter one, so queries carry no redundant ranges."""
    result: list[str] = []
    for prefix in sorted(set(prefixes), key=len):
        if not any(prefix.startswith(kept) for kept in result):
            result.append(prefix)
    return sorted(result)


@dataclass(frozen=True)
class ScopeSpec:
    """How a model is scoped: the division-code field, and optionally how a unit manager
    reaches rows (a Q built from the unit ids they manage)."""

    division_field: str = "division_code"
    unit_q: Callable[[list], Q] | None = None


@dataclass(frozen=True)
class Scope:
    prefixes: tuple[str, ...] = ()
    unit_ids: tuple = ()
    everything: bool = False
    perms: frozenset[str] = field(default_factory=frozenset)

    def covers_division(self, code: str) -> bool:
        return self.everything or any(code.startswith(p) for p in self.prefixes)


EMPTY = Scope()


def scope_of(user) -> Scope:
    """The user's effective scope, cached on the user object for the request. An API token
    may narrow it (`_token_prefixes`), never widen it."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return EMPTY
    cached = getattr(user, "_epigrid_scope", None)
    if cached is not None:
        return cached
    grants = list(user.scope_grants.values_list("division_prefix", "unit_id"))
    prefixes = [p for p, u in grants if p]
    unit_ids = tuple(u for p, u in grants if u)
    token_prefixes = getattr(user, "_token_prefixes", None)
    if token_prefixes:
        prefixes = [t for t in token_prefixes if any(t.startswith(p) for p in prefixes)]
    scope = Scope(
        prefixes=tuple(normalise_prefixes(prefixes)),
        unit_ids=unit_ids,
        perms=user.permissions,
    )
    user._epigrid_scope = scope
    return scope


def scope_spec(model: type[Model]) -> ScopeSpec:
    spec = getattr(model, "scope", None)
    if not isinstance(spec, ScopeSpec):
        raise TypeError(f"{model.__name__} declares no ScopeSpec; it cannot be listed by scope")
    return spec


# Prefixes this short cover a town or more: thousands to millions of rows.
BROAD_PREFIX = 12


def visible_to(user, queryset: QuerySet, *, listing: bool = False) -> QuerySet:
    """The rows of `queryset` this user may see. Deny by default: no grants, no rows.

    `listing=True` is for newest-first lists: when the scope is broad, the division range is
    applied to an expression no index serves, so the database walks the time index and stops
    after a page instead of sorting every row of a city (SQLite's planner, lacking histograms,
    otherwise picks the division index and sorts a million rows)."""
    scope = scope_of(user)
    if scope is EMPTY or (not scope.prefixes and not scope.unit_ids):
        return queryset.none()
    spec = scope_spec(queryset.model)
    field_name = spec.division_field
    if listing and scope.prefixes and all(len(p) < BROAD_PREFIX for p in scope.prefixes):
        queryset = queryset.annotate(_scope_code=Concat(F(field_name), Value("")))
        field_name = "_scope_code"
    condition = prefixes_q(field_name, scope.prefixes) if scope.prefixes else Q(pk__in=[])
    if scope.unit_ids and spec.unit_q is not None:
        reachable = queryset.model._default_manager.filter(spec.unit_q(list(scope.unit_ids))).values("pk")
        condition |= Q(pk__in=reachable)
    return queryset.filter(condition)


def get_visible_or_404(user, queryset: QuerySet, **lookup):
    """The object if the user may see it; otherwise 404, so nothing reveals that it exists."""
    try:
        return visible_to(user, queryset).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404
    except queryset.model.MultipleObjectsReturned:
        raise Http404


def division_in_scope(user, division_code: str) -> bool:
    return scope_of(user).covers_division(division_code)
