"""Planning: what a new decision does to a person's open measures (which open, close or
change). The one place that decides it, for writing runs and what-if counts alike."""

import json
import types
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from epigrid.lib.sql import any_of
from epigrid.rules import engine
from epigrid.rules.models import MeasureRecord, MeasureStatus

OPEN_STATES = frozenset({"upcoming", "active", "due", "overdue", "unscheduled", "missed"})


def measure_key(measure: engine.Measure) -> str:
    start = measure.start.isoformat() if measure.start else "-"
    return f"{measure.rule}|{measure.kind}|{measure.counted_from or '-'}|{start}"[:200]


def jsonable(params) -> dict:
    return json.loads(json.dumps(_plain(params), default=str))


def _plain(value):
    if isinstance(value, Mapping | types.MappingProxyType):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@dataclass
class MeasurePlan:
    opened: list  # engine Measures to open
    closed: list  # existing records to close
    updated: list  # (existing record, engine Measure) whose state, end or parameters moved


def plan_measures(existing: Mapping[str, object], decision: engine.Decision) -> MeasurePlan:
    """Compare a decision with the person's open measure records (`key` → record with `state`,
    `ends_at`, `params`)."""
    plan = MeasurePlan([], [], [])
    seen = set()
    for m in decision.measures:
        key = measure_key(m)
        is_open = m.state in OPEN_STATES
        rec = existing.get(key)
        if rec is not None:
            if key in seen:
                continue
            seen.add(key)
            if not is_open:
                plan.closed.append(rec)
            elif (rec.state, rec.ends_at, rec.params) != (m.state, m.end, jsonable(m.params)):
                plan.updated.append((rec, m))
            continue
        if not is_open or key in seen:
            continue  # a measure already done when first seen needs nobody to act
        seen.add(key)
        plan.opened.append(m)
    for key, rec in existing.items():
        if key not in seen:
            plan.closed.append(rec)
    return plan


@dataclass(slots=True)
class _OpenMeasure:
    """The parts of an open MeasureRecord that planning compares (what-if reads only these)."""

    key: str
    state: str
    ends_at: datetime | None
    params: dict


def open_records(person_ids: list, *, light: bool) -> dict:
    """Open measure records of these persons: person id → key → record (`light`: only what
    planning compares, for counting)."""
    found: dict = defaultdict(dict)
    qs = any_of(MeasureRecord.objects, "person_id", person_ids).filter(status=MeasureStatus.OPEN)
    if light:
        for pid, key, state, ends_at, params in qs.values_list(
            "person_id", "key", "state", "ends_at", "params"
        ):
            found[pid][key] = _OpenMeasure(key, state, ends_at, params)
    else:
        for rec in qs:
            found[rec.person_id][rec.key] = rec
    return found
