"""The loop: `sweep` evaluates a population in batches and writes what changed (or counts it);
`reassess(person)` and `reassess_many(ids)` are sweeps over the persons a producer changed."""

import time
import uuid
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor
from epigrid.lib.collector import bulk_collection
from epigrid.lib.errors import DomainError
from epigrid.people.models import Person
from epigrid.rules import facts as rf
from epigrid.rules.packs import PackLibrary
from epigrid.rules.services.evaluation import Evaluator
from epigrid.rules.services.population import Population, persons_of
from epigrid.rules.services.writing import ReassessResult, count_batch, write_batch

BATCH = 2000  # reassess_many: ids per batch
SWEEP_BATCH = 5000  # bulk runs: persons per batch (one transaction each when writing)


@dataclass
class SweepResult:
    evaluated: int = 0
    changed: int = 0
    skipped: int = 0
    counts: dict = field(default_factory=dict)
    seconds: float = 0.0
    engine_calls: int = 0


def sweep(
    population: Population,
    *,
    at: datetime,
    write: bool,
    actor: Actor | None = None,
    cause: str = "",
    library: PackLibrary | None = None,
    risk: rf.RiskContext | None = None,
    batch_size: int = SWEEP_BATCH,
    progress: Callable[[int, int, dict], None] | None = None,
    result: ReassessResult | None = None,
    checkpoint: Callable[[uuid.UUID | None, int, int, dict], None] | None = None,
) -> SweepResult:
    """Evaluate a population at `at`; write the changes (`write=True`) or only count them.

    `risk` replaces the published risk lists (what-if of a draft change); `library` the packs
    (what-if of a candidate pack). `progress(done, changed, counts)` is called after each batch;
    `checkpoint(last_id, done, changed, counts)` inside the batch's transaction, so a job that
    records where it is lands its progress with the batch or not at all (it may raise to undo
    the batch).
    """
    if write and actor is None:
        raise DomainError("sweep_without_actor", _("A reassessment that writes needs someone to record."))
    started = time.perf_counter()
    evaluator = Evaluator(at, library, risk)
    result = result or ReassessResult(keep_records=False)
    done = 0
    bulk_run = population.candidates is None or len(population.candidate_ids()) > batch_size
    using = population.queryset().db
    with bulk_collection(bulk_run):
        for rows in population.batches(batch_size):
            persons, stored = persons_of(rows, using)
            batch = evaluator.evaluate_persons(persons, stored)
            result.evaluated += len(batch)
            with transaction.atomic() if checkpoint else nullcontext():
                if write:
                    write_batch(batch, evaluator=evaluator, actor=actor, at=at, cause=cause, result=result)
                else:
                    count_batch(batch, result)
                if checkpoint:
                    last = rows[-1].id if rows else None
                    checkpoint(last, done + len(batch), result.changed, result.counts.as_dict())
            done += len(batch)
            if progress:
                progress(done, result.changed, result.counts.as_dict())
    return SweepResult(
        evaluated=result.evaluated,
        changed=result.changed,
        skipped=result.skipped,
        counts=result.counts.as_dict(),
        seconds=time.perf_counter() - started,
        engine_calls=evaluator.engine_calls,
    )


def reassess_many(
    person_ids: Iterable,
    *,
    actor: Actor,
    at: datetime | None = None,
    cause: str = "",
    library: PackLibrary | None = None,
    progress: Callable[[int, int], None] | None = None,
    batch_size: int = BATCH,
) -> ReassessResult:
    """Reassess these persons (after a bulk import of their facts) and write what changed."""
    at = at or timezone.now()
    ids = list(dict.fromkeys(person_ids))
    result = ReassessResult()
    total = len(ids)
    sweep(
        Population(candidates=ids),
        at=at,
        write=True,
        actor=actor,
        cause=cause,
        library=library,
        batch_size=batch_size,
        progress=(lambda done, changed, counts: progress(done, total)) if progress else None,
        result=result,
    )
    return result


def reassess(person: Person, *, actor: Actor, at: datetime | None = None, cause: str = "") -> ReassessResult:
    """Reassess one person after a fact about them changed. Call it after the write that
    changed the fact (in the same transaction or after it)."""
    return reassess_many([person.pk], actor=actor, at=at, cause=cause)
