"""When a task is due: how long whoever must do it has to act, never a time already past when
the task reaches them (issue 10.2).

Callers compute a due time from stored events (a measure's start, a result's report, a list's
receipt) and say, with `within`, how long the work takes. The work can start at the later of
that event and the task's creation, so the task is due `within` after that:

    due = max(caller's due time, created_at + within)

A caller that gives no `within` keeps its due time when it is after the creation; one at or
before the creation (an event recorded late, work handed on after its own due time) becomes
`created_at + DEFAULT_WITHIN`. A task without a due time stays without one. So a task is never
overdue the moment it is created, whoever opens it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

# A day: the house's routine window (a check on the ground, a review), for a caller that did
# not say how long its work takes.
DEFAULT_WITHIN = timedelta(hours=24)


def due_time(due: datetime | None, created_at: datetime, within: timedelta | None = None) -> datetime | None:
    """The due time a task opened at `created_at` gets (see the module's docstring)."""
    if within is not None and within <= timedelta(0):
        raise ValueError(f"a task's time to act must be positive, got {within}")
    if within is not None:
        floor = created_at + within
        return floor if due is None or due < floor else due
    if due is None or due > created_at:
        return due
    return created_at + DEFAULT_WITHIN
