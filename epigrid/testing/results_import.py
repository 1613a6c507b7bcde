"""Phase two of a results file (R6.3): the commit, as a job that resumes (issue 10.7).

The checked rows are applied in batches in file order. Each batch is one transaction: its
results, specimens, pools, orders, tasks and audit row, and the import's progress (`rows_done`,
its counts, the heartbeat). The progress moves with a conditional update from the offset this
worker started the batch at, so a batch lands once even if two workers ever hold the import.
The people of each batch are reassessed after it (in a second process on PostgreSQL, while
the next batch is written); `reassessed_rows` follows when that is done.

A worker that dies leaves the import `committing` with a heartbeat that stops; `epigrid
worker` (`testing.jobs`) or the lab's "resume" queues it again, and the commit continues at
`rows_done`, after first reassessing the people of rows written but perhaps not yet reassessed.
"""

from __future__ import annotations

import os
import time
import uuid
from collections import deque
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor, record
from epigrid.lib import queue
from epigrid.lib.errors import Conflict, NotFound
from epigrid.lib.sql import any_of
from epigrid.testing.models import ImportStatus, Pool, ResultImport, Specimen
from epigrid.testing.parsing import ResultRow
from epigrid.testing.services.checking import check_rows
from epigrid.testing.services.common import TestingError, chunks
from epigrid.testing.services.imports import RESULT_BATCH
from epigrid.testing.services.labs import require_lab
from epigrid.testing.services.reassessment import Reassessor
from epigrid.testing.services.results import Applied, apply_results


class LostClaim(RuntimeError):
    """Another worker took the import over (this one was silent too long): stop, write nothing."""


def persons_of(rows) -> set:
    """The people the rows' tubes and pools belong to (to reassess rows written before a crash)."""
    codes = list({r.barcode for r in rows})
    persons: set = set()
    for chunk in chunks(codes, 2000):
        persons.update(any_of(Specimen.objects.all(), "barcode", chunk).values_list("person_id", flat=True))
        pools = list(any_of(Pool.objects.all(), "barcode", chunk).values_list("pk", flat=True))
        for pool_chunk in chunks(pools, 2000):
            persons.update(
                any_of(Specimen.objects.all(), "pool_id", pool_chunk).values_list("person_id", flat=True)
            )
    persons.discard(None)
    return persons


class _Progress:
    """The import's progress as this worker holds it, written with every step it completes."""

    def __init__(self, imp: ResultImport, worker: str):
        self.pk, self.worker = imp.pk, worker
        self.rows_done, self.reassessed_rows = imp.rows_done, imp.reassessed_rows
        self.counts = {k: 0 for k in (*Applied.COUNTS, "persons", "persons_reassessed", "decisions_changed")}
        self.counts.update(imp.counts or {})
        self.batches = list(imp.batches or [])

    def _save(self, condition: dict, counts: dict, batches: list, **fields) -> None:
        taken = ResultImport.objects.filter(pk=self.pk, worker=self.worker, **condition).update(
            heartbeat_at=timezone.now(), counts=counts, batches=batches, **fields
        )
        if not taken:
            raise LostClaim(f"result import {self.pk} was taken over")

    def landed(self, start: int, rows: int, applied: Applied, seconds: float) -> None:
        """In the batch's transaction: the batch and the progress land together (`kept` once
        that transaction committed)."""
        counts = dict(self.counts)
        for key in Applied.COUNTS:
            counts[key] += getattr(applied, key)
        counts["persons"] += len(applied.persons)
        end = start + rows
        batch = {
            "rows": rows,
            "end": end,
            "new": applied.new_results,
            "unchanged": applied.unchanged,
            "seconds": round(seconds, 3),
        }
        batches = [*self.batches, batch]
        self._save({"rows_done": start}, counts, batches, rows_done=end)
        self._landed = (counts, batches, end)

    def kept(self) -> None:
        self.counts, self.batches, self.rows_done = self._landed

    def reassessed(self, upto: int, evaluated: int, changed: int, seconds: float) -> None:
        self.counts["persons_reassessed"] += evaluated
        self.counts["decisions_changed"] += changed
        for batch in self.batches:
            if batch.get("end") == upto:
                batch["reassess_seconds"] = round(seconds, 3)
        upto = max(upto, self.reassessed_rows)
        self._save({}, self.counts, self.batches, reassessed_rows=upto)
        self.reassessed_rows = upto


class _Reassessor(Reassessor):
    """The app's reassessor, telling the progress which rows' people are reassessed: each
    submission completes once, in order, through `_add`."""

    def __init__(self, *, progress: _Progress, **kwargs):
        super().__init__(**kwargs)
        self.progress = progress
        self._marks: deque[int] = deque()

    def submit(self, persons, *, upto: int) -> None:
        self._marks.append(upto)
        super().submit(persons)

    def _add(self, evaluated: int, changed: int, seconds: float) -> None:
        super()._add(evaluated, changed, seconds)
        self.progress.reassessed(self._marks.popleft(), evaluated, changed, seconds)


def record_status(actor: Actor, imp: ResultImport, note: str) -> None:
    """The audit row of an import whose status changed, with what happened in `note`."""
    record(
        actor,
        "update",
        object_type="result_import",
        object_id=imp.pk,
        division_code=imp.division_code,
        fields=["status"],
        note=note,
    )


