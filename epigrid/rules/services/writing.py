"""Writing a batch of evaluated persons: only the changed decisions, in one transaction — the
DecisionRecords (history), the PersonRuleStates (current), the MeasureRecords opened, changed
and closed, the handlers and listeners (`handlers`), one audit row per changed person — and
the counts a what-if gives instead, from the same planning."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import router, transaction
from django.utils import timezone

from epigrid.accounts.audit import Actor, record_many
from epigrid.lib.bulk import insert_rows, update_rows
from epigrid.lib.sql import any_of
from epigrid.people.models import Person
from epigrid.rules.models import (
    DecisionRecord,
    MeasureRecord,
    MeasureStatus,
    PersonRuleState,
    ReviewRow,
)
from epigrid.rules.services.counts import ChangeCounter
from epigrid.rules.services.evaluation import Evaluated, Evaluator
from epigrid.rules.services.handlers import attach_persons, run_handlers, tell_listeners
from epigrid.rules.services.plans import MeasurePlan, jsonable, open_records, plan_measures
from epigrid.rules.services.records import DecisionRows, loaded, measure_row, state_row

CLOSE_CHUNK = 2000  # measure ids per UPDATE when closing


@dataclass
class ReassessResult:
    evaluated: int = 0
    changed: int = 0
    opened: list = field(default_factory=list)
    closed: list = field(default_factory=list)
    colour_changes: list = field(default_factory=list)
    counts: ChangeCounter = field(default_factory=ChangeCounter)
    # bulk runs keep counts only; single reassessments also keep the records for the caller
    keep_records: bool = True
    # people reassessed by someone else between the read and the write of their batch
    skipped: int = 0


def write_batch(
    batch: list[Evaluated],
    *,
    evaluator: Evaluator,
    actor: Actor,
    at: datetime,
    cause: str,
    result: ReassessResult,
) -> None:
    """Write a batch, unless someone reassessed a person of it since it was read: the persons
    are locked and their stored decisions compared with those the batch was evaluated against;
    a person whose decision moved meanwhile (a producer's reassessment with fresher facts) is
    left to that newer decision."""
    touched = [e for e in batch if e.changed or e.needs_refresh]
    if not touched:
        return
    with transaction.atomic():
        kept = _still_as_read(touched)
        result.skipped += len(touched) - len(kept)
        _write_checked(kept, evaluator=evaluator, actor=actor, at=at, cause=cause, result=result)


def _still_as_read(touched: list[Evaluated]) -> list[Evaluated]:
    """Lock the persons and keep those whose stored decision is the one they were evaluated
    against. The person rows are the lock (a state row may not exist yet): two reassessments of
    one person, e.g. a bulk run and a producer's, take turns; in id order, so shards never wait
    on each other in a circle."""
    ids = [e.person.pk for e in touched]
    list(any_of(Person.objects.select_for_update(), "id", ids).order_by("pk").values_list("pk", flat=True))
    current = dict(any_of(PersonRuleState.objects, "person_id", ids).values_list("person_id", "fingerprint"))
    return [
        e
        for e in touched
        if current.get(e.person.pk) == (e.stored.fingerprint if e.stored is not None else None)
    ]


@dataclass
class _Writes:
    """What a batch's changed decisions write, gathered before the transaction that writes it,
    with the instances the handlers and listeners are given."""

    decisions: list = field(default_factory=list)  # DecisionRow
    records: dict = field(default_factory=dict)  # person id → DecisionRecord
    measures: list = field(default_factory=list)  # MeasureRow
    opened: list = field(default_factory=list)  # MeasureRecord
    closed: list = field(default_factory=list)  # MeasureRecord
    updated: list = field(default_factory=list)  # MeasureRecord
    states_new: list = field(default_factory=list)  # RuleStateRow
    states_moved: list = field(default_factory=list)  # RuleStateRow
    plans: list = field(default_factory=list)  # MeasurePlan, one per changed person


def _gather(
    changed: list[Evaluated], *, evaluator: Evaluator, at: datetime, cause: str, using: str
) -> _Writes:
    existing = open_records([e.person.pk for e in changed], light=False)
    rows = DecisionRows(evaluator, at=at, cause=cause, now=timezone.now())
    writes = _Writes()
    for e in changed:
        decision = rows.row(e)
        writes.decisions.append(decision)
        writes.records[e.person.pk] = loaded(DecisionRecord, decision, using)
        plan = plan_measures(existing.get(e.person.pk, {}), e.decision)
        writes.plans.append(plan)
        _gather_measures(writes, plan, e, decision.id, at, using)
        (writes.states_new if e.stored is None else writes.states_moved).append(state_row(e, decision.id, at))
    return writes


def _gather_measures(
    writes: _Writes, plan: MeasurePlan, e: Evaluated, decision, at: datetime, using: str
) -> None:
    for m in plan.opened:
        row = measure_row(
            m, person=e.person.pk, division_code=e.person.division_code, decision=decision, at=at
        )
        writes.measures.append(row)
        writes.opened.append(loaded(MeasureRecord, row, using))
    writes.closed.extend(plan.closed)
    for rec, m in plan.updated:
        rec.state, rec.ends_at, rec.params = m.state, m.end, jsonable(m.params)
        writes.updated.append(rec)


def _store(writes: _Writes, reviews: list[ReviewRow], at: datetime, using: str) -> None:
    insert_rows(DecisionRecord, writes.decisions, using=using)
    insert_rows(MeasureRecord, writes.measures, using=using)
    if writes.updated:
        MeasureRecord.objects.bulk_update(writes.updated, ["state", "ends_at", "params"], batch_size=1000)
    _close(writes.closed, at)
    insert_rows(PersonRuleState, writes.states_new, using=using)
    update_rows(PersonRuleState, writes.states_moved, key="person", using=using)
    update_rows(PersonRuleState, reviews, key="person", using=using)


def _close(records: list[MeasureRecord], at: datetime) -> None:
    ids = [r.pk for r in records]
    for start in range(0, len(ids), CLOSE_CHUNK):
        any_of(MeasureRecord.objects, "id", ids[start : start + CLOSE_CHUNK]).update(
            status=MeasureStatus.CLOSED, closed_at=at
        )
    for rec in records:
        rec.status, rec.closed_at = MeasureStatus.CLOSED, at


def _review_rows(batch: list[Evaluated], at: datetime) -> list[ReviewRow]:
    return [
        ReviewRow(
            person=e.person.pk,
            next_review_at=e.decision.next_review,
            division_code=e.person.division_code,
            evaluated_at=at,
        )
        for e in batch
        if e.needs_refresh
    ]


def _write_checked(
    batch: list[Evaluated],
    *,
    evaluator: Evaluator,
    actor: Actor,
    at: datetime,
    cause: str,
    result: ReassessResult,
) -> None:
    using = router.db_for_write(DecisionRecord)
    reviews = _review_rows(batch, at)
    changed = [e for e in batch if e.changed]
    if not changed:
        # a time-driven review that changes nothing still moves the next review forward
        update_rows(PersonRuleState, reviews, key="person", using=using)
        return
    writes = _gather(changed, evaluator=evaluator, at=at, cause=cause, using=using)
    with transaction.atomic(using=using):
        _store(writes, reviews, at, using)
        attach_persons(writes.opened, writes.closed, {e.person.pk: e.person for e in changed})
        run_handlers(writes.opened, writes.closed, actor, at)
        changes = tell_listeners(changed, writes.records, actor, at)
        record_many(
            actor,
            "update",
            object_type="person_rules",
            rows=[(str(e.person.pk), e.person.division_code) for e in changed],
            fields=["decision", "measures", "colour"],
            note=cause[:200],
        )
    result.changed += len(changed)
    for e, plan in zip(changed, writes.plans, strict=True):
        result.counts.add_change(e, plan)
    if result.keep_records:
        result.opened += writes.opened
        result.closed += writes.closed
        result.colour_changes += [c for c in changes if c.old_colour != c.new_colour]


def count_batch(batch: list[Evaluated], result: ReassessResult) -> None:
    """What writing the batch would change, counted (a what-if), from the same planning."""
    changed = [e for e in batch if e.changed]
    if not changed:
        return
    existing = open_records([e.person.pk for e in changed], light=True)
    for e in changed:
        result.counts.add_change(e, plan_measures(existing.get(e.person.pk, {}), e.decision))
    result.changed += len(changed)
