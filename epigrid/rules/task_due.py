"""How long the person responsible has to act on a measure's task (issue 10.2, R10.1).

A task is not the measure: a 14-day isolation's task is to arrange the isolation, not to last
14 days. So the task is due `task_due_hours` after the work can start, which is the later of
the measure's start and the task's creation: an isolation recorded on day 3 gives the grid
worker the same hours as one recorded on arrival, and no task is overdue when it is created.
A pack sets `task_due_hours` on a measure; otherwise the kind's default below applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

# Hours per kind, and why (docs/rules.md, "Tasks for measures"):
DEFAULT_TASK_DUE_HOURS = {
    # the documents ask for isolation at once (及时隔离, NA182-3; KS10-11) without a number:
    # half a working day to reach the person, confirm the place or arrange the transfer
    "quarantine": 4,
    # the first daily check within the day (KS10-14: 每日健康监测)
    "health_monitoring": 24,
    # set up the same day, before the person moves about (JX57-2.3 pairs it with the test on
    # arrival, due in 12 hours)
    "closed_loop": 12,
    # tell the person and record it within a day
    "restriction": 24,
    "grid_management": 24,
    "follow_up": 24,
    "advance_report": 24,
    "exempt": 24,
}


def task_window(kind: str, params: Mapping) -> timedelta:
    """How long the task of a measure gives: the pack's `task_due_hours`, a test's own
    `due_hours` (its result is due then, NA182-2.5.1), or the kind's default."""
    hours = params.get("task_due_hours")
    if hours is None:
        hours = params.get("due_hours") if kind == "test" else None
    if hours is None:
        hours = DEFAULT_TASK_DUE_HOURS.get(kind, 24)
    return timedelta(hours=hours)


def task_due(kind: str, params: Mapping, start: datetime | None, created_at: datetime) -> datetime:
    """When the task of a measure starting at `start` (None: not on record) and opened at
    `created_at` is due: the window after the later of the two."""
    ready = start if start is not None and start > created_at else created_at
    return ready + task_window(kind, params)