def _claim(actor: Actor, lab, user, import_id, worker: str) -> ResultImport:
    with transaction.atomic():
        imp = ResultImport.objects.select_for_update().get(pk=import_id)
        if imp.lab_id != lab.pk:
            raise NotFound("not_found", _("Not found."))
        if imp.status not in (ImportStatus.VALID, ImportStatus.QUEUED):
            raise Conflict("import_state", _("Only a checked file without errors can be committed."))
        imp.status = ImportStatus.COMMITTING
        imp.heartbeat_at = timezone.now()
        imp.worker = worker
        imp.committed_by = user
        imp.save(update_fields=["status", "heartbeat_at", "worker", "committed_by"])
        if imp.rows_done:
            record_status(actor, imp, f"commit continues after row {imp.rows_done} of {len(imp.rows)}")
    return imp


def commit_import(
    *,
    actor: Actor,
    user,
    result_import: ResultImport,
    at: datetime | None = None,
    batch_size: int | None = None,
) -> ResultImport:
    """Apply a checked file in batches; each batch commits whole with its counts and progress and
    reassesses the persons it touched. Rows are checked again against the database first, so a
    file committed twice, or a row another upload answered meanwhile, adds nothing. An import
    that stopped part way continues after its last written row."""
    lab = require_lab(user)
    at = at or timezone.now()
    batch_size = batch_size or RESULT_BATCH
    worker = f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:64]
    imp = _claim(actor, lab, user, result_import.pk, worker)
    rows = [ResultRow.from_dict(d) for d in imp.rows]
    progress = _Progress(imp, worker)
    reassessor = _Reassessor(progress=progress, actor=actor, at=at, cause="test_result")
    try:
        if progress.reassessed_rows < progress.rows_done:
            # written before the last worker stopped, perhaps never reassessed
            earlier = rows[progress.reassessed_rows : progress.rows_done]
            reassessor.submit(persons_of(earlier), upto=progress.rows_done)
        for start in range(progress.rows_done, len(rows), batch_size):
            chunk = rows[start : start + batch_size]
            applied = _commit_batch(actor, user, lab, imp.filename, chunk, start, progress, at)
            progress.kept()
            reassessor.submit(applied.persons, upto=start + len(chunk))
        reassessor.wait()
    except LostClaim:
        reassessor.wait(raising=False)
        raise
    except Exception:
        reassessor.wait(raising=False)
        # the batches that landed stay: committing again continues after them
        ResultImport.objects.filter(pk=imp.pk, worker=worker, status=ImportStatus.COMMITTING).update(
            status=ImportStatus.VALID, worker=""
        )
        raise
    finally:
        reassessor.close()
    _finish(actor, lab, imp, worker, progress)
    imp.refresh_from_db()
    return imp


def _commit_batch(
    actor, user, lab, filename: str, chunk: list, start: int, progress: _Progress, at
) -> Applied:
    """One batch checked again and applied; it lands whole with its progress."""
    started = time.perf_counter()
    with transaction.atomic():
        checked = check_rows(user, lab, chunk)
        if checked.errors:
            raise TestingError(
                "import_stale",
                _("Row %(row)s: %(problem)s Check the file again.")
                % {"row": checked.errors[0].row, "problem": checked.errors[0].message},
            )
        applied = apply_results(actor=actor, lab=lab, bound=checked.bound, at=at)
        record(
            actor,
            "import",
            object_type="test_result",
            division_code=lab.division_code,
            note=f"{filename}: batch of {len(chunk)} rows, {applied.new_results} new results",
        )
        progress.landed(start, len(chunk), applied, time.perf_counter() - started)
    return applied


def _finish(actor, lab, imp: ResultImport, worker: str, progress: _Progress) -> None:
    """The import committed, unless another worker took it over."""
    with transaction.atomic():
        finished = ResultImport.objects.filter(
            pk=imp.pk, worker=worker, status=ImportStatus.COMMITTING
        ).update(
            status=ImportStatus.COMMITTED,
            committed_at=timezone.now(),
            counts=progress.counts,
            batches=progress.batches,
            worker="",
        )
        if not finished:
            raise LostClaim(f"result import {imp.pk} was taken over")
        counts = progress.counts
        record_status(
            actor, imp, f"committed: {counts['new_results']} new results, {counts['unchanged']} unchanged"
        )


def queue_commit(*, actor: Actor, user, result_import: ResultImport) -> ResultImport:
    """Commit a large file in the background: queued, with its task, in one transaction."""
    from epigrid.testing.tasks import commit_result_import

    lab = require_lab(user)
    with transaction.atomic():
        taken = ResultImport.objects.filter(pk=result_import.pk, lab=lab, status=ImportStatus.VALID).update(
            status=ImportStatus.QUEUED
        )
        if not taken:
            raise Conflict("import_state", _("Only a checked file without errors can be committed."))
        record_status(actor, result_import, "commit queued")
        queue.enqueue(commit_result_import, str(result_import.pk), user.pk)
    result_import.refresh_from_db()
    return result_import
