"""Dating one rule's measures: the event each is counted from, its start and end (or due time),
its state at the evaluation time, and the test results that satisfy a test."""

from __future__ import annotations

import types
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from ..conditions import TEST_FAMILIES, Ctx
from ..packs import MeasureSpec, Rule
from .decision import Measure

# States after which a measure asks nothing more of anyone.
FINISHED_STATES = frozenset({"ended", "satisfied", "missed"})


def _freeze(value):
    if isinstance(value, Mapping):
        return types.MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


def first_event(ctx: Ctx, names: tuple[str, ...]) -> tuple[str | None, datetime | None]:
    for name in names:
        moment = ctx.event(name)
        if moment is not None:
            return name, moment
    return None, None


def build_measure(spec: MeasureSpec, rule: Rule, ctx: Ctx, extra: Mapping | None) -> Measure:
    counted_from, base = first_event(ctx, spec.anchors)
    params = spec.params if extra is None else {**spec.params, **extra}
    start = base + timedelta(days=spec.offset_days) if base is not None else None
    end = None
    satisfied_by: tuple = ()
    if start is None:
        state = "unscheduled"
    elif spec.kind == "test":
        end, state, satisfied_by = _test_timing(ctx, params, start)
    elif spec.kind == "advance_report":
        end, state = start, _advance_report_state(ctx)
    else:
        end, state = _period_timing(ctx, params, start)
    return Measure(
        kind=spec.kind,
        params=_freeze(params),
        start=start,
        end=end,
        counted_from=counted_from,
        state=state,
        rule=rule.id,
        requirements=rule.requirements,
        pack=rule.pack_id,
        pack_version=rule.pack_version,
        reason=rule.reason,
        satisfied_by=satisfied_by,
    )


def _test_timing(ctx: Ctx, params: Mapping, start: datetime) -> tuple[datetime, str, tuple]:
    """A test's due time, state, and the results that satisfied it."""
    due = start + timedelta(hours=params["due_hours"])
    satisfied_by = tests_done(ctx, params["tests"], start)
    if satisfied_by:
        state = "satisfied"
    elif ctx.at < start:
        state = "upcoming"
    elif ctx.at <= due:
        state = "due"
    else:
        state = "overdue"
    return due, state, satisfied_by


def _advance_report_state(ctx: Ctx) -> str:
    arrival = ctx.arrival
    declared = arrival.declared_at if arrival is not None else None
    return "satisfied" if declared is not None and declared <= arrival.arrived_at else "missed"


def _period_timing(ctx: Ctx, params: Mapping, start: datetime) -> tuple[datetime | None, str]:
    """A period's end (None when it runs until released) and state."""
    days = params.get("days")
    end = start + timedelta(days=days) if days else None
    if ctx.at < start:
        return end, "upcoming"
    if end is None or ctx.at < end:
        return end, "active"
    return end, "ended"


def tests_done(ctx: Ctx, wanted: Iterable[str], since: datetime, negative: bool = False) -> tuple:
    """Results (of any source: NA182-2.3 mutual recognition) sampled from `since` on and known
    by `at`, one per wanted kind (only negative ones if `negative`); empty unless every wanted
    kind has one."""
    at = ctx.at
    found = []
    for name in wanted:
        family = TEST_FAMILIES[name]
        best = None
        for t in ctx.facts.tests:
            if (
                t.kind in family
                and t.result != "pending"
                and (not negative or t.result == "negative")
                and since <= t.sampled_at <= at
                and (t.reported_at is None or t.reported_at <= at)
                and (best is None or t.sampled_at < best.sampled_at)
            ):
                best = t
        if best is None:
            return ()
        found.append(
            types.MappingProxyType(
                {
                    "kind": best.kind,
                    "result": best.result,
                    "sampled_at": best.sampled_at.isoformat(),
                    "source": best.source,
                }
            )
        )
    return tuple(found)
