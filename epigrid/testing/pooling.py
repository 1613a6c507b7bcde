"""Pooled testing (混检, R6.3, JS79-14) as plain functions: no ORM, so the logic is fast and can
be checked exhaustively with generated cases.

- A pool holds 5, 10 or 20 swabs.
- A negative pool makes every member negative.
- A positive pool flags every member at once and asks a single-tube retest of each.
- A member stays flagged until an individual result comes in; a flagged member whose retest is
  past its due time is overdue. Only members whose own result is positive stay positive.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from epigrid.lib.errors import DomainError

POOL_SIZES = (5, 10, 20)
DEFAULT_DUE_HOURS = 12

NEGATIVE, POSITIVE = "negative", "positive"
# member states
CLEARED = "negative"  # negative, by the pool or by the retest
FLAGGED = "flagged"  # in a positive pool, no individual result yet
CONFIRMED = "positive"  # individual result positive
WAITING = "waiting"  # the pool has no result yet


class PoolError(DomainError):
    """A swab the pool cannot take; the sampling desk shows `message`."""


def check_size(size: int) -> int:
    if size not in POOL_SIZES:
        raise PoolError("pool_size", _("A pool holds 5, 10 or 20 swabs, not %(size)s.") % {"size": size})
    return size


def check_can_add(size: int, members: int, adding: int = 1) -> None:
    """Refuse a swab that would overfill the pool."""
    check_size(size)
    if members + adding > size:
        raise PoolError(
            "pool_full",
            _("The pool already holds %(members)s of %(size)s swabs.") % {"members": members, "size": size},
        )


def split_into_pools(items: Sequence, size: int) -> list[list]:
    """Consecutive groups of `size` (the last one may be smaller), in order: the way swabs
    queue at a point are poured into tubes."""
    check_size(size)
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


@dataclass(frozen=True)
class MemberState:
    member: object
    state: str
    # when the individual retest result is due; None unless flagged
    retest_due: datetime | None = None
    overdue: bool = False


def retest_due(pool_reported_at: datetime, due_hours: int = DEFAULT_DUE_HOURS) -> datetime:
    """A retest is due `due_hours` after the pool's result became known (12 h, NA182-2.5.1)."""
    return pool_reported_at + timedelta(hours=due_hours)


def member_states(
    pool_result: str | None,
    members: Iterable,
    individual: dict,
    *,
    pool_reported_at: datetime | None = None,
    at: datetime | None = None,
    due_hours: int = DEFAULT_DUE_HOURS,
) -> list[MemberState]:
    """The state of each member of a pool at `at`.

    `individual` maps a member to its individual result (negative/positive) when one is known.
    An individual result always wins over the pool's: a single-tube result is the better test.
    """
    if pool_result not in (None, "", NEGATIVE, POSITIVE):
        raise PoolError("pool_result", _("%(result)r is not a pool result.") % {"result": pool_result})
    out = []
    for member in members:
        own = individual.get(member)
        if own is not None and own not in (NEGATIVE, POSITIVE):
            raise PoolError("result", _("%(result)r is not an individual result.") % {"result": own})
        if own == POSITIVE:
            out.append(MemberState(member, CONFIRMED))
        elif own == NEGATIVE:
            out.append(MemberState(member, CLEARED))
        elif not pool_result:
            out.append(MemberState(member, WAITING))
        elif pool_result == NEGATIVE:
            out.append(MemberState(member, CLEARED))
        else:
            due = retest_due(pool_reported_at, due_hours) if pool_reported_at else None
            overdue = bool(due is not None and at is not None and at > due)
            out.append(MemberState(member, FLAGGED, due, overdue))
    return out


def pool_status(pool_result: str | None, states: Sequence[MemberState]) -> str:
    """negative / retesting / resolved, or '' while the pool has no result."""
    if not pool_result:
        return ""
    if pool_result == NEGATIVE:
        return "negative"
    return "retesting" if any(s.state == FLAGGED for s in states) else "resolved"
